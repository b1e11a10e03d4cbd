import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { connect, type Client } from '../../core/index.js';
import { createMaster, createTaskClient, createWorker } from '../../framework/index.js';
import { startRedis } from '../faults/index.js';
import { testNamespace } from '../namespace.js';
import { useCleanups } from '../redis/later.js';

/**
 * The framework on a Redis that runs out of memory (noeviction) mid-run: writes are refused
 * (StoreFullError) while reads, watches and sessions go on. The worker writes its refused
 * outcomes again and the master its refused reclaims, after a pause, so once Redis has
 * room again every task finishes. Private redis-server.
 */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const later = useCleanups();

describe('the framework when Redis is full', () => {
  it('refused outcomes and a refused reclaim are written again once Redis has room: every task finishes, each run once by the live worker', async () => {
    const redis = later(await startRedis({ args: ['--maxmemory-policy', 'noeviction'] }), (r) => r.stop());
    const ns = testNamespace('fw-full');
    const target = { redis: redis.url };
    const opts = { namespace: ns, sessionTimeoutMs: 1000, logger: quiet };
    const zk = later(await connect(target, opts), (z) => z.close());
    const tasks = createTaskClient(zk);
    const master = later(createMaster({ connect: target, ...opts }), (m) => m.close());
    const refusals = { master: 0, worker: 0 };
    master.on('storeFull', () => refusals.master++);

    const runs = new Map<string, number>();
    const live = later(createWorker({
      connect: target, ...opts, concurrency: 4,
      handler: async (_p: unknown, ctx) => {
        runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
        await sleep(30);
        return ctx.id;
      },
    }), (w) => w.close());
    live.on('storeFull', () => refusals.worker++);

    // A worker whose tasks hang; its client is closed (a crash) while Redis is full.
    let doomedZk: Client | undefined;
    let doomedRunning = 0;
    const doomed = createWorker({
      // Once crashed it stays down: no new session.
      connect: async () => {
        if (doomedZk) throw new Error('this worker is down');
        return (doomedZk = await connect(target, opts));
      },
      concurrency: 4,
      handler: (_p: unknown, ctx) => {
        doomedRunning++;
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
      },
    });
    doomed.on('error', () => undefined);
    later(doomed, (w) => w.close());

    const ids = await tasks.submitMany(Array.from({ length: 40 }, (_, n) => ({ payload: { n } })));
    await expect.poll(() => doomedRunning, { timeout: 5000 }).toBeGreaterThan(0);

    for (let i = 0; i < 20; i++) await redis.command(['SET', `filler:${i}`, 'x'.repeat(100_000)]);
    await redis.command(['CONFIG', 'SET', 'maxmemory', '1mb']);
    await doomedZk!.close();
    await sleep(1500);
    // Both paths were refused while full.
    expect(refusals.worker).toBeGreaterThan(0);
    expect(refusals.master).toBeGreaterThan(0);

    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
    const all = await tasks.waitAll(ids, { timeoutMs: 20_000 });
    expect(all.map((s) => s.state)).toEqual(Array(40).fill('succeeded'));
    expect(runs.size).toBe(40);
    expect([...runs.values()].every((c) => c === 1)).toBe(true);
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 40 });
  }, 60_000);
});
