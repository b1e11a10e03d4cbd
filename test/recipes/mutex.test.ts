import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, BadArgumentsError, SessionExpiredError, TimeoutError, ensurePath, type Client } from '../../core/index.js';
import { waitChange } from '../../recipes/internal/contend.js';
import { FOREVER } from '../../recipes/internal/wait.js';
import { LeaseLostError, Mutex, withLock, type Lease } from '../../recipes/index.js';
import { BACKENDS, client, clientMakers, countingClient, countListReads, cut, grantedOnlyAfter, heal, laggingEventsClient, lossyClient, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe.each(BACKENDS)('Mutex on %s', (kind) => {
  const { zk, faulty } = clientMakers(kind, open);
  async function children(c: Client, path: string): Promise<string[]> {
    return (await c.getChildren(path)).children;
  }

  it('excludes: concurrent critical sections never overlap, tokens strictly increase', async () => {
    const ns = newNamespace();
    const clients = await Promise.all([0, 1, 2, 3].map(() => zk(ns)));
    let inside = 0;
    let maxInside = 0;
    const tokens: number[] = [];
    await Promise.all(clients.flatMap((c) => [0, 1, 2].map(() => new Mutex(c, '/locks/x').withLock(async (lease) => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      tokens.push(lease.token);
      await sleep(2);
      inside--;
    }))));
    expect(maxInside).toBe(1);
    expect(tokens.length).toBe(12);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    expect(await children(clients[0], '/locks/x')).toEqual([]);
  });

  it('is fair: waiters acquire in arrival order', async () => {
    const ns = newNamespace();
    const holder = await new Mutex(await zk(ns), '/fair').acquire();
    const order: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      const m = new Mutex(await zk(ns), '/fair');
      waits.push(m.withLock(async () => { order.push(i); }));
      // Arrival = znode creation: wait until waiter i has queued before starting i+1.
      await until(async () => (await children(open[0], '/fair')).length === i + 2, 2000, 'queued');
    }
    await holder.release();
    await Promise.all(waits);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('has no herd effect: 20 waiters, the release wakes exactly one of them', async () => {
    const ns = newNamespace();
    const holder = await new Mutex(await zk(ns), '/herd').acquire();
    const waiters: Array<{ events: () => number; p: Promise<Lease> }> = [];
    for (let i = 0; i < 20; i++) {
      const { zk: c, events } = await countingClient(kind, ns);
      open.push(c);
      waiters.push({ events, p: new Mutex(c, '/herd').acquire() });
    }
    await until(async () => (await children(open[0], '/herd')).length === 21, 3000, 'queued');
    await sleep(100);
    const before = waiters.map((w) => w.events());
    await holder.release();
    const first = await waiters[0].p;
    await sleep(150);
    const woken = waiters.map((w, i) => w.events() - before[i]);
    expect(woken[0]).toBe(1);
    expect(woken.slice(1)).toEqual(new Array(19).fill(0));
    // Hand the lock down the line: each release wakes only the next waiter (the releaser
    // itself also hears of its own znode's deletion, through its lease's watch).
    let lease = first;
    for (let i = 1; i < 20; i++) {
      const snap = waiters.map((w) => w.events());
      await lease.release();
      lease = await waiters[i].p;
      await sleep(20);
      const delta = waiters.map((w, j) => w.events() - snap[j]);
      expect(delta[i]).toBe(1);
      expect(delta.reduce((a, b) => a + b, 0) - delta[i] - delta[i - 1]).toBe(0);
    }
    await lease.release();
  });

  it('acquire honours timeoutMs and AbortSignal, and an abandoned attempt leaves no znode', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const b = await zk(ns);
    const lease = await new Mutex(a, '/t').acquire();
    const t0 = performance.now();
    await expect(new Mutex(b, '/t').acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(await children(a, '/t')).toHaveLength(1);
    const ac = new AbortController();
    const p = new Mutex(b, '/t').acquire({ signal: ac.signal });
    await until(async () => (await children(a, '/t')).length === 2, 2000, 'queued');
    ac.abort(new Error('user gave up'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(await children(a, '/t')).toHaveLength(1);
    const pre = new AbortController();
    pre.abort();
    await expect(new Mutex(b, '/t').acquire({ signal: pre.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(await children(a, '/t')).toHaveLength(1);
    // A free lock with timeoutMs 0 is still granted (try-lock).
    await lease.release();
    const l2 = await new Mutex(b, '/t').acquire({ timeoutMs: 0 });
    await l2.release();
    expect(await children(a, '/t')).toEqual([]);
  });

  it('acquire keeps its timeout while the session is suspended; the abandoned znode goes once the link is back', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const b = await faulty(ns, 3000); // suspended far longer than the timeouts below
    const held = await new Mutex(a, '/sus').acquire();
    // Cut while waiting: the timeout is kept, not stretched to the session's fate by the clean-up.
    const t0 = performance.now();
    const waiting = new Mutex(b, '/sus').acquire({ timeoutMs: 400 }).catch((e: unknown) => e);
    await until(async () => (await children(a, '/sus')).length === 2, 2000, 'queued');
    cut(b);
    expect(await waiting).toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(400 + 200);
    // Cut before the attempt: its create cannot be sent, and the timeout still holds.
    const t1 = performance.now();
    await expect(new Mutex(b, '/sus').acquire({ timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - t1).toBeLessThan(200 + 200);
    // b's session lives on, so its first znode is still queued until the link is back.
    expect(await children(a, '/sus')).toHaveLength(2);
    await heal(b);
    await until(async () => (await children(a, '/sus')).length === 1, 3000, 'abandoned znode deleted');
    expect(['connected', 'reconnected']).toContain(b.state);
    await held.release();
  });

  it('timed-out waits leave at most one armed watch on the predecessor, gone once it fires', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const b = await zk(ns);
    const held = await new Mutex(a, '/leftover').acquire();
    for (let i = 0; i < 10; i++) {
      await expect(new Mutex(b, '/leftover').acquire({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    }
    expect(await children(a, '/leftover')).toHaveLength(1);
    // White-box: the client cannot take a one-shot watch back (core has no removeWatch), so
    // look at what b's client still has armed.
    const armed = (): string[] => (b as unknown as { registry: { armed(): Array<{ path: string }> } }).registry.armed().map((w) => w.path);
    expect(armed()).toEqual([held.path]);
    await held.release();
    await until(() => armed().length === 0, 2000, 'leftover watch fired');
  });

  /** White-box: the one-shot watches a client has armed, and the watch interests (on Redis, subscriptions) it holds. */
  function armedPaths(c: Client): string[] {
    return (c as unknown as { registry: { armed(): Array<{ path: string }> } }).registry.armed().map((w) => w.path);
  }
  function interestCount(c: Client): number {
    return (c as unknown as { interests: { size: number } }).interests.size;
  }

  it('acquire/release cycles leave no watch armed and no subscription held behind', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const b = await zk(ns);
    const ma = new Mutex(a, '/noleak');
    const mb = new Mutex(b, '/noleak');
    // Uncontended: leases given back at once, and leases held across I/O.
    for (let i = 0; i < 20; i++) {
      const lease = await ma.acquire();
      if (i % 2 === 1) await sleep(2);
      await lease.release();
    }
    // Contended: b waits on a's znode and a's release wakes it.
    for (let i = 0; i < 5; i++) {
      const la = await ma.acquire();
      const pb = mb.acquire();
      await until(async () => (await children(a, '/noleak')).length === 2, 2000, 'queued');
      await la.release();
      const lb = await pb;
      await sleep(2);
      await lb.release();
    }
    // A wait on a znode that is already gone ends at once and arms nothing.
    await waitChange(b, ['/noleak/_c_gone'], FOREVER, 'test');
    await until(() => armedPaths(a).length + armedPaths(b).length === 0, 2000, 'no watch left armed');
    expect(interestCount(a)).toBe(0);
    expect(interestCount(b)).toBe(0);
  });

  it('a lease given back in the turn that granted it makes no read of its znode; one held across I/O watches it', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    let reads = 0;
    const counted = c as unknown as Record<'exists' | 'getData' | 'getChildren', (...args: unknown[]) => Promise<unknown>>;
    for (const m of ['exists', 'getData', 'getChildren'] as const) {
      const f = counted[m].bind(c);
      counted[m] = (...args: unknown[]) => {
        reads++;
        return f(...args);
      };
    }
    const m = new Mutex(c, '/turn');
    await ensurePath(c, '/turn');
    const r0 = reads;
    await (await m.acquire()).release();
    await sleep(30);
    expect(reads - r0).toBe(1); // the contender list, nothing else
    const r1 = reads;
    const held = await m.acquire();
    await sleep(30);
    expect(reads - r1).toBe(2); // the list, then the watch on its own znode
    expect(armedPaths(c)).toEqual([held.path]);
    await held.release();
    await until(() => armedPaths(c).length === 0, 2000, 'own watch fired on release');
  });

  it('the first contender list is sent with the create, in the same round trip; one that does not show our znode is read again', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    await ensurePath(c, '/ride');
    const log: string[] = [];
    const calls = c as unknown as Record<'createWithStat' | 'getChildren', (...args: unknown[]) => Promise<unknown>>;
    const create = calls.createWithStat.bind(c);
    const list = calls.getChildren.bind(c);
    let hideNext = false;
    calls.createWithStat = (...args: unknown[]) => {
      log.push('create sent');
      return create(...args).finally(() => log.push('create done'));
    };
    calls.getChildren = async (...args: unknown[]) => {
      log.push('list sent');
      const r = (await list(...args)) as { children: string[] };
      // As if the list had been read before the create: our znode not in it.
      if (!hideNext) return r;
      hideNext = false;
      return { ...r, children: [] };
    };
    await (await new Mutex(c, '/ride').acquire()).release();
    expect(log).toEqual(['create sent', 'list sent', 'create done']);
    log.length = 0;
    hideNext = true;
    const lease = await new Mutex(c, '/ride').acquire({ timeoutMs: 2000 });
    expect(log).toEqual(['create sent', 'list sent', 'create done', 'list sent']);
    expect(lease.held).toBe(true);
    await lease.release();
  });

  it('a data change on the holder\'s znode wakes no waiter', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const holder = await new Mutex(a, '/quiet', { data: 'v1' }).acquire();
    const { zk: c, events } = await countingClient(kind, ns);
    open.push(c);
    let granted = false;
    const p = new Mutex(c, '/quiet').acquire().then((l) => { granted = true; return l; });
    await until(async () => (await children(a, '/quiet')).length === 2, 2000, 'queued');
    await sleep(50);
    const before = events();
    await a.setData(holder.path, 'v2');
    await sleep(100);
    expect(events() - before).toBe(0);
    expect(granted).toBe(false);
    await holder.release();
    const lease = await p;
    expect(events() - before).toBe(1); // the release, and nothing before it
    await lease.release();
  });


  it('a waiter whose predecessor was first in line takes the lock on its release event, without reading the list again', async () => {
    const ns = newNamespace();
    // Long sessions: a heartbeat held up by a loaded machine must not suspend b (a suspended
    // or reconnected waiter reads the list again, rightly, which is not what is tested here).
    const a = await zk(ns, 10_000);
    const holder = await new Mutex(a, '/first').acquire();
    const { zk: b, events } = await countingClient(kind, ns, { sessionTimeoutMs: 10_000 });
    open.push(b);
    const lists = countListReads(b, '/first');
    const p = new Mutex(b, '/first').acquire();
    // b queues right behind the holder and, alone in line, also watches its own znode.
    await until(() => armedPaths(b).length === 2, 2000, 'b watches the holder and its own znode');
    const [own] = armedPaths(b).filter((x) => x !== holder.path);
    const listsBefore = lists();
    const eventsBefore = events();
    await holder.release();
    const lease = await p;
    expect(lease.path).toBe(own);
    expect(lists() - listsBefore).toBe(0);
    expect(events() - eventsBefore).toBe(1);
    expect(lease.token).toBeGreaterThan(holder.token);
    // The lease took the watch over: a deletion by someone else is still reported.
    await a.delete(lease.path);
    await until(() => !lease.held, 2000, 'lost');
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
  });

  it('a waiter further back takes the lock on its predecessor\'s release event alone (the release mark), without reading the list again', async () => {
    const ns = newNamespace();
    const a = await zk(ns, 10_000);
    const holder = await new Mutex(a, '/line').acquire();
    const b = await zk(ns, 10_000);
    const pb = new Mutex(b, '/line').acquire();
    await until(async () => (await children(a, '/line')).length === 2, 2000, 'b queued');
    // c queues third: when it read the list, b (not the holder) was its predecessor.
    const { zk: c, events } = await countingClient(kind, ns, { sessionTimeoutMs: 10_000 });
    open.push(c);
    const lists = countListReads(c, '/line');
    const pc = new Mutex(c, '/line').acquire();
    await until(() => armedPaths(c).length === 2, 2000, 'c watches b and its own znode');
    await holder.release();
    const lb = await pb;
    const listsBefore = lists();
    const eventsBefore = events();
    await lb.release(); // marked: the mark reaches c with b's deletion
    const lc = await pc;
    expect(lists() - listsBefore).toBe(0);
    expect(events() - eventsBefore).toBe(1);
    expect(lc.token).toBeGreaterThan(lb.token);
    await lc.release();
  });

  it('a predecessor that gives up (no release mark) makes the waiter read the list again, and wait on for the holder', async () => {
    const ns = newNamespace();
    const a = await zk(ns, 10_000);
    const holder = await new Mutex(a, '/giveup').acquire();
    const b = await zk(ns, 10_000);
    const quit = new AbortController();
    const pb = new Mutex(b, '/giveup').acquire({ signal: quit.signal }).catch((e: unknown) => e);
    await until(async () => (await children(a, '/giveup')).length === 2, 2000, 'b queued');
    const c = await zk(ns, 10_000);
    const lists = countListReads(c, '/giveup');
    let granted = false;
    const pc = new Mutex(c, '/giveup').acquire().then((l) => { granted = true; return l; });
    await until(async () => (await children(a, '/giveup')).length === 3, 2000, 'c queued');
    await sleep(50);
    const listsBefore = lists();
    quit.abort();
    expect(await pb).toBeInstanceOf(AbortedError);
    await until(() => lists() > listsBefore, 2000, 'c read the list again');
    await sleep(100);
    await grantedOnlyAfter(holder, pc, () => granted);
  });

  it('…but not when its own znode went while it waited: it reads the list, and fails', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const holder = await new Mutex(a, '/gone').acquire();
    const b = await zk(ns);
    const lists = countListReads(b, '/gone');
    const p = new Mutex(b, '/gone').acquire().catch((e: unknown) => e);
    await until(() => armedPaths(b).length === 2, 2000, 'b watches the holder and its own znode');
    const [own] = armedPaths(b).filter((x) => x !== holder.path);
    await a.delete(own); // an operator, say
    await until(() => armedPaths(b).length === 1, 2000, 'own watch fired');
    const listsBefore = lists();
    await holder.release();
    expect(await p).toBeInstanceOf(LeaseLostError);
    expect(lists() - listsBefore).toBe(1);
    expect(await children(a, '/gone')).toEqual([]);
  });

  it('a waiter behind an abandoned waiter reads the list again and keeps waiting for the holder', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const holder = await new Mutex(a, '/behind').acquire();
    const w = await zk(ns);
    const quitter = new Mutex(w, '/behind').acquire({ timeoutMs: 300 }).catch((e: unknown) => e);
    await until(async () => (await children(a, '/behind')).length === 2, 2000, 'quitter queued');
    const s = await zk(ns);
    let granted = false;
    const p = new Mutex(s, '/behind').acquire().then((l) => { granted = true; return l; });
    await until(async () => (await children(a, '/behind')).length === 3, 2000, 's queued');
    expect(await quitter).toBeInstanceOf(TimeoutError);
    await until(async () => (await children(a, '/behind')).length === 2, 2000, 'quitter gone');
    await sleep(150);
    await grantedOnlyAfter(holder, p, () => granted);
  });

  it('an attempt that gives up while watching its own znode leaves that watch behind for no longer than its znode', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const held = await new Mutex(a, '/late-event').acquire();
    // b hears of every change 30 ms late: its znode's deletion event trails the delete's reply.
    const b = await laggingEventsClient(kind, ns, 30);
    open.push(b);
    const p = new Mutex(b, '/late-event').acquire({ timeoutMs: 300 }).catch((e: unknown) => e);
    await until(() => armedPaths(b).length === 2, 2000, 'b watches the holder and its own znode');
    expect(await p).toBeInstanceOf(TimeoutError);
    expect(await children(a, '/late-event')).toEqual([held.path.slice('/late-event/'.length)]);
    expect(armedPaths(b)).toEqual([held.path]);
    await held.release();
  });

  it('a create whose reply was lost is found again, not duplicated (protected mode)', async () => {
    const ns = newNamespace();
    const { zk: c, loseNextCreateReply, creates } = await lossyClient(kind, ns);
    open.push(c);
    await new Mutex(c, '/lossy').withLock(async () => undefined); // creates /lossy
    const n0 = creates();
    loseNextCreateReply();
    const lease = await new Mutex(c, '/lossy').acquire({ timeoutMs: 3000 });
    expect(creates() - n0).toBe(1);
    const names = await children(c, '/lossy');
    expect(names).toHaveLength(1);
    expect(lease.path).toBe(`/lossy/${names[0]}`);
    // A second contender still gets the lock once we release: no orphan blocks it.
    const other = await zk(ns);
    const p = new Mutex(other, '/lossy').acquire({ timeoutMs: 3000 });
    await lease.release();
    await (await p).release();
  });

  it('withLock releases on throw; await using releases at block end', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    await expect(withLock(c, '/w', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await children(c, '/w')).toEqual([]);
    let path = '';
    {
      await using lease = await new Mutex(c, '/w').acquire();
      path = lease.path;
      expect(await c.exists(path)).not.toBeNull();
    }
    expect(await c.exists(path)).toBeNull();
  });

  it('re-entrant mutex: re-entered within the holder\'s call chain, one znode, released by the last release', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const m = new Mutex(c, '/re', { reentrant: true });
    const nested = async (outer: Lease): Promise<void> => {
      const l2 = await m.acquire({ timeoutMs: 100 });
      expect(l2).toBe(outer);
      expect(m.holdCount).toBe(2);
      await m.withLock(async (l3) => {
        expect(l3.token).toBe(outer.token);
        expect(m.holdCount).toBe(3);
      }, { timeoutMs: 100 });
      expect(await children(c, '/re')).toHaveLength(1);
      await l2.release();
      expect(m.holdCount).toBe(1);
    };
    await m.withLock(async (l1) => {
      expect(m.holdCount).toBe(1);
      await nested(l1);
      expect(await children(c, '/re')).toHaveLength(1);
      expect(l1.held).toBe(true);
    });
    expect(m.holdCount).toBe(0);
    expect(await children(c, '/re')).toEqual([]);
    // Non-re-entrant: a second acquire on the same object waits its turn.
    const n = new Mutex(c, '/nre');
    const h = await n.acquire();
    await expect(n.acquire({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    await h.release();
  });

  it('re-entrant mutex: concurrent callers sharing one Mutex object still exclude each other', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const m = new Mutex(c, '/re2', { reentrant: true });
    let inside = 0;
    let maxInside = 0;
    const tokens: number[] = [];
    const section = async (lease: Lease): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      tokens.push(lease.token);
      await sleep(100);
      inside--;
    };
    const first = m.withLock(section);
    await until(() => inside === 1, 2000, 'first inside');
    // Another request handler, say, on the same object while the first holds the lock.
    const second = m.withLock(section, { timeoutMs: 3000 });
    await Promise.all([first, second]);
    expect(maxInside).toBe(1);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBeGreaterThan(tokens[0]);
    // A bare acquire holds the lock for its lease, not for a call chain: no re-entry from outside withLock.
    const held = await m.acquire();
    await expect(m.acquire({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    await held.release();
    expect(await children(c, '/re2')).toEqual([]);
  });

  it('tells the holder: suspended = in doubt, expired = lost; the next holder gets a higher token', async () => {
    const ns = newNamespace();
    const a = await faulty(ns, 400);
    const lease = await new Mutex(a, '/s').acquire();
    const events: string[] = [];
    lease.on('suspended', () => events.push('suspended'));
    lease.on('reconnected', () => events.push('reconnected'));
    lease.on('lost', (e) => events.push(`lost:${e.name}`));
    cut(a);
    await until(() => lease.inDoubt, 2000, 'in doubt');
    expect(lease.signal.aborted).toBe(false);
    await heal(a);
    await until(() => events.includes('reconnected'), 2000, 'reconnected');
    expect(lease.inDoubt).toBe(false);

    const b = await zk(ns, 400);
    const next = new Mutex(b, '/s').acquire({ timeoutMs: 3000 });
    cut(a);
    const t0 = performance.now();
    const lb = await next;
    expect(performance.now() - t0).toBeLessThan(400 + 250);
    await until(() => lease.signal.aborted, 2000, 'lost');
    expect(lease.signal.reason).toBeInstanceOf(SessionExpiredError);
    expect(events).toEqual(['suspended', 'reconnected', 'suspended', 'lost:SessionExpiredError']);
    expect(lb.token).toBeGreaterThan(lease.token);
    await heal(a);
    await lease.release(); // safe on a lost lease
    await lb.release();
  });

  it('a lease\'s signal first read after the lease ended is already aborted, with the reason it ended', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const released = await new Mutex(c, '/late').acquire();
    await released.release();
    expect(released.signal.aborted).toBe(true);
    expect(released.signal.reason).toBeInstanceOf(AbortedError);
    const lost = await new Mutex(c, '/late').acquire();
    let lostWith: Error | null = null;
    lost.on('lost', (e) => { lostWith = e; });
    await (await zk(ns)).delete(lost.path);
    await until(() => !lost.held, 2000, 'lost');
    expect(lost.signal.aborted).toBe(true);
    expect(lost.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(lost.signal.reason).toBe(lostWith);
    // Read before the end: aborted at the end, as before.
    const held = await new Mutex(c, '/late').acquire();
    const signal = held.signal;
    expect(signal.aborted).toBe(false);
    await held.release();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(AbortedError);
  });

  it('a lease granted just before its link drops watches its znode once the session is back', async () => {
    const ns = newNamespace();
    const c = await faulty(ns, 3000);
    const lease = await new Mutex(c, '/cutgrant').acquire();
    cut(c); // before the lease's first turn: the read that arms its watch cannot go out
    await sleep(50);
    expect(lease.inDoubt).toBe(true);
    expect(armedPaths(c)).toEqual([]);
    const reconnected = new Promise<void>((r) => lease.once('reconnected', () => r()));
    await heal(c);
    await reconnected;
    expect(armedPaths(c)).toEqual([lease.path]);
    await (await zk(ns)).delete(lease.path);
    await until(() => !lease.held, 2000, 'lost');
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
  });

  it('a deleted lock znode is reported as lost (LeaseLostError)', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const lease = await new Mutex(c, '/d').acquire();
    await (await zk(ns)).delete(lease.path);
    await until(() => lease.signal.aborted, 2000, 'lost');
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
  });

  it('rejects bad arguments with BadArgumentsError and creates nothing', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    expect(() => new Mutex(c, '')).toThrow(BadArgumentsError);
    expect(() => new Mutex(c, '/')).toThrow(BadArgumentsError);
    expect(() => new Mutex({} as Client, '/x')).toThrow(BadArgumentsError);
    expect(() => new Mutex(c, 'relative')).toThrow(/Invalid path/);
    const m = new Mutex(c, '/bad');
    await expect(m.acquire({ timeoutMs: -5 })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(m.acquire({ timeoutMs: NaN })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(m.acquire({ signal: 'no' as never })).rejects.toBeInstanceOf(BadArgumentsError);
    expect(await c.exists('/bad')).toBeNull();
  });
});
