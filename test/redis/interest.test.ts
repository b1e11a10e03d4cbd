import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client, type WatchEvent } from '../../core/index.js';
import { namespaceKeys, type NamespaceKeys } from '../../core/redis/index.js';
import { testNamespace } from '../namespace.js';

/**
 * DESIGN §3: watches cost in proportion to interest. Checked at the wire, on the shared
 * test Redis: which channels of the namespace have subscribers (PUBSUB), and which raw
 * pub/sub messages a client's subscriber connection actually receives.
 */
const REDIS_URL = process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

function raw(): Redis {
  const r = new Redis(REDIS_URL);
  cleanups.push(async () => r.disconnect());
  return r;
}

/**
 * A corral client on an ioredis instance of ours. corral opens its events connection with
 * the instance's `duplicate()`; we listen on that connection too, so we see every raw
 * message it receives, by channel.
 */
async function observedClient(namespace: string): Promise<{ zk: Client; received: string[] }> {
  const received: string[] = [];
  const base = raw();
  const duplicate = base.duplicate.bind(base);
  base.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
    const sub = duplicate(...args);
    sub.on('message', (channel: string) => received.push(channel));
    return sub;
  }) as Redis['duplicate'];
  const zk = await connect({ redis: base }, { namespace, logger: quiet });
  cleanups.push(() => zk.close());
  return { zk, received };
}

async function plainClient(namespace: string): Promise<Client> {
  const zk = await connect({ redis: REDIS_URL }, { namespace, logger: quiet });
  cleanups.push(() => zk.close());
  return zk;
}

/** Channels of the namespace that have at least one subscriber, sorted. */
async function channelsOf(admin: Redis, keys: NamespaceKeys): Promise<string[]> {
  return ((await admin.pubsub('CHANNELS', `${keys.prefix}*`)) as string[]).sort();
}

async function subscribers(admin: Redis, channel: string): Promise<number> {
  const [, n] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
  return Number(n);
}

/** Every message published in the namespace, by channel (a pattern subscriber sees them all). */
async function spyOn(keys: NamespaceKeys): Promise<{ count: (channel: string) => number }> {
  const spy = raw();
  const seen = new Map<string, number>();
  spy.on('pmessage', (_pattern: string, channel: string) => seen.set(channel, (seen.get(channel) ?? 0) + 1));
  await spy.psubscribe(`${keys.prefix}*`);
  return { count: (channel) => seen.get(channel) ?? 0 };
}

function once(): { watch: (ev: WatchEvent) => void; fired: Promise<WatchEvent> } {
  let resolve: (ev: WatchEvent) => void = () => undefined;
  const fired = new Promise<WatchEvent>((r) => (resolve = r));
  return { watch: (ev) => resolve(ev), fired };
}

describe('watch cost is proportional to interest (Redis, at the wire)', () => {
  it('a client receives messages only for paths it watches, and a fired one-shot watch unsubscribes', async () => {
    const ns = testNamespace('ns');
    const keys = namespaceKeys(ns);
    const admin = raw();
    const spy = await spyOn(keys);
    const w = await observedClient(ns);
    const x = await plainClient(ns);
    const a = keys.pathChannel('/a');
    const b = keys.pathChannel('/b');

    // No watch anywhere: nobody in the namespace is subscribed to anything, so writes are
    // published (the spy sees them) but reach no client.
    await x.create('/a', '1');
    await x.create('/b', '1');
    await x.setData('/b', '2');
    await until(() => spy.count(b) === 2 && spy.count(a) === 1, 2000, 'writes published');
    expect(await channelsOf(admin, keys)).toEqual([]);
    expect(w.received).toEqual([]);

    // A data watch on /a: exactly one channel, /a's, with one subscriber; none for /b.
    const onA = once();
    await w.zk.getData('/a', { watch: onA.watch });
    expect(await channelsOf(admin, keys)).toEqual([a]);
    expect(await subscribers(admin, a)).toBe(1);
    expect(await subscribers(admin, b)).toBe(0);
    for (let i = 0; i < 5; i++) await x.setData('/b', `b${i}`);
    await x.setData('/a', '2');
    expect((await onA.fired).type).toBe('dataChanged');
    // One subscriber connection gets its messages in publish order: had the /b writes
    // (published earlier) been sent to it, they would have arrived before /a's.
    expect(w.received).toEqual([a]);
    await until(() => spy.count(b) === 7, 2000, 'the /b writes published');

    // Fired once, the watch is gone, and so is the subscription: later /a writes reach nobody.
    await until(async () => (await channelsOf(admin, keys)).length === 0, 2000, 'unsubscribed after firing');
    await x.setData('/a', '3');
    await until(() => spy.count(a) === 3, 2000, 'the /a write published');
    const childOfB = once();
    await w.zk.getChildren('/b', { watch: childOfB.watch });
    await x.create('/b/c', '');
    expect((await childOfB.fired).type).toBe('childrenChanged');
    expect(w.received).toEqual([a, b]);
  });

  it('a recursive watch subscribes to its subtree only, and closing it unsubscribes', async () => {
    const ns = testNamespace('ns');
    const keys = namespaceKeys(ns);
    const admin = raw();
    const w = await observedClient(ns);
    const x = await plainClient(ns);
    await x.create('/a', '');
    await x.create('/b', '');

    const stream = w.zk.watch('/a', { recursive: true });
    await stream.ready;
    expect(await channelsOf(admin, keys)).toEqual([keys.recursiveChannel('/a')]);
    await x.create('/b/x', '');
    await x.setData('/b', 'changed');
    await x.create('/a/y', '');
    const ev = await stream.next();
    expect(ev.value).toMatchObject({ type: 'created', path: '/a/y' });
    // Nothing about /b came first: the only message is the one for the subtree of /a.
    expect(w.received).toEqual([keys.recursiveChannel('/a')]);

    stream.close();
    await until(async () => (await channelsOf(admin, keys)).length === 0, 2000, 'unsubscribed after close');
    // A write under /a, then one the client does watch: only the second reaches it.
    const onB = once();
    await w.zk.getData('/b', { watch: onB.watch });
    await x.create('/a/z', '');
    await x.setData('/b', 'again');
    await onB.fired;
    expect(w.received).toEqual([keys.recursiveChannel('/a'), keys.pathChannel('/b')]);
  });
});
