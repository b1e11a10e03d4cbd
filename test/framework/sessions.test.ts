import { afterEach, describe, expect, it } from 'vitest';
import { connect, MemoryBackend, memoryStore, type Client } from '../../core/index.js';
import { createMaster, createTaskClient, createWorker, type Master, type Worker } from '../../framework/index.js';
import { testNamespace } from '../namespace.js';

// Session loss, in one process on the memory backend: a client's link is cut with
// MemoryBackend.cut() past its session timeout, so its session expires for real while the
// process keeps running (as a partitioned process would).

const TIMEOUT = 400;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

/** A connect factory that remembers every client it made, so a test can cut one. */
function factory(ns: string) {
  const made: Client[] = [];
  return {
    made,
    connect: async () => {
      const c = await connect({ backend: 'memory' }, { namespace: ns, sessionTimeoutMs: TIMEOUT });
      made.push(c);
      return c;
    },
    /** Cuts the newest client's link until its session has expired, then heals it. */
    async expireLatest() {
      const c = made[made.length - 1];
      const b = c.backend as MemoryBackend;
      b.cut();
      // The role closes an expired client at once, so 'closed' counts too.
      await until(() => c.state === 'expired' || c.state === 'closed', TIMEOUT * 4);
      b.heal();
    },
  };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup() {
  const ns = testNamespace('fw');
  const zk = await connect({ backend: 'memory' }, { namespace: ns, sessionTimeoutMs: 5000 });
  closers.push(() => zk.close());
  return { ns, zk, tasks: createTaskClient(zk) };
}

function track<T extends Master | Worker>(x: T): T {
  closers.push(() => x.close());
  return x;
}

describe('framework sessions', () => {
  it('a worker whose session expired comes back with a new session and id; its tasks are finished', async () => {
    const { ns, tasks } = await setup();
    track(createMaster({ namespace: ns, sessionTimeoutMs: TIMEOUT }));
    const f = factory(ns);
    let gate = true;
    const runs: string[] = [];
    const w = track(createWorker({
      connect: f.connect, concurrency: 2, drainTimeoutMs: 500,
      handler: async (_p, ctx) => {
        runs.push(ctx.id);
        while (gate && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 10));
        return ctx.worker;
      },
    }));
    const ids = await tasks.submitMany([{ payload: 1 }, { payload: 2 }]);
    await until(() => runs.length === 2, 5000);
    const firstId = w.id;
    const errors: string[] = [];
    w.on('error', (e) => errors.push(`${e.name}: ${e.message}`));
    const aborted = new Promise<void>((r) => w.once('expired', () => r()));
    await f.expireLatest();
    await aborted;
    gate = false;
    const all = await tasks.waitAll(ids, { timeoutMs: 10_000 });
    expect(f.made.length).toBeGreaterThanOrEqual(2); // a NEW client: the expired one stays dead
    expect(f.made[0].state).not.toBe('connected');
    expect(w.id).not.toBe(firstId);
    // Recorded by the new registration, never by the expired one.
    expect(all.map((s) => s.worker)).toEqual([w.id, w.id]);
    expect(all.map((s) => s.result)).toEqual([w.id, w.id]);
    expect(runs.length).toBe(4); // at-least-once: each ran again after the reassignment
    expect(errors).toEqual([]); // the session's end is the 'expired' event, not an error
  });

  it('a master whose session expired is replaced by a backup and rejoins as a backup', async () => {
    const { ns, tasks } = await setup();
    const f1 = factory(ns);
    const m1 = track(createMaster({ connect: f1.connect, id: 'm1' }));
    const events: string[] = [];
    m1.on('deposed', () => events.push('deposed'));
    m1.on('error', (e) => events.push(`error: ${e.name}: ${e.message}`));
    await new Promise<void>((r) => m1.once('elected', () => r()));
    const m2 = track(createMaster({ namespace: ns, sessionTimeoutMs: TIMEOUT, id: 'm2' }));
    track(createWorker({ namespace: ns, sessionTimeoutMs: TIMEOUT, concurrency: 4, handler: async (p: number) => p + 1 }));
    expect(await tasks.master()).toBe('m1');
    const first = await tasks.submitMany(Array.from({ length: 20 }, (_, n) => ({ payload: n })));
    await tasks.waitAll(first, { timeoutMs: 10_000 });
    const elected = new Promise<void>((r) => m2.once('elected', () => r()));
    await f1.expireLatest();
    await elected;
    // The lost session is reported once, as such: not also as errors of the waits it cut short.
    expect(events).toEqual(['deposed']);
    expect(await tasks.master()).toBe('m2');
    const second = await tasks.submitMany(Array.from({ length: 20 }, (_, n) => ({ payload: n })));
    const all = await tasks.waitAll(second, { timeoutMs: 10_000 });
    expect(all.map((s) => s.result)).toEqual(Array.from({ length: 20 }, (_, n) => n + 1));
    // m1 came back with a new session, as a backup: it takes over when m2 leaves.
    await until(() => f1.made.length >= 2, 5000);
    const back = new Promise<void>((r) => m1.once('elected', () => r()));
    await m2.close();
    await back;
    expect(await tasks.master()).toBe('m1');
  });

  it('a backup master whose session expires rejoins the election quietly: no error events', async () => {
    const { ns, tasks } = await setup();
    const m1 = track(createMaster({ namespace: ns, sessionTimeoutMs: TIMEOUT, id: 'm1' }));
    await new Promise<void>((r) => m1.once('elected', () => r()));
    const f2 = factory(ns);
    const m2 = track(createMaster({ connect: f2.connect, id: 'm2' }));
    const errors: string[] = [];
    m2.on('error', (e) => errors.push(`${e.name}: ${e.message}`));
    await until(() => f2.made.length === 1 && f2.made[0].state === 'connected', 5000);
    await new Promise((r) => setTimeout(r, 100)); // m2 is waiting in the election
    await f2.expireLatest();
    await until(() => f2.made.length >= 2 && f2.made[1].state === 'connected', 5000);
    expect(errors).toEqual([]);
    // And it still backs m1 up.
    const back = new Promise<void>((r) => m2.once('elected', () => r()));
    await m1.close();
    await back;
    expect(await tasks.master()).toBe('m2');
  });

  it('close() drains: a running task finishes and is recorded by its worker, not reassigned', async () => {
    const { ns, tasks } = await setup();
    track(createMaster({ namespace: ns, sessionTimeoutMs: TIMEOUT }));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let runs = 0;
    const w = createWorker({
      namespace: ns, sessionTimeoutMs: TIMEOUT,
      handler: async () => {
        runs++;
        started();
        await new Promise((r) => setTimeout(r, 300));
        return 'drained';
      },
    });
    const id = await tasks.submit({});
    await running;
    const workerId = w.id;
    await w.close();
    const s = await tasks.wait(id, { timeoutMs: 1000 });
    expect(s).toMatchObject({ state: 'succeeded', result: 'drained', worker: workerId });
    expect(runs).toBe(1);
    expect((await tasks.workers()).length).toBe(0);
  });

  it('a master that starts late rebuilds everything from the tree, reading big child lists in pages', async () => {
    const { ns, tasks, zk } = await setup();
    const ids = await tasks.submitMany(Array.from({ length: 2500 }, (_, n) => ({ payload: n })));
    // A worker that died before any master ran leaves an assignment folder behind.
    await zk.create('/assign/ghost');
    await zk.create('/assign/ghost/task-9999999999', (await zk.getData(`/tasks/${ids[0]}`)).data);
    track(createWorker({ namespace: ns, sessionTimeoutMs: TIMEOUT, concurrency: 16, handler: async (p: number) => p }));
    track(createMaster({ namespace: ns, sessionTimeoutMs: TIMEOUT }));
    const all = await tasks.waitAll([...ids, 'task-9999999999'], { timeoutMs: 30_000 });
    expect(all.every((s, i) => s.result === (i < ids.length ? i : 0))).toBe(true);
    // The ghost's unfinished task was moved back, run, and its folder removed.
    await until(async () => (await zk.exists('/assign/ghost')) === null, 2000);
  });

  it('a worker that registers while a new master reads the tree is taken for live, not reclaimed', async () => {
    const { ns, tasks, zk } = await setup();
    await tasks.submit('warm-up'); // the folders
    // The master's client: right after its first read of /workers or /assign, a worker
    // registers, before the other one is read.
    let worker: Worker | null = null;
    class RacingBackend extends MemoryBackend {
      override async getChildren(path: string, page?: Parameters<MemoryBackend['getChildren']>[1]) {
        const r = await super.getChildren(path, page);
        if ((path === '/workers' || path === '/assign') && !worker) {
          worker = track(createWorker({ namespace: ns, sessionTimeoutMs: TIMEOUT, handler: async (p: string) => `done ${p}` }));
          await worker.ready;
        }
        return r;
      }
    }
    track(createMaster({ connect: () => connect({ backend: new RacingBackend(memoryStore(ns)) }, { namespace: ns, sessionTimeoutMs: TIMEOUT }) }));
    await until(() => worker !== null && worker.id !== '', 5000);
    const id = await tasks.submit('after');
    expect(await tasks.result(id, { timeoutMs: 5000 })).toBe('done after');
    expect(await zk.exists(`/assign/${worker!.id}`)).not.toBeNull();
  });
});
