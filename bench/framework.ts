/**
 * Issue 5: the master–worker framework on Redis, against BullMQ on the same Redis
 * (BENCH_REDIS_URL, default 127.0.0.1:6379), in one run.
 *
 * Throughput — 20,000 no-op tasks, submitted in batches of 1,000 (corral:
 * `createTaskClient(zk).submitMany`; BullMQ: `Queue.addBulk`), then run to completion by
 * 4 workers × concurrency 16 (corral: `createWorker`, with one `createMaster`; BullMQ:
 * `Worker`). Each peer gets a fresh namespace / queue name, removed afterwards.
 *
 *   Where things run: every worker is its own child process (node + tsx), for both peers,
 *   and so is corral's master — that is how either is deployed, and it keeps the workers
 *   off the event loop that submits and measures. The submitter and the completion poll
 *   run in the bench process. `--in-process` puts the workers (and the master) in the bench
 *   process instead, for both peers alike (what test/framework/fixtures/perf*.ts do).
 *
 *   Also CPU time per task over the same window — node (the bench process plus its
 *   worker / master children, from /proc) and Redis (INFO cpu; the whole server's) — which
 *   moves far less than tasks/s when other work shares the 2 cores.
 *
 *   Timing: from the first batch's submit to the poll seeing the last task finished. The
 *   poll is symmetric, one cheap call every 20 ms: numChildren of `/status` for corral,
 *   `getCompletedCount() + getFailedCount()` for BullMQ — neither peer's own completion
 *   events are subscribed to. Both keep finished results (their defaults). A 2,000-task
 *   warm-up runs first on the same workers, untimed. Rounds alternate corral / BullMQ
 *   (BENCH_FRAMEWORK_ROUNDS, default 3), each on fresh processes; the median counts. After
 *   each round every task's outcome is checked: a failed one is reported.
 *
 * Recovery after a master SIGKILL (corral only: BullMQ has no master) — two masters as
 * child processes at a stated session timeout (BENCH_MASTER_SESSION_MS, default 1000 ms),
 * 2 worker processes × concurrency 8 running 10 ms tasks, and the bench process keeping
 * the queue topped up, so tasks are flowing. Each round SIGKILLs the active master and
 * times, from the kill: the backup's `elected` event (it has rebuilt its picture from the
 * tree) and its first `assigned` event (the next task assigned). A fresh backup is started
 * for the next round (BENCH_FAILOVER_ROUNDS, default 5). Every task submitted during the
 * rounds must finish in the end.
 *
 *   npx tsx bench/framework.ts                        # both parts
 *   npx tsx bench/framework.ts throughput             # or: failover
 *   npx tsx bench/framework.ts throughput --in-process
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker as BullWorker } from 'bullmq';
import type { Client } from '../core/index.js';
import { createMaster, createTaskClient, createWorker, paths, type StatusRecord } from '../framework/index.js';
import { ChildScript } from './lib/child.js';
import { benchNamespace, corralConnect, corralRedisReady, dropRedisNamespace, quietLogger, REDIS_URL } from './lib/corral.js';
import { isMain, machineLine, runMain } from './lib/main.js';
import { banner, fmtMs, fmtNum, fmtRatio, table, verdict } from './lib/report.js';
import { cpuMsOf, ownCpuMs, redisCpuMs } from './lib/cpu.js';
import { median, summarize } from './lib/stats.js';
import { sleep, until } from './lib/wait.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 20_000);
const WARMUP = 2_000;
const BATCH = 1_000;
const WORKERS = 4;
const CONCURRENCY = 16;
const POLL_MS = 20;
const ROUNDS = Number(process.env.BENCH_FRAMEWORK_ROUNDS ?? 3);
/** A round that makes no progress for this long has hung: it fails rather than wait for ever. */
const STALL_MS = 60_000;

const MASTER_SESSION_MS = Number(process.env.BENCH_MASTER_SESSION_MS ?? 1000);
const FAILOVER_ROUNDS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 5);
const FAILOVER_WORKERS = 2;
const FAILOVER_CONCURRENCY = 8;
const FAILOVER_TASK_MS = 10;
/** The feeder keeps at least this many tasks queued during the fail-over rounds. */
const FAILOVER_BACKLOG = 500;

type Placement = 'processes' | 'in-process';

/** One peer set up with its workers (and master), ready to take tasks. */
interface Deployment {
  submit(first: number, count: number): Promise<void>;
  /** Tasks finished so far (succeeded or failed). */
  finished(): Promise<number>;
  /** Tasks that did not succeed, counted once a round is over. */
  failed(): Promise<number>;
  /** Where the tasks are and how the processes are, for the message of a stalled round. */
  describe(): Promise<string>;
  /** pids of the child processes (workers, master) whose CPU time counts with this process's. */
  pids: number[];
  tearDown(): Promise<void>;
}

interface Peer {
  name: 'corral' | 'bullmq';
  deploy(placement: Placement): Promise<Deployment>;
}

export interface ThroughputRound {
  subject: string;
  tasksPerSec: number;
  submitMs: number;
  totalMs: number;
  failed: number;
  /** CPU time per task over the timed part: node (bench process + children) and Redis, µs. */
  nodeCpuUs: number;
  redisCpuUs: number;
}

export interface ThroughputResult {
  subject: string;
  placement: Placement;
  /** Tasks per timed round. */
  tasks: number;
  rounds: ThroughputRound[];
  /** Medians over the rounds. */
  tasksPerSec: number;
  nodeCpuUs: number;
  redisCpuUs: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Stops what was started, each step on its own so one failure does not skip the rest. */
async function stopAll(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps.reverse()) await step().catch((err) => console.error('bench clean-up step failed:', err));
}

const corralPeer: Peer = {
  name: 'corral',
  async deploy(placement) {
    const namespace = benchNamespace('bench-fw');
    const target = { redis: REDIS_URL };
    const stops: Array<() => Promise<unknown>> = [async () => dropRedisNamespace(namespace)];
    try {
      const zk = await corralConnect('redis', namespace, { sessionTimeoutMs: 10_000 });
      stops.push(() => zk.close());
      const tasks = createTaskClient(zk);
      const children: ChildScript[] = [];
      if (placement === 'processes') {
        const master = new ChildScript('framework-master.ts', [REDIS_URL, namespace, '10000', 'bench-master']);
        stops.push(() => master.kill());
        const workers = range(WORKERS).map(() => new ChildScript('framework-worker.ts', [REDIS_URL, namespace, String(CONCURRENCY), '10000', '0']));
        for (const w of workers) stops.push(() => w.kill());
        children.push(master, ...workers);
        await Promise.all([master.line('ELECTED', 60_000), ...workers.map((w) => w.line('READY', 60_000))]);
      } else {
        const master = createMaster({ connect: target, namespace, logger: quietLogger });
        const elected = new Promise<void>((resolve) => master.once('elected', () => resolve()));
        stops.push(() => master.close());
        const workers = range(WORKERS).map(() => createWorker({ connect: target, namespace, concurrency: CONCURRENCY, logger: quietLogger, handler: async () => null }));
        for (const w of workers) stops.push(() => w.close());
        await Promise.all([elected, ...workers.map((w) => w.ready)]);
      }
      return {
        async submit(first, count) {
          await tasks.submitMany(range(count).map((i) => ({ payload: first + i })));
        },
        async finished() {
          return (await zk.exists(paths.STATUS))?.numChildren ?? 0;
        },
        failed: () => countNotSucceeded(zk),
        pids: children.map((c) => c.pid),
        async describe() {
          const c = await tasks.counts();
          return `corral namespace ${namespace}: ${c.queued} queued, ${c.assigned} assigned, ${c.finished} finished, `
            + `${(await tasks.workers()).length} workers registered, master ${await tasks.master()}`
            + children.map((ch, i) => `\n  ${i === 0 ? 'master' : `worker ${i}`}: ${ch.describe()}`).join('');
        },
        tearDown: () => stopAll(stops),
      };
    } catch (err) {
      await stopAll(stops);
      throw err;
    }
  },
};

/** Reads every status record (after the timed part) and counts those that did not succeed. */
async function countNotSucceeded(zk: Client): Promise<number> {
  let failed = 0;
  let after: string | undefined;
  for (;;) {
    const page = await zk.getChildren(paths.STATUS, after === undefined ? { limit: 1000 } : { limit: 1000, after });
    const records = await Promise.all(page.children.map(async (id) => JSON.parse((await zk.getData(`${paths.STATUS}/${id}`)).data.toString('utf8')) as StatusRecord));
    failed += records.filter((r) => r.state !== 'succeeded').length;
    if (page.next === undefined) return failed;
    after = page.next;
  }
}

const bullmqPeer: Peer = {
  name: 'bullmq',
  async deploy(placement) {
    const name = benchNamespace('bench-bullmq');
    const url = new URL(REDIS_URL);
    const connection = { host: url.hostname, port: Number(url.port || 6379) };
    const queue = new Queue(name, { connection });
    const stops: Array<() => Promise<unknown>> = [() => queue.close(), () => queue.obliterate({ force: true })];
    try {
      await queue.waitUntilReady();
      const children: ChildScript[] = [];
      if (placement === 'processes') {
        const workers = range(WORKERS).map(() => new ChildScript('bullmq-worker.ts', [REDIS_URL, name, String(CONCURRENCY)]));
        for (const w of workers) stops.push(() => w.kill());
        children.push(...workers);
        await Promise.all(workers.map((w) => w.line('READY', 60_000)));
      } else {
        const workers = range(WORKERS).map(() => new BullWorker(name, async () => null, { connection, concurrency: CONCURRENCY }));
        for (const w of workers) stops.push(() => w.close());
        await Promise.all(workers.map((w) => w.waitUntilReady()));
      }
      return {
        async submit(first, count) {
          await queue.addBulk(range(count).map((i) => ({ name: 'task', data: first + i })));
        },
        async finished() {
          const [done, failed] = await Promise.all([queue.getCompletedCount(), queue.getFailedCount()]);
          return done + failed;
        },
        failed: () => queue.getFailedCount(),
        pids: children.map((c) => c.pid),
        async describe() {
          return `BullMQ queue ${name}: ${JSON.stringify(await queue.getJobCounts())}`
            + children.map((ch, i) => `\n  worker ${i + 1}: ${ch.describe()}`).join('');
        },
        tearDown: () => stopAll(stops),
      };
    } catch (err) {
      await stopAll(stops);
      throw err;
    }
  },
};

/** Polls until `target` tasks have finished; fails if the count stops moving for STALL_MS. */
async function waitFinished(d: Deployment, target: number): Promise<void> {
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const n = await d.finished();
    if (n >= target) return;
    if (n !== last) {
      last = n;
      movedAt = performance.now();
    } else if (performance.now() - movedAt > STALL_MS) {
      throw new Error(`stalled: ${n} of ${target} tasks finished, none for ${STALL_MS} ms — ${await d.describe().catch((e) => String(e))}`);
    }
    await sleep(POLL_MS);
  }
}

async function submitInBatches(d: Deployment, first: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += BATCH) await d.submit(first + i, Math.min(BATCH, count - i));
}

async function throughputRound(peer: Peer, placement: Placement): Promise<ThroughputRound> {
  const d = await peer.deploy(placement);
  try {
    await submitInBatches(d, 0, WARMUP);
    await waitFinished(d, WARMUP);
    const nodeCpu = () => ownCpuMs() + d.pids.reduce((a, pid) => a + (cpuMsOf(pid) ?? NaN), 0);
    const [node0, redis0] = [nodeCpu(), await redisCpuMs(REDIS_URL)];
    const each0 = [ownCpuMs(), ...d.pids.map((pid) => cpuMsOf(pid) ?? NaN)];
    const t0 = performance.now();
    await submitInBatches(d, WARMUP, TASKS);
    const t1 = performance.now();
    await waitFinished(d, WARMUP + TASKS);
    const t2 = performance.now();
    const [node1, redis1] = [nodeCpu(), await redisCpuMs(REDIS_URL)];
    if (process.env.BENCH_VERBOSE) {
      const each1 = [ownCpuMs(), ...d.pids.map((pid) => cpuMsOf(pid) ?? NaN)];
      console.log(`    ${peer.name} CPU µs/task by process (bench, then children): ${each1.map((c, i) => fmtNum(((c - each0[i]) * 1000) / TASKS)).join(' ')}`);
    }
    const failed = await d.failed();
    return {
      subject: peer.name, tasksPerSec: (TASKS * 1000) / (t2 - t0), submitMs: t1 - t0, totalMs: t2 - t0, failed,
      nodeCpuUs: ((node1 - node0) * 1000) / TASKS, redisCpuUs: ((redis1 - redis0) * 1000) / TASKS,
    };
  } finally {
    await d.tearDown();
  }
}

export async function runFrameworkThroughput(options: { placement?: Placement } = {}): Promise<ThroughputResult[]> {
  const placement = options.placement ?? 'processes';
  banner(`framework throughput (issue 5): ${fmtNum(TASKS)} no-op tasks in batches of ${fmtNum(BATCH)}, ${WORKERS} workers × concurrency ${CONCURRENCY} `
    + `(${placement === 'processes' ? 'each worker and the master a child process' : 'all in the bench process'}), ${ROUNDS} rounds — ${machineLine()}`);
  const ready = await corralRedisReady();
  const peers = ready.ok ? [corralPeer, bullmqPeer] : [bullmqPeer];
  if (!ready.ok) console.log(`skipped corral: ${ready.reason}`);
  const rounds = new Map<string, ThroughputRound[]>(peers.map((p) => [p.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const peer of peers) {
      const round = await throughputRound(peer, placement);
      rounds.get(peer.name)!.push(round);
      console.log(`  round ${r + 1} ${peer.name}: ${fmtNum(round.tasksPerSec)} tasks/s (submit ${fmtMs(round.submitMs)}, total ${fmtMs(round.totalMs)}; `
        + `CPU/task node ${fmtNum(round.nodeCpuUs)} µs, Redis ${fmtNum(round.redisCpuUs)} µs) — ${machineLine()}`);
    }
  }
  const results: ThroughputResult[] = peers.map((p) => {
    const rs = rounds.get(p.name)!;
    return {
      subject: p.name, placement, tasks: TASKS, rounds: rs, tasksPerSec: median(rs.map((r) => r.tasksPerSec)),
      nodeCpuUs: median(rs.map((r) => r.nodeCpuUs)), redisCpuUs: median(rs.map((r) => r.redisCpuUs)),
    };
  });
  const corral = results.find((r) => r.subject === 'corral');
  const bull = results.find((r) => r.subject === 'bullmq');
  const ratio = corral && bull ? corral.tasksPerSec / bull.tasksPerSec : NaN;
  console.log(table(['peer', 'tasks/s (median)', 'each round', 'submit (median)', 'node CPU µs/task', 'Redis CPU µs/task', 'failed', 'corral ÷', 'target'], results.map((r) => [
    r.subject, fmtNum(r.tasksPerSec), r.rounds.map((x) => fmtNum(x.tasksPerSec)).join(' / '), fmtMs(median(r.rounds.map((x) => x.submitMs))),
    fmtNum(r.nodeCpuUs), fmtNum(r.redisCpuUs),
    String(r.rounds.reduce((a, x) => a + x.failed, 0)), r.subject === 'bullmq' ? fmtRatio(ratio) : '', r.subject === 'bullmq' ? verdict(ratio, 1) : '',
  ])));
  console.log('tasks/s: timed from the first submit to the last task finished (submit and run overlap); corral ÷ BullMQ ≥ 1 is the target');
  console.log('CPU µs/task (median of rounds; node = bench process + its workers/master): moves less with the machine\'s load than tasks/s; '
    + 'the Redis figure is the whole server\'s, so it includes anyone else using it meanwhile');
  for (const r of results) if (r.rounds.some((x) => x.failed > 0)) console.log(`!! ${r.subject}: some tasks did not succeed`);
  return results;
}

export interface FailoverRound {
  /** Tasks queued (not yet assigned) when the master was killed. */
  queued: number;
  electedMs: number;
  assignedMs: number;
}

export interface FrameworkFailoverResult {
  sessionTimeoutMs: number;
  rounds: FailoverRound[];
  elected: { p50: number; max: number };
  assigned: { p50: number; max: number };
  /** Tasks submitted during the rounds and how many had finished at the end (must be equal). */
  submitted: number;
  finished: number;
}

export async function runFrameworkFailover(): Promise<FrameworkFailoverResult | null> {
  banner(`framework: recovery after SIGKILL of the active master (${FAILOVER_ROUNDS} rounds, session timeout ${MASTER_SESSION_MS} ms, `
    + `${FAILOVER_WORKERS} workers × ${FAILOVER_CONCURRENCY} running ${FAILOVER_TASK_MS} ms tasks) — ${machineLine()}`);
  const ready = await corralRedisReady();
  if (!ready.ok) {
    console.log(`skipped corral: ${ready.reason}`);
    return null;
  }
  const namespace = benchNamespace('bench-fw-failover');
  const children: ChildScript[] = [];
  const spawnMaster = (id: string) => {
    const c = new ChildScript('framework-master.ts', [REDIS_URL, namespace, String(MASTER_SESSION_MS), id]);
    children.push(c);
    return c;
  };
  const zk = await corralConnect('redis', namespace, { sessionTimeoutMs: 10_000 });
  const tasks = createTaskClient(zk);
  const count = async (path: string) => (await zk.exists(path))?.numChildren ?? 0;
  let submitted = 0;
  let feeding = true;
  let feeder: Promise<void> = Promise.resolve();
  const rounds: FailoverRound[] = [];
  try {
    let leader = spawnMaster('m0');
    await leader.line('ELECTED', 60_000);
    const workers = range(FAILOVER_WORKERS).map(() => new ChildScript('framework-worker.ts',
      [REDIS_URL, namespace, String(FAILOVER_CONCURRENCY), '10000', String(FAILOVER_TASK_MS)]));
    children.push(...workers);
    await Promise.all(workers.map((w) => w.line('READY', 60_000)));
    feeder = (async () => {
      while (feeding) {
        if (await count(paths.TASKS) < FAILOVER_BACKLOG) {
          await tasks.submitMany(range(FAILOVER_BACKLOG).map((i) => ({ payload: submitted + i })));
          submitted += FAILOVER_BACKLOG;
        }
        await sleep(50);
      }
    })();
    for (let round = 0; round < FAILOVER_ROUNDS; round++) {
      const standby = spawnMaster(`m${round + 1}`);
      await standby.line('READY', 60_000);
      // The standby has joined the election once both latches are there.
      await until(async () => (await count(paths.ELECTION)) >= 2, 30_000, 'the standby to join the election');
      const before = await count(paths.STATUS);
      await until(async () => (await count(paths.STATUS)) > before + 50, 30_000, 'tasks to flow');
      // Let the leader heartbeat once after the standby queued, as in steady state.
      await sleep(MASTER_SESSION_MS / 2);
      const queued = await count(paths.TASKS);
      const killedAt = Date.now();
      await leader.kill('SIGKILL');
      const elected = Number((await standby.line('ELECTED', 60_000)).split(' ')[1]);
      const assigned = Number((await standby.line('ASSIGNED', 60_000)).split(' ')[1]);
      rounds.push({ queued, electedMs: elected - killedAt, assignedMs: assigned - killedAt });
      leader = standby;
    }
    feeding = false;
    await feeder;
    await until(async () => (await count(paths.STATUS)) >= submitted, 120_000, `all ${submitted} tasks to finish`, 100);
  } finally {
    feeding = false;
    await feeder.catch(() => undefined);
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await zk.close().catch(() => undefined);
    await dropRedisNamespace(namespace);
  }
  const finished = submitted; // the until() above would have thrown otherwise
  const e = summarize(rounds.map((r) => r.electedMs));
  const a = summarize(rounds.map((r) => r.assignedMs));
  console.log(table(['round', 'queued at kill', 'kill → backup elected', 'kill → next task assigned'],
    rounds.map((r, i) => [String(i + 1), fmtNum(r.queued), fmtMs(r.electedMs), fmtMs(r.assignedMs)])));
  console.log(table(['recovery', 'session timeout', 'p50', 'max'], [
    ['kill → backup elected', `${MASTER_SESSION_MS} ms`, fmtMs(e.p50), fmtMs(e.max)],
    ['kill → next task assigned', `${MASTER_SESSION_MS} ms`, fmtMs(a.p50), fmtMs(a.max)],
  ]));
  console.log(`all ${fmtNum(submitted)} tasks submitted during the rounds finished`);
  return { sessionTimeoutMs: MASTER_SESSION_MS, rounds, elected: { p50: e.p50, max: e.max }, assigned: { p50: a.p50, max: a.max }, submitted, finished };
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const args = process.argv.slice(2);
    const only = args.find((a) => !a.startsWith('--'));
    const placement: Placement = args.includes('--in-process') ? 'in-process' : 'processes';
    if (!only || only === 'throughput') await runFrameworkThroughput({ placement });
    if (!only || only === 'failover') await runFrameworkFailover();
  });
}
