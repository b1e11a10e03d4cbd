import type { Client } from '../../../core/index.js';
import { createTaskClient, type StatusRecord, type TaskOptions } from '../../index.js';
import { defineCommand } from '../command.js';
import type { Context } from '../context.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDuration } from '../format.js';
import { ProgressBar } from '../progress-bar.js';
import { followTasks } from '../task-follow.js';
import { statusLine } from '../task-format.js';
import { parseTaskArg, readTaskFile, type TaskInput } from '../task-input.js';
import { intArg } from './args.js';

/**
 * `corral submit`: stores one task (a JSON argument) or many (JSON lines from a file or
 * stdin) and prints their ids. With `--wait`, follows them to the end with a progress bar,
 * prints each outcome, and exits 0 only if every task succeeded.
 */
export const submit = defineCommand({
  command: 'submit [task]',
  describe: 'Submit a task (JSON), or many from --file / stdin (JSON lines); --wait for results',
  builder: (y) =>
    y
      .positional('task', { type: 'string', describe: 'The task payload as JSON; - reads JSON lines from stdin' })
      .option('file', { alias: 'f', type: 'string', describe: 'Read tasks from this file, one JSON payload per line' })
      .option('envelope', { type: 'boolean', default: false, describe: 'Each task is {"payload": …, "options": {…}} (per-task options)' })
      .option('wait', { alias: 'w', type: 'boolean', default: false, describe: 'Wait for every task, show progress and results' })
      .option('timeout', { type: 'number', describe: 'With --wait: give up after this many ms (exit 1)' })
      .option('attempts', { type: 'number', describe: 'Runs before a task fails for good (default 1)' })
      .option('backoff', { type: 'number', describe: 'Delay between attempts in ms' })
      .option('exponential', { type: 'boolean', default: false, describe: 'Double the backoff after each failure' })
      .option('task-timeout', { type: 'number', describe: 'Fail an attempt that runs longer than this (ms)' })
      .option('priority', { type: 'number', describe: 'Higher runs first (±1 000 000, default 0)' })
      .option('delay', { type: 'number', describe: 'Do not start before this many ms from now' })
      .option('labels', { alias: 'l', type: 'string', array: true, describe: 'Run only on workers with all these labels' })
      .option('idempotency-key', { type: 'string', describe: 'Submitting the same key again returns the first task (one task only)' })
      .option('idempotency-ttl', { type: 'number', describe: 'Keep the idempotency key this many ms (default: for ever)' })
      .example(`corral submit '{"n": 21}' --wait`, 'one task; prints its result')
      .example('corral submit --file tasks.jsonl --attempts 3 --wait', 'many tasks, retried up to 3 times')
      .example('generate-tasks | corral submit - --wait --json', 'JSON lines from stdin, results as JSON lines'),
  async run(ctx, a) {
    const envelope = a.envelope;
    const fromStdin = a.task === '-' || (a.task === '' && ctx.raw.includes('-'));
    if (a.task !== undefined && !fromStdin && a.file !== undefined) throw new UsageError('give a task argument or --file, not both');
    let inputs: TaskInput[];
    if (a.file !== undefined) inputs = await readTaskFile(ctx.io, a.file, envelope);
    else if (fromStdin) inputs = await readTaskFile(ctx.io, '-', envelope);
    else if (a.task !== undefined) inputs = [parseTaskArg(a.task, envelope)];
    else throw new UsageError('nothing to submit: give a task as JSON, --file FILE, or - for JSON lines on stdin');
    if (inputs.length === 0) throw new UsageError('nothing to submit: the input holds no tasks');
    const common = commonOptions(a);
    if (common.idempotencyKey !== undefined && inputs.length > 1) throw new UsageError('--idempotency-key applies to one task; use --envelope with per-task options for many');
    const timeoutMs = intArg(a.timeout, 'timeout', 1);
    const zk = await ctx.connect('submit');
    try {
      const tasks = createTaskClient(zk);
      const ids = await tasks.submitMany(inputs.map((t) => ({ payload: t.payload, options: { ...common, ...t.options } as TaskOptions })));
      if (!a.wait) {
        ctx.print({ ids }, () => ids.join('\n'));
        return EXIT.ok;
      }
      ctx.note(`submitted ${ids.length} task(s): ${ids.length === 1 ? ids[0] : `${ids[0]} … ${ids[ids.length - 1]}`}`);
      return await waitAndReport(ctx, zk, ids, timeoutMs);
    } finally {
      await zk.close().catch(() => undefined);
    }
  },
});

function commonOptions(a: {
  attempts?: number; backoff?: number; exponential: boolean; taskTimeout?: number; priority?: number; delay?: number; labels?: string[]; idempotencyKey?: string;
  idempotencyTtl?: number;
}): TaskOptions {
  const o: TaskOptions = {};
  if (a.attempts !== undefined) o.attempts = a.attempts;
  if (a.backoff !== undefined) o.backoff = a.exponential ? { type: 'exponential', delay: a.backoff } : a.backoff;
  else if (a.exponential) throw new UsageError('--exponential needs --backoff <ms> (the first delay)');
  if (a.taskTimeout !== undefined) o.timeoutMs = a.taskTimeout;
  if (a.priority !== undefined) o.priority = a.priority;
  if (a.delay !== undefined) o.delay = a.delay;
  if (a.labels !== undefined) o.labels = a.labels.flatMap((l) => String(l).split(',')).map((l) => l.trim()).filter((l) => l !== '');
  if (a.idempotencyKey !== undefined) o.idempotencyKey = a.idempotencyKey;
  if (a.idempotencyTtl !== undefined) o.idempotencyTtlMs = a.idempotencyTtl;
  return o;
}

/** Follows the tasks with a progress bar, prints every outcome in submission order, and sets the exit code. */
async function waitAndReport(ctx: Context, zk: Client, ids: string[], timeoutMs: number | undefined): Promise<number> {
  const started = performance.now();
  const results = new Map<string, StatusRecord | null>();
  const bar = ctx.opts.json ? null : new ProgressBar(ctx.io, ids.length, 'tasks');
  let failed = 0;
  let retried = 0;
  bar?.update(0);
  try {
    await followTasks(zk, ids, {
      timeoutMs,
      signal: ctx.stop,
      onStatus: (id, s) => {
        results.set(id, s);
        if (s?.state !== 'succeeded') failed++;
        if (s && s.attempts > 1) retried++;
        bar?.update(results.size, [failed ? `${failed} failed` : '', retried ? `${retried} retried` : ''].filter(Boolean).join(' · '));
      },
    });
  } finally {
    bar?.done();
  }
  for (const id of ids) {
    const s = results.get(id) ?? null;
    ctx.print(s ?? { id, state: 'unknown' }, () => statusLine(id, s));
  }
  const by = (state: string) => [...results.values()].filter((s) => (s?.state ?? 'unknown') === state).length;
  const parts = ['succeeded', 'failed', 'cancelled', 'unknown'].map((st) => [st, by(st)] as const).filter(([st, n]) => n > 0 || st === 'succeeded');
  ctx.note(`${ids.length} task(s): ${parts.map(([st, n]) => `${n} ${st}`).join(', ')}${retried ? ` · ${retried} retried` : ''} · ${formatDuration(performance.now() - started)}`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}
