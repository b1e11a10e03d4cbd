import { describe, expect, it } from 'vitest';
import { op, type WatchEvent, type WatchStream } from '../../core/index.js';
import { quietLogger } from './logger.js';
import { recorder, sleep, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

/** Takes `n` events from a persistent watch, failing if they do not come within `ms`. */
async function take(stream: WatchStream, n: number, ms = 2000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const deadline = sleep(ms).then(() => 'timeout' as const);
  while (out.length < n) {
    const r = await Promise.race([stream.next(), deadline]);
    if (r === 'timeout') throw new Error(`only ${out.length} of ${n} events within ${ms} ms: ${JSON.stringify(out)}`);
    if (r.done) throw new Error(`stream ended after ${out.length} events`);
    out.push(r.value);
  }
  return out;
}

/** Proves silence: a write after the fact arrives as the very next event. */
const brief = (evs: WatchEvent[]) => evs.map((e) => `${e.type} ${e.path}`);

describe.each(harnesses)('watches — $name', (harness) => {
  const ctx = useHarness(harness);

  it('exists watch on a missing znode fires `created`, once', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const seen = recorder();
    expect(await a.exists('/n', { watch: seen.watcher })).toBeNull();
    const { stat } = await b.createWithStat('/n', 'x');
    expect(await seen.next()).toEqual({ type: 'created', path: '/n', zxid: stat.czxid });
    await b.setData('/n', 'y');
    await b.delete('/n');
    await a.sync();
    expect(seen.events).toHaveLength(1);
  });

  it('getData watch fires `dataChanged` on setData, once; re-armed by the next read', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/d', '0');
    const seen = recorder();
    await a.getData('/d', { watch: seen.watcher });
    const s1 = await b.setData('/d', '1');
    expect(await seen.next()).toEqual({ type: 'dataChanged', path: '/d', zxid: s1.mzxid });
    await b.setData('/d', '2');
    await a.sync();
    expect(seen.events).toHaveLength(1);
    expect((await a.getData('/d', { watch: seen.watcher })).data.toString()).toBe('2');
    await b.setData('/d', '3');
    expect(await seen.next()).toMatchObject({ type: 'dataChanged', path: '/d' });
  });

  it('getData and exists watches fire `deleted` on delete', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/d');
    const byGet = recorder();
    const byExists = recorder();
    await a.getData('/d', { watch: byGet.watcher });
    await a.exists('/d', { watch: byExists.watcher });
    await b.delete('/d');
    expect(await byGet.next()).toMatchObject({ type: 'deleted', path: '/d' });
    expect(await byExists.next()).toMatchObject({ type: 'deleted', path: '/d' });
  });

  it('data watches ignore child changes; child watches ignore data changes', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/p');
    const data = recorder();
    const kids = recorder();
    await a.getData('/p', { watch: data.watcher });
    await a.getChildren('/p', { watch: kids.watcher });
    await b.create('/p/c');
    expect(await kids.next()).toMatchObject({ type: 'childrenChanged', path: '/p' });
    await b.setData('/p/c', 'x'); // a grandchild-level data change concerns neither watch
    await a.sync();
    expect(data.events).toHaveLength(0);
    await a.getChildren('/p', { watch: kids.watcher });
    await b.setData('/p', 'new');
    expect(await data.next()).toMatchObject({ type: 'dataChanged', path: '/p' });
    await a.sync();
    expect(kids.events).toHaveLength(1);
  });

  it('getChildren watch fires `childrenChanged` on child create and delete, `deleted` on the node delete', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/p');
    const seen = recorder();
    await a.getChildren('/p', { watch: seen.watcher });
    await b.create('/p/c');
    expect(await seen.next()).toMatchObject({ type: 'childrenChanged', path: '/p' });
    expect((await a.getChildren('/p', { watch: seen.watcher })).children).toEqual(['c']);
    await b.delete('/p/c');
    expect(await seen.next()).toMatchObject({ type: 'childrenChanged', path: '/p' });
    await a.getChildren('/p', { watch: seen.watcher });
    await b.delete('/p');
    expect(await seen.next()).toMatchObject({ type: 'deleted', path: '/p' });
    await a.sync();
    expect(seen.events).toHaveLength(3);
  });

  it('getData / getChildren of a missing znode throw NoNode and set no watch (only exists watches a missing znode)', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const seen = recorder();
    await expect(a.getData('/ghost', { watch: seen.watcher })).rejects.toMatchObject({ name: 'NoNodeError' });
    await expect(a.getChildren('/ghost', { watch: seen.watcher })).rejects.toMatchObject({ name: 'NoNodeError' });
    await b.create('/ghost');
    await b.create('/ghost/kid');
    await b.delete('/ghost/kid');
    await b.delete('/ghost');
    await a.sync();
    await sleep(20);
    expect(seen.events).toHaveLength(0);
  });

  it('the same watcher function set by exists and getData fires once per event', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/same');
    const seen = recorder();
    await a.exists('/same', { watch: seen.watcher });
    await a.getData('/same', { watch: seen.watcher });
    await a.exists('/same', { watch: seen.watcher });
    await b.setData('/same', 'x');
    await seen.next();
    await b.setData('/same', 'y');
    await a.sync();
    await sleep(20);
    expect(seen.events).toHaveLength(1);
  });

  it('one watcher set as data and child watch on a path fires once for the node delete', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/both');
    const seen = recorder();
    await a.getData('/both', { watch: seen.watcher });
    await a.getChildren('/both', { watch: seen.watcher });
    await b.delete('/both');
    expect(await seen.next()).toMatchObject({ type: 'deleted', path: '/both' });
    await a.sync();
    await sleep(20);
    expect(seen.events).toHaveLength(1);
  });

  it('distinct watchers on one path each fire; `watch: true` goes to the client `watch` event', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/multi');
    const one = recorder();
    const two = recorder();
    const viaEvent = recorder();
    a.on('watch', viaEvent.watcher);
    await a.getData('/multi', { watch: one.watcher });
    await a.getData('/multi', { watch: two.watcher });
    await a.exists('/multi', { watch: true });
    await b.setData('/multi', 'x');
    expect(await one.next()).toMatchObject({ type: 'dataChanged' });
    expect(await two.next()).toMatchObject({ type: 'dataChanged' });
    expect(await viaEvent.next()).toMatchObject({ type: 'dataChanged', path: '/multi' });
  });

  it('a throwing or slow watcher does not hold up or break delivery to the others', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/t');
    const errorsBefore = quietLogger.errors.length;
    const after = recorder();
    await a.getData('/t', { watch: () => { throw new Error('boom'); } });
    await a.getData('/t', { watch: async () => { await sleep(10_000); } });
    await a.getData('/t', { watch: after.watcher });
    await b.setData('/t', 'x');
    expect(await after.next(1000)).toMatchObject({ type: 'dataChanged', path: '/t' });
    // The client still works and keeps delivering.
    await a.getData('/t', { watch: after.watcher });
    await b.setData('/t', 'y');
    expect(await after.next(1000)).toMatchObject({ type: 'dataChanged', path: '/t' });
    expect(quietLogger.errors.length).toBeGreaterThan(errorsBefore);
  });

  it('a throwing listener of the client `watch` event does not stop the next listener', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/l');
    const second = recorder();
    a.on('watch', () => { throw new Error('first listener fails'); });
    a.on('watch', second.watcher);
    await a.getData('/l', { watch: true });
    await b.setData('/l', 'x');
    expect(await second.next(1000)).toMatchObject({ type: 'dataChanged', path: '/l' });
  });

  it('watches belong to the client that set them', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const c = await ctx.client();
    await c.create('/own');
    const seenA = recorder();
    const seenB = recorder();
    await a.getData('/own', { watch: seenA.watcher });
    await c.setData('/own', '1');
    await seenA.next();
    await b.sync();
    expect(seenB.events).toHaveLength(0);
  });

  it('a multi fires each affected watch once, all with the multi zxid', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/m');
    await b.create('/m/old');
    const kids = recorder();
    const data = recorder();
    const created = recorder();
    await a.getChildren('/m', { watch: kids.watcher });
    await a.getData('/m', { watch: data.watcher });
    await a.exists('/m/new', { watch: created.watcher });
    await b.multi([op.create('/m/new'), op.delete('/m/old'), op.setData('/m', 'v')]);
    const stat = (await b.exists('/m/new'))!;
    expect(await kids.next()).toEqual({ type: 'childrenChanged', path: '/m', zxid: stat.czxid });
    expect(await data.next()).toEqual({ type: 'dataChanged', path: '/m', zxid: stat.czxid });
    expect(await created.next()).toEqual({ type: 'created', path: '/m/new', zxid: stat.czxid });
    await a.sync();
    expect(kids.events).toHaveLength(1);
  });

  it('a multi of many child creates and deletes under one parent: one childrenChanged for its watchers, every created and deleted for a recursive watch', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/many');
    await b.multi([op.create('/many/old1'), op.create('/many/old2')]);
    const persistent = a.watch('/many');
    const recursive = a.watch('/many', { recursive: true });
    await Promise.all([persistent.ready, recursive.ready]);
    const kids = recorder();
    await a.getChildren('/many', { watch: kids.watcher });
    const results = await b.multi([
      op.create('/many/c-', 'x', { mode: 'persistent_sequential' }),
      op.create('/many/c-', 'y', { mode: 'persistent_sequential' }),
      op.delete('/many/old1'),
      op.create('/many/c-', 'z', { mode: 'persistent_sequential' }),
      op.delete('/many/old2'),
    ]);
    const zxid = (results[0] as { stat: { czxid: number } }).stat.czxid;
    const names = results.filter((r) => r.type === 'create').map((r) => r.path);
    expect(await kids.next()).toEqual({ type: 'childrenChanged', path: '/many', zxid });
    const evs = await take(recursive, 5);
    expect(brief(evs)).toEqual([`created ${names[0]}`, `created ${names[1]}`, 'deleted /many/old1', `created ${names[2]}`, 'deleted /many/old2']);
    expect(evs.every((e) => e.zxid === zxid)).toBe(true);
    // Silence after the one childrenChanged: the next write is the very next event.
    await b.setData('/many', 'after');
    expect(brief(await take(persistent, 2))).toEqual(['childrenChanged /many', 'dataChanged /many']);
    await a.sync();
    expect(kids.events).toHaveLength(1);
    persistent.close();
    recursive.close();
  });

  it('a multi that deletes and recreates a znode reports both to a recursive watch, and both results carry the recreated Stat', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/again', 'first');
    const w = a.watch('/again', { recursive: true });
    await w.ready;
    const results = await b.multi([op.delete('/again'), op.create('/again', 'second!'), op.setData('/again', 'third')]);
    expect(brief(await take(w, 3))).toEqual(['deleted /again', 'created /again', 'dataChanged /again']);
    const created = (results[1] as { stat: { czxid: number; version: number; dataLength: number } }).stat;
    const set = (results[2] as { stat: { czxid: number; version: number; dataLength: number } }).stat;
    expect(created).toEqual(set);
    expect(set).toMatchObject({ version: 1, dataLength: 5 });
    expect(set.czxid).toBe((await b.exists('/again'))!.czxid);
    expect((await a.getData('/again')).data.toString()).toBe('third');
    w.close();
  });

  it('ignoreOwnWrites: a stream skips its own session\'s writes (a multi, the container it empties) and reports the others\'', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/own');
    const others = a.watch('/own', { recursive: true, ignoreOwnWrites: true });
    const plainOthers = a.watch('/own', { ignoreOwnWrites: true });
    const all = a.watch('/own', { recursive: true });
    await Promise.all([others.ready, plainOthers.ready, all.ready]);
    await a.create('/own/mine');
    await a.multi([op.create('/own/box', undefined, { mode: 'container' }), op.create('/own/box/x')]);
    await a.delete('/own/box/x'); // the container goes with it, as a write of a's
    await a.setData('/own', 'a');
    await b.create('/own/theirs');
    await a.setData('/own/mine', 'a again');
    await b.setData('/own', 'b');
    // The stream that wants everything sees a's writes; the others see b's alone, in order.
    expect(brief(await take(all, 8))).toEqual([
      'created /own/mine', 'created /own/box', 'created /own/box/x', 'deleted /own/box/x', 'deleted /own/box',
      'dataChanged /own', 'created /own/theirs', 'dataChanged /own/mine',
    ]);
    expect(brief(await take(others, 2))).toEqual(['created /own/theirs', 'dataChanged /own']);
    expect(brief(await take(plainOthers, 2))).toEqual(['childrenChanged /own', 'dataChanged /own']);
    // Silence proven: the next write of b's is the very next event of each.
    await b.delete('/own/theirs');
    expect(brief(await take(others, 1))).toEqual(['deleted /own/theirs']);
    expect(brief(await take(plainOthers, 1))).toEqual(['childrenChanged /own']);
    // One-shot watches are not affected: a's own write fires a's watch, as in ZooKeeper.
    const seen = recorder();
    await a.getData('/own/mine', { watch: seen.watcher });
    await a.setData('/own/mine', 'fires');
    expect((await seen.next()).type).toBe('dataChanged');
    for (const w of [others, plainOthers, all]) w.close();
    await expect(async () => a.watch('/own', { ignoreOwnWrites: 'yes' as unknown as boolean })).rejects.toThrow(/ignoreOwnWrites/);
  });

  it('includeData on one-shot watches: the event carries what its write wrote; a deleted znode only what the deleting multi set', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    // exists on a missing znode: `created` with its data.
    const born = recorder();
    await a.exists('/od', { watch: born.watcher, includeData: true });
    await b.create('/od', 'first');
    expect((await born.next()).data?.toString()).toBe('first');
    // getData: `dataChanged` with the new data; a plain watch on the same path gets none.
    const changed = recorder();
    const plain = recorder();
    await a.getData('/od', { watch: changed.watcher, includeData: true });
    await a.getData('/od', { watch: plain.watcher });
    await b.setData('/od', Buffer.from([1, 10, 0]));
    expect([...(await changed.next()).data!]).toEqual([1, 10, 0]);
    expect(await plain.next()).not.toHaveProperty('data');
    // A child watch fires on deletion only (a data change wakes it not), and its `deleted`
    // carries data only when the multi that deleted the znode set it first.
    const gone = recorder();
    await a.getChildren('/od', { watch: gone.watcher, includeData: true });
    await b.setData('/od', 'not a deletion');
    await b.multi([op.setData('/od', 'last word'), op.delete('/od')]);
    const last = await gone.next();
    expect([last.type, last.data?.toString()]).toEqual(['deleted', 'last word']);
    expect(gone.events).toHaveLength(1);
    await b.create('/od', 'again');
    const quiet = recorder();
    await a.getChildren('/od', { watch: quiet.watcher, includeData: true });
    await b.delete('/od');
    const bare = await quiet.next();
    expect([bare.type, bare.data]).toEqual(['deleted', undefined]);
    // A stream with includeData gets the deleting multi's data on `deleted` as well.
    await b.create('/od2');
    const tree = a.watch('/od2', { recursive: true, includeData: true });
    await tree.ready;
    await b.create('/od2/x', 'x0');
    await b.multi([op.setData('/od2/x', 'bye'), op.delete('/od2/x')]);
    expect((await take(tree, 3)).map((e) => [e.type, e.data?.toString()])).toEqual([['created', 'x0'], ['dataChanged', 'bye'], ['deleted', 'bye']]);
    tree.close();
    await expect(a.getData('/od2', { watch: true, includeData: 'yes' as unknown as boolean })).rejects.toThrow(/includeData/);
  });

  it('a recursive stream reports one multi\'s events in op order, also where the session watches some of those paths directly', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/oo');
    await b.create('/oo/b');
    const tree = a.watch('/oo', { recursive: true });
    const direct = a.watch('/oo/b');
    await Promise.all([tree.ready, direct.ready]);
    await b.multi([op.create('/oo/a'), op.setData('/oo/b', 'x'), op.create('/oo/c'), op.delete('/oo/a')]);
    expect(brief(await take(tree, 4))).toEqual(['created /oo/a', 'dataChanged /oo/b', 'created /oo/c', 'deleted /oo/a']);
    expect(brief(await take(direct, 1))).toEqual(['dataChanged /oo/b']);
    tree.close();
    direct.close();
  });

  it('includeData: created and dataChanged carry the data the write left (binary, empty, set twice in one multi); other streams and one-shot watches carry none', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/wd');
    const tree = a.watch('/wd', { recursive: true, includeData: true });
    const node = a.watch('/wd/n', { includeData: true });
    const plain = a.watch('/wd', { recursive: true });
    const othersOnly = b.watch('/wd', { recursive: true, includeData: true, ignoreOwnWrites: true });
    await Promise.all([tree.ready, node.ready, plain.ready, othersOnly.ready]);
    const oneShot = recorder();
    await a.exists('/wd/n', { watch: oneShot.watcher });
    const binary = Buffer.from([0, 10, 255, 58, 10, 13, 0]); // NUL, newlines, ':' — nothing a line format may rely on
    await b.create('/wd/n', binary);
    await b.setData('/wd/n', '');
    await b.multi([op.setData('/wd/n', 'first'), op.create('/wd/m', 'made'), op.setData('/wd/n', 'last')]);
    await a.setData('/wd/m', 'by a');
    await b.delete('/wd/m');
    const got = await take(tree, 5);
    expect(got.map((e) => [e.type, e.path, e.data === undefined ? undefined : [...e.data]])).toEqual([
      ['created', '/wd/n', [...binary]],
      ['dataChanged', '/wd/n', []],
      ['dataChanged', '/wd/n', [...Buffer.from('last')]],
      ['created', '/wd/m', [...Buffer.from('made')]],
      ['dataChanged', '/wd/m', [...Buffer.from('by a')]],
    ]);
    expect(Buffer.isBuffer(got[0].data)).toBe(true);
    expect(brief(await take(tree, 1))).toEqual(['deleted /wd/m']);
    // The non-recursive stream: its node's creates and changes with data, its child list change without.
    const onNode = await take(node, 3);
    expect(onNode.map((e) => [e.type, e.data?.toString('latin1')])).toEqual([
      ['created', binary.toString('latin1')], ['dataChanged', ''], ['dataChanged', 'last'],
    ]);
    // A stream without the option and a one-shot watch get the same events, without data.
    const plainGot = await take(plain, 6);
    expect(brief(plainGot)).toEqual(brief([...got, { type: 'deleted', path: '/wd/m', zxid: 0 }]));
    expect(plainGot.every((e) => e.data === undefined)).toBe(true);
    expect(await oneShot.next()).not.toHaveProperty('data');
    // b's stream ignores b's writes: only a's, with its data.
    const fromA = await take(othersOnly, 1);
    expect(fromA.map((e) => [e.type, e.path, e.data?.toString()])).toEqual([['dataChanged', '/wd/m', 'by a']]);
    // Each stream has its own buffer: changing one consumer's leaves the others' alone.
    await b.setData('/wd/n', 'shared?');
    const [x] = await take(tree, 1);
    const [y] = await take(node, 1);
    expect([brief([x]), brief([y])]).toEqual([['dataChanged /wd/n'], ['dataChanged /wd/n']]);
    x.data![0] = 0x21;
    expect(y.data!.toString()).toBe('shared?');
    expect((await a.getData('/wd/n')).data.toString()).toBe('shared?');
    // Up to 64 KiB the data comes with the event; above, the event comes without it.
    await b.multi([op.setData('/wd/n', Buffer.alloc(65_536, 1)), op.create('/wd/big', Buffer.alloc(65_537, 2))]);
    const sized = await take(tree, 2);
    expect(sized.map((e) => [e.type, e.path, e.data?.length])).toEqual([['dataChanged', '/wd/n', 65_536], ['created', '/wd/big', undefined]]);
    for (const w of [tree, node, plain, othersOnly]) w.close();
    await expect(async () => a.watch('/wd', { includeData: 1 as unknown as boolean })).rejects.toThrow(/includeData/);
  });

  it('persistent watch: created, dataChanged, childrenChanged, deleted of the path, and stays armed', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const w = a.watch('/pw');
    await w.ready;
    await b.create('/pw');
    await b.setData('/pw', '1');
    await b.create('/pw/c');
    await b.create('/pw/c/grandchild'); // below the children: not reported
    await b.setData('/pw/c', 'x'); // a child's data: not reported
    await b.delete('/pw/c/grandchild');
    await b.delete('/pw/c');
    await b.delete('/pw');
    await b.create('/pw');
    const evs = await take(w, 6);
    expect(brief(evs)).toEqual([
      'created /pw', 'dataChanged /pw', 'childrenChanged /pw', 'childrenChanged /pw', 'deleted /pw', 'created /pw',
    ]);
    for (let i = 1; i < evs.length; i++) expect(evs[i].zxid).toBeGreaterThan(evs[i - 1].zxid);
    w.close();
  });

  it('recursive watch: created/deleted/dataChanged of the whole subtree, never childrenChanged', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/app');
    const w = a.watch('/app', { recursive: true });
    await w.ready;
    await b.create('/apple'); // a sibling sharing the prefix: not in the subtree
    await b.create('/app/x');
    await b.create('/app/x/y', 'deep');
    await b.setData('/app/x/y', 'deeper');
    await b.setData('/app', 'root');
    await b.delete('/app/x/y');
    await b.multi([op.create('/app/m1'), op.create('/app/m2')]);
    const evs = await take(w, 7);
    expect(brief(evs)).toEqual([
      'created /app/x', 'created /app/x/y', 'dataChanged /app/x/y', 'dataChanged /app',
      'deleted /app/x/y', 'created /app/m1', 'created /app/m2',
    ]);
    expect(evs[5].zxid).toBe(evs[6].zxid);
    w.close();
  });

  it('drain() takes every queued event at once, in order; the iterator then goes on with later writes', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/burst');
    const w = a.watch('/burst', { recursive: true });
    await w.ready;
    expect(w.drain()).toEqual([]);
    await b.multi([op.create('/burst/a'), op.create('/burst/b'), op.create('/burst/c')]);
    await b.setData('/burst', 'x');
    await a.sync(); // every event of both writes is queued by now
    expect(brief(await take(w, 1))).toEqual(['created /burst/a']);
    expect(brief(w.drain())).toEqual(['created /burst/b', 'created /burst/c', 'dataChanged /burst']);
    expect(w.drain()).toEqual([]);
    await b.delete('/burst/a');
    expect(brief(await take(w, 1))).toEqual(['deleted /burst/a']);
    w.close();
  });

  it('a persistent watch starts at the call: earlier writes are not reported, own writes issued right after it are', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/start', 'before'); // a has never seen this write
    const w = a.watch('/start');
    const own = a.setData('/start', 'mine'); // issued after the call, before it is armed
    await w.ready;
    await own;
    await b.setData('/start', 'later');
    expect(brief(await take(w, 2))).toEqual(['dataChanged /start', 'dataChanged /start']);
    w.close();
  });

  it('a recursive watch on the root sees every write', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const w = a.watch('/', { recursive: true });
    await w.ready;
    await b.create('/r');
    await b.create('/r/s');
    expect(brief(await take(w, 2))).toEqual(['created /r', 'created /r/s']);
    w.close();
  });

  it('closing a persistent watch ends its iterator and stops delivery; others stay', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const w1 = a.watch('/cw', { recursive: true });
    const w2 = a.watch('/cw', { recursive: true });
    await Promise.all([w1.ready, w2.ready]);
    const loop = (async () => {
      const got: WatchEvent[] = [];
      for await (const ev of w1) got.push(ev);
      return got;
    })();
    await b.create('/cw');
    expect(brief(await take(w2, 1))).toEqual(['created /cw']);
    w1.close();
    expect(brief(await loop)).toEqual(['created /cw']);
    await b.setData('/cw', 'x');
    expect(brief(await take(w2, 1))).toEqual(['dataChanged /cw']);
    expect(w1.closed).toBe(true);
    w2.close();
  });

  it('a persistent watch ends when its client closes', async () => {
    const a = await ctx.client();
    const w = a.watch('/end');
    await w.ready;
    const done = w.next();
    await a.close();
    expect(await done).toEqual({ value: undefined, done: true });
  });
});
