import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client, type StoreRolledBackError, type WatchEvent } from '../../core/index.js';
import { Mutex } from '../../recipes/index.js';
import {
  checkLinearizable, registerModel, startProxy, startRedis, startSentinel, waitForReplication,
  type Proxy, type RedisServer, type Sentinel,
} from '../faults/index.js';
import { keepingLogger, redisSelected, redisTarget, type Target } from './targets.js';
import { figureLine, registerWorkload } from './workloads.js';
import { testNamespace } from '../namespace.js';

const withRedis = redisSelected();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!().catch(() => undefined);
});
function later<T extends { stop?: () => Promise<void>; close?: () => Promise<void> }>(x: T): T {
  stops.push(() => (x.stop ?? x.close)!.call(x));
  return x;
}

/** Waits for an event, or gives up after `ms` with null. */
function within<T>(ms: number, register: (done: (v: T) => void) => void): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/**
 * A master, a replica that replicates through a proxy (so a test can make it lag for real:
 * `link.block()`), and a Sentinel watching them that already knows the replica.
 */
async function sentinelPair(): Promise<{ master: RedisServer; link: Proxy; replica: RedisServer; sentinel: Sentinel }> {
  const master = later(await startRedis());
  const link: Proxy = later(await startProxy({ targetPort: master.port }));
  const replica: RedisServer = later(await startRedis({ replicaOf: { port: link.port } }));
  await waitForReplication(master, 1);
  const sentinel: Sentinel = later(await startSentinel({ masterPort: master.port, quorum: 1, downAfterMs: 500, failoverTimeoutMs: 3000 }));
  for (let i = 0; i < 100; i++) {
    const r = await sentinel.command(['SENTINEL', 'replicas', sentinel.masterName]);
    if (Array.isArray(r) && r.length > 0) break;
    await sleep(100);
  }
  return { master, link, replica, sentinel };
}

describe.runIf(withRedis)('Redis durability', () => {
  it('SIGKILL + restart mid-run with appendfsync always: no acknowledged write lost, still linearizable', async () => {
    const redis = later(await startRedis({ aof: 'always' }));
    const target: Target = later(await redisTarget(redis));
    let restarts = 0;
    let downMs = 0;
    const rollbacks: StoreRolledBackError[] = [];
    const { history, figures } = await registerWorkload(target, {
      clients: 4,
      znodes: 3,
      durationMs: 5000,
      sessionTimeoutMs: 2000,
      onClient: (zk) => zk.on('rolledBack', (e) => rollbacks.push(e)),
      during: async (end) => {
        await sleep(1200);
        while (performance.now() < end - 1200) {
          const t0 = performance.now();
          await redis.kill('SIGKILL');
          await sleep(200);
          await redis.restart();
          downMs += performance.now() - t0;
          restarts++;
          await sleep(1000);
        }
      },
    });
    const r = checkLinearizable(history, registerModel());
    console.log(figureLine('redis-restart/aof-always', {
      ...figures, restarts, downMs, rolledBackEvents: rollbacks.length, checkSteps: r.steps, linearizable: r.ok,
    }));
    expect(r.ok, r.failure?.explanation).toBe(true);
    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(rollbacks).toEqual([]);
    // Sessions outlive a restart shorter than their timeout (deadlines are in the AOF too).
    expect(figures.expirations).toBe(0);
    expect(figures.completed).toBeGreaterThan(300);
  }, 40_000);

  it('the same run without persistence is caught: the checker finds the lost writes', async () => {
    // The control experiment for the test above: if the checker accepted this, it would
    // prove nothing there.
    const redis = later(await startRedis());
    const target: Target = later(await redisTarget(redis));
    let restarts = 0;
    const { history, figures } = await registerWorkload(target, {
      clients: 3,
      znodes: 2,
      durationMs: 2500,
      sessionTimeoutMs: 2000,
      during: async () => {
        await sleep(1200);
        await redis.restart('SIGKILL');
        restarts++;
      },
    });
    const r = checkLinearizable(history, registerModel());
    console.log(figureLine('redis-restart/no-persistence', { ...figures, restarts, linearizable: r.ok }));
    expect(r.ok).toBe(false);
    expect(r.failure!.explanation).toMatch(/NoNode/);
  }, 30_000);

  it('a store restored to an older state is reported (rolledBack) and fencing tokens still rise', async () => {
    // No AOF: a restart loads the last RDB snapshot, losing every write after it; the same
    // thing a fail-over to a lagging replica does.
    const redis = later(await startRedis());
    const namespace = testNamespace('ns');
    const logger = keepingLogger();
    const zk = await connect({ redis: redis.url }, { namespace, sessionTimeoutMs: 3000, logger });
    stops.push(() => zk.close());
    await zk.create('/kept', 'v0');
    const snapshotStat = await zk.setData('/kept', 'in the snapshot');
    expect(await redis.command(['SAVE'])).toBe('OK');
    let maxSeen = 0;
    for (let i = 0; i < 20; i++) maxSeen = Math.max(maxSeen, (await zk.createWithStat(`/lost-${i}`, 'x')).stat.czxid);
    await zk.setData('/kept', 'after the snapshot');

    const rolledBack = within<StoreRolledBackError>(5000, (done) => zk.once('rolledBack', done));
    await redis.restart('SIGKILL');
    const err = await rolledBack;
    expect(err, 'the client did not report the rolled-back store').not.toBeNull();
    expect(err!.code).toBe(-1004);
    expect(logger.errors.length).toBeGreaterThan(0);

    // What the snapshot had is there; what came after is gone (as documented).
    await zk.whenConnected(5000);
    const kept = await zk.getData('/kept');
    expect(kept.data.toString()).toBe('in the snapshot');
    expect(kept.stat.version).toBe(snapshotStat.version);
    expect(await zk.exists('/lost-0')).toBeNull();
    // Fencing tokens (czxids) never go backwards, even across the rollback.
    const after = await zk.createWithStat('/after-rollback', 'x');
    expect(after.stat.czxid).toBeGreaterThan(maxSeen);
    // A client that connects only now also gets tokens above the old ones.
    const late = await connect({ redis: redis.url }, { namespace, sessionTimeoutMs: 3000, logger: keepingLogger() });
    stops.push(() => late.close());
    expect((await late.createWithStat('/late', 'x')).stat.czxid).toBeGreaterThan(after.stat.czxid);
    console.log(figureLine('redis-rollback/rdb-restore', {
      writesAfterSnapshot: 21, lostWrites: 21, detected: true, maxTokenBefore: maxSeen, firstTokenAfter: after.stat.czxid,
    }));
  }, 30_000);
});

describe.runIf(withRedis)('Redis Sentinel fail-over', () => {
  it('keeps replicated writes, loses unreplicated ones, and the client detects the rollback', async () => {
    const { master, link, replica, sentinel } = await sentinelPair();

    const namespace = testNamespace('ns');
    const target = { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.masterName };
    const zk: Client = await connect({ redis: target }, { namespace, sessionTimeoutMs: 8000, logger: keepingLogger() });
    stops.push(() => zk.close());
    const rollbacks: StoreRolledBackError[] = [];
    zk.on('rolledBack', (e) => rollbacks.push(e));

    await zk.create('/log');
    const replicated: string[] = [];
    for (let i = 0; i < 30; i++) replicated.push(await zk.create('/log/e-', `r${i}`, { mode: 'persistent_sequential' }));
    await waitForReplication(master, 1);
    let maxToken = 0;

    // The replica stops receiving; the master keeps acknowledging writes.
    link.block();
    const unreplicated: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await zk.createWithStat('/log/e-', `u${i}`, { mode: 'persistent_sequential' });
      unreplicated.push(r.path);
      maxToken = Math.max(maxToken, r.stat.czxid);
    }

    const t0 = performance.now();
    await master.kill('SIGKILL');
    const promoted = await sentinel.waitForFailover(master.port, 20_000);
    const failoverMs = performance.now() - t0;
    expect(promoted.port).toBe(replica.port);
    await zk.whenConnected(10_000).catch(() => undefined);
    for (let i = 0; i < 100 && rollbacks.length === 0; i++) await sleep(100);
    const detectedMs = performance.now() - t0;

    expect(rollbacks.length, 'the client did not report the lost writes').toBeGreaterThan(0);
    expect(zk.state === 'connected' || zk.state === 'reconnected').toBe(true);
    const { children } = await zk.getChildren('/log');
    const have = new Set(children.map((c) => `/log/${c}`));
    const keptCount = replicated.filter((p) => have.has(p)).length;
    const lostCount = unreplicated.filter((p) => !have.has(p)).length;
    expect(keptCount).toBe(replicated.length);
    expect(lostCount).toBe(unreplicated.length);
    // Fencing tokens keep rising after the fail-over.
    const next = await zk.createWithStat('/log/e-', 'after', { mode: 'persistent_sequential' });
    expect(next.stat.czxid).toBeGreaterThan(maxToken);
    console.log(figureLine('sentinel-failover/lagging-replica', {
      replicatedWrites: replicated.length, kept: keptCount, unreplicatedAcked: unreplicated.length, lost: lostCount,
      failoverMs, rollbackDetectedAfterMs: detectedMs, tokensMonotonic: next.stat.czxid > maxToken,
    }));
  }, 60_000);

  it('after a fail-over to a lagging replica a fresh client that writes first gets tokens above every lost one; a client that saw the lost writes is told and its watches resync', async () => {
    const { master, link: replLink, replica, sentinel } = await sentinelPair();
    const namespace = testNamespace('ns');
    // This client reaches the master through an address that moves with it (a virtual IP).
    const vip: Proxy = later(await startProxy({ targetPort: master.port }));
    const stale: Client = await connect({ redis: vip.url }, { namespace, sessionTimeoutMs: 20_000, logger: keepingLogger() });
    stops.push(() => stale.close());
    const rollbacks: StoreRolledBackError[] = [];
    stale.on('rolledBack', (e) => rollbacks.push(e));
    await stale.create('/locks');
    await stale.create('/jobs');
    for (let i = 0; i < 10; i++) await stale.create('/jobs/j-', 'replicated', { mode: 'persistent_sequential' });
    await waitForReplication(master, 1);

    // The replica stops receiving; what the master acknowledges now, the fail-over loses:
    // a lock grant with its fencing token among it.
    replLink.block();
    const staleLease = await new Mutex(stale, '/locks/db').acquire({ timeoutMs: 5000 });
    let maxLost = staleLease.token;
    let lostJob = '';
    for (let i = 0; i < 10; i++) {
      const r = await stale.createWithStat('/jobs/j-', 'lost', { mode: 'persistent_sequential' });
      maxLost = Math.max(maxLost, r.stat.czxid);
      lostJob = r.path;
    }
    const jobEvents: WatchEvent[] = [];
    const lostEvents: WatchEvent[] = [];
    await stale.getChildren('/jobs', { watch: (ev) => jobEvents.push(ev) });
    await stale.getData(lostJob, { watch: (ev) => lostEvents.push(ev) });

    vip.cut();
    const t0 = performance.now();
    await master.kill('SIGKILL');
    const promoted = await sentinel.waitForFailover(master.port, 20_000);
    expect(promoted.port).toBe(replica.port);
    // A client that never saw the lost writes writes first, through Sentinel.
    const fresh: Client = await connect({ redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.masterName } }, { namespace, sessionTimeoutMs: 8000, logger: keepingLogger() });
    stops.push(() => fresh.close());
    expect(await fresh.exists(lostJob)).toBeNull();
    const first = await fresh.createWithStat('/first', 'x');
    expect(first.stat.czxid).toBeGreaterThan(maxLost);
    const lease = await new Mutex(fresh, '/locks/db').acquire({ timeoutMs: 5000 });
    expect(lease.token).toBeGreaterThan(staleLease.token);
    await lease.release();
    for (let i = 0; i < 30; i++) await fresh.create('/jobs/j-', 'after', { mode: 'persistent_sequential' });

    // The address moves to the promoted replica; the stale client comes back to it.
    await vip.close();
    later(await startProxy({ targetPort: replica.port, listenPort: vip.port }));
    await expect.poll(() => rollbacks.length, { timeout: 10_000 }).toBe(1);
    const detectedMs = performance.now() - t0;
    expect(rollbacks[0].message).toContain(`saw zxid ${maxLost}`);
    await stale.whenConnected(10_000);
    await expect.poll(() => lostEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual([`deleted ${lostJob} true`]);
    await expect.poll(() => jobEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['childrenChanged /jobs true']);
    console.log(figureLine('sentinel-failover/fresh-writer-first', {
      lostWrites: 11, maxLostToken: maxLost, firstTokenAfter: first.stat.czxid, lockTokenAfter: lease.token,
      freshWritesBeforeStaleReturned: 32, rollbackReported: rollbacks.length, rollbackDetectedAfterMs: detectedMs,
    }));
  }, 60_000);
});
