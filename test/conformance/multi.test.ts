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
