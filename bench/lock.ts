/**
 * Issue 4: one mutex, 8 contenders each looping acquire → release for BENCH_SECONDS
 * (default 5): corral's Mutex (recipes/) on Redis, ZooKeeper 3.8's lock recipe on
 * node-zookeeper-client, and redis-semaphore's Mutex on the same Redis; acquisitions/s and
 * ratios. Every run also checks mutual exclusion (no two holders at once) and reports
 * fairness (fewest / most acquisitions of one contender).
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
import { summarize } from './lib/stats.js';
import { startZooKeeper, zookeeperAvailable } from './peers/zookeeper-server.js';
import { ZkPeer } from './peers/zk-client.js';
import { ZkMutex } from './peers/zk-lock.js';

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
  p50: number;
  p99: number;
}

/** Runs the acquire → release loop on every contender for `ms`; measures and checks exclusion. */
async function hammer(subject: string, contenders: Contender[], ms: number): Promise<LockResult> {
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
  // Warm-up, then the measured run.
  const warm = performance.now() + 1000;
  await Promise.all(contenders.map((c, i) => loop(c, i, warm, false)));
  const start = performance.now();
  const end = start + ms;
  await Promise.all(contenders.map((c, i) => loop(c, i, end, true)));
  const elapsed = performance.now() - start;
  const total = counts.reduce((a, b) => a + b, 0);
  const s = summarize(waits);
  return {
    subject, acquisitionsPerSec: (total * 1000) / elapsed,
    minPerContender: Math.min(...counts), maxPerContender: Math.max(...counts), overlaps, p50: s.p50, p99: s.p99,
  };
}

async function corralThroughput(kind: CorralBackendKind, ms: number): Promise<LockResult> {
  const namespace = benchNamespace('bench-lock');
  const clients: Client[] = [];
  try {
    for (let i = 0; i < CONTENDERS; i++) clients.push(await corralConnect(kind, namespace, { sessionTimeoutMs: 10_000 }));
    await ensurePath(clients[0], '/bench/lock');
    const contenders = clients.map((zk): Contender => {
      const m = new Mutex(zk, '/bench/lock');
      let lease: Awaited<ReturnType<Mutex['acquire']>> | null = null;
      return {
        acquire: async () => void (lease = await m.acquire()),
        release: async () => { const l = lease!; lease = null; await l.release(); },
      };
    });
    return await hammer(`corral-${kind}`, contenders, ms);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (kind === 'redis') await dropRedisNamespace(namespace);
  }
}

async function zookeeperThroughput(ms: number): Promise<LockResult> {
  const server = await startZooKeeper();
  const peers: ZkPeer[] = [];
  try {
    for (let i = 0; i < CONTENDERS; i++) peers.push(await ZkPeer.connect(server.connectString, 10_000));
    await peers[0].mkdirp('/bench/lock');
    const contenders = peers.map((zk) => new ZkMutex(zk, '/bench/lock'));
    return await hammer('zookeeper', contenders.map((m) => ({ acquire: () => m.acquire(), release: () => m.release() })), ms);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await server.stop();
  }
}

async function redisSemaphoreThroughput(ms: number): Promise<LockResult> {
  const key = benchNamespace('bench-lock-rs');
  const clients: Redis[] = [];
  try {
    for (let i = 0; i < CONTENDERS; i++) clients.push(new Redis(REDIS_URL));
    // The library's defaults (retryInterval 10 ms polling, lockTimeout 10 s): what a user gets.
    const contenders = clients.map((r) => new RedisSemaphoreMutex(r, key));
    return await hammer('redis-semaphore', contenders.map((m) => ({ acquire: () => m.acquire(), release: () => m.release() })), ms);
  } finally {
    await clients[0]?.del(`mutex:${key}`).catch(() => undefined);
    for (const c of clients) c.disconnect();
  }
}

export async function runLockThroughput(): Promise<LockResult[]> {
  const seconds = benchSeconds(5);
  banner(`lock (issue 4): one mutex, ${CONTENDERS} contenders acquire → release, ${seconds} s — ${machineLine()}`);
  const results: LockResult[] = [];
  const ready = await corralRedisReady();
  if (ready.ok) results.push(await corralThroughput('redis', seconds * 1000));
  else console.log(`skipped corral-redis: ${ready.reason}`);
  if (zookeeperAvailable()) results.push(await zookeeperThroughput(seconds * 1000));
  else console.log('skipped zookeeper: not installed (bench/setup.sh)');
  results.push(await redisSemaphoreThroughput(seconds * 1000));
  results.push(await corralThroughput('memory', seconds * 1000));

  const corral = results.find((r) => r.subject === 'corral-redis');
  const rows = results.map((r) => {
    const ratio = corral ? corral.acquisitionsPerSec / r.acquisitionsPerSec : NaN;
    const target = r.subject === 'zookeeper' ? verdict(ratio, 4) : r.subject === 'redis-semaphore' ? verdict(ratio, 1) : '';
    return [r.subject, fmtNum(r.acquisitionsPerSec), `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`, `${r.minPerContender} / ${r.maxPerContender}`,
      String(r.overlaps), r.subject === 'corral-redis' || r.subject === 'corral-memory' ? '' : fmtRatio(ratio), target];
  });
  console.log(table(['lock', 'acquisitions/s', 'wait p50 / p99', 'min / max per contender', 'overlaps', 'corral-redis ÷', 'target'], rows));
  for (const r of results) if (r.overlaps > 0) console.log(`!! ${r.subject}: mutual exclusion violated ${r.overlaps} times`);
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
