/**
 * Issue 4: one mutex, 8 contenders each looping acquire → release for BENCH_SECONDS
 * (default 5): corral's Mutex (recipes/) on Redis, ZooKeeper 3.8's lock recipe on
 * node-zookeeper-client, and redis-semaphore's Mutex on the same Redis; acquisitions/s and
 * ratios; beside them, as a reference and not a peer, the cheapest FIFO mutex straight on
 * Redis (peers/redis-fifo-floor.ts). Every run also checks mutual exclusion (no two holders at once) and reports
 * fairness (fewest / most acquisitions of one contender). Each warms up first
 * (BENCH_WARMUP_SECONDS, default 25: ZooKeeper's JVM needs it), then they take turns
 * (BENCH_ROUNDS, default 3; see takeTurns); corral's memory backend runs alone afterwards.
 *
 * Then leader fail-over: a leader process is SIGKILLed; time until a standby process is
 * elected — corral's LeaderLatch on Redis at a 1 s session timeout vs ZooKeeper at its
 * smallest allowed session timeout (2 × tickTime).
 *
 *   npx tsx bench/lock.ts                  # everything
 *   npx tsx bench/lock.ts throughput       # or: failover
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Mutex as RedisSemaphoreMutex } from 'redis-semaphore';
import { ensurePath, type Client } from '../core/index.js';
import { Mutex } from '../recipes/index.js';
import { ChildScript } from './lib/child.js';
import { benchNamespace, corralConnect, corralRedisReady, dropRedisNamespace, REDIS_URL, type CorralBackendKind } from './lib/corral.js';
import { yielder } from './lib/load.js';
import { isMain, machineLine, runMain } from './lib/main.js';
import { banner, benchSeconds, fmtMs, fmtNum, fmtRatio, table, verdict } from './lib/report.js';
import { median, summarize } from './lib/stats.js';
import { startZooKeeper, zookeeperAvailable } from './peers/zookeeper-server.js';
import { ZkPeer } from './peers/zk-client.js';
import { ZkMutex } from './peers/zk-lock.js';
import { RedisFifoFloorMutex } from './peers/redis-fifo-floor.js';

const CONTENDERS = 8;
const FAILOVER_ROUNDS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 5);
const CORRAL_SESSION_MS = 1000;

/** One contender's view of a lock: acquire resolves once held; release lets go. */
interface Contender {
  acquire(): Promise<unknown>;
  release(): Promise<unknown>;
}

export interface LockResult {
  subject: string;
  acquisitionsPerSec: number;
  minPerContender: number;
  maxPerContender: number;
  /** Times two contenders held the lock at once (must be 0). */
  overlaps: number;
  /** Each turn's rate, in turn order. */
  turns: number[];
  p50: number;
  p99: number;
}

/** One turn of a subject: acquisitions per contender, the waits, the overlaps, the time. */
interface Turn {
  counts: number[];
  waits: number[];
  overlaps: number;
  elapsedMs: number;
}

/** Runs the acquire → release loop on every contender for `ms` after `warmMs`; measures and checks exclusion. */
async function hammer(contenders: Contender[], ms: number, warmMs: number): Promise<Turn> {
  let holders = 0;
  let overlaps = 0;
  const counts = contenders.map(() => 0);
  const waits: number[] = [];
  const breather = yielder();
  const loop = async (c: Contender, i: number, end: number, record: boolean) => {
    while (performance.now() < end) {
      await breather();
      const t0 = performance.now();
      await c.acquire();
      if (++holders > 1) overlaps++;
      if (record) {
        waits.push(performance.now() - t0);
        counts[i]++;
      }
      holders--;
      await c.release();
    }
  };
  const warm = performance.now() + warmMs;
  await Promise.all(contenders.map((c, i) => loop(c, i, warm, false)));
  const start = performance.now();
  const end = start + ms;
  await Promise.all(contenders.map((c, i) => loop(c, i, end, true)));
  return { counts, waits, overlaps, elapsedMs: performance.now() - start };
}

/** A lock implementation's 8 contenders, ready, and how to let them go. */
interface LockSubject {
  name: string;
  contenders: Contender[];
  close(): Promise<void>;
}

async function corralSubject(kind: CorralBackendKind): Promise<LockSubject> {
  const namespace = benchNamespace('bench-lock');
  const clients: Client[] = [];
  const close = async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (kind === 'redis') await dropRedisNamespace(namespace);
  };
  try {
    for (let i = 0; i < CONTENDERS; i++) clients.push(await corralConnect(kind, namespace, { sessionTimeoutMs: 10_000 }));
    await ensurePath(clients[0], '/bench/lock');
  } catch (err) {
    await close();
    throw err;
  }
  const contenders = clients.map((zk): Contender => {
    const m = new Mutex(zk, '/bench/lock');
    let lease: Awaited<ReturnType<Mutex['acquire']>> | null = null;
    return {
      acquire: async () => void (lease = await m.acquire()),
      release: async () => { const l = lease!; lease = null; await l.release(); },
    };
  });
  return { name: `corral-${kind}`, contenders, close };
}

async function zookeeperSubject(): Promise<LockSubject> {
  const server = await startZooKeeper();
  const peers: ZkPeer[] = [];
  const close = async () => {
    await Promise.all(peers.map((p) => p.close()));
    await server.stop();
  };
  try {
    for (let i = 0; i < CONTENDERS; i++) peers.push(await ZkPeer.connect(server.connectString, 10_000));
    await peers[0].mkdirp('/bench/lock');
  } catch (err) {
    await close();
    throw err;
  }
  const contenders = peers.map((zk) => new ZkMutex(zk, '/bench/lock'));
  return { name: 'zookeeper', contenders: contenders.map((m) => ({ acquire: () => m.acquire(), release: () => m.release() })), close };
}

async function redisSemaphoreSubject(): Promise<LockSubject> {
  const key = benchNamespace('bench-lock-rs');
  const clients: Redis[] = [];
  for (let i = 0; i < CONTENDERS; i++) clients.push(new Redis(REDIS_URL));
  // The library's defaults (retryInterval 10 ms polling, lockTimeout 10 s): what a user gets.
  const contenders = clients.map((r) => new RedisSemaphoreMutex(r, key));
  return {
    name: 'redis-semaphore',
    contenders: contenders.map((m) => ({ acquire: () => m.acquire(), release: () => m.release() })),
    close: async () => {
      await clients[0]?.del(`mutex:${key}`).catch(() => undefined);
      for (const c of clients) c.disconnect();
    },
  };
}

/**
 * Not a peer: the cheapest FIFO, fenced mutex straight on Redis (peers/redis-fifo-floor.ts,
 * crash-unsafe), to show what a fair hand-off itself costs here, apart from everything a
 * znode service adds.
 */
async function fifoFloorSubject(): Promise<LockSubject> {
  const key = benchNamespace('bench-lock-floor');
  const clients: Redis[] = [];
  for (let i = 0; i < CONTENDERS; i++) clients.push(new Redis(REDIS_URL));
  const ids = clients.map((_, i) => String(i));
  const mutexes = clients.map((r, i) => new RedisFifoFloorMutex(r, key, ids[i]));
  return {
    name: FIFO_FLOOR,
    contenders: mutexes.map((m) => ({ acquire: () => m.acquire(), release: () => m.release() })),
    close: async () => {
      await clients[0]?.del(...mutexes[0].keys(ids)).catch(() => undefined);
      for (const c of clients) c.disconnect();
    },
  };
}

const FIFO_FLOOR = 'fifo floor (reference)';

/** Rounds per subject: they take turns, so a slow spell of the machine hits them alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Each subject runs the loop unmeasured this long before the turns. ZooKeeper's JVM (and
 * its node client) takes that long to reach its steady rate on this workload: 8 contenders
 * on this machine went 358 → 753 → 917 → 1 085 /s at 3, 9, 18 and 24 s, then stayed at
 * 930–1 250. Measured cold, in three short turns, it ran at half that, and corral's ratio
 * over it came out ~1.5× too high.
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 25) * 1000;

/**
 * Each subject warms up for `warmMs`, then the subjects take turns, ROUNDS turns of
 * `ms / ROUNDS` each (after 0.3 s unmeasured). A subject's rate is its median turn's;
 * counts per contender and overlaps add up over its turns, waits are pooled.
 */
async function takeTurns(subjects: LockSubject[], ms: number, warmMs: number): Promise<LockResult[]> {
  const turns = new Map<string, Turn[]>(subjects.map((s) => [s.name, []]));
  for (const s of subjects) await hammer(s.contenders, 0, warmMs);
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of subjects) turns.get(s.name)!.push(await hammer(s.contenders, ms / ROUNDS, 300));
  }
  return subjects.map((s) => {
    const ts = turns.get(s.name)!;
    const counts = s.contenders.map((_, i) => ts.reduce((a, t) => a + t.counts[i], 0));
    const w = summarize(ts.flatMap((t) => t.waits));
    const rates = ts.map((t) => (t.counts.reduce((a, b) => a + b, 0) * 1000) / t.elapsedMs);
    return {
      subject: s.name, acquisitionsPerSec: median(rates), turns: rates,
      minPerContender: Math.min(...counts), maxPerContender: Math.max(...counts),
      overlaps: ts.reduce((a, t) => a + t.overlaps, 0), p50: w.p50, p99: w.p99,
    };
  });
}

export async function runLockThroughput(): Promise<LockResult[]> {
  const seconds = benchSeconds(5);
  banner(`lock (issue 4): one mutex, ${CONTENDERS} contenders acquire → release, ${seconds} s each in ${ROUNDS} turns after a ${WARMUP_MS / 1000} s warm-up each — ${machineLine()}`);
  const subjects: LockSubject[] = [];
  const results: LockResult[] = [];
  try {
    const ready = await corralRedisReady();
    if (ready.ok) subjects.push(await corralSubject('redis'));
    else console.log(`skipped corral-redis: ${ready.reason}`);
    if (zookeeperAvailable()) subjects.push(await zookeeperSubject());
    else console.log('skipped zookeeper: not installed (bench/setup.sh)');
    subjects.push(await redisSemaphoreSubject());
    subjects.push(await fifoFloorSubject());
    results.push(...(await takeTurns(subjects, seconds * 1000, WARMUP_MS)));
  } finally {
    for (const s of subjects) await s.close();
  }
  // Alone, afterwards: in-process, it would only take CPU from the others' turns.
  const memory = await corralSubject('memory');
  try {
    results.push(...(await takeTurns([memory], seconds * 1000, 1000)));
  } finally {
    await memory.close();
  }

  const corral = results.find((r) => r.subject === 'corral-redis');
  const rows = results.map((r) => {
    const ratio = corral ? corral.acquisitionsPerSec / r.acquisitionsPerSec : NaN;
    const target = r.subject === 'zookeeper' ? verdict(ratio, 4) : r.subject === 'redis-semaphore' ? verdict(ratio, 1) : '';
    return [r.subject, fmtNum(r.acquisitionsPerSec), `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`, `${r.minPerContender} / ${r.maxPerContender}`,
      String(r.overlaps), r.subject === 'corral-redis' || r.subject === 'corral-memory' ? '' : fmtRatio(ratio), target];
  });
  console.log(table(['lock', 'acquisitions/s', 'wait p50 / p99', 'min / max per contender', 'overlaps', 'corral-redis ÷', 'target'], rows));
  for (const r of results) if (r.overlaps > 0) console.log(`!! ${r.subject}: mutual exclusion violated ${r.overlaps} times`);
  if (results.some((r) => r.subject === FIFO_FLOOR)) {
    console.log(`${FIFO_FLOOR}: not a peer — the cheapest FIFO, fenced mutex straight on Redis (2 socket writes and 2 tiny scripts per`);
    console.log('  acquisition; no sessions, so a dead contender blocks it forever): what a fair hand-off alone costs on this machine.');
  }
  for (const r of results) console.log(`each turn, ${r.subject}: ${r.turns.map((x) => fmtNum(x)).join(', ')} acquisitions/s`);
  if (corral) {
    for (const r of results) {
      if (r === corral || r.subject === 'corral-memory') continue;
      console.log(`each turn, corral-redis ÷ ${r.subject}: ${corral.turns.map((x, i) => fmtRatio(x / r.turns[i])).join(', ')}`);
    }
  }
  return results;
}

export interface FailoverResult {
  subject: string;
  sessionTimeoutMs: number;
  samples: number[];
  p50: number;
  max: number;
}

/**
 * Rounds of: a leader and a standby process are running; SIGKILL the leader; time until the
 * standby prints ELECTED. A fresh standby is started for the next round.
 */
async function failover(subject: string, sessionTimeoutMs: number, spawnContender: () => ChildScript): Promise<FailoverResult> {
  const samples: number[] = [];
  let leader = spawnContender();
  const live: ChildScript[] = [leader];
  try {
    await leader.line('ELECTED');
    for (let round = 0; round < FAILOVER_ROUNDS; round++) {
      const standby = spawnContender();
      live.push(standby);
      await standby.line('READY');
      // Let the leader heartbeat once after the standby queued, as in steady state.
      await new Promise((r) => setTimeout(r, sessionTimeoutMs / 2));
      const killedAt = Date.now();
      await leader.kill('SIGKILL');
      const elected = Number((await standby.line('ELECTED', 30_000)).split(' ')[1]);
      samples.push(elected - killedAt);
      leader = standby;
    }
  } finally {
    await Promise.all(live.map((c) => c.kill('SIGKILL')));
  }
  const s = summarize(samples);
  return { subject, sessionTimeoutMs, samples, p50: s.p50, max: s.max };
}

export async function runLockFailover(): Promise<FailoverResult[]> {
  banner(`leader fail-over after SIGKILL of the leader process (${FAILOVER_ROUNDS} rounds) — ${machineLine()}`);
  const results: FailoverResult[] = [];
  const ready = await corralRedisReady();
  if (ready.ok) {
    const namespace = benchNamespace('bench-failover');
    try {
      results.push(await failover('corral-redis', CORRAL_SESSION_MS,
        () => new ChildScript('corral-leader.ts', [REDIS_URL, namespace, String(CORRAL_SESSION_MS)])));
    } finally {
      await dropRedisNamespace(namespace);
    }
  } else console.log(`skipped corral-redis: ${ready.reason}`);
  if (zookeeperAvailable()) {
    const server = await startZooKeeper();
    try {
      results.push(await failover('zookeeper', server.minSessionTimeoutMs,
        () => new ChildScript('zk-leader.ts', [server.connectString, String(server.minSessionTimeoutMs)])));
      console.log(`ZooKeeper: tickTime ${server.tickTime} ms, so its smallest session timeout is ${server.minSessionTimeoutMs} ms`);
    } finally {
      await server.stop();
    }
  }
  const corral = results.find((r) => r.subject === 'corral-redis');
  const zk = results.find((r) => r.subject === 'zookeeper');
  console.log(table(['fail-over', 'session timeout', 'p50', 'max', 'samples (ms)'],
    results.map((r) => [r.subject, `${r.sessionTimeoutMs} ms`, fmtMs(r.p50), fmtMs(r.max), r.samples.join(' ')])));
  if (corral && zk) console.log(`ZooKeeper p50 ÷ corral p50 = ${fmtRatio(zk.p50 / corral.p50)} (> 1: corral fails over faster)`);
  return results;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const only = process.argv[2];
    if (!only || only === 'throughput') await runLockThroughput();
    if (!only || only === 'failover') await runLockFailover();
  });
}
