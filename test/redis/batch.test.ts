import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BadVersionError, connect, NodeExistsError, NoNodeError, op, type Client } from '../../core/index.js';
import { startProxy } from '../faults/index.js';
import { namespaceKeys, RedisBackend } from '../../core/redis/index.js';
import { loadScripts } from '../../core/redis/scripts.js';
import { testNamespace } from '../namespace.js';

/**
 * Group commit (core/redis/batch.ts): the writes a client issues while it is busy go to
 * Redis as one call of the multi script, its reads as one call of the reads script, and each
 * still behaves exactly as if alone. Checked at the wire: the commands the client's own
 * ioredis connection sends.
 */
const REDIS_URL = process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** corral's scripts by the SHA1 of their EVAL form, for naming EVALSHA calls. */
const scriptBySha = new Map([...loadScripts()].map(([name, s]) => [createHash('sha1').update(s.lua).digest('hex'), name]));

/**
 * A client on an ioredis instance of ours, with every command it sends, in order: its
 * name, and for a script call which script (`fcall multi`, `evalsha reads`, …).
 */
async function observedClient(): Promise<{ zk: Client; sent: string[] }> {
  const base = new Redis(REDIS_URL);
  const sent: string[] = [];
  const send = base.sendCommand.bind(base);
  base.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
    const name = command.name.toLowerCase();
    const first = String(command.args[0] ?? '');
    if (name === 'fcall') sent.push(`fcall ${[...loadScripts()].find(([, s]) => s.fn === first)?.[0] ?? first}`);
    else if (name === 'evalsha') sent.push(`evalsha ${scriptBySha.get(first) ?? first}`);
    else sent.push(name);
    return send(command, stream);
  }) as Redis['sendCommand'];
  const zk = await connect({ redis: base }, { namespace: testNamespace('wb'), logger: quiet });
  cleanups.push(async () => {
    await zk.close();
    base.disconnect();
  });
  return { zk, sent };
}

/** Script calls among the commands sent: FCALL of corral's library, or EVALSHA / EVAL where functions are unavailable. */
const scriptCalls = (sent: string[]) => sent.filter((c) => /^(fcall|evalsha|eval)\b/.test(c)).length;

/** Calls of the scripts that carry ops (multi, reads): not a reaper tick or a heartbeat. */
const opCalls = (sent: string[]) => sent.filter((c) => /^(fcall|evalsha) (multi|reads)$/.test(c)).length;

/** One script call (two if an unrelated one, such as a reaper tick, slipped in between). */
function expectOneCall(calls: number): void {
  expect(calls).toBeGreaterThanOrEqual(1);
  expect(calls).toBeLessThanOrEqual(2);
}

describe('redis group commit', () => {
  it('sixteen writes issued together go as one script call, each with its own zxid, in call order', async () => {
    const { zk, sent } = await observedClient();
    await zk.create('/n', 'v0');
    const before = scriptCalls(sent);
    const stats = await Promise.all(Array.from({ length: 16 }, (_, i) => zk.setData('/n', `v${i + 1}`)));
    // One call (two if an unrelated script, such as a reaper tick, slipped in between).
    expectOneCall(scriptCalls(sent) - before);
    expect(stats.map((s) => s.version)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (let i = 1; i < stats.length; i++) expect(stats[i].mzxid).toBe(stats[i - 1].mzxid + 1);
    const { data, stat } = await zk.getData('/n');
    expect(data.toString()).toBe('v16');
    expect(stat.version).toBe(16);
  });

  it('a batch is one change-log entry, and a catch-up from any zxid inside it gets exactly the writes after', async () => {
    const { zk, sent } = await observedClient();
    const watcher = await connect({ redis: REDIS_URL }, { namespace: zk.settings.namespace, logger: quiet });
    cleanups.push(() => watcher.close());
    await zk.create('/n', 'v0');
    // The backend hands out only the events its client has interest in.
    await watcher.watch('/n').ready;
    const before = scriptCalls(sent);
    const stats = await Promise.all(Array.from({ length: 16 }, (_, i) => zk.setData('/n', `v${i + 1}`)));
    expectOneCall(scriptCalls(sent) - before);
    const be = watcher.backend as RedisBackend;
    for (const from of [stats[0].mzxid - 1, stats[0].mzxid, stats[7].mzxid, stats[14].mzxid, stats[15].mzxid]) {
      const events = await be.changesSince(from);
      expect(Array.isArray(events)).toBe(true);
      expect((events as Array<{ zxid: number }>).map((e) => e.zxid)).toEqual(stats.map((s) => s.mzxid).filter((z) => z > from));
    }
    // Each zxid of the batch is in the store's history (history.lua finds it inside the entry).
    for (const s of [stats[0], stats[9], stats[15]]) expect((await be.touchSession(watcher.sessionId, s.mzxid)).rolledBackAt).toBeUndefined();
  });

  it('change-log entries written by corral 0.1 (one zxid each, field e) are still read', async () => {
    const { zk } = await observedClient();
    const watcher = await connect({ redis: REDIS_URL }, { namespace: zk.settings.namespace, logger: quiet });
    cleanups.push(() => watcher.close());
    const admin = new Redis(REDIS_URL);
    cleanups.push(async () => admin.disconnect());
    const keys = namespaceKeys(zk.settings.namespace);
    await zk.create('/n', 'v0');
    await watcher.watch('/n').ready;
    const before = (await zk.exists('/n'))!.mzxid;
    // As corral 0.1 wrote a setData of /n: the counter, then an entry of its own.
    await admin.set(keys.zxid, String(before + 1));
    await admin.xadd(keys.log, `${before + 1}-0`, 'e', 'm/n');
    const after = await zk.setData('/n', 'v2');
    expect(after.mzxid).toBe(before + 2);
    const be = watcher.backend as RedisBackend;
    expect(await be.changesSince(before)).toEqual([
      { type: 'dataChanged', path: '/n', zxid: before + 1 },
      { type: 'dataChanged', path: '/n', zxid: before + 2 },
    ]);
    expect((await be.touchSession(watcher.sessionId, before + 1)).rolledBackAt).toBeUndefined();
  });

  it('a failing write in a batch fails alone: the writes around it apply', async () => {
    const { zk, sent } = await observedClient();
    const before = scriptCalls(sent);
    const results = await Promise.allSettled([
      zk.create('/a', 'first'),
      zk.create('/a', 'again'),
      zk.setData('/a', 'x', 7),
      zk.create('/b', 'b'),
      zk.multi([op.create('/c'), op.create('/a')]),
      zk.setData('/a', 'second', 0),
    ]);
    expectOneCall(scriptCalls(sent) - before);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(NodeExistsError);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(BadVersionError);
    expect((results[4] as PromiseRejectedResult).reason).toBeInstanceOf(NodeExistsError);
    expect((await zk.getData('/a')).data.toString()).toBe('second');
    // The failed multi left nothing behind.
    expect(await zk.exists('/c')).toBeNull();
    expect((await zk.getChildren('/')).children).toEqual(['a', 'b']);
  });

  it('a batch too big for one call is split (64 calls or 256 KB each), in order', async () => {
    const { zk, sent } = await observedClient();
    await zk.create('/big');
    const before = scriptCalls(sent);
    // 150 creates of 4 KB (600 KB: 3 calls by size) and 100 small setData: 250 multis are
    // 4 calls by count at least.
    const creates = Array.from({ length: 150 }, (_, i) => zk.createWithStat(`/big/c${i}`, Buffer.alloc(4096, i % 256)));
    const sets = Array.from({ length: 100 }, (_, i) => zk.setData('/big', String(i)));
    const made = await Promise.all(creates);
    const stats = await Promise.all(sets);
    expect(scriptCalls(sent) - before).toBeGreaterThanOrEqual(4);
    const zxids = [...made.map((m) => m.stat.czxid), ...stats.map((st) => st.mzxid)];
    for (let i = 1; i < zxids.length; i++) expect(zxids[i]).toBeGreaterThan(zxids[i - 1]);
    expect(stats.map((st) => st.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const { data } = await zk.getData('/big/c149');
    expect(data.length).toBe(4096);
    expect(data[0]).toBe(149);
    expect((await zk.getChildren('/big')).children).toHaveLength(150);
  });

  it('reads issued together go as one script call, each with its own answer', async () => {
    const { zk, sent } = await observedClient();
    await zk.create('/d', Buffer.from([0, 255, 10, 0]));
    await zk.create('/d/k1');
    await zk.create('/d/k0', 'x', { mode: 'ephemeral' });
    const before = scriptCalls(sent);
    const [data, stat, none, kids, noKids, noData, root] = await Promise.allSettled([
      zk.getData('/d'), zk.exists('/d/k0'), zk.exists('/nope'), zk.getChildren('/d'), zk.getChildren('/nope'),
      zk.getData('/nope'), zk.getChildren('/'),
    ]);
    expectOneCall(scriptCalls(sent) - before);
    const d = (data as PromiseFulfilledResult<Awaited<ReturnType<Client['getData']>>>).value;
    expect([...d.data]).toEqual([0, 255, 10, 0]);
    expect(d.stat.numChildren).toBe(2);
    expect((stat as PromiseFulfilledResult<Awaited<ReturnType<Client['exists']>>>).value?.ephemeralOwner).toBe(zk.sessionId);
    expect((none as PromiseFulfilledResult<unknown>).value).toBeNull();
    const k = (kids as PromiseFulfilledResult<Awaited<ReturnType<Client['getChildren']>>>).value;
    expect(k.children).toEqual(['k0', 'k1']);
    expect(k.stat.cversion).toBe(2);
    expect(k.next).toBeUndefined();
    expect((noKids as PromiseRejectedResult).reason).toBeInstanceOf(NoNodeError);
    expect((noData as PromiseRejectedResult).reason).toBeInstanceOf(NoNodeError);
    expect((root as PromiseFulfilledResult<Awaited<ReturnType<Client['getChildren']>>>).value.children).toEqual(['d']);
  });

  it('a read issued after a write, without waiting for it, sees it (FIFO client order)', async () => {
    const { zk } = await observedClient();
    await zk.create('/r', 'old');
    for (let i = 0; i < 20; i++) {
      const write = zk.setData('/r', `new${i}`);
      const read = zk.getData('/r');
      const exists = zk.exists(`/e${i}`);
      const create = zk.create(`/e${i}`);
      const [w, r, e] = await Promise.all([write, read, exists, create]);
      expect(r.data.toString()).toBe(`new${i}`);
      expect(r.stat.mzxid).toBe(w.mzxid);
      expect(e).toBeNull();
    }
  });

  it('ephemeral and sequential creates batched together get the names and owners they would alone', async () => {
    const { zk } = await observedClient();
    await zk.create('/q');
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      zk.create('/q/item-', String(i), { mode: i % 2 ? 'ephemeral_sequential' : 'persistent_sequential' })));
    expect(made).toEqual(Array.from({ length: 10 }, (_, i) => `/q/item-${String(i).padStart(10, '0')}`));
    for (let i = 0; i < 10; i++) {
      const stat = (await zk.exists(made[i]))!;
      expect(stat.ephemeralOwner).toBe(i % 2 ? zk.sessionId : null);
    }
  });

  it('reads that set watches, made together, register them in the same call and are still sent in order', async () => {
    // 50 ms each way between the client and Redis: a registration round trip before each
    // read, one after another, would take 20 × 100 ms; the registrations ride with the
    // reads, which go together.
    const target = new URL(REDIS_URL);
    const proxy = await startProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
    cleanups.push(() => proxy.close());
    const zk = await connect({ redis: proxy.url }, { namespace: testNamespace('wb'), logger: quiet });
    cleanups.push(() => zk.close());
    await zk.create('/w');
    await Promise.all(Array.from({ length: 20 }, (_, i) => zk.create(`/w/n${i}`, 'v0')));
    proxy.setDelay(50);
    const t0 = performance.now();
    const reads = Array.from({ length: 20 }, (_, i) => zk.getData(`/w/n${i}`, { watch: () => undefined }));
    // Made after the reads: sent after them, so none of them sees it.
    const write = zk.setData('/w/n19', 'v1');
    const results = await Promise.all(reads);
    await write;
    const ms = performance.now() - t0;
    expect(results.map((r) => r.data.toString())).toEqual(Array.from({ length: 20 }, () => 'v0'));
    expect(ms).toBeLessThan(1200);
  });

  it('reads queued behind writes ride in the writes\' script call, after them: a create and the list read with it are one call', async () => {
    const { zk, sent } = await observedClient();
    await zk.create('/locks');
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await zk.create('/locks/blob', bytes);
    const before = opCalls(sent);
    const created = zk.create('/locks/n-', 'x', { mode: 'ephemeral_sequential' });
    const listed = zk.getChildren('/locks');
    const blob = zk.getData('/locks/blob');
    const gone = zk.exists('/locks/none');
    const [path, list, data, stat] = await Promise.all([created, listed, blob, gone]);
    expect(opCalls(sent) - before).toBe(1);
    // The reads ran after the write: the list holds the new znode; data comes back as bytes.
    expect(list.children.sort()).toEqual(['blob', path.slice('/locks/'.length)].sort());
    expect(Buffer.compare(data.data, bytes)).toBe(0);
    expect(stat).toBeNull();
    // A read queued before a write stays before it: two calls, and it does not see the write.
    const early = zk.getChildren('/locks');
    const late = zk.create('/locks/m', '');
    const [seen] = await Promise.all([early, late]);
    expect(seen.children).not.toContain('m');
    expect(opCalls(sent) - before).toBe(3);
  });

  it('a read that rides behind a write still waits for the events that write sent the session first', async () => {
    const { zk } = await observedClient();
    await zk.create('/w', 'v0');
    const order: string[] = [];
    await zk.getData('/w', { watch: (ev) => order.push(`event ${ev.type}`) });
    const write = zk.setData('/w', 'v1');
    const read = zk.getData('/w').then((r) => order.push(`read ${r.data.toString()}`));
    await Promise.all([write, read]);
    // ZooKeeper's order: a client sees the watch event before the data that fired it.
    expect(order).toEqual(['event dataChanged', 'read v1']);
  });

  it('script calls sent together (a list read, then a create queued behind it) leave in one socket write, in order', async () => {
    const base = new Redis(REDIS_URL);
    const zk = await connect({ redis: base }, { namespace: testNamespace('wb'), logger: quiet });
    cleanups.push(async () => {
      await zk.close();
      base.disconnect();
    });
    await zk.create('/locks');
    // What reaches the socket's system calls: Node hands a corked run of writes to _writev
    // at once. Each write's bytes are kept (a reaper tick or heartbeat may write meanwhile).
    const socket = base.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    const writes: string[] = [];
    const text = (c: unknown) => (Buffer.isBuffer(c) ? c.toString('latin1') : String(c));
    const origWrite = socket._write.bind(socket);
    socket._write = (chunk: unknown, ...rest: unknown[]) => {
      writes.push(text(chunk));
      origWrite(chunk, ...rest);
    };
    const origWritev = socket._writev.bind(socket);
    socket._writev = (chunks: unknown, ...rest: unknown[]) => {
      writes.push((chunks as Array<{ chunk: unknown }>).map((c) => text(c.chunk)).join(''));
      origWritev(chunks, ...rest);
    };
    // A read first, then a write: two script calls (the write must not overtake the read).
    const listed = zk.getChildren('/locks');
    const created = zk.create('/locks/n-', 'x', { mode: 'ephemeral_sequential' });
    const [list, path] = await Promise.all([listed, created]);
    const { reads, multi } = Object.fromEntries([...loadScripts()].map(([name, sc]) => [name, sc.fn])) as Record<string, string>;
    const carrying = writes.filter((w) => w.includes(reads) || w.includes(multi));
    expect(carrying).toHaveLength(1);
    expect(carrying[0].indexOf(reads)).toBeGreaterThan(-1);
    expect(carrying[0].indexOf(reads)).toBeLessThan(carrying[0].indexOf(multi));
    expect(list.children).toEqual([]);
    expect(path).toBe('/locks/n-0000000000');
  });
});
