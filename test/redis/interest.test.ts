import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, op, type Client, type WatchEvent } from '../../core/index.js';
import { namespaceKeys, type NamespaceKeys } from '../../core/redis/index.js';
import { loadScripts } from '../../core/redis/scripts.js';
import { startProxy } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

/**
 * DESIGN §3: watches cost in proportion to interest. Checked at the wire, on the shared
 * test Redis: which watch registrations the namespace holds, which messages writes
 * publish at all (a pattern subscriber sees every one), and which raw pub/sub messages a
 * client's subscriber connection actually receives.
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
async function observedClient(namespace: string, sessionTimeoutMs = 10_000): Promise<{ zk: Client; received: string[]; messages: string[]; heads: string[]; cut: () => void }> {
  const received: string[] = [];
  const messages: string[] = [];
  /** Each message's head: its zxid, `!`-marked when the session made the write. */
  const heads: string[] = [];
  const base = raw();
  const duplicate = base.duplicate.bind(base);
  let sub: Redis | undefined;
  base.duplicate = ((override?: Parameters<Redis['duplicate']>[0]) => {
    // Named, so a test can find it in CLIENT LIST and cut it.
    sub = duplicate({ ...override, connectionName: `events-${namespace}` });
    sub.on('message', (channel: string, msg: string) => {
      received.push(channel);
      messages.push(msg.slice(msg.indexOf(' ') + 1));
      heads.push(msg.slice(0, msg.indexOf(' ')));
    });
    return sub;
  }) as Redis['duplicate'];
  const zk = await connect({ redis: base }, { namespace, logger: quiet, sessionTimeoutMs });
  cleanups.push(() => zk.close());
  // Gone for good, as a crashed process: neither connection comes back.
  const cut = () => {
    base.disconnect(false);
    sub?.disconnect(false);
  };
  return { zk, received, messages, heads, cut };
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

/** The namespace's watch registrations: path → session id → kind bits (1 node, 2 children). */
async function registrations(admin: Redis, keys: NamespaceKeys): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const p of Object.keys(await admin.hgetall(keys.watched)).sort()) out[p] = await admin.hgetall(keys.watchers(p));
  return out;
}

/** How many messages are published in the namespace (a pattern subscriber sees them all). */
async function spyOn(keys: NamespaceKeys): Promise<{ total: () => number; settle: () => Promise<unknown> }> {
  const spy = raw();
  let total = 0;
  spy.on('pmessage', () => total++);
  await spy.psubscribe(`${keys.prefix}*`);
  // Redis answers the spy's PING after every message already queued for it.
  return { total: () => total, settle: () => spy.ping() };
}

function once(): { watch: (ev: WatchEvent) => void; fired: Promise<WatchEvent> } {
  let resolve: (ev: WatchEvent) => void = () => undefined;
  const fired = new Promise<WatchEvent>((r) => (resolve = r));
  return { watch: (ev) => resolve(ev), fired };
}

/** A fresh namespace, its keys, and a raw connection to look at them. */
function namespaceScene(): { ns: string; keys: NamespaceKeys; admin: Redis } {
  const ns = testNamespace('ns');
  return { ns, keys: namespaceKeys(ns), admin: raw() };
}

/** A fresh namespace with a pattern spy on it, an observed client `w` and a plain one `x`. */
async function spiedScene() {
  const { ns, keys, admin } = namespaceScene();
  const spy = await spyOn(keys);
  const w = await observedClient(ns);
  const x = await plainClient(ns);
  return { keys, admin, spy, w, x };
}

describe('watch cost is proportional to interest (Redis, at the wire)', () => {
  it('a write nobody watches publishes nothing; a watched one reaches only its watcher; a fired watch is withdrawn', async () => {
    const { keys, admin, spy, w, x } = await spiedScene();
    const mine = keys.sessionChannel(w.zk.sessionId);

    // No watch anywhere: writes publish nothing at all, and nothing is registered.
    await x.create('/a', '1');
    await x.create('/b', '1');
    await x.setData('/b', '2');
    await spy.settle();
    expect(spy.total()).toBe(0);
    expect(await registrations(admin, keys)).toEqual({});
    // One channel per session, subscribed for its lifetime; none per path.
    expect(await channelsOf(admin, keys)).toEqual([mine, keys.sessionChannel(x.sessionId)].sort());

    // A data watch on /a: one registration, w's, of kind node; /b writes still publish nothing.
    const onA = once();
    await w.zk.getData('/a', { watch: onA.watch });
    expect(await registrations(admin, keys)).toEqual({ '/a': { [w.zk.sessionId]: '1' } });
    for (let i = 0; i < 5; i++) await x.setData('/b', `b${i}`);
    await x.setData('/a', '2');
    expect((await onA.fired).type).toBe('dataChanged');
    // Messages come in publish order on one connection: /a's was the only one.
    expect(w.received).toEqual([mine]);
    expect(w.messages).toEqual(['m/a']);
    await spy.settle();
    expect(spy.total()).toBe(1);

    // Fired once, the watch is withdrawn with the client's next call: later /a writes reach nobody.
    await w.zk.exists('/nothing');
    expect(await registrations(admin, keys)).toEqual({});
    await x.setData('/a', '3');
    const childOfB = once();
    await w.zk.getChildren('/b', { watch: childOfB.watch });
    expect(await registrations(admin, keys)).toEqual({ '/b': { [w.zk.sessionId]: '2' } });
    // A data change of /b is no business of a children watch: not even sent.
    await x.setData('/b', 'data');
    await x.create('/b/c', '');
    expect((await childOfB.fired).type).toBe('childrenChanged');
    expect(w.received).toEqual([mine, mine]);
    expect(w.messages).toEqual(['m/a', 'h/b']);
    await spy.settle();
    expect(spy.total()).toBe(2);
  });

  it('a session that ends takes its registrations with it: closed, or expired after a crash', async () => {
    const { ns, keys, admin } = namespaceScene();
    const x = await plainClient(ns);
    await x.create('/a', '');
    await x.create('/b', '');
    const closing = await observedClient(ns);
    const crashing = await observedClient(ns, 1000);
    await closing.zk.getData('/a', { watch: () => undefined });
    await closing.zk.exists('/not-yet', { watch: () => undefined });
    await crashing.zk.getChildren('/b', { watch: () => undefined });
    await crashing.zk.watch('/b', { recursive: true }).ready;
    expect(await registrations(admin, keys)).toEqual({
      '/a': { [closing.zk.sessionId]: '1' },
      '/b': { [crashing.zk.sessionId]: '6' },
      '/not-yet': { [closing.zk.sessionId]: '1' },
    });

    await closing.zk.close();
    expect(await registrations(admin, keys)).toEqual({ '/b': { [crashing.zk.sessionId]: '6' } });
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual(['/b']);
    expect(await admin.exists(keys.sessionWatches(closing.zk.sessionId))).toBe(0);

    // Its connections gone without a word: the reaper (x's) expires the session, and with it the registrations.
    crashing.cut();
    await until(async () => Object.keys(await registrations(admin, keys)).length === 0, 3000, 'the crashed session expired');
    expect(await admin.exists(keys.sessionWatches(crashing.zk.sessionId))).toBe(0);
    expect(await admin.hgetall(keys.lastEvents)).toEqual({});
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual([]);
  });

  it('after its events connection is cut, a client registers its watches again (the store may have lost them)', async () => {
    const { ns, keys, admin } = namespaceScene();
    const w = await observedClient(ns);
    const x = await plainClient(ns);
    await x.create('/a', '');
    const onA = once();
    await w.zk.getData('/a', { watch: onA.watch });
    const sid = w.zk.sessionId;
    expect(await registrations(admin, keys)).toEqual({ '/a': { [sid]: '1' } });

    // As after a fail-over to a replica that had not got them: the registrations are gone.
    await admin.del(keys.watchers('/a'), keys.sessionWatches(sid), keys.watched);
    const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    let killed = 0;
    for (const line of list.split('\n')) {
      const m = /^id=(\d+) .* name=(\S*)/.exec(line);
      if (m && m[2] === `events-${ns}`) killed += Number(await admin.call('CLIENT', 'KILL', 'ID', m[1]));
    }
    expect(killed).toBe(1);
    await until(async () => (await registrations(admin, keys))['/a']?.[sid] === '1', 3000, 'the watch registered again');
    await w.zk.whenConnected();
    await x.setData('/a', 'changed');
    expect((await onA.fired).type).toBe('dataChanged');
  });

  it('a watch event comes before the read that reflects its change, even when the events connection lags', async () => {
    const ns = testNamespace('ns');
    const target = new URL(REDIS_URL);
    const proxy = await startProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
    cleanups.push(() => proxy.close());
    // Commands go straight to Redis; the events connection goes through the proxy.
    const base = raw();
    const duplicate = base.duplicate.bind(base);
    base.duplicate = ((override?: Parameters<Redis['duplicate']>[0]) =>
      duplicate({ ...override, host: '127.0.0.1', port: proxy.port })) as Redis['duplicate'];
    const w = await connect({ redis: base }, { namespace: ns, logger: quiet });
    cleanups.push(() => w.close());
    const x = await plainClient(ns);
    await x.create('/a', 'old');
    const seen: string[] = [];
    await w.getData('/a', { watch: (ev) => seen.push(`event ${ev.type}`) });
    proxy.setDelay(80);
    await x.setData('/a', 'new');
    const r = await w.getData('/a');
    seen.push(`read ${r.data.toString()}`);
    expect(seen).toEqual(['event dataChanged', 'read new']);
  });

  it('a fired watch is withdrawn by the next heartbeat when the client makes no other call', async () => {
    const { ns, keys, admin } = namespaceScene();
    const w = await observedClient(ns, 600); // a heartbeat every 200 ms
    const x = await plainClient(ns);
    await x.create('/a', '');
    const onA = once();
    await w.zk.getData('/a', { watch: onA.watch });
    await x.setData('/a', 'changed');
    await onA.fired;
    expect(await registrations(admin, keys)).toEqual({ '/a': { [w.zk.sessionId]: '1' } });
    await until(async () => Object.keys(await registrations(admin, keys)).length === 0, 2000, 'the withdrawal to ride with a heartbeat');
  });

  it('a registration for a session that is not live is ignored: nothing is left behind', async () => {
    const { ns, keys, admin } = namespaceScene();
    const x = await plainClient(ns);
    await x.create('/a', '');
    const reads = loadScripts().get('reads')!;
    // As a client whose session the reaper already expired would send it.
    const reply = (await admin.eval(reads.lua, reads.numberOfKeys, keys.zxid, keys.sessions, keys.recursive, keys.prefix, '0-gone', '+1', '/a', 'e', '/a')) as unknown[];
    expect(reply).toHaveLength(4); // the registration's {}, the read's reply, the zxid, last message sent (0)
    expect(reply[3]).toBe(0);
    expect(await registrations(admin, keys)).toEqual({});
    expect(await admin.exists(keys.sessionWatches('0-gone'))).toBe(0);
  });

  it('a recursive-watch lease left by corral 0.1 runs out; registrations do not', async () => {
    const { ns, keys, admin } = namespaceScene();
    const w = await observedClient(ns);
    await w.zk.watch('/mine', { recursive: true }).ready;
    await admin.zadd(keys.recursive, Date.now() - 1000, '/old-lease');
    await until(async () => (await admin.zscore(keys.recursive, '/old-lease')) === null, 2000, 'the reaper to drop the old lease');
    expect(await admin.zrange(keys.recursive, 0, -1, 'WITHSCORES')).toEqual(['/mine', 'inf']);
  });

  it('a recursive watch is registered for its subtree only, its events come on the session channel, and closing it withdraws it', async () => {
    const { ns, keys, admin } = namespaceScene();
    const w = await observedClient(ns);
    const x = await plainClient(ns);
    const mine = keys.sessionChannel(w.zk.sessionId);
    await x.create('/a', '');
    await x.create('/b', '');

    const stream = w.zk.watch('/a', { recursive: true });
    await stream.ready;
    expect(await registrations(admin, keys)).toEqual({ '/a': { [w.zk.sessionId]: '4' } });
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual(['/a']);
    await x.create('/b/x', '');
    await x.setData('/b', 'changed');
    await x.create('/a/y', '');
    await x.multi([op.create('/a/y/z'), op.setData('/b', 'again'), op.setData('/a', 'too')]);
    expect((await stream.next()).value).toMatchObject({ type: 'created', path: '/a/y' });
    expect((await stream.next()).value).toMatchObject({ type: 'created', path: '/a/y/z' });
    expect((await stream.next()).value).toMatchObject({ type: 'dataChanged', path: '/a' });
    // Nothing about /b, nor the childrenChanged a recursive watch does not report: one
    // message per write under /a, with only the events below it.
    expect(w.received).toEqual([mine, mine]);
    expect(w.messages).toEqual(['c/a/y', 'c/a/y/z\nm/a']);

    stream.close();
    await w.zk.exists('/nothing'); // the withdrawal rides with the next call
    expect(await registrations(admin, keys)).toEqual({});
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual([]);
    // A write under /a, then one the client does watch: only the second reaches it.
    const onB = once();
    await w.zk.getData('/b', { watch: onB.watch });
    await x.create('/a/z', '');
    await x.setData('/b', 'last');
    await onB.fired;
    expect(w.received).toEqual([mine, mine, mine]);
    expect(w.messages[2]).toBe('m/b');
  });

  it('a stream that ignores its own writes is registered as such: Redis sends its session none of them, and marks its own write where another watch wants it', async () => {
    const { keys, admin, spy, w, x } = await spiedScene();
    await w.zk.create('/q', '');
    const others = w.zk.watch('/q', { recursive: true, ignoreOwnWrites: true });
    await others.ready;
    expect(await registrations(admin, keys)).toEqual({ '/q': { [w.zk.sessionId]: '32' } });
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual(['/q']);
    // w's own writes under /q: nothing published at all (no other watcher).
    await w.zk.create('/q/mine', '');
    await w.zk.multi([op.setData('/q/mine', 'a'), op.create('/q/more')]);
    await spy.settle();
    expect(spy.total()).toBe(0);
    await x.create('/q/theirs', '');
    expect((await others.next()).value).toMatchObject({ type: 'created', path: '/q/theirs' });
    expect(w.messages).toEqual(['c/q/theirs']);
    // A plain one-shot watch of w's own on /q/mine still wants w's write: sent, marked own,
    // and the stream that ignores own writes does not report it.
    const onMine = once();
    await w.zk.getData('/q/mine', { watch: onMine.watch });
    await w.zk.setData('/q/mine', 'b');
    expect((await onMine.fired).type).toBe('dataChanged');
    await x.delete('/q/theirs');
    expect((await others.next()).value).toMatchObject({ type: 'deleted', path: '/q/theirs' });
    expect(w.messages).toEqual(['c/q/theirs', 'm/q/mine', 'd/q/theirs']);
    expect(w.heads.map((h) => h.startsWith('!'))).toEqual([false, true, false]);
    others.close();
    await w.zk.exists('/nothing');
    expect(await registrations(admin, keys)).toEqual({});
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual([]);
  });

  it('a stream with includeData is registered as such, and only its session is sent the data, inside the event line', async () => {
    const { ns, keys, admin } = namespaceScene();
    const w = await observedClient(ns);
    const v = await observedClient(ns);
    const x = await plainClient(ns);
    await x.create('/j', '');
    const withData = w.zk.watch('/j', { recursive: true, includeData: true });
    const without = v.zk.watch('/j', { recursive: true });
    const othersWithData = v.zk.watch('/j/k', { includeData: true, ignoreOwnWrites: true });
    await Promise.all([withData.ready, without.ready, othersWithData.ready]);
    expect(await registrations(admin, keys)).toEqual({
      '/j': { [w.zk.sessionId]: '256', [v.zk.sessionId]: '4' },
      '/j/k': { [v.zk.sessionId]: String(512 + 16) },
    });
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual(['/j']);
    await x.create('/j/k', 'kk');
    await x.setData('/j/k', 'a\nb');
    expect((await withData.next()).value).toMatchObject({ type: 'created', path: '/j/k' });
    expect((await withData.next()).value!.data!.toString()).toBe('a\nb');
    await v.zk.sync();
    expect(w.messages).toEqual(['C2:/j/k\nkk', 'M3:/j/k\na\nb']);
    // v wants data on /j/k (node kind) but not below /j: one line per event, with data
    // where one of its watches wants it.
    expect(v.messages).toEqual(['C2:/j/k\nkk', 'M3:/j/k\na\nb']);
    await x.create('/j/other', 'oo');
    await v.zk.sync();
    expect(v.messages[2]).toBe('c/j/other');
    withData.close();
    without.close();
    othersWithData.close();
    await Promise.all([w.zk.exists('/nothing'), v.zk.exists('/nothing')]);
    expect(await registrations(admin, keys)).toEqual({});
    expect(await admin.zrange(keys.recursive, 0, -1)).toEqual([]);
  });
});
