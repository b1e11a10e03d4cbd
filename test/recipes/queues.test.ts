import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, BadArgumentsError, TimeoutError, type Client } from '../../core/index.js';
import { DelayQueue, DistributedQueue, PriorityQueue } from '../../recipes/index.js';
import { BACKENDS, client, countingClient, lossyClient, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe.each(BACKENDS)('Queues on %s', (kind) => {
  async function zk(ns: string): Promise<Client> {
    const c = await client(kind, ns);
    open.push(c);
    return c;
  }

  it('FIFO: items come out in put order', async () => {
    const ns = newNamespace();
    const q = new DistributedQueue(await zk(ns), '/q/fifo');
    for (let i = 0; i < 10; i++) await q.put(`item ${i}`);
    expect(await q.size()).toBe(10);
    expect((await q.peek())?.data.toString()).toBe('item 0');
    const out: string[] = [];
    for (let i = 0; i < 10; i++) out.push((await q.take({ timeoutMs: 1000 })).data.toString());
    expect(out).toEqual([...Array(10).keys()].map((i) => `item ${i}`));
    expect(await q.poll()).toBeNull();
  });

  it('competing consumers: every item is taken exactly once', async () => {
    const ns = newNamespace();
    const producer = new DistributedQueue(await zk(ns), '/q/c');
    const N = 60;
    for (let i = 0; i < N; i++) await producer.put(String(i));
    const consumers = await Promise.all([0, 1, 2, 3].map(async () => new DistributedQueue(await zk(ns), '/q/c')));
    const taken: string[] = [];
    await Promise.all(consumers.map(async (q) => {
      for (;;) {
        const item = await q.poll();
        if (!item) return;
        taken.push(item.data.toString());
      }
    }));
    expect(taken.length).toBe(N);
    expect(new Set(taken).size).toBe(N);
  });

  it('a take whose reply was lost still gets its item: not lost, not taken twice', async () => {
    const ns = newNamespace();
    const producer = new DistributedQueue(await zk(ns), '/q/lost');
    for (let i = 0; i < 4; i++) await producer.put(`item ${i}`);
    const { zk: c, loseNextMultiReply, multis } = await lossyClient(kind, ns);
    open.push(c);
    const q = new DistributedQueue(c, '/q/lost');
    expect((await q.take({ timeoutMs: 1000 })).data.toString()).toBe('item 0');
    // A take leaves no claim marker behind once it knows the outcome.
    await until(async () => (await c.getChildren('/q/lost/claims')).children.length === 0, 2000, 'marker removed');

    const m0 = multis();
    loseNextMultiReply();
    const got = await q.take({ timeoutMs: 3000 });
    // The multi was applied, its reply lost; the consumer learnt from its marker that the item is its own.
    expect(multis() - m0).toBe(1);
    expect(got.data.toString()).toBe('item 1');
    expect(await producer.size()).toBe(2);
    const rest = [(await q.take({ timeoutMs: 1000 })).data.toString(), (await producer.take({ timeoutMs: 1000 })).data.toString()];
    expect(rest).toEqual(['item 2', 'item 3']);
    expect(await q.poll()).toBeNull();
    await until(async () => (await c.getChildren('/q/lost/claims')).children.length === 0, 2000, 'markers removed');
  });

  it('competing consumers whose take replies get lost: every item is taken exactly once', async () => {
    const ns = newNamespace();
    const producer = new DistributedQueue(await zk(ns), '/q/lossy');
    const N = 24;
    for (let i = 0; i < N; i++) await producer.put(String(i));
    const consumers = await Promise.all([0, 1].map(async () => {
      const l = await lossyClient(kind, ns);
      open.push(l.zk);
      return { ...l, q: new DistributedQueue(l.zk, '/q/lossy') };
    }));
    const taken: string[] = [];
    let lost = 0;
    await Promise.all(consumers.map(async ({ q, loseNextMultiReply }, k) => {
      for (let i = 0; ; i++) {
        // Every third take of each consumer (staggered) has its reply lost.
        if ((i + k) % 3 === 0) {
          loseNextMultiReply();
          lost++;
        }
        const item = await q.poll();
        if (!item) return;
        taken.push(item.data.toString());
      }
    }));
    expect(lost).toBeGreaterThan(4);
    expect(taken.length).toBe(N);
    expect(new Set(taken).size).toBe(N);
    expect(await producer.size()).toBe(0);
  });

  it('take waits for a put; waiting consumers are served in order and a put wakes only one', async () => {
    const ns = newNamespace();
    const producer = new DistributedQueue(await zk(ns), '/q/w');
    await producer.put('x');
    await producer.poll(); // creates the items znode
    const waiters: Array<{ events: () => number; got: string | null; p: Promise<void> }> = [];
    for (let i = 0; i < 10; i++) {
      const { zk: c, events } = await countingClient(kind, ns);
      open.push(c);
      const w = { events, got: null as string | null, p: Promise.resolve() };
      w.p = new DistributedQueue(c, '/q/w').take({ timeoutMs: 5000 }).then((it) => { w.got = it.data.toString(); });
      waiters.push(w);
      await until(async () => (await open[0].getChildren('/q/w/takers')).children.length === i + 1, 2000, 'queued');
    }
    await sleep(50);
    const before = waiters.map((w) => w.events());
    await producer.put('first');
    await waiters[0].p;
    await sleep(100);
    expect(waiters[0].got).toBe('first');
    const woken = waiters.map((w, i) => w.events() - before[i]);
    // The head consumer hears the put; the next in line hears the head leave the line.
    expect(woken[0]).toBe(1);
    expect(woken[1]).toBe(1);
    expect(woken.slice(2).reduce((a, b) => a + b, 0)).toBe(0);
    for (let i = 1; i < 10; i++) await producer.put(`v${i}`);
    await Promise.all(waiters.map((w) => w.p));
    expect(waiters.map((w) => w.got)).toEqual(['first', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `v${i}`)]);
  });

  it('take honours timeoutMs and AbortSignal, taking nothing and leaving no taker znode', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const q = new DistributedQueue(c, '/q/t');
    await expect(q.take({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const p = q.take({ signal: ac.signal });
    await sleep(30);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect((await c.getChildren('/q/t/takers')).children).toEqual([]);
    await q.put('still here');
    expect((await q.take({ timeoutMs: 1000 })).data.toString()).toBe('still here');
  });

  it('pages: the head of a long queue is found without reading the whole list', async () => {
    const ns = newNamespace();
    const c = await zk(ns);
    const q = new DistributedQueue(c, '/q/long');
    await Promise.all([...Array(500).keys()].map((i) => q.put(String(i))));
    const seen: Array<number | undefined> = [];
    const orig = c.getChildren.bind(c);
    c.getChildren = ((path: string, o?: { limit?: number }) => {
      seen.push(o?.limit);
      return orig(path, o);
    }) as typeof c.getChildren;
    await q.take();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((l) => l !== undefined && l <= 64)).toBe(true);
    expect(await q.size()).toBe(499);
  });

  it('priority queue: lower numbers first, FIFO within a priority', async () => {
    const ns = newNamespace();
    const q = new PriorityQueue(await zk(ns), '/q/p');
    await q.put('low-a', 10);
    await q.put('high', -5);
    await q.put('mid', 0);
    await q.put('low-b', 10);
    await q.put('max', -(2 ** 31));
    const out: string[] = [];
    for (let i = 0; i < 5; i++) out.push((await q.take()).data.toString());
    expect(out).toEqual(['max', 'high', 'mid', 'low-a', 'low-b']);
    await expect(q.put('x', 1.5)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(q.put('x', 2 ** 31)).rejects.toBeInstanceOf(BadArgumentsError);
  });

  it('delay queue: an item is not taken before it is due', async () => {
    const ns = newNamespace();
    const q = new DelayQueue(await zk(ns), '/q/d');
    const t0 = Date.now();
    await q.put('later', 300);
    await q.put('sooner', 100);
    expect(await q.poll()).toBeNull();
    const a = await q.take({ timeoutMs: 2000 });
    expect(a.data.toString()).toBe('sooner');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    const b = await q.take({ timeoutMs: 2000 });
    expect(b.data.toString()).toBe('later');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await expect(q.put('x', -1)).rejects.toBeInstanceOf(BadArgumentsError);
  });

  it('rejects bad arguments', async () => {
    const c = await zk(newNamespace());
    expect(() => new DistributedQueue(c, '')).toThrow(BadArgumentsError);
    await expect(new DistributedQueue(c, '/q/b').take({ timeoutMs: -1 })).rejects.toBeInstanceOf(BadArgumentsError);
  });
});
