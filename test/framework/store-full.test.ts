import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { connect, type Client } from '../../core/index.js';
import { createMaster, createTaskClient, createWorker } from '../../framework/index.js';
import { startProxy, startRedis } from '../faults/index.js';
import { testNamespace } from '../namespace.js';
import { useCleanups } from '../redis/later.js';

/**
 * The framework on a Redis that runs out of memory (noeviction) mid-run: writes are refused
 * (StoreFullError) while reads, watches and sessions go on. The worker writes its refused
 * outcomes again and the master its refused reclaims, cancels and failed statuses of
 * malformed tasks, after a pause, so once Redis has room again every task finishes.
 * Private redis-servers.
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

  it('a malformed task the master sees while Redis is full is failed once Redis has room, with no other event to wake it', async () => {
    const { zk, tasks, whileFull } = await masterBehindProxy('fw-full-malformed');
    let path = '';
    await whileFull(async () => {
      path = await zk.create('/tasks/task-', '{not json', { mode: 'persistent_sequential' });
    });
    // No worker, no other task, no cancel: nothing but the master's own retry can fail it now.
    const s = await tasks.wait(path.slice('/tasks/'.length), { timeoutMs: 8000 });
    expect(s.state).toBe('failed');
    expect(s.error?.message).toMatch(/Malformed task JSON/);
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 1 });
  }, 30_000);

  it('a cancel request the master sees while Redis is full is carried out once Redis has room, with no worker to start a round', async () => {
    const { zk, tasks, whileFull } = await masterBehindProxy('fw-full-cancel');
    const id = await tasks.submit({ n: 1 }); // queued: no worker
    // A cancel request for a queued task: what a cancel leaves when it meets the task
    // assigned and the task then goes back to the queue.
    await whileFull(async () => void (await zk.create(`/cancel/${id}`)));
    const s = await tasks.wait(id, { timeoutMs: 8000 });
    expect(s.state).toBe('cancelled');
    expect(await zk.exists(`/cancel/${id}`)).toBeNull();
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 1 });
  }, 30_000);
});

/**
 * An elected master (no worker) whose link to a private Redis goes through a proxy, and a
 * client straight to that Redis. `whileFull(act)` holds the master's link, runs `act`, fills
 * Redis past its maxmemory and lets the link go: the master sees what `act` wrote only once
 * Redis refuses writes, and `whileFull` returns once Redis has refused one of them (its
 * OOM error count) and memory is back, with nothing left to wake the master but its own retry.
 */
async function masterBehindProxy(name: string) {
  const redis = later(await startRedis({ args: ['--maxmemory-policy', 'noeviction'] }), (r) => r.stop());
  const proxy = later(await startProxy({ targetPort: redis.port }), (p) => p.close());
  const opts = { namespace: testNamespace(name), sessionTimeoutMs: 5000, logger: quiet };
  const zk = later(await connect({ redis: redis.url }, opts), (z) => z.close());
  const tasks = createTaskClient(zk);
  const master = later(createMaster({ connect: { redis: proxy.url }, ...opts }), (m) => m.close());
  await once(master, 'elected');
  await tasks.counts(); // folders exist
  const oomRefusals = async () => Number(/errorstat_OOM:count=(\d+)/.exec(String(await redis.command(['INFO', 'errorstats'])))?.[1] ?? 0);
  const whileFull = async (act: () => Promise<void>) => {
    proxy.block();
    await act();
    for (let i = 0; i < 20; i++) await redis.command(['SET', `filler:${i}`, 'x'.repeat(100_000)]);
    await redis.command(['CONFIG', 'SET', 'maxmemory', '1mb']);
    const before = await oomRefusals();
    proxy.unblock();
    await expect.poll(oomRefusals, { timeout: 5000 }).toBeGreaterThan(before);
    await sleep(300);
    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
  };
  return { zk, tasks, whileFull };
}
