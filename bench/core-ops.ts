/**
 * Issue 3: core znode operations, corral on Redis vs Apache ZooKeeper 3.8 (both on loopback),
 * with corral's embedded memory backend as a reference column.
 *
 *   npx tsx bench/core-ops.ts            # all three
 *   npx tsx bench/core-ops.ts zk memory  # a subset (redis | zk | memory)
 *
 * Workloads: create (persistent_sequential, 100 B), setData (100 B), getData — each with
 * 8 sessions × 16 operations in flight for BENCH_SECONDS (default 5), after each subject ran
 * them all unmeasured for BENCH_WARMUP_SECONDS (default 9: ZooKeeper's JVM warms up) —
 * and watch-notification latency: one session holds a data watch, another writes; the time
 * from issuing the write to the watcher running, re-armed each time, over
 * BENCH_WATCH_SAMPLES rounds (default 5 000, after 100 unmeasured): a p99 rests on its
 * slowest 1 %, and over 1 000 rounds those 10 rounds made either peer's p99 swing by 2×
 * from run to run. The subjects take turns (BENCH_ROUNDS, default 3, per workload; see
 * measureAll).
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '../core/index.js';
import { benchNamespace, corralConnect, corralRedisReady, dropRedisNamespace, type CorralBackendKind } from './lib/corral.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import { isMain, machineLine, runMain } from './lib/main.js';
import { banner, benchSeconds, fmtMs, fmtNum, fmtRatio, table, verdict } from './lib/report.js';
import { median, summarize, type Summary } from './lib/stats.js';
import { startZooKeeper, zookeeperAvailable, type ZooKeeperServer } from './peers/zookeeper-server.js';
import { ZkPeer, ZK_NODE_EXISTS, isZkError } from './peers/zk-client.js';

const SESSIONS = 8;
const INFLIGHT = 16;
const DATA = Buffer.alloc(100, 'x');

/** What a workload needs from one session; implemented over corral and over node-zookeeper-client. */
interface OpsSession {
  createSequential(prefix: string, data: Buffer): Promise<unknown>;
  setData(path: string, data: Buffer): Promise<unknown>;
  getData(path: string): Promise<unknown>;
  /** Sets a one-shot data watch; resolves once it is set, with a promise of the time the event arrived. */
  watchData(path: string): Promise<{ event: Promise<number> }>;
  /** Creates a persistent znode unless it exists. */
  ensure(path: string, data?: Buffer): Promise<void>;
  close(): Promise<void>;
}

interface Subject {
  name: string;
  open(): Promise<OpsSession>;
  dispose(): Promise<void>;
}

export interface CoreOpsResult {
  subject: string;
  create: LoadResult;
  setData: LoadResult;
  getData: LoadResult;
  /** Each round's rate, in turn order. */
  rounds: Record<'create' | 'setData' | 'getData', number[]>;
  watch: Summary;
}

class CorralSession implements OpsSession {
  constructor(private readonly zk: Client) {
    // A session that goes suspended or expires under a benchmark's load is a finding: say when.
    const t0 = performance.now();
    zk.on('state', (s) => {
      if (s !== 'closed') console.log(`!! corral session ${zk.sessionId}: ${s} ${((performance.now() - t0) / 1000).toFixed(1)} s after it opened`);
    });
  }
  createSequential(prefix: string, data: Buffer) { return this.zk.create(prefix, data, { mode: 'persistent_sequential' }); }
  setData(path: string, data: Buffer) { return this.zk.setData(path, data); }
  getData(path: string) { return this.zk.getData(path); }
  async watchData(path: string): Promise<{ event: Promise<number> }> {
    let fired!: (t: number) => void;
    const event = new Promise<number>((resolve) => (fired = resolve));
    await this.zk.getData(path, { watch: () => fired(performance.now()) });
    return { event };
  }
  async ensure(path: string, data?: Buffer) {
    try {
      await this.zk.create(path, data);
    } catch (err) {
      if ((err as { code?: number }).code !== -110) throw err;
    }
  }
  close() { return this.zk.close(); }
}

class ZooKeeperSession implements OpsSession {
  constructor(private readonly zk: ZkPeer) {}
  createSequential(prefix: string, data: Buffer) { return this.zk.create(prefix, data, 'persistent_sequential'); }
  setData(path: string, data: Buffer) { return this.zk.setData(path, data); }
  getData(path: string) { return this.zk.getData(path); }
  async watchData(path: string): Promise<{ event: Promise<number> }> {
    let fired!: (t: number) => void;
    const event = new Promise<number>((resolve) => (fired = resolve));
    await this.zk.getData(path, () => fired(performance.now()));
    return { event };
  }
  async ensure(path: string, data?: Buffer) {
    try {
      await this.zk.create(path, data ?? null);
    } catch (err) {
      if (!isZkError(err, ZK_NODE_EXISTS)) throw err;
    }
  }
  close() { return this.zk.close(); }
}

function corralSubject(kind: CorralBackendKind): Subject {
  const namespace = benchNamespace('bench-ops');
  return {
    name: `corral-${kind}`,
    open: async () => new CorralSession(await corralConnect(kind, namespace, { sessionTimeoutMs: 10_000 })),
    dispose: async () => {
      if (kind === 'redis') await dropRedisNamespace(namespace);
    },
  };
}

async function zookeeperSubject(): Promise<Subject> {
  const server: ZooKeeperServer = await startZooKeeper();
  return {
    name: 'zookeeper',
    open: async () => new ZooKeeperSession(await ZkPeer.connect(server.connectString, 10_000)),
    dispose: () => server.stop(),
  };
}

/** Rounds per workload: the subjects take turns, so a slow spell of the machine hits them alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * Before the turns, each subject runs every workload unmeasured, this long in all.
 * ZooKeeper's JVM needs it: its `create` ran 7 800 /s in a first 3 s turn after a 1 s
 * warm-up, then 16 000–19 000 from the second on (setData and getData, which came after,
 * were warm by then).
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 9) * 1000;
const WORKLOADS = ['create', 'setData', 'getData'] as const;
type Workload = (typeof WORKLOADS)[number];

/** A subject with its sessions open and the znodes the workloads use made. */
interface Opened {
  subject: Subject;
  sessions: OpsSession[];
}

async function openSubject(subject: Subject): Promise<Opened> {
  const sessions: OpsSession[] = [];
  try {
    for (let i = 0; i < SESSIONS; i++) sessions.push(await subject.open());
    const s0 = sessions[0];
    for (const p of ['/bench', '/bench/create', '/bench/data']) await s0.ensure(p);
    await Promise.all(sessions.flatMap((_, s) => Array.from({ length: INFLIGHT }, (_, l) => s0.ensure(laneNode(s, l), DATA))));
    await s0.ensure('/bench/watched', DATA);
    return { subject, sessions };
  } catch (err) {
    await closeSubject({ subject, sessions });
    throw err;
  }
}

async function closeSubject(o: Opened): Promise<void> {
  await Promise.all(o.sessions.map((s) => s.close().catch(() => undefined)));
  await o.subject.dispose().catch((err) => console.error(`${o.subject.name}: clean-up failed`, err));
}

const laneNode = (s: number, l: number) => `/bench/data/n-${s}-${l}`;

function runWorkload(o: Opened, w: Workload, ms: number, warmupMs: number): Promise<LoadResult> {
  const load = { sessions: SESSIONS, inflight: INFLIGHT, durationMs: ms, warmupMs };
  const ss = o.sessions;
  switch (w) {
    case 'create': return closedLoop(load, (s) => ss[s].createSequential('/bench/create/n-', DATA));
    case 'setData': return closedLoop(load, (s, l) => ss[s].setData(laneNode(s, l), DATA));
    case 'getData': return closedLoop(load, (s, l) => ss[s].getData(laneNode(s, l)));
  }
}

/** `rounds` watch round trips (after `warmup` unmeasured): their latencies. */
async function runWatch(o: Opened, rounds: number, warmup: number): Promise<number[]> {
  const watcher = o.sessions[1];
  const writer = o.sessions[2];
  const latencies: number[] = [];
  for (let i = 0; i < rounds + warmup; i++) {
    const { event } = await watcher.watchData('/bench/watched');
    const t0 = performance.now();
    await writer.setData('/bench/watched', DATA);
    const t1 = await event;
    if (i >= warmup) latencies.push(t1 - t0);
  }
  return latencies;
}

/**
 * Every workload on every subject, the subjects taking turns: each subject first runs every
 * workload unmeasured (WARMUP_MS in all), then per workload ROUNDS rounds of
 * `seconds / ROUNDS` each (after 0.3 s unmeasured), and
 * the watch rounds in ROUNDS chunks. A subject's rate is its median round; its p50 / p99
 * the median of its rounds'. The machine's pace drifts over minutes (a third slower or
 * faster), and a peer measured whole minutes after the other took the drift for a ratio.
 */
async function measureAll(subjects: Subject[], seconds: number, watchSamples: number): Promise<Map<string, CoreOpsResult>> {
  const opened: Opened[] = [];
  try {
    for (const s of subjects) opened.push(await openSubject(s));
    const rounds = new Map<string, Record<Workload, LoadResult[]>>(opened.map((o) => [o.subject.name, { create: [], setData: [], getData: [] }]));
    for (const o of opened) for (const w of WORKLOADS) await runWorkload(o, w, 0, WARMUP_MS / WORKLOADS.length);
    for (const w of WORKLOADS) {
      for (let r = 0; r < ROUNDS; r++) {
        for (const o of opened) rounds.get(o.subject.name)![w].push(await runWorkload(o, w, (seconds * 1000) / ROUNDS, 300));
      }
    }
    const watch = new Map<string, number[]>(opened.map((o) => [o.subject.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const o of opened) watch.get(o.subject.name)!.push(...(await runWatch(o, Math.ceil(watchSamples / ROUNDS), r === 0 ? 100 : 20)));
    }
    const out = new Map<string, CoreOpsResult>();
    for (const o of opened) {
      const name = o.subject.name;
      const rs = rounds.get(name)!;
      out.set(name, {
        subject: name,
        create: combine(rs.create), setData: combine(rs.setData), getData: combine(rs.getData),
        rounds: { create: rs.create.map((x) => x.opsPerSec), setData: rs.setData.map((x) => x.opsPerSec), getData: rs.getData.map((x) => x.opsPerSec) },
        watch: summarize(watch.get(name)!),
      });
    }
    return out;
  } finally {
    for (const o of opened) await closeSubject(o);
  }
}

/** One workload's rounds as one result: the median round's rate, the median p50 and p99. */
function combine(rs: LoadResult[]): LoadResult {
  const errors = rs.reduce((a, r) => a + r.errors, 0);
  return {
    count: rs.reduce((a, r) => a + r.count, 0),
    opsPerSec: median(rs.map((r) => r.opsPerSec)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    max: Math.max(...rs.map((r) => r.max)),
    errors,
    firstError: rs.find((r) => r.errors > 0)?.firstError,
  };
}

/** Runs the benchmark and prints the table; returns the raw figures. */
export async function runCoreOps(only: string[] = []): Promise<CoreOpsResult[]> {
  const seconds = benchSeconds(5);
  const watchSamples = Number(process.env.BENCH_WATCH_SAMPLES ?? 5000);
  const want = (k: string) => only.length === 0 || only.includes(k);
  banner(`core ops (issue 3): ${SESSIONS} sessions × ${INFLIGHT} in flight, ${seconds} s per workload in ${ROUNDS} turns, 100 B data — ${machineLine()}`);

  const subjects: Subject[] = [];
  const skipped: string[] = [];
  if (want('redis')) {
    const ready = await corralRedisReady();
    if (ready.ok) subjects.push(corralSubject('redis'));
    else skipped.push(`corral-redis: ${ready.reason}`);
  }
  if (want('zk')) {
    if (zookeeperAvailable()) subjects.push(await zookeeperSubject());
    else skipped.push('zookeeper: not installed (bench/setup.sh)');
  }
  const results = await measureAll(subjects, seconds, watchSamples);
  // Alone, afterwards: its store lives in this process's heap (half a million znodes after
  // the creates), which would slow every garbage collection of the peers' turns.
  if (want('memory')) for (const [k, v] of await measureAll([corralSubject('memory')], seconds, watchSamples)) results.set(k, v);
  printCoreOps(results);
  for (const s of skipped) console.log(`skipped ${s}`);
  return [...results.values()];
}

function printCoreOps(results: Map<string, CoreOpsResult>): void {
  const cols = ['corral-redis', 'zookeeper', 'corral-memory'].filter((c) => results.has(c));
  const r = (c: string) => results.get(c)!;
  const redis = results.get('corral-redis');
  const zk = results.get('zookeeper');
  const rows: string[][] = [];
  const targets: Record<'create' | 'setData' | 'getData', number> = { create: 2, setData: 2, getData: 1.8 };
  for (const w of ['create', 'setData', 'getData'] as const) {
    const ratio = redis && zk ? redis[w].opsPerSec / zk[w].opsPerSec : NaN;
    rows.push([`${w} ops/s`, ...cols.map((c) => fmtNum(r(c)[w].opsPerSec)), fmtRatio(ratio), verdict(ratio, targets[w])]);
    rows.push([`${w} p50 / p99`, ...cols.map((c) => `${fmtMs(r(c)[w].p50)} / ${fmtMs(r(c)[w].p99)}`), '', '']);
    const errs = cols.filter((c) => r(c)[w].errors > 0);
    for (const c of errs) console.log(`${c} ${w}: ${r(c)[w].errors} errors, first: ${String(r(c)[w].firstError)}`);
  }
  const watchRatio = redis && zk ? zk.watch.p99 / redis.watch.p99 : NaN;
  rows.push(['watch p50', ...cols.map((c) => fmtMs(r(c).watch.p50)), redis && zk ? fmtRatio(zk.watch.p50 / redis.watch.p50) : 'n/a', '']);
  rows.push(['watch p99', ...cols.map((c) => fmtMs(r(c).watch.p99)), fmtRatio(watchRatio),
    Number.isFinite(watchRatio) ? (watchRatio >= 1 ? 'met (≤ ZooKeeper)' : `MISSED (${fmtMs(redis!.watch.p99 - zk!.watch.p99)} slower)`) : 'n/a']);
  console.log(table(['workload', ...cols, 'redis/zk', 'target'], rows));
  console.log('ratio: corral-redis over ZooKeeper for throughput; ZooKeeper latency over corral-redis for watches (> 1 = corral faster)');
  for (const c of cols) {
    const rs = r(c).rounds;
    const f = (xs: number[]) => xs.map((x) => fmtNum(x)).join(', ');
    console.log(`each turn, ${c}: create ${f(rs.create)}; setData ${f(rs.setData)}; getData ${f(rs.getData)} ops/s`);
  }
  if (redis && zk) {
    const turns = (w: 'create' | 'setData' | 'getData') => redis.rounds[w].map((x, i) => fmtRatio(x / zk.rounds[w][i])).join(', ');
    console.log(`each turn, corral-redis ÷ ZooKeeper: create ${turns('create')}; setData ${turns('setData')}; getData ${turns('getData')}`);
  }
}

if (isMain(import.meta.url)) runMain(async () => void (await runCoreOps(process.argv.slice(2))));
