import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { BadArgumentsError, connect, ConnectionLossError, type Client, type ConnectTarget } from '../../core/index.js';
import {
  createMaster, createTaskClient, createWorker, NoSuchTaskError, TaskCancelledError, TaskFailedError,
  type Master, type TaskHandler, type Worker,
} from '../../framework/index.js';
import { testNamespace } from '../namespace.js';

// The framework's features, every role in this process, on each backend (the memory
// backend shares one tree per namespace in-process; Redis is the local server). Fault
// tests with real processes are in processes.test.ts.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

interface Setup { ns: string; zk: Client; tasks: ReturnType<typeof createTaskClient> }

let target: ConnectTarget = { backend: 'memory' };

async function setup(): Promise<Setup> {
  const ns = testNamespace('fw');
  const zk = await connect(target, { namespace: ns, sessionTimeoutMs: 1000 });
  closers.push(() => zk.close());
  return { ns, zk, tasks: createTaskClient(zk) };
}

function master(ns: string, id?: string): Master {
  const m = createMaster({ connect: target, namespace: ns, sessionTimeoutMs: 1000, ...(id ? { id } : {}) });
  closers.push(() => m.close());
  return m;
}

function worker(ns: string, handler: TaskHandler, opts: { concurrency?: number; labels?: string[] } = {}): Worker {
  const w = createWorker({ connect: target, namespace: ns, sessionTimeoutMs: 1000, handler, ...opts });
  closers.push(() => w.close());
  return w;
}

describe.each([
  ['memory', { backend: 'memory' }],
  ['redis', { redis: 'redis://127.0.0.1:6379' }],
] as const)('framework on the %s backend', (_name, t) => {
  beforeAll(() => {
    target = t as ConnectTarget;
  });

  it('runs every submitted task exactly once and records one result each', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    const runs = new Map<number, number>();
    const h: TaskHandler<{ n: number }> = async (p) => {
      runs.set(p.n, (runs.get(p.n) ?? 0) + 1);
      return p.n * 2;
    };
    worker(ns, h, { concurrency: 4 });
    worker(ns, h, { concurrency: 4 });
    const ids = await tasks.submitMany(Array.from({ length: 200 }, (_, n) => ({ payload: { n } })));
    expect(new Set(ids).size).toBe(200);
    const all = await tasks.waitAll(ids, { timeoutMs: 20_000 });
    expect(all.map((s) => s.state)).toEqual(Array(200).fill('succeeded'));
    expect(all.map((s) => s.result)).toEqual(Array.from({ length: 200 }, (_, n) => n * 2));
    expect([...runs.values()].every((c) => c === 1)).toBe(true);
    expect(runs.size).toBe(200);
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 200 });
  });

  it('waitAll and wait take the status records that finish while they wait from their events: no read per task', async () => {
    const { ns, zk, tasks } = await setup();
    const ids = await tasks.submitMany(Array.from({ length: 50 }, (_, n) => ({ payload: { n } })));
    let statusReads = 0;
    const getData = zk.getData.bind(zk);
    zk.getData = ((path: string, o?: Parameters<typeof getData>[1]) => {
      if (path.startsWith('/status/')) statusReads++;
      return getData(path, o);
    }) as typeof zk.getData;
    // Nothing runs until the wait is armed: every record then comes with its event.
    const all = tasks.waitAll(ids, { timeoutMs: 10_000 });
    await sleep(100);
    master(ns);
    worker(ns, async (p: { n: number }) => p.n + 1, { concurrency: 8 });
    expect((await all).map((r) => r.result)).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
    expect(statusReads).toBe(0);
    // Those finished before the wait (none come as events) are read.
    expect((await tasks.waitAll(ids.slice(0, 3))).map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(statusReads).toBe(3);
    // wait() for a task that finishes while it waits takes the record from the event too.
    const late = await tasks.submit({ n: 99 }, { delay: 300 }); // finishes well after wait() is armed
    const waiting = tasks.wait(late, { timeoutMs: 5000 });
    expect((await waiting).result).toBe(100);
    expect(statusReads).toBe(3);
  });

  it('a master and a worker whose `connect` function hands them the session tasks are submitted and retried through still see every write', async () => {
    // Roles that open their own sessions skip the echo of their own writes (ignoreOwnWrites);
    // on a session from a user's function, others may write too: nothing may be missed.
    const { ns, zk, tasks } = await setup();
    const shared = async () => zk;
    const m = createMaster({ connect: shared });
    closers.push(() => m.close());
    let tries = 0;
    const w = createWorker({
      connect: shared, concurrency: 2,
      handler: async (n: number) => {
        if (n === 0 && ++tries < 2) throw new Error('once more'); // re-queued through the shared session
        return n + 1;
      },
    });
    closers.push(() => w.close());
    const ids = await tasks.submitMany(Array.from({ length: 30 }, (_, n) => ({ payload: n, options: { attempts: 2, backoff: { type: 'fixed', delay: 10 } } })));
    const all = await tasks.waitAll(ids, { timeoutMs: 10_000 });
    expect(all.map((st) => st.result)).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
    expect(tries).toBe(2);
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 30 });
  });

  it('respects each worker\'s capacity', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    let running = 0;
    let peak = 0;
    const h: TaskHandler = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    };
    worker(ns, h, { concurrency: 3 });
    const ids = await tasks.submitMany(Array.from({ length: 30 }, (_, n) => ({ payload: n })));
    await tasks.waitAll(ids, { timeoutMs: 20_000 });
    expect(peak).toBe(3);
  });

  it('runs higher priority first and holds delayed tasks back', async () => {
    const { ns, tasks } = await setup();
    const order: string[] = [];
    const low = await tasks.submit('low', { priority: -1 });
    const later = await tasks.submit('later', { delay: 300, priority: 10 });
    const high = await tasks.submit('high', { priority: 5 });
    const mid = await tasks.submit('mid');
    master(ns);
    const started = Date.now();
    let laterAt = 0;
    worker(ns, async (p: string) => {
      order.push(p);
      if (p === 'later') laterAt = Date.now();
    }, { concurrency: 1 });
    await tasks.waitAll([low, later, high, mid], { timeoutMs: 10_000 });
    expect(order).toEqual(['high', 'mid', 'low', 'later']);
    expect(laterAt - started).toBeGreaterThanOrEqual(250);
  });

  it('sends a labelled task only to a worker with all its labels', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    const plain = worker(ns, async () => 'plain', { concurrency: 2 });
    const gpu = worker(ns, async () => 'gpu', { concurrency: 2, labels: ['gpu', 'x86'] });
    await Promise.all([plain.ready, gpu.ready]);
    const ids = await tasks.submitMany(Array.from({ length: 10 }, () => ({ payload: 1, options: { labels: ['gpu'] } })));
    const all = await tasks.waitAll(ids, { timeoutMs: 10_000 });
    expect(all.every((s) => s.result === 'gpu' && s.worker === gpu.id)).toBe(true);
  });

  it('retries with backoff until attempts run out, then records the failure once', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    const times: number[] = [];
    worker(ns, async () => {
      times.push(Date.now());
      throw new Error('boom');
    });
    const id = await tasks.submit({}, { attempts: 3, backoff: { type: 'exponential', delay: 100 } });
    const err = (await tasks.result(id, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.status).toMatchObject({ state: 'failed', attempts: 3, error: { message: 'boom' } });
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(90);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(190);
  });

  it('succeeds on a later attempt', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    let n = 0;
    worker(ns, async () => {
      if (++n < 2) throw new Error('flaky');
      return 'ok';
    });
    const id = await tasks.submit({}, { attempts: 2, backoff: 10 });
    expect(await tasks.result(id, { timeoutMs: 10_000 })).toBe('ok');
    expect((await tasks.wait(id)).attempts).toBe(2);
  });

  it('runs a retried task assigned again before the reply to its retry came back', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    // The worker's multis land at once, but their replies come 300 ms late: the master
    // sees the task back in /tasks and assigns it again while the worker still waits.
    const lagging = async () => {
      const zk = await connect(target, { namespace: ns, sessionTimeoutMs: 1000 });
      closers.push(() => zk.close());
      const multi = zk.multi.bind(zk);
      zk.multi = ((ops: Parameters<typeof multi>[0]) => multi(ops).then(
        async (r) => (await sleep(300), r),
        async (e: unknown) => { await sleep(300); throw e; },
      )) as typeof zk.multi;
      return zk;
    };
    let runs = 0;
    const w = createWorker({ connect: lagging, handler: async () => (++runs < 2 ? Promise.reject(new Error('once')) : 'second'), concurrency: 2 });
    closers.push(() => w.close());
    const id = await tasks.submit({}, { attempts: 2 });
    expect(await tasks.result(id, { timeoutMs: 5000 })).toBe('second');
    expect(runs).toBe(2);
  });

  it('a retry whose reply was lost is not sent again over the assignment that replaced it', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    // The worker's retry multi (delete the assignment, queue the task again) lands but its
    // reply is lost. The master assigns the task again at once, at the same path (version 0
    // again); sending the retry again once the link is back would delete that assignment.
    const zk = await connect(target, { namespace: ns, sessionTimeoutMs: 3000 });
    closers.push(() => zk.close());
    const multi = zk.multi.bind(zk);
    let loseNext = true;
    let linkBackAt = 0;
    zk.multi = (async (ops: Parameters<typeof multi>[0]) => {
      // The link is "down" for 300 ms after the lost reply: writes wait for it.
      if (Date.now() < linkBackAt) await sleep(linkBackAt - Date.now());
      const r = await multi(ops);
      if (loseNext && ops.some((o) => o.type === 'create' && o.path.startsWith('/tasks/'))) {
        loseNext = false;
        linkBackAt = Date.now() + 300;
        throw new ConnectionLossError('reply lost (test)');
      }
      return r;
    }) as typeof zk.multi;
    let runs = 0;
    const w = createWorker({
      connect: async () => zk, concurrency: 2,
      handler: async () => {
        if (++runs === 1) throw new Error('first attempt fails');
        await sleep(600); // still running when the lost retry would be sent again
        return 'second';
      },
    });
    closers.push(() => w.close());
    const id = await tasks.submit({}, { attempts: 3 });
    expect(await tasks.result(id, { timeoutMs: 8000 })).toBe('second');
    expect((await tasks.wait(id)).attempts).toBe(2);
    expect(runs).toBe(2);
  });

  it('fails an attempt that runs past timeoutMs and aborts its signal', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    let aborted = false;
    worker(ns, (_p, ctx) => new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
        resolve('late');
      });
    }));
    const id = await tasks.submit({}, { timeoutMs: 100 });
    const s = await tasks.wait(id, { timeoutMs: 10_000 });
    expect(s.state).toBe('failed');
    expect(s.error?.name).toBe('TimeoutError');
    expect(aborted).toBe(true);
  });

  it('reports progress to a waiting client', async () => {
    const { ns, tasks } = await setup();
    master(ns);
    worker(ns, async (_p, ctx) => {
      for (const p of [25, 50, 75]) {
        await ctx.progress(p);
        await new Promise((r) => setTimeout(r, 60));
      }
      return 'done';
    });
    const id = await tasks.submit({});
    const seen: unknown[] = [];
    const s = await tasks.wait(id, { timeoutMs: 10_000, onProgress: (p) => seen.push(p) });
    expect(s.result).toBe('done');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => (a as number) - (b as number)));
  });

  it('cancels a queued task at once and a running one through its AbortSignal', async () => {
    const { ns, tasks } = await setup();
    const queued = await tasks.submit('q');
    expect(await tasks.cancel(queued)).toBe(true);
    expect((await tasks.wait(queued)).state).toBe('cancelled');
    expect((await tasks.get(queued))?.state).toBe('cancelled');

    master(ns);
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let sawAbort = false;
    worker(ns, (_p, ctx) => new Promise((resolve) => {
      started();
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
        resolve('stopped');
      });
    }));
    const id = await tasks.submit('r');
    await running;
    expect((await tasks.get(id))?.state).toBe('assigned');
    expect(await tasks.cancel(id)).toBe(true);
    await expect(tasks.result(id, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(TaskCancelledError);
    expect(sawAbort).toBe(true);
    expect(await tasks.cancel(id)).toBe(false);
  });

  it('does not store a resubmitted task with the same idempotency key', async () => {
    const { ns, tasks } = await setup();
    const a = await tasks.submit({ x: 1 }, { idempotencyKey: 'order-17' });
    const b = await tasks.submit({ x: 1 }, { idempotencyKey: 'order-17' });
    expect(b).toBe(a);
    expect((await tasks.counts()).queued).toBe(1);
    let runs = 0;
    master(ns);
    worker(ns, async () => ++runs);
    await tasks.wait(a, { timeoutMs: 10_000 });
    expect(await tasks.submit({ x: 1 }, { idempotencyKey: 'order-17' })).toBe(a);
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(1);
  });

  it('an idempotency key with idempotencyTtlMs answers resubmits until it expires, then a new task is stored', async () => {
    const { zk, tasks } = await setup();
    const a = await tasks.submit({ x: 1 }, { idempotencyKey: 'short', idempotencyTtlMs: 300 });
    const forever = await tasks.submit({ x: 1 }, { idempotencyKey: 'kept' });
    expect(await tasks.submit({ x: 2 }, { idempotencyKey: 'short', idempotencyTtlMs: 300 })).toBe(a);
    expect((await zk.exists('/keys/short'))!.ephemeralOwner).toBeNull();
    // Gone a TTL after the submit (the reaper's tick on top), not before.
    const deadline = Date.now() + 5000;
    while ((await zk.exists('/keys/short')) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await zk.exists('/keys/short')).toBeNull();
    const b = await tasks.submit({ x: 3 }, { idempotencyKey: 'short' });
    expect(b).not.toBe(a);
    expect((await tasks.counts()).queued).toBe(3);
    // A key without a TTL stays.
    expect(await tasks.submit({ x: 4 }, { idempotencyKey: 'kept' })).toBe(forever);
  });

  it('an idempotent submit whose reply was lost is answered by the key on resubmit: one task, same id', async () => {
    const { ns, zk, tasks } = await setup();
    // Apply the next multi, then fail as if its reply had been lost on the way back.
    const backend = zk.backend as { multi: (...a: unknown[]) => Promise<unknown> };
    const multi = backend.multi.bind(backend);
    let lose = 0;
    backend.multi = async (...a: unknown[]) => {
      const r = await multi(...a);
      if (lose-- > 0) throw new ConnectionLossError('reply lost (test)');
      return r;
    };
    await tasks.submit({ warm: true }); // creates the folders
    await expect(tasks.submit({ x: 1 }, { idempotencyKey: 'order-18' })).resolves.toMatch(/^task-\d{10}$/);
    lose = 1;
    const lostReply = await tasks.submit({ x: 2 }, { idempotencyKey: 'order-19' }).catch((e: unknown) => e);
    expect(lostReply).toBeInstanceOf(ConnectionLossError);
    await zk.whenConnected(5000);
    const id = await tasks.submit({ x: 2 }, { idempotencyKey: 'order-19' });
    expect(id).toMatch(/^task-\d{10}$/);
    expect(await tasks.submit({ x: 3 }, { idempotencyKey: 'order-19' })).toBe(id);
    const stored = (await zk.getChildren('/tasks')).children;
    expect(stored).toHaveLength(3);
    expect(stored).toContain(id);
    master(ns);
    const seen: unknown[] = [];
    worker(ns, async (p) => void seen.push(p));
    await tasks.wait(id, { timeoutMs: 10_000 });
    expect(seen).toContainEqual({ x: 2 });
    expect(seen).not.toContainEqual({ x: 3 });
  });

  it('concurrent submits with one idempotency key store one task', async () => {
    const { tasks, zk } = await setup();
    await tasks.submit({ warm: true });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => tasks.submit({ i }, { idempotencyKey: 'same' })));
    expect(new Set(ids).size).toBe(1);
    expect((await zk.getChildren('/tasks')).children).toHaveLength(2);
  });

  it('removes finished records after their retention age', async () => {
    const { ns, tasks, zk } = await setup();
    master(ns);
    worker(ns, async () => 'x', { concurrency: 2 });
    const kept = await tasks.submit(1);
    const gone = await tasks.submit(2, { removeOnComplete: { age: 200 } });
    await tasks.waitAll([kept, gone], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 600));
    expect(await zk.exists(`/status/${kept}`)).not.toBeNull();
    expect(await zk.exists(`/status/${gone}`)).toBeNull();
    await expect(tasks.wait(gone, { timeoutMs: 50 })).rejects.toThrow();
  });

  it('rejects bad options and malformed input with BadArgumentsError, storing nothing', async () => {
    const { tasks } = await setup();
    const bad: unknown[] = [
      { attempts: 0 }, { attempts: 1.5 }, { backoff: -1 }, { backoff: { type: 'linear', delay: 1 } }, { timeoutMs: 0 },
      { priority: 'high' }, { delay: -5 }, { labels: 'gpu' }, { labels: [''] }, { removeOnComplete: 3 },
      { idempotencyKey: '' }, { idempotencyKey: 'a/b' }, { bogus: 1 }, 'fast',
      { idempotencyTtlMs: 1000 }, { idempotencyKey: 'k', idempotencyTtlMs: 0 }, { idempotencyKey: 'k', idempotencyTtlMs: 1.5 },
      { idempotencyKey: 'k', idempotencyTtlMs: '1000' }, { idempotencyKey: 'k', idempotencyTtlMs: 2 ** 40 },
    ];
    for (const o of bad) await expect(tasks.submit({}, o as never)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(tasks.submit(undefined)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(tasks.submit({ n: 1n })).rejects.toBeInstanceOf(BadArgumentsError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(tasks.submit(cyclic)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(tasks.submitMany([{ payload: 1 }, { payload: 2, options: { attempts: -1 } }])).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(tasks.wait('nope')).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(tasks.cancel('task-0000999999')).rejects.toBeInstanceOf(NoSuchTaskError);
    // An id nobody submitted: wait/result say so at once instead of waiting for ever.
    await expect(tasks.wait('task-0000999999')).rejects.toBeInstanceOf(NoSuchTaskError);
    await expect(tasks.result('task-0000999999')).rejects.toBeInstanceOf(NoSuchTaskError);
    expect(await tasks.counts()).toEqual({ queued: 0, assigned: 0, finished: 0 });
    expect(() => createWorker({ handler: 'no' as never })).toThrow(BadArgumentsError);
    expect(() => createWorker({ handler: async () => 1, concurrency: 0 })).toThrow(BadArgumentsError);
  });

  it('fails a task whose stored JSON is malformed instead of crashing the master', async () => {
    const { ns, zk, tasks } = await setup();
    master(ns);
    worker(ns, async () => 'ok');
    await tasks.counts(); // folders exist
    const path = await zk.create('/tasks/task-', '{not json', { mode: 'persistent_sequential' });
    const id = path.slice('/tasks/'.length);
    const s = await tasks.wait(id, { timeoutMs: 10_000 });
    expect(s.state).toBe('failed');
    expect(s.error?.message).toMatch(/Malformed task JSON/);
    // the master still works
    expect(await tasks.result(await tasks.submit(1), { timeoutMs: 10_000 })).toBe('ok');
  });
});
