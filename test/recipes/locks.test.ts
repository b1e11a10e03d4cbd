import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, BadArgumentsError, SessionExpiredError, TimeoutError, type Client } from '../../core/index.js';
import { MultiLock, Mutex, ReadWriteLock, Semaphore, type Lease } from '../../recipes/index.js';
import { BACKENDS, clientMakers, countingClient, countListReads, cut, grantedOnlyAfter, heal, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe.each(BACKENDS)('ReadWriteLock, Semaphore, MultiLock on %s', (kind) => {
  const { zk, faulty } = clientMakers(kind, open);

  it('read–write lock: readers share, a writer excludes everyone, a queued writer is not overtaken', async () => {
    const ns = newNamespace();
    const [a, b, c, d] = await Promise.all([zk(ns), zk(ns), zk(ns), zk(ns)]);
    const r1 = await new ReadWriteLock(a, '/rw').acquireRead();
    const r2 = await new ReadWriteLock(b, '/rw').acquireRead({ timeoutMs: 500 }); // shared
    const order: string[] = [];
    const w = new ReadWriteLock(c, '/rw').acquireWrite().then((l) => { order.push('w'); return l; });
    await until(async () => (await a.getChildren('/rw')).children.length === 3, 2000, 'writer queued');
    const r3 = new ReadWriteLock(d, '/rw').acquireRead().then((l) => { order.push('r3'); return l; });
    await sleep(100);
    expect(order).toEqual([]); // writer waits for the readers; the later reader waits for the writer
    await r1.release();
    await sleep(50);
    expect(order).toEqual([]);
    await r2.release();
    const wl = await w;
    await sleep(50);
    expect(order).toEqual(['w']);
    await wl.release();
    const rl = await r3;
    expect(order).toEqual(['w', 'r3']);
    expect(rl.token).toBeGreaterThan(wl.token);
    await rl.release();
    expect((await a.getChildren('/rw')).children).toEqual([]);
  });

  it('read–write lock: readers queued behind the only writer ahead take the read lock on its release, without reading the list again', async () => {
    const ns = newNamespace();
    // Long sessions: a heartbeat held up by a loaded machine must not suspend a reader (it
    // would read the list again, rightly, which is not what is tested here).
    const [a, b, c, d] = await Promise.all([zk(ns, 10_000), zk(ns, 10_000), zk(ns, 10_000), zk(ns, 10_000)]);
    const w1 = await new ReadWriteLock(a, '/rwq').acquireWrite();
    // Readers b and c behind w1: w1 alone blocks them.
    const listsOf = [b, c].map((x) => countListReads(x, '/rwq'));
    const armed = (x: Client): number => (x as unknown as { registry: { armed(): unknown[] } }).registry.armed().length;
    const rb = new ReadWriteLock(b, '/rwq').acquireRead();
    const rc = new ReadWriteLock(c, '/rwq').acquireRead();
    await until(() => armed(b) === 2 && armed(c) === 2, 2000, 'readers watch the writer and their own znodes');
    // A second writer queued behind w1, and a reader behind both writers.
    const w2p = new ReadWriteLock(a, '/rwq').acquireWrite({ timeoutMs: 400 }).catch((e: unknown) => e);
    await until(async () => (await a.getChildren('/rwq')).children.length === 4, 2000, 'w2 queued');
    let dGranted = false;
    const rd = new ReadWriteLock(d, '/rwq').acquireRead().then((l) => { dGranted = true; return l; });
    await until(async () => (await a.getChildren('/rwq')).children.length === 5, 2000, 'd queued');
    const before = listsOf.map((f) => f());
    await w1.release();
    const [lb, lc] = await Promise.all([rb, rc]);
    expect(listsOf.map((f, i) => f() - before[i])).toEqual([0, 0]);
    expect(lb.token).toBeGreaterThan(w1.token);
    expect(dGranted).toBe(false);
    // w2 (waiting on the readers) gives up. d queued when w1 was still ahead of w2, so w2's
    // going alone did not free it: it reads the list again, finds only readers ahead, and
    // shares the lock with them.
    expect(await w2p).toBeInstanceOf(TimeoutError);
    const ld = await rd;
    expect(dGranted).toBe(true);
    await Promise.all([lb.release(), lc.release(), ld.release()]);
    expect((await a.getChildren('/rwq')).children).toEqual([]);
  });

  it('read–write lock: a reader behind two writers takes the read lock on the later writer\'s release (its mark), without reading the list again', async () => {
    const ns = newNamespace();
    const [a, b, c] = await Promise.all([zk(ns, 10_000), zk(ns, 10_000), zk(ns, 10_000)]);
    const w1 = await new ReadWriteLock(a, '/rwm').acquireWrite();
    const w2p = new ReadWriteLock(b, '/rwm').acquireWrite();
    await until(async () => (await a.getChildren('/rwm')).children.length === 2, 2000, 'w2 queued');
    const lists = countListReads(c, '/rwm');
    const rp = new ReadWriteLock(c, '/rwm').acquireRead();
    await until(() => (c as unknown as { registry: { armed(): unknown[] } }).registry.armed().length === 2, 2000, 'the reader watches w2 and its own znode');
    await w1.release();
    const w2 = await w2p;
    const before = lists();
    await w2.release();
    const r = await rp;
    expect(lists() - before).toBe(0);
    expect(r.token).toBeGreaterThan(w2.token);
    await r.release();
  });

  it('read–write lock: a reader behind two writers is not let in when the later writer gives up', async () => {
    const ns = newNamespace();
    const [a, b, c] = await Promise.all([zk(ns), zk(ns), zk(ns)]);
    const w1 = await new ReadWriteLock(a, '/rw3').acquireWrite();
    const w2 = new ReadWriteLock(b, '/rw3').acquireWrite({ timeoutMs: 300 }).catch((e: unknown) => e);
    await until(async () => (await a.getChildren('/rw3')).children.length === 2, 2000, 'w2 queued');
    let granted = false;
    const r = new ReadWriteLock(c, '/rw3').acquireRead().then((l) => { granted = true; return l; });
    await until(async () => (await a.getChildren('/rw3')).children.length === 3, 2000, 'reader queued');
    expect(await w2).toBeInstanceOf(TimeoutError);
    await until(async () => (await a.getChildren('/rw3')).children.length === 2, 2000, 'w2 gone');
    await sleep(150);
    await grantedOnlyAfter(w1, r, () => granted);
  });

  it('read–write lock: write timeout leaves nothing behind; withRead/withWrite release', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const rw = new ReadWriteLock(a, '/rw2');
    await rw.withRead(async () => {
      await expect(new ReadWriteLock(await zk(ns), '/rw2').acquireWrite({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
      expect((await a.getChildren('/rw2')).children).toHaveLength(1);
    });
    await rw.withWrite(async (l) => expect(l.held).toBe(true));
    expect((await a.getChildren('/rw2')).children).toEqual([]);
  });

  it('semaphore: never more than N holders, granted in arrival order', async () => {
    const ns = newNamespace();
    const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(() => zk(ns)));
    let inside = 0;
    let maxInside = 0;
    await Promise.all(clients.flatMap((c) => [0, 1].map(() => new Semaphore(c, '/sem', 3).withLease(async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(10);
      inside--;
    }))));
    // Safety: never more than N at once (that 3 can hold at once is shown just below).
    expect(maxInside).toBeLessThanOrEqual(3);
    expect(maxInside).toBeGreaterThanOrEqual(1);

    const held = await Promise.all([0, 1, 2].map((i) => new Semaphore(clients[i], '/sem', 3).acquire()));
    const order: number[] = [];
    const waits: Promise<Lease>[] = [];
    for (let i = 0; i < 4; i++) {
      waits.push(new Semaphore(clients[3 + (i % 3)], '/sem', 3).acquire().then((l) => { order.push(i); return l; }));
      await until(async () => (await clients[0].getChildren('/sem/locks')).children.length === i + 1, 2000, 'queued');
    }
    for (let i = 0; i < 3; i++) {
      await held[i].release();
      await until(() => order.length === i + 1, 2000, 'granted');
    }
    expect(order).toEqual([0, 1, 2]);
    const got = await Promise.all(waits.slice(0, 3));
    await got[0].release();
    await (await waits[3]).release();
    await Promise.all(got.slice(1).map((l) => l.release()));
    expect(order).toEqual([0, 1, 2, 3]);
    expect((await clients[0].getChildren('/sem/leases')).children).toEqual([]);
    expect((await clients[0].getChildren('/sem/locks')).children).toEqual([]);
  });

  it('semaphore: no herd effect — 20 waiters, a returned lease wakes only the head waiter', async () => {
    const ns = newNamespace();
    const h = await zk(ns);
    const held = await Promise.all([0, 1].map(() => new Semaphore(h, '/sh', 2).acquire()));
    const waiters: Array<{ events: () => number; p: Promise<Lease> }> = [];
    for (let i = 0; i < 20; i++) {
      const { zk: c, events } = await countingClient(kind, ns);
      open.push(c);
      waiters.push({ events, p: new Semaphore(c, '/sh', 2).acquire() });
    }
    await until(async () => (await h.getChildren('/sh/locks')).children.length === 20, 3000, 'queued');
    await sleep(100);
    const before = waiters.map((w) => w.events());
    await held[0].release();
    const first = await waiters[0].p;
    await sleep(150);
    const woken = waiters.map((w, i) => w.events() - before[i]);
    // The head waiter hears the lease list change; the second in line hears the head's
    // gate znode go (it is now head). Nobody else hears anything.
    expect(woken[0]).toBe(1);
    expect(woken[1]).toBe(1);
    expect(woken.slice(2).reduce((x, y) => x + y, 0)).toBe(0);
    await first.release();
    await held[1].release();
    for (let i = 1; i < 20; i++) await (await waiters[i].p).release();
  });

  it('semaphore: timeout and abort leave nothing behind', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const b = await zk(ns);
    const la = await new Semaphore(a, '/sx', 1).acquire();
    await expect(new Semaphore(b, '/sx', 1).acquire({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const p = new Semaphore(b, '/sx', 1).acquire({ signal: ac.signal });
    await until(async () => (await b.getChildren('/sx/locks')).children.length === 1, 2000, 'queued');
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect((await b.getChildren('/sx/locks')).children).toEqual([]);
    expect((await b.getChildren('/sx/leases')).children).toHaveLength(1);
    await la.release();
    expect((await b.getChildren('/sx/leases')).children).toEqual([]);
  });

  it('semaphore: a crashed holder\'s lease comes back when its session expires', async () => {
    const ns = newNamespace();
    const a = await faulty(ns, 300);
    const b = await zk(ns);
    const la = await new Semaphore(a, '/sc', 1).acquire();
    const next = new Semaphore(b, '/sc', 1).acquire({ timeoutMs: 2000 });
    await until(async () => (await b.getChildren('/sc/locks')).children.length === 1, 2000, 'queued');
    cut(a); // the holder hangs: no heartbeats
    const t0 = performance.now();
    const lb = await next;
    expect(performance.now() - t0).toBeLessThan(300 + 250);
    await until(() => la.signal.aborted, 1000, 'lost');
    expect(la.signal.reason).toBeInstanceOf(SessionExpiredError);
    expect(lb.token).toBeGreaterThan(la.token);
    await heal(a);
    await lb.release();
  });

  it('multi-lock: all or nothing, no deadlock between overlapping sets', async () => {
    const ns = newNamespace();
    const [a, b] = await Promise.all([zk(ns), zk(ns)]);
    let inside = 0;
    let maxInside = 0;
    const run = (c: Client, paths: string[]) => new MultiLock(c, paths).withLock(async (l) => {
      expect(l.leases).toHaveLength(paths.length);
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(5);
      inside--;
    });
    await Promise.all([0, 1, 2, 3, 4].flatMap(() => [run(a, ['/m/1', '/m/2']), run(b, ['/m/2', '/m/1'])]));
    expect(maxInside).toBe(1);
    // Partial failure: /m/2 busy → the taken /m/1 is released again.
    const busy = await new Mutex(b, '/m/2').acquire();
    await expect(new MultiLock(a, ['/m/1', '/m/2']).acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect((await a.getChildren('/m/1')).children).toEqual([]);
    await busy.release();
  });

  it('rejects bad arguments with BadArgumentsError', async () => {
    const c = await zk(newNamespace());
    expect(() => new Semaphore(c, '/s', 0)).toThrow(BadArgumentsError);
    expect(() => new Semaphore(c, '/s', -2)).toThrow(BadArgumentsError);
    expect(() => new Semaphore(c, '/s', 1.5)).toThrow(BadArgumentsError);
    expect(() => new Semaphore(c, '', 1)).toThrow(BadArgumentsError);
    expect(() => new ReadWriteLock(c, '')).toThrow(BadArgumentsError);
    expect(() => new MultiLock(c, [])).toThrow(BadArgumentsError);
    expect(() => new MultiLock(c, ['/a', ''])).toThrow(BadArgumentsError);
    await expect(new Semaphore(c, '/s', 1).acquire({ timeoutMs: -1 })).rejects.toBeInstanceOf(BadArgumentsError);
    // A with… helper given no function fails before it takes anything.
    const notFn = 'not a function' as never;
    await expect(new Semaphore(c, '/s', 1).withLease(notFn)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(new ReadWriteLock(c, '/s').withRead(notFn)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(new ReadWriteLock(c, '/s').withWrite(notFn)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(new MultiLock(c, ['/s/a', '/s/b']).withLock(notFn)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(new Mutex(c, '/s').withLock(notFn)).rejects.toBeInstanceOf(BadArgumentsError);
    expect(await c.exists('/s')).toBeNull();
  });
});
