import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, BadArgumentsError, ClientClosedError, SessionExpiredError, TimeoutError, type Client } from '../../core/index.js';
import { LeaderLatch, getLeader, runAsLeader, LeaderSelector, type Leadership } from '../../recipes/index.js';
import { BACKENDS, client, clientMakers, countingClient, cut, heal, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe.each(BACKENDS)('LeaderLatch on %s', (kind) => {
  const { zk, faulty } = clientMakers(kind, open);

  it('elects exactly one leader, in arrival order, with strictly increasing tokens', async () => {
    const ns = newNamespace();
    const latches: LeaderLatch[] = [];
    for (let i = 0; i < 4; i++) {
      const l = new LeaderLatch(await zk(ns), '/election', { id: `c${i}` });
      await l.start();
      latches.push(l);
    }
    const tokens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const lead = await latches[i].elected({ timeoutMs: 3000 });
      expect(latches.filter((l) => l.isLeader)).toEqual([latches[i]]);
      expect(await getLeader(open[0], '/election')).toMatchObject({ id: `c${i}` });
      tokens.push(lead.token);
      await latches[i].close();
      expect(lead.signal.aborted).toBe(true);
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    expect(await getLeader(await zk(ns), '/election')).toBeNull();
  });

  it('has no herd effect: with 20 contenders waiting, the leader resigning wakes only its successor', async () => {
    const ns = newNamespace();
    const leader = new LeaderLatch(await zk(ns), '/herd', { id: 'leader' });
    await leader.start();
    await leader.elected({ timeoutMs: 2000 });
    const waiters: Array<{ latch: LeaderLatch; events: () => number }> = [];
    for (let i = 0; i < 20; i++) {
      const { zk: c, events } = await countingClient(kind, ns);
      open.push(c);
      const latch = new LeaderLatch(c, '/herd', { id: `w${i}` });
      await latch.start();
      waiters.push({ latch, events });
    }
    await sleep(100); // every waiter has set its predecessor watch
    const before = waiters.map((w) => w.events());
    await leader.close();
    await waiters[0].latch.elected({ timeoutMs: 3000 });
    await sleep(150);
    const woken = waiters.map((w, i) => w.events() - before[i]);
    expect(woken[0]).toBeGreaterThanOrEqual(1);
    expect(woken.slice(1).reduce((a, b) => a + b, 0)).toBe(0);
    expect(waiters.filter((w) => w.latch.isLeader).length).toBe(1);
    await Promise.all(waiters.map((w) => w.latch.close()));
  });

  it('reports suspended (in doubt), reconnected, then lost on expiry; the next contender takes over', async () => {
    const ns = newNamespace();
    const a = await faulty(ns, 400);
    const la = new LeaderLatch(a, '/sus', { id: 'a' });
    await la.start();
    const lead = await la.elected({ timeoutMs: 2000 });
    const lb = new LeaderLatch(await zk(ns, 400), '/sus', { id: 'b' });
    await lb.start();
    const seen: string[] = [];
    la.on('suspended', () => seen.push('suspended'));
    la.on('reconnected', () => seen.push('reconnected'));
    la.on('lost', (e) => seen.push(`lost:${e.name}`));

    cut(a);
    await until(() => lead.inDoubt, 2000, 'in doubt');
    expect(lead.signal.aborted).toBe(false);
    await heal(a);
    await until(() => seen.includes('reconnected'), 2000, 'reconnected');
    expect(lead.inDoubt).toBe(false);
    expect(la.isLeader).toBe(true);

    cut(a);
    const t0 = performance.now();
    const next = await lb.elected({ timeoutMs: 3000 });
    expect(performance.now() - t0).toBeLessThan(400 + 250 + 100);
    await until(() => lead.signal.aborted, 2000, 'lost');
    expect(lead.signal.reason).toBeInstanceOf(SessionExpiredError);
    expect(seen).toContain('lost:SessionExpiredError');
    expect(la.isLeader).toBe(false);
    expect(next.token).toBeGreaterThan(lead.token);
    await expect(la.elected()).rejects.toBeInstanceOf(SessionExpiredError);
  });

  it('elected() honours timeoutMs and AbortSignal without leaving the election', async () => {
    const ns = newNamespace();
    const a = new LeaderLatch(await zk(ns), '/to', { id: 'a' });
    await a.start();
    const b = new LeaderLatch(await zk(ns), '/to', { id: 'b' });
    await b.start();
    await expect(b.elected({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const p = b.elected({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    await a.close();
    await expect(b.elected({ timeoutMs: 2000 })).resolves.toMatchObject({ inDoubt: false });
    await b.close();
    await b.close();
    const c = await zk(ns);
    expect((await c.getChildren('/to')).children).toEqual([]);
  });

  it('elected() ends when the client closes, even on a latch that was never started', async () => {
    const ns = newNamespace();
    const c = await client(kind, ns);
    const idle = new LeaderLatch(c, '/never', { id: 'idle' });
    const pending = idle.elected().catch((e: unknown) => e);
    await c.close();
    expect(await pending).toBeInstanceOf(ClientClosedError);
    await expect(idle.elected()).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('notices its znode being deleted: leadership lost, then it rejoins the election', async () => {
    const ns = newNamespace();
    const a = await zk(ns);
    const la = new LeaderLatch(a, '/del', { id: 'a' });
    await la.start();
    const first = await la.elected({ timeoutMs: 2000 });
    const admin = await zk(ns);
    const [name] = (await admin.getChildren('/del')).children;
    await admin.delete(`/del/${name}`);
    await until(() => first.signal.aborted, 2000, 'lost');
    const again = await la.elected({ timeoutMs: 2000 });
    expect(again.token).toBeGreaterThan(first.token);
    await la.close();
  });

  it('reports leaderChanged to listeners', async () => {
    const ns = newNamespace();
    const la = new LeaderLatch(await zk(ns), '/lc', { id: 'a' });
    await la.start();
    await la.elected();
    const lb = new LeaderLatch(await zk(ns), '/lc', { id: 'b' });
    const lc = new LeaderLatch(await zk(ns), '/lc', { id: 'c' });
    const seen: Array<string | null> = [];
    lc.on('leaderChanged', (l) => seen.push(l?.id ?? null));
    await lb.start();
    await lc.start();
    await until(() => seen.length === 1, 2000, 'first leader');
    await la.close();
    await until(() => seen.length === 2, 2000, 'second leader');
    expect(seen).toEqual(['a', 'b']);
    await lb.close();
    await lc.close();
  });

  it('rejects bad arguments with BadArgumentsError', async () => {
    const c = await zk(newNamespace());
    expect(() => new LeaderLatch(c, '', {})).toThrow(BadArgumentsError);
    expect(() => new LeaderLatch(c, '/', {})).toThrow(BadArgumentsError);
    expect(() => new LeaderLatch(c, '/x', { id: '' })).toThrow(BadArgumentsError);
    const l = new LeaderLatch(c, '/x');
    await expect(l.elected({ timeoutMs: -1 })).rejects.toBeInstanceOf(BadArgumentsError);
    await l.start();
    await expect(l.start()).rejects.toBeInstanceOf(BadArgumentsError);
    await l.close();
    await expect(runAsLeader(c, '/y', 'not a function' as never)).rejects.toBeInstanceOf(BadArgumentsError);
    expect(() => new LeaderSelector(c, '/y', 42 as never)).toThrow(BadArgumentsError);
    expect(await c.exists('/y')).toBeNull();
  });

  it('runAsLeader: one leader at a time, the signal aborts when the session is suspended', async () => {
    const ns = newNamespace();
    const a = await faulty(ns, 600);
    const b = await zk(ns, 600);
    let running = 0;
    let maxRunning = 0;
    const order: string[] = [];
    const work = (who: string) => async (l: Leadership) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      order.push(who);
      await sleep(50);
      running--;
      return l.token;
    };
    const [ta, tb] = await Promise.all([runAsLeader(a, '/sel', work('a')), runAsLeader(b, '/sel', work('b'))]);
    expect(maxRunning).toBe(1);
    expect(ta).not.toBe(tb);

    let reason: unknown;
    const p = runAsLeader(a, '/sel2', async (l) => {
      cut(a);
      if (!l.signal.aborted) await new Promise((r) => l.signal.addEventListener('abort', r));
      reason = l.signal.reason;
      await heal(a);
      return 'stopped';
    });
    await expect(p).resolves.toBe('stopped');
    expect(String(reason)).toMatch(/in doubt/);
  });

  it('LeaderSelector runs rounds and stops on close', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    let rounds = 0;
    const sel = new LeaderSelector(c, '/ls', async () => {
      rounds++;
      await sleep(10);
    });
    sel.start();
    await until(() => rounds >= 3, 3000, 'rounds');
    await sel.close();
    expect(sel.rounds).toBeGreaterThanOrEqual(2);
  });
});
