import { describe, expect, it } from 'vitest';
import {
  BadVersionError, NoChildrenForEphemeralsError, NodeExistsError, NoNodeError, NotEmptyError, RolledBackError, op,
  type MultiFailure,
} from '../../core/index.js';
import { recorder, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';
import { expectUnchanged } from './tree-diff.js';

describe.each(harnesses)('multi — $name', (harness) => {
  const ctx = useHarness(harness);

  it('applies every op as one write: a result per op, one zxid for all', async () => {
    const a = await ctx.client();
    await a.create('/m', 'v0');
    await a.create('/m/old');
    const results = await a.multi([
      op.check('/m', 0),
      op.create('/m/new', 'n'),
      op.create('/m/seq-', 's', { mode: 'persistent_sequential' }),
      op.setData('/m', 'v1', 0),
      op.delete('/m/old'),
    ]);
    expect(results.map((r) => r.type)).toEqual(['check', 'create', 'create', 'setData', 'delete']);
    expect(results.map((r) => r.path)).toEqual(['/m', '/m/new', '/m/seq-0000000002', '/m', '/m/old']);
    const created = results[1] as Extract<(typeof results)[number], { type: 'create' }>;
    const set = results[3] as Extract<(typeof results)[number], { type: 'setData' }>;
    expect(set.stat.version).toBe(1);
    expect(set.stat.mzxid).toBe(created.stat.czxid);
    const parent = (await a.exists('/m'))!;
    expect(parent.pzxid).toBe(created.stat.czxid);
    expect((await a.exists('/m/seq-0000000002'))!.czxid).toBe(created.stat.czxid);
    expect((await a.getChildren('/m')).children).toEqual(['new', 'seq-0000000002']);
  });

  it('moves a znode (create one, delete another): stats, owner, events and errors as for any multi', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/from');
    await a.create('/to');
    await a.create('/from/t1', 'payload');
    await b.create('/from/e1', 'mine', { mode: 'ephemeral' });
    const toKids = recorder();
    const gone = recorder();
    await a.getChildren('/to', { watch: toKids.watcher });
    await a.exists('/from/t1', { watch: gone.watcher });
    const [made] = await a.multi([op.create('/to/t1', 'payload', { mode: 'ephemeral' }), op.delete('/from/t1', 0)]);
    const stat = (made as Extract<typeof made, { type: 'create' }>).stat;
    expect(stat.ephemeralOwner).toBe(a.sessionId);
    expect(stat.mzxid).toBe(stat.czxid);
    expect((await a.getData('/to/t1')).data.toString()).toBe('payload');
    expect(await a.exists('/from/t1')).toBeNull();
    const to = (await a.exists('/to'))!;
    const from = (await a.exists('/from'))!;
    expect([to.cversion, to.numChildren, to.pzxid]).toEqual([1, 1, stat.czxid]);
    expect([from.cversion, from.numChildren, from.pzxid]).toEqual([3, 1, stat.czxid]);
    expect((await toKids.next()).type).toBe('childrenChanged');
    expect(await gone.next()).toMatchObject({ type: 'deleted', path: '/from/t1', zxid: stat.czxid });
    // Deleting another session's ephemeral in a move takes it out of that session's ephemerals.
    await a.multi([op.create('/to/seq-', '', { mode: 'persistent_sequential' }), op.delete('/from/e1')]);
    expect((await a.getChildren('/to')).children).toEqual(['seq-0000000001', 't1']);
    await b.close();
    expect((await a.getChildren('/to')).children).toEqual(['seq-0000000001', 't1']);
    // Errors name the failing op, and nothing is written.
    await a.create('/from/t2');
    await a.create('/from/t2/kid');
    await expectUnchanged(a, async () => {
      const cases: Array<[ReturnType<typeof op.create>, ReturnType<typeof op.delete>, number, unknown]> = [
        [op.create('/to/t1'), op.delete('/from/t2/kid'), 0, NodeExistsError],
        [op.create('/nowhere/x'), op.delete('/from/t2/kid'), 0, NoNodeError],
        [op.create('/to/t1/x'), op.delete('/from/t2/kid'), 0, NoChildrenForEphemeralsError],
        [op.create('/to/t3'), op.delete('/from/none'), 1, NoNodeError],
        [op.create('/to/t3'), op.delete('/from/t2/kid', 5), 1, BadVersionError],
        [op.create('/to/t3'), op.delete('/from/t2'), 1, NotEmptyError],
        // The create's parent, or the same parent for both: each op sees the one before it.
        [op.create('/from/t2/kid2'), op.delete('/from/t2'), 1, NotEmptyError],
        [op.create('/from/t3'), op.delete('/from/none'), 1, NoNodeError],
      ];
      for (const [c, d, index, type] of cases) {
        const err = await a.multi([c, d]).then(() => null, (e: unknown) => e);
        expect(err, `${c.path} + delete ${d.path}`).toBeInstanceOf(type as new () => Error);
        expect((err as MultiFailure).opIndex, `${c.path} + delete ${d.path}`).toBe(index);
      }
    });
    // Same parent for both: its child count and cversion count both ops.
    await a.multi([op.create('/from/t4'), op.delete('/from/t2/kid')]);
    await a.multi([op.create('/from/t5'), op.delete('/from/t4')]);
    const f = (await a.exists('/from'))!;
    expect((await a.getChildren('/from')).children).toEqual(['t2', 't5']);
    expect(f.numChildren).toBe(2);
  });

  it('sets a last word and deletes the znode (a lock\'s release): stat, events, owner and errors as for any multi', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/rel');
    await b.create('/rel/e', 'held', { mode: 'ephemeral' });
    await a.setData('/rel/e', 'held again').catch(() => undefined);
    const before = (await a.exists('/rel/e'))!;
    const kids = recorder();
    const node = recorder();
    await a.getChildren('/rel', { watch: kids.watcher });
    await a.getData('/rel/e', { watch: node.watcher, includeData: true });
    const [set, del] = await b.multi([op.setData('/rel/e', 'released', before.version), op.delete('/rel/e', before.version + 1)]);
    expect(del.type).toBe('delete');
    const stat = (set as Extract<typeof set, { type: 'setData' }>).stat;
    expect([stat.czxid, stat.version, stat.cversion, stat.dataLength, stat.numChildren, stat.ephemeralOwner, stat.ctime])
      .toEqual([before.czxid, before.version + 1, before.cversion, 8, 0, b.sessionId, before.ctime]);
    expect(stat.mzxid).toBeGreaterThan(before.mzxid);
    expect(stat.pzxid).toBe(before.pzxid);
    expect(await a.exists('/rel/e')).toBeNull();
    const parent = (await a.exists('/rel'))!;
    expect([parent.numChildren, parent.cversion, parent.pzxid]).toEqual([0, 2, stat.mzxid]);
    // A data watch fires once, on the first of the multi's events: the change, with its data.
    expect(await node.next()).toMatchObject({ type: 'dataChanged', path: '/rel/e', zxid: stat.mzxid });
    expect((node.events[0].data ?? Buffer.alloc(0)).toString()).toBe('released');
    expect((await kids.next()).type).toBe('childrenChanged');
    // Gone from its session's ephemerals: the session's end deletes nothing more.
    await b.close();
    expect((await a.exists('/rel'))!.cversion).toBe(2);
    // Errors name the failing op, and nothing is written.
    await a.create('/rel/p', 'x');
    await a.create('/rel/p/kid');
    await a.create('/rel/q', 'x');
    await expectUnchanged(a, async () => {
      const cases: Array<[string, number, number, number, unknown]> = [
        ['/rel/none', -1, -1, 0, NoNodeError],
        ['/rel/q', 3, -1, 0, BadVersionError],
        ['/rel/q', 0, 0, 1, BadVersionError],
        ['/rel/p', -1, -1, 1, NotEmptyError],
      ];
      for (const [path, setVersion, deleteVersion, index, type] of cases) {
        const err = await a.multi([op.setData(path, 'w', setVersion), op.delete(path, deleteVersion)]).then(() => null, (e: unknown) => e);
        expect(err, `${path} ${setVersion} ${deleteVersion}`).toBeInstanceOf(type as new () => Error);
        expect((err as MultiFailure).opIndex, `${path} ${setVersion} ${deleteVersion}`).toBe(index);
      }
    });
    // Versions that match: the delete sees the setData's version.
    await a.multi([op.setData('/rel/q', 'w', 0), op.delete('/rel/q', 1)]);
    expect(await a.exists('/rel/q')).toBeNull();
  });

  it('later ops see earlier ones: create a parent then its child, bump then check a version, delete a child then its parent', async () => {
    const a = await ctx.client();
    await a.multi([op.create('/p'), op.create('/p/c'), op.setData('/p', 'x'), op.check('/p', 1)]);
    expect((await a.exists('/p'))!.version).toBe(1);
    await a.multi([op.delete('/p/c'), op.delete('/p')]);
    expect(await a.exists('/p')).toBeNull();
  });

  it('all or nothing: a failing op leaves the tree untouched and fires no watch', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await a.create('/keep', 'v0');
    const seen = recorder();
    await b.getData('/keep', { watch: seen.watcher });
    await b.exists('/fresh', { watch: seen.watcher });
    await expectUnchanged(a, async () => {
      const err = (await a.multi([
        op.create('/fresh', 'x'),
        op.setData('/keep', 'changed'),
        op.delete('/missing'),
        op.create('/other'),
      ]).catch((e: unknown) => e)) as NoNodeError & MultiFailure;
      expect(err).toBeInstanceOf(NoNodeError);
      expect(err.path).toBe('/missing');
      expect(err.opIndex).toBe(2);
      expect(err.opResults).toHaveLength(4);
      expect(err.opResults[2]).toBe(err);
      for (const i of [0, 1, 3]) {
        expect(err.opResults[i]).toBeInstanceOf(RolledBackError);
        expect(err.opResults[i].code).toBe(-2);
      }
    });
    await b.sync();
    expect(seen.events).toHaveLength(0);
  });

  it('each kind of op failure is reported at its index with its own error class', async () => {
    const a = await ctx.client();
    await a.create('/x', '', {});
    await a.create('/x/kid');
    await a.create('/eph', '', { mode: 'ephemeral' });
    const cases: Array<[Parameters<typeof a.multi>[0], number, new (...args: never[]) => Error]> = [
      [[op.create('/y'), op.create('/x')], 1, NodeExistsError],
      [[op.check('/x', 5)], 0, BadVersionError],
      [[op.create('/y'), op.setData('/x', 'v', 3)], 1, BadVersionError],
      [[op.create('/y'), op.delete('/x')], 1, NotEmptyError],
      [[op.create('/y'), op.create('/y/z'), op.create('/eph/c')], 2, NoChildrenForEphemeralsError],
      [[op.create('/y'), op.create('/y')], 1, NodeExistsError],
      [[op.delete('/x/kid'), op.delete('/x/kid')], 1, NoNodeError],
      [[op.create('/q/child')], 0, NoNodeError],
      [[op.create('/e2', '', { mode: 'ephemeral' }), op.create('/e2/c')], 1, NoChildrenForEphemeralsError],
    ];
    for (const [ops, index, cls] of cases) {
      await expectUnchanged(a, async () => {
        const err = (await a.multi(ops).catch((e: unknown) => e)) as Error & MultiFailure;
        expect(err).toBeInstanceOf(cls);
        expect(err.opIndex).toBe(index);
        expect(err.opResults.map((r) => r.constructor.name)).toEqual(ops.map((_, i) => (i === index ? cls.name : 'RolledBackError')));
      });
    }
  });

  it('an empty multi succeeds with no results and uses no zxid', async () => {
    const a = await ctx.client();
    await expectUnchanged(a, async () => {
      expect(await a.multi([])).toEqual([]);
    });
  });

  it('concurrent multis guarded by a check are serialised: exactly one wins each round', async () => {
    const clients = await Promise.all([ctx.client(), ctx.client(), ctx.client(), ctx.client()]);
    await clients[0].create('/counter', '0');
    for (let round = 0; round < 5; round++) {
      const outcomes = await Promise.all(clients.map((c, i) =>
        c.multi([op.check('/counter', round), op.setData('/counter', String(round + 1)), op.create(`/won-${round}-${i}`)])
          .then(() => 'won', (e: unknown) => (e instanceof BadVersionError ? 'lost' : Promise.reject(e)))));
      expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    }
    const { data, stat } = await clients[0].getData('/counter');
    expect(data.toString()).toBe('5');
    expect(stat.version).toBe(5);
    expect((await clients[0].getChildren('/')).children.filter((c) => c.startsWith('won-'))).toHaveLength(5);
  });
});
