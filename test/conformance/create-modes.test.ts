import { describe, expect, it } from 'vitest';
import { BadArgumentsError, NoChildrenForEphemeralsError, NodeExistsError, NoNodeError, NotEmptyError, BadVersionError } from '../../core/index.js';
import { eventually, recorder, sleep, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

describe.each(harnesses)('create modes and znode rules — $name', (harness) => {
  const ctx = useHarness(harness);

  it('persistent: created with data and a fresh Stat, stays after its session closes', async () => {
    const a = await ctx.client();
    const path = await a.create('/p', 'hello');
    expect(path).toBe('/p');
    const { data, stat } = await a.getData('/p');
    expect(data.toString()).toBe('hello');
    expect(stat).toMatchObject({ version: 0, cversion: 0, aversion: 0, ephemeralOwner: null, dataLength: 5, numChildren: 0 });
    expect(stat.mzxid).toBe(stat.czxid);
    expect(stat.pzxid).toBe(stat.czxid);
    expect(stat.mtime).toBe(stat.ctime);
    await a.close();
    const b = await ctx.client();
    expect((await b.getData('/p')).data.toString()).toBe('hello');
  });

  it('data may be a string (UTF-8), a Buffer, a Uint8Array, or absent (empty)', async () => {
    const a = await ctx.client();
    await a.create('/s', 'héllo ✓');
    await a.create('/b', Buffer.from([0, 255, 1]));
    await a.create('/u', new Uint8Array([7, 8]));
    await a.create('/e');
    expect((await a.getData('/s')).data.toString('utf8')).toBe('héllo ✓');
    expect([...(await a.getData('/b')).data]).toEqual([0, 255, 1]);
    expect([...(await a.getData('/u')).data]).toEqual([7, 8]);
    expect((await a.getData('/e')).data.length).toBe(0);
    expect(Buffer.isBuffer((await a.getData('/u')).data)).toBe(true);
  });

  it('createWithStat returns the Stat of the new znode', async () => {
    const a = await ctx.client();
    const { path, stat } = await a.createWithStat('/w', 'abc');
    expect(path).toBe('/w');
    expect(stat).toEqual((await a.exists('/w'))!);
  });

  it('ephemeral: owned by the session, vanishes when the session closes', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/e', 'x', { mode: 'ephemeral' });
    const stat = await b.exists('/e');
    expect(stat?.ephemeralOwner).toBe(a.sessionId);
    const seen = recorder();
    await b.exists('/e', { watch: seen.watcher });
    await a.close();
    expect(await seen.next()).toMatchObject({ type: 'deleted', path: '/e' });
    expect(await b.exists('/e')).toBeNull();
  });

  it('ephemeral znodes cannot have children, in any mode', async () => {
    const a = await ctx.client();
    await a.create('/e', '', { mode: 'ephemeral' });
    for (const mode of ['persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential', 'container'] as const) {
      await expect(a.create('/e/c', '', { mode })).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
    }
    await expect(a.create('/e/c', '', { mode: 'persistent_with_ttl', ttlMs: 1000 })).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
    expect((await a.exists('/e'))!.numChildren).toBe(0);
  });

  it('sequential: suffix is the parent cversion, 10 zero-padded digits', async () => {
    const a = await ctx.client();
    await a.create('/q');
    expect(await a.create('/q/t-', '', { mode: 'persistent_sequential' })).toBe('/q/t-0000000000');
    expect(await a.create('/q/t-', '', { mode: 'ephemeral_sequential' })).toBe('/q/t-0000000001');
    await a.create('/q/plain');
    await a.delete('/q/plain');
    // Two child changes (create + delete) moved cversion to 4.
    expect((await a.exists('/q'))!.cversion).toBe(4);
    expect(await a.create('/q/t-', '', { mode: 'persistent_sequential' })).toBe('/q/t-0000000004');
    // A trailing slash is allowed for sequential modes: the name is only the number.
    expect(await a.create('/q/', '', { mode: 'persistent_sequential' })).toBe('/q/0000000005');
    const eph = await a.exists('/q/t-0000000001');
    expect(eph?.ephemeralOwner).toBe(a.sessionId);
    expect((await a.getChildren('/q')).children).toEqual(['0000000005', 't-0000000000', 't-0000000001', 't-0000000004']);
  });

  it('sequential names never repeat, even under concurrent creates from many clients', async () => {
    const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client()]);
    await clients[0].create('/q');
    const made = await Promise.all(clients.flatMap((c) => Array.from({ length: 20 }, () => c.create('/q/n-', '', { mode: 'persistent_sequential' }))));
    expect(new Set(made).size).toBe(60);
    const suffixes = made.map((p) => Number(p.slice(-10))).sort((x, y) => x - y);
    expect(suffixes).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('container: removed once its last child goes, not before', async () => {
    const a = await ctx.client();
    await a.create('/c', '', { mode: 'container' });
    await sleep(50);
    // Never had a child: stays (ZooKeeper only reaps containers that had children).
    expect(await a.exists('/c')).not.toBeNull();
    await a.create('/c/x');
    await a.create('/c/y');
    await a.delete('/c/x');
    expect(await a.exists('/c')).not.toBeNull();
    const seen = recorder();
    await a.exists('/c', { watch: seen.watcher });
    await a.delete('/c/y');
    expect(await seen.next()).toMatchObject({ type: 'deleted', path: '/c' });
    expect(await a.exists('/c')).toBeNull();
  });

  it('container: emptied by an ephemeral child going away with its session, and nested containers cascade', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/outer', '', { mode: 'container' });
    await a.create('/outer/inner', '', { mode: 'container' });
    await b.create('/outer/inner/e', '', { mode: 'ephemeral' });
    await b.close();
    await eventually(async () => (await a.exists('/outer')) === null, 3000, 'both containers removed');
    expect(await a.exists('/outer/inner')).toBeNull();
  });

  it('persistent_with_ttl: removed after its TTL when childless and unmodified', async () => {
    const a = await ctx.client();
    const t0 = performance.now();
    await a.create('/ttl', 'x', { mode: 'persistent_with_ttl', ttlMs: 150 });
    expect((await a.exists('/ttl'))!.ephemeralOwner).toBeNull();
    await sleep(60);
    expect(await a.exists('/ttl')).not.toBeNull();
    await eventually(async () => (await a.exists('/ttl')) === null, 3000, 'TTL znode removed');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('persistent_with_ttl: kept while it has children; a change restarts its TTL', async () => {
    const a = await ctx.client();
    await a.create('/parent', '', { mode: 'persistent_with_ttl', ttlMs: 150 });
    await a.create('/parent/kid');
    await a.create('/touched', '', { mode: 'persistent_with_ttl', ttlMs: 300 });
    await sleep(200);
    await a.setData('/touched', 'again');
    await sleep(200);
    // 400 ms after creation but only 200 ms after the change: still there.
    expect(await a.exists('/touched')).not.toBeNull();
    expect(await a.exists('/parent')).not.toBeNull();
    await a.delete('/parent/kid');
    await eventually(async () => (await a.exists('/parent')) === null, 3000, 'TTL parent removed after its child went');
    await eventually(async () => (await a.exists('/touched')) === null, 3000, 'touched TTL znode removed');
  });

  it('errors: NoNode for a missing parent, NodeExists for an existing path (root included)', async () => {
    const a = await ctx.client();
    await expect(a.create('/missing/child')).rejects.toBeInstanceOf(NoNodeError);
    await a.create('/x');
    const err = await a.create('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeExistsError);
    expect(err).toMatchObject({ code: -110, path: '/x', retryable: false });
    await expect(a.create('/')).rejects.toBeInstanceOf(NodeExistsError);
    expect(await a.exists('/missing')).toBeNull();
  });

  it('versions: setData bumps version; setData/delete with a stale version fail with BadVersion', async () => {
    const a = await ctx.client();
    await a.create('/v', '0');
    expect((await a.setData('/v', '1')).version).toBe(1);
    expect((await a.setData('/v', '2', 1)).version).toBe(2);
    const err = await a.setData('/v', 'stale', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadVersionError);
    expect(err).toMatchObject({ code: -103, path: '/v' });
    await expect(a.delete('/v', 0)).rejects.toBeInstanceOf(BadVersionError);
    expect((await a.getData('/v')).data.toString()).toBe('2');
    await a.delete('/v', 2);
    expect(await a.exists('/v')).toBeNull();
  });

  it('setData: new data, mzxid and mtime move, czxid and ctime stay', async () => {
    const a = await ctx.client();
    const { stat: before } = await a.createWithStat('/d', 'a');
    await sleep(5);
    const after = await a.setData('/d', 'bb');
    expect(after.czxid).toBe(before.czxid);
    expect(after.ctime).toBe(before.ctime);
    expect(after.mzxid).toBeGreaterThan(before.mzxid);
    expect(after.mtime).toBeGreaterThanOrEqual(before.mtime);
    expect(after.dataLength).toBe(2);
    expect(after).toEqual((await a.exists('/d'))!);
  });

  it('delete: NotEmpty with children, NoNode when missing; child changes move cversion and pzxid', async () => {
    const a = await ctx.client();
    const { stat: p0 } = await a.createWithStat('/p');
    const { stat: c } = await a.createWithStat('/p/c');
    const p1 = (await a.exists('/p'))!;
    expect(p1).toMatchObject({ cversion: 1, numChildren: 1, pzxid: c.czxid, version: 0, mzxid: p0.mzxid });
    await expect(a.delete('/p')).rejects.toBeInstanceOf(NotEmptyError);
    await a.delete('/p/c');
    const p2 = (await a.exists('/p'))!;
    expect(p2.cversion).toBe(2);
    expect(p2.numChildren).toBe(0);
    expect(p2.pzxid).toBeGreaterThan(c.czxid);
    await expect(a.delete('/p/c')).rejects.toBeInstanceOf(NoNodeError);
    await expect(a.setData('/p/c', 'x')).rejects.toBeInstanceOf(NoNodeError);
    await expect(a.getData('/p/c')).rejects.toBeInstanceOf(NoNodeError);
    await expect(a.getChildren('/p/c')).rejects.toBeInstanceOf(NoNodeError);
    await a.delete('/p');
  });

  it('every write gets a zxid from one strictly increasing counter, seen alike by all clients', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const zxids: number[] = [];
    zxids.push((await a.createWithStat('/z')).stat.czxid);
    zxids.push((await b.createWithStat('/z/1')).stat.czxid);
    zxids.push((await a.setData('/z', 'x')).mzxid);
    zxids.push((await b.setData('/z/1', 'y')).mzxid);
    await a.delete('/z/1');
    zxids.push((await b.exists('/z'))!.pzxid);
    for (let i = 1; i < zxids.length; i++) expect(zxids[i]).toBeGreaterThan(zxids[i - 1]);
    expect(await a.exists('/z')).toEqual(await b.exists('/z'));
  });

  it('the root exists, cannot be deleted, and lists top-level znodes', async () => {
    const a = await ctx.client();
    expect(await a.exists('/')).not.toBeNull();
    await expect(a.delete('/')).rejects.toBeInstanceOf(BadArgumentsError);
    await a.create('/b');
    await a.create('/a');
    expect((await a.getChildren('/')).children).toEqual(['a', 'b']);
  });

  it('data is copied in and out: mutating buffers or child lists never changes the store', async () => {
    const a = await ctx.client();
    const input = Buffer.from('abc');
    await a.create('/copy', input);
    input.fill(0);
    const out = (await a.getData('/copy')).data;
    out.fill(0x7a);
    expect((await a.getData('/copy')).data.toString()).toBe('abc');
    for (const n of ['x', 'y']) await a.create(`/copy/${n}`);
    for (const opts of [undefined, { limit: 10 }, { after: '' }]) {
      const list = (await a.getChildren('/copy', opts)).children;
      list.push('bogus');
      list.reverse();
    }
    expect((await a.getChildren('/copy')).children).toEqual(['x', 'y']);
    expect((await a.getChildren('/copy', { limit: 10 })).children).toEqual(['x', 'y']);
  });

  it("another session may delete or change an ephemeral; its owner's close then has nothing left to remove", async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/e', '1', { mode: 'ephemeral' });
    await a.create('/f', '1', { mode: 'ephemeral' });
    await b.setData('/f', '2');
    expect((await b.exists('/f'))?.ephemeralOwner).toBe(a.sessionId);
    await b.delete('/e');
    await a.close();
    expect(await b.exists('/e')).toBeNull();
    expect(await b.exists('/f')).toBeNull();
  });

  it('a session that closes removes only its own ephemerals', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/mine', '', { mode: 'ephemeral' });
    await b.create('/theirs', '', { mode: 'ephemeral' });
    await a.create('/kept');
    await a.close();
    expect(await b.exists('/mine')).toBeNull();
    expect(await b.exists('/theirs')).not.toBeNull();
    expect(await b.exists('/kept')).not.toBeNull();
    expect(a.state).toBe('closed');
  });
});
