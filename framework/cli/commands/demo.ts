import { defineCommand } from '../command.js';
import { runDemo, type DemoEvent, type DemoSummary } from '../demo/scenario.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDuration } from '../format.js';
import { ProgressBar } from '../progress-bar.js';
import { intArg } from './args.js';

/**
 * `corral demo`: the whole system in one process on the embedded store, no set-up —
 * masters, workers, tasks, a master killed and a worker killed part-way. Exits 0 only if
 * every task succeeded.
 */
export const demo = defineCommand({
  command: 'demo',
  describe: 'See it work: 2 masters + 4 workers in this process, a master and a worker killed mid-run',
  builder: (y) =>
    y
      .option('tasks', { alias: 't', type: 'number', default: 240, describe: 'Tasks to run' })
      .option('workers', { alias: 'w', type: 'number', default: 4, describe: 'Workers to start (at least 2: one gets killed)' })
      .option('concurrency', { alias: 'c', type: 'number', default: 3, describe: 'Tasks per worker at once' })
      .option('flaky', { type: 'number', default: 0.1, describe: 'Share of tasks failing their first attempt (0-1)' })
      .option('poison', { type: 'number', default: 0, describe: 'Tasks that always fail (to see how failures are reported)' })
      .option('demo-session-timeout', { type: 'number', default: 600, describe: 'Session timeout of the demo\'s roles (ms): how long a killed one lingers' }),
  async run(ctx, a) {
    if (ctx.opts.redis !== undefined) throw new UsageError('the demo runs on the embedded memory store; for Redis start `corral master` and `corral worker` (see corral --help)');
    const tasks = intArg(a.tasks, 'tasks', 1)!;
    const workers = intArg(a.workers, 'workers', 2)!;
    const concurrency = intArg(a.concurrency, 'concurrency', 1)!;
    const poison = intArg(a.poison, 'poison', 0)!;
    const sessionTimeoutMs = intArg(a.demoSessionTimeout, 'demo-session-timeout', 100)!;
    if (!(a.flaky >= 0 && a.flaky <= 1)) throw new UsageError(`--flaky must be between 0 and 1, got ${a.flaky}`);

    ctx.note(`corral demo: embedded memory store, 2 masters, ${workers} workers × ${concurrency}, ${tasks} tasks (${Math.round(a.flaky * 100)}% flaky)`);
    ctx.note(`the active master is killed at 25%, a busy worker at 50%; sessions time out after ${sessionTimeoutMs} ms\n`);
    const bar = ctx.opts.json ? null : new ProgressBar(ctx.io, tasks, 'tasks');
    let retried = 0;
    let failed = 0;
    const say = (line: string) => (bar ? bar.log(line) : undefined);
    const onEvent = (ev: DemoEvent) => {
      if (ctx.opts.json && ev.type !== 'finished') ctx.io.out(JSON.stringify({ event: ev.type, ...ev, type: undefined }) + '\n');
      switch (ev.type) {
        case 'elected':
          say(ev.afterMs === undefined ? `  ● ${ev.master} elected; the other master waits as backup` : `  ● ${ev.master} took over ${formatDuration(ev.afterMs)} after the kill, rebuilt from the tree`);
          break;
        case 'submitted':
          say(`  ● ${ev.count} tasks submitted`);
          bar?.update(0);
          break;
        case 'masterKilled':
          say(`  ✗ killed the active master ${ev.master} (its session lingers until it times out)`);
          break;
        case 'workerKilled':
          say(`  ✗ killed ${ev.worker} while it held ${ev.holding} task(s)`);
          break;
        case 'reclaimed':
          say(`  ● ${ev.master} saw ${ev.worker} die: ${ev.tasks} task(s) back in the queue for the others`);
          break;
        case 'finished':
          if (ev.status && ev.status.attempts > 1) retried++;
          if (ev.status?.state !== 'succeeded') failed++;
          bar?.update(ev.done, [retried ? `${retried} retried` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(' · '));
          break;
      }
    };
    let summary: DemoSummary;
    try {
      summary = await runDemo({ tasks, workers, concurrency, flakyRate: a.flaky, poison, sessionTimeoutMs, logger: ctx.logger }, onEvent, ctx.stop);
    } finally {
      bar?.done();
    }
    const allDone = summary.succeeded === summary.tasks;
    ctx.print({ summary, ok: allDone }, () =>
      [
        '',
        allDone ? 'Every task done.' : 'NOT every task succeeded.',
        `  tasks       ${summary.succeeded}/${summary.tasks} succeeded${summary.failed ? `, ${summary.failed} failed` : ''}`,
        `  retried     ${summary.retried} (failed a first attempt, then succeeded)`,
        `  reassigned  ${summary.reassigned} (taken back from the killed worker, run by the others)`,
        `  fail-over   ${summary.failoverMs === null ? 'none' : `backup master elected ${formatDuration(summary.failoverMs)} after the kill`}`,
        `  time        ${formatDuration(summary.elapsedMs)}`,
        '',
        'Next: the same across processes on Redis — see `corral master --help`, `corral worker --help`, `corral submit --help`.',
      ].join('\n'),
    );
    return allDone ? EXIT.ok : EXIT.failed;
  },
});
