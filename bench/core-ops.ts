/**
 * Issue 3: core znode operations, corral on Redis vs Apache ZooKeeper 3.8 (both on loopback),
 * with corral's embedded memory backend as a reference column.
 *
 *   npx tsx bench/core-ops.ts            # all three
 *   npx tsx bench/core-ops.ts zk memory  # a subset (redis | zk | memory)
 *
 * Workloads: create (persistent_sequential, 100 B), setData (100 B), getData — each with
 * 8 sessions × 16 operations in flight for BENCH_SECONDS (default 5) after a 1 s warm-up —
 * and watch-notification latency: one session holds a data watch, another writes; the time
 * from issuing the write to the watcher running, re-armed each time, over
 * BENCH_WATCH_SAMPLES rounds (default 5 000, after 100 unmeasured): a p99 rests on its
 * slowest 1 %, and over 1 000 rounds those 10 rounds made either peer's p99 swing by 2×
 * from run to run.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '../core/index.js';
import { benchNamespace, corralConnect, corralRedisReady, dropRedisNamespace, type CorralBackendKind } from './lib/corral.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import { isMain, machineLine, runMain } from './lib/main.js';
import { banner, benchSeconds, fmtMs, fmtNum, fmtRatio, table, verdict } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';
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

/** Runs every workload against one subject. */
async function measure(subject: Subject, seconds: number, watchSamples: number): Promise<CoreOpsResult> {
  const sessions: OpsSession[] = [];
  try {
    for (let i = 0; i < SESSIONS; i++) sessions.push(await subject.open());
    const s0 = sessions[0];
    for (const p of ['/bench', '/bench/create', '/bench/data']) await s0.ensure(p);
    const laneNode = (s: number, l: number) => `/bench/data/n-${s}-${l}`;
    await Promise.all(sessions.flatMap((_, s) => Array.from({ length: INFLIGHT }, (_, l) => s0.ensure(laneNode(s, l), DATA))));
    const load = { sessions: SESSIONS, inflight: INFLIGHT, durationMs: seconds * 1000, warmupMs: 1000 };

    const create = await closedLoop(load, (s) => sessions[s].createSequential('/bench/create/n-', DATA));
    const setData = await closedLoop(load, (s, l) => sessions[s].setData(laneNode(s, l), DATA));
    const getData = await closedLoop(load, (s, l) => sessions[s].getData(laneNode(s, l)));

    await s0.ensure('/bench/watched', DATA);
    const watcher = sessions[1];
    const writer = sessions[2];
    const latencies: number[] = [];
    for (let i = 0; i < watchSamples + 100; i++) {
      const { event } = await watcher.watchData('/bench/watched');
      const t0 = performance.now();
      await writer.setData('/bench/watched', DATA);
      const t1 = await event;
      if (i >= 100) latencies.push(t1 - t0);
    }
    return { subject: subject.name, create, setData, getData, watch: summarize(latencies) };
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    await subject.dispose().catch((err) => console.error(`${subject.name}: clean-up failed`, err));
  }
}

/** Runs the benchmark and prints the table; returns the raw figures. */
export async function runCoreOps(only: string[] = []): Promise<CoreOpsResult[]> {
  const seconds = benchSeconds(5);
  const watchSamples = Number(process.env.BENCH_WATCH_SAMPLES ?? 5000);
  const want = (k: string) => only.length === 0 || only.includes(k);
  banner(`core ops (issue 3): ${SESSIONS} sessions × ${INFLIGHT} in flight, ${seconds} s per workload, 100 B data — ${machineLine()}`);

  const results = new Map<string, CoreOpsResult>();
  const skipped: string[] = [];
  if (want('redis')) {
    const ready = await corralRedisReady();
    if (ready.ok) results.set('corral-redis', await measure(corralSubject('redis'), seconds, watchSamples));
    else skipped.push(`corral-redis: ${ready.reason}`);
  }
  if (want('zk')) {
    if (zookeeperAvailable()) results.set('zookeeper', await measure(await zookeeperSubject(), seconds, watchSamples));
    else skipped.push('zookeeper: not installed (bench/setup.sh)');
  }
  if (want('memory')) results.set('corral-memory', await measure(corralSubject('memory'), seconds, watchSamples));

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
}

if (isMain(import.meta.url)) runMain(async () => void (await runCoreOps(process.argv.slice(2))));
