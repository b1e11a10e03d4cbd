/**
 * Every benchmark in one command, then one summary of their ratios and verdicts.
 *
 *   npm run bench                          # core, lock, framework, then the soak (60 s)
 *   npm run bench -- framework             # one of: core, lock, framework, soak (several allowed)
 *   npm run bench -- soak --seconds 600    # flags go on: --seconds/--seed/--redis to the soak,
 *                                          # --in-process to the framework bench
 *
 * The benches run one after the other, each in its own child process (this script again,
 * with BENCH_ONLY set): one bench's heap, leftovers or crash cannot touch the next one's
 * figures — the soak reports the RSS of the process it runs in. Each cleans up its own
 * namespaces, queues and servers. A bench that fails is reported and the others still run.
 * Exit status: non-zero if a bench failed to run or the soak found anomalies; a missed
 * performance target is a finding, printed, not a failure. Peers: bench/setup.sh.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from '../test/faults/cleanup.js';
import { runCoreOps, type CoreOpsResult } from './core-ops.js';
import { runFrameworkFailover, runFrameworkThroughput } from './framework.js';
import { runLockFailover, runLockThroughput } from './lock.js';
import { machineLine, runMain } from './lib/main.js';
import { fmtBytes } from './lib/memory.js';
import { banner, fmtMs, fmtNum, fmtRatio, table, verdict } from './lib/report.js';
import { runSoak, soakOptionsFrom } from './soak.js';

const BENCHES = ['core', 'lock', 'framework', 'soak'] as const;
type BenchName = (typeof BENCHES)[number];
const ALIASES: Record<string, BenchName> = { core: 'core', 'core-ops': 'core', lock: 'lock', framework: 'framework', fw: 'framework', soak: 'soak' };

/** Flags that take a value as the next argument (the soak's). */
const VALUE_FLAGS = new Set(['--seconds', '--seed', '--redis']);

/** One line of the final summary: bench, what, figure, target and verdict. */
type Row = [string, string, string, string];

async function core(rows: Row[]): Promise<void> {
  const results = await runCoreOps();
  const by = (s: string) => results.find((r) => r.subject === s);
  const redis = by('corral-redis');
  const zk = by('zookeeper');
  const targets: Array<[keyof Pick<CoreOpsResult, 'create' | 'setData' | 'getData'>, number]> = [['create', 2], ['setData', 2], ['getData', 1.8]];
  for (const [w, target] of targets) {
    const ratio = redis && zk ? redis[w].opsPerSec / zk[w].opsPerSec : NaN;
    rows.push(['core', `${w} corral-redis ÷ ZooKeeper`, `${fmtNum(redis?.[w].opsPerSec ?? NaN)} vs ${fmtNum(zk?.[w].opsPerSec ?? NaN)} ops/s = ${fmtRatio(ratio)}`, verdict(ratio, target)]);
  }
  const wr = redis && zk ? zk.watch.p99 / redis.watch.p99 : NaN;
  rows.push(['core', 'watch p99 corral-redis vs ZooKeeper', `${fmtMs(redis?.watch.p99 ?? NaN)} vs ${fmtMs(zk?.watch.p99 ?? NaN)}`,
    Number.isFinite(wr) ? (wr >= 1 ? 'met (≤ ZooKeeper)' : 'MISSED (slower than ZooKeeper)') : 'n/a']);
}

async function lock(rows: Row[]): Promise<void> {
  const results = await runLockThroughput();
  const by = (s: string) => results.find((r) => r.subject === s);
  const corral = by('corral-redis');
  for (const [peer, label, target] of [['redis-semaphore', 'redis-semaphore', 1], ['zookeeper', 'ZooKeeper', 4]] as const) {
    const p = by(peer);
    const ratio = corral && p ? corral.acquisitionsPerSec / p.acquisitionsPerSec : NaN;
    rows.push(['lock', `mutex corral-redis ÷ ${label}`, `${fmtNum(corral?.acquisitionsPerSec ?? NaN)} vs ${fmtNum(p?.acquisitionsPerSec ?? NaN)} acq/s = ${fmtRatio(ratio)}`, verdict(ratio, target)]);
  }
  const overlaps = results.filter((r) => r.overlaps > 0).map((r) => `${r.subject} ${r.overlaps}`);
  rows.push(['lock', 'mutual exclusion violations', overlaps.length ? overlaps.join(', ') : '0', overlaps.length ? 'VIOLATED' : 'ok']);
  const fo = await runLockFailover();
  const c = fo.find((r) => r.subject === 'corral-redis');
  const z = fo.find((r) => r.subject === 'zookeeper');
  rows.push(['lock', 'leader fail-over p50 (session timeout)',
    `corral ${fmtMs(c?.p50 ?? NaN)} (${c?.sessionTimeoutMs ?? '?'} ms), ZooKeeper ${fmtMs(z?.p50 ?? NaN)} (${z?.sessionTimeoutMs ?? '?'} ms)`,
    c && z ? `ZooKeeper ÷ corral = ${fmtRatio(z.p50 / c.p50)}` : '']);
}

async function framework(rows: Row[], argv: string[]): Promise<void> {
  const results = await runFrameworkThroughput({ placement: argv.includes('--in-process') ? 'in-process' : 'processes' });
  const c = results.find((r) => r.subject === 'corral');
  const b = results.find((r) => r.subject === 'bullmq');
  const ratio = c && b ? c.tasksPerSec / b.tasksPerSec : NaN;
  rows.push(['framework', `${fmtNum((c ?? b)?.tasks ?? NaN)} no-op tasks, corral ÷ BullMQ (${(c ?? b)?.placement})`, `${fmtNum(c?.tasksPerSec ?? NaN)} vs ${fmtNum(b?.tasksPerSec ?? NaN)} tasks/s = ${fmtRatio(ratio)}`, verdict(ratio, 1)]);
  const cpu = (r?: { nodeCpuUs: number; redisCpuUs: number }) => (r ? `${fmtNum(r.nodeCpuUs)} + ${fmtNum(r.redisCpuUs)}` : 'n/a');
  rows.push(['framework', 'CPU µs per task, node + Redis (corral vs BullMQ)', `${cpu(c)} vs ${cpu(b)}`, '']);
  const failed = results.reduce((a, r) => a + r.rounds.reduce((x, y) => x + y.failed, 0), 0);
  if (failed > 0) rows.push(['framework', 'tasks that did not succeed', String(failed), 'should be 0']);
  const fo = await runFrameworkFailover();
  if (fo) {
    rows.push(['framework', `master SIGKILL → next task assigned (session ${fo.sessionTimeoutMs} ms)`,
      `p50 ${fmtMs(fo.assigned.p50)}, max ${fmtMs(fo.assigned.max)} (${fo.rounds.length} rounds)`, '']);
  }
}

async function soak(rows: Row[], argv: string[]): Promise<boolean> {
  const r = await runSoak(soakOptionsFrom(argv));
  rows.push(['soak', `${r.seconds} s, seed ${r.seed}`, `${fmtNum(r.submitted)} tasks submitted, ${fmtNum(r.done)} done, ${r.faultsTotal} faults`, '']);
  const a = r.anomalies;
  rows.push(['soak', 'anomalies (lost, twice, unfinished, unknown, failed, crashed)',
    [a.lost, a.recordedTwice, a.neverFinished, a.unknownStatuses, a.notSucceeded, a.crashed].map((l) => l.length).join(', '),
    r.anomalyCount === 0 ? 'ok (must be 0)' : 'FAILED (must be 0)']);
  for (const m of r.memory) rows.push(['soak', `RSS ${m.process}`, `${fmtBytes(m.first)} → ${fmtBytes(m.mid)} (mid-run) → ${fmtBytes(m.last)} (max ${fmtBytes(m.max)})`, '']);
  rows.push(['soak', 'Redis used_memory: before → after run → namespace removed',
    `${fmtBytes(r.redis.before.usedMemory)} → ${fmtBytes(r.redis.afterRun.usedMemory)} → ${fmtBytes(r.redis.afterClean.usedMemory)}`
    + (r.redis.keysLeft !== null ? `, ${r.redis.keysLeft} keys left` : ''), r.redis.keysLeft ? 'keys left over' : '']);
  return r.anomalyCount === 0 && !r.redis.keysLeft;
}

/** Runs one bench in this process and writes its summary rows to `file` (the child side). */
async function runOne(name: BenchName, argv: string[], file: string): Promise<void> {
  const rows: Row[] = [];
  let ok = true;
  try {
    if (name === 'core') await core(rows);
    else if (name === 'lock') await lock(rows);
    else if (name === 'framework') await framework(rows, argv);
    else ok = await soak(rows, argv);
  } catch (err) {
    console.error(`\n!! bench ${name} failed:`, err);
    rows.push([name, 'FAILED to run', (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 100), '']);
    ok = false;
  }
  writeFileSync(file, JSON.stringify(rows));
  if (!ok) throw new Error(`bench ${name} failed or found anomalies`);
}

/** Runs one bench as a child process (see the header); resolves with its rows and whether it passed. */
function runChild(name: BenchName, argv: string[]): Promise<{ rows: Row[]; ok: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-bench-'));
  const file = join(dir, 'rows.json');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_ONLY: name, BENCH_ROWS_FILE: file },
  });
  const untrack = track(() => child.kill('SIGKILL'));
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      untrack();
      let rows: Row[] = [];
      try {
        rows = JSON.parse(readFileSync(file, 'utf8')) as Row[];
      } catch {
        rows = [[name, 'FAILED to run', `the bench process exited (${code ?? signal}) without results`, '']];
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ rows, ok: code === 0 });
    });
  });
}

runMain(async () => {
  const argv = process.argv.slice(2);
  const only = process.env.BENCH_ONLY as BenchName | undefined;
  if (only && process.env.BENCH_ROWS_FILE) return runOne(only, argv, process.env.BENCH_ROWS_FILE);
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_FLAGS.has(argv[i])) i++; // its value follows
    else if (!argv[i].startsWith('--')) names.push(argv[i]);
  }
  const unknown = names.filter((n) => !(n in ALIASES));
  if (unknown.length) throw new TypeError(`Unknown bench ${unknown.map((u) => JSON.stringify(u)).join(', ')}; expected some of ${BENCHES.join(', ')}`);
  const chosen = names.length ? BENCHES.filter((b) => names.some((n) => ALIASES[n] === b)) : [...BENCHES];
  const started = Date.now();
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const name of chosen) {
    const r = await runChild(name, argv);
    rows.push(...r.rows);
    if (!r.ok) failures.push(name);
  }
  banner(`summary: ${chosen.join(', ')} in ${((Date.now() - started) / 60_000).toFixed(1)} min — ${machineLine()}`);
  console.log(table(['bench', 'measure', 'figure', 'target / verdict'], rows, 4));
  console.log('2 shared cores: figures move with the machine\'s load; compare runs at similar load averages.');
  if (failures.length) throw new Error(`failed or found anomalies: ${failures.join(', ')}`);
});
