import { describe, expect, it } from 'vitest';
import {
  BadArgumentsError, InvalidPathError, NoNodeError, op, type ReadResult, type Stat,
} from '../../core/index.js';
import { useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

type DataResult = Extract<ReadResult, { type: 'getData' }>;
type ChildrenResult = Extract<ReadResult, { type: 'getChildren' }>;

describe.each(harnesses)('multiRead — $name', (harness) => {
  const ctx = useHarness(harness);

  it('reads the data and children of many znodes in one call, in op order, as the single reads would', async () => {
    const a = await ctx.client();
    await a.create('/r', 'parent');
    await a.multi([op.create('/r/b', 'bee'), op.create('/r/a', 'ay'), op.create('/r/b/deep')]);
    await a.setData('/r/a', 'ay2');
    const results = await a.multiRead([op.getData('/r/a'), op.getChildren('/r'), op.getData('/r/b'), op.getChildren('/r/b'), op.getData('/')]);
    expect(results.map((r) => `${r.type} ${r.path}`)).toEqual(['getData /r/a', 'getChildren /r', 'getData /r/b', 'getChildren /r/b', 'getData /']);
    const single = [await a.getData('/r/a'), await a.getChildren('/r'), await a.getData('/r/b'), await a.getChildren('/r/b'), await a.getData('/')];
    expect((results[0] as DataResult).data.toString()).toBe('ay2');
    expect((results[1] as ChildrenResult).children).toEqual(['a', 'b']);
    expect((results[3] as ChildrenResult).children).toEqual(['deep']);
    results.forEach((r, i) => {
      const s = single[i] as { stat: Stat; data?: Buffer; children?: string[] };
      expect((r as DataResult | ChildrenResult).stat).toEqual(s.stat);
      if (r.type === 'getData') expect(r.data.equals(s.data!)).toBe(true);
      else expect((r as ChildrenResult).children).toEqual(s.children);
    });
  });

  it('a missing znode gets NoNodeError in its own slot; the other reads still succeed', async () => {
    const a = await ctx.client();
    await a.create('/here', 'x');
    const results = await a.multiRead([op.getData('/missing'), op.getData('/here'), op.getChildren('/missing/too')]);
    expect(results[0]).toMatchObject({ type: 'error', path: '/missing' });
    expect((results[0] as { error: unknown }).error).toBeInstanceOf(NoNodeError);
    expect((results[1] as DataResult).data.toString()).toBe('x');
    expect(results[2]).toMatchObject({ type: 'error', path: '/missing/too' });
    expect((results[2] as { error: unknown }).error).toBeInstanceOf(NoNodeError);
  });

  it('binary data comes back byte for byte; an empty list reads nothing', async () => {
    const a = await ctx.client();
    const bytes = Buffer.from([0, 255, 10, 13, 0xc3, 0x28, 0x80, 0]);
    await a.create('/bin', bytes);
    await a.create('/empty');
    const [bin, empty] = await a.multiRead([op.getData('/bin'), op.getData('/empty')]);
    expect((bin as DataResult).data.equals(bytes)).toBe(true);
    expect((bin as DataResult).stat.dataLength).toBe(bytes.length);
    expect((empty as DataResult).data.length).toBe(0);
    expect(await a.multiRead([])).toEqual([]);
  });

  it('all reads see one point of the total order: a znode moved by a multi is found in exactly one place', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/from');
    await b.create('/to');
    await b.create('/from/x', '0');
    let moves = 0;
    let moving = true;
    const mover = (async () => {
      for (let i = 1; i <= 60; i++) {
        const [src, dst] = i % 2 === 1 ? ['/from', '/to'] : ['/to', '/from'];
        await b.multi([op.delete(`${src}/x`), op.create(`${dst}/x`, String(i))]);
        moves++;
      }
      moving = false;
    })();
    let reads = 0;
    while (moving || reads < 10) {
      const [f, t, fk, tk] = await a.multiRead([op.getData('/from/x'), op.getData('/to/x'), op.getChildren('/from'), op.getChildren('/to')]);
      expect([f.type, t.type].sort()).toEqual(['error', 'getData']);
      const found = f.type === 'getData' ? f : (t as DataResult);
      // The children lists agree with the data reads, and the data with the move that put it there.
      expect((fk as ChildrenResult).children.length + (tk as ChildrenResult).children.length).toBe(1);
      expect(found.stat.czxid).toBe(((f.type === 'getData' ? fk : tk) as ChildrenResult).stat.pzxid);
      reads++;
    }
    await mover;
    expect(moves).toBe(60);
  });

  it('a watch event comes before a multiRead result that reflects its change', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/ord', '0');
    for (let i = 1; i <= 30; i++) {
      let fired = false;
      await a.getData('/ord', { watch: () => (fired = true) });
      await b.setData('/ord', String(i));
      const [r] = await a.multiRead([op.getData('/ord')]);
      expect((r as DataResult).data.toString()).toBe(String(i));
      expect(fired, `round ${i}: multiRead saw the new data before the watch fired`).toBe(true);
    }
  });

  it('bad input gets a clear typed error', async () => {
    const a = await ctx.client();
    await a.create('/ok', 'x');
    for (const [ops, cls, message] of [
      ['not an array', BadArgumentsError, /array/],
      [null, BadArgumentsError, /array/],
      [[op.getData('/ok'), { type: 'exists', path: '/ok' }], BadArgumentsError, /Unknown multiRead op type "exists"/],
      [[op.getData('/ok'), op.create('/ok/x')], BadArgumentsError, /Unknown multiRead op type "create"/],
      [[op.getData('/ok'), 'getData'], BadArgumentsError, /op object/],
      [[op.getData('/ok'), op.getData('no-slash')], InvalidPathError, /start with \//],
      [[op.getChildren('/ok/')], InvalidPathError, /./],
    ] as const) {
      const err = await a.multiRead(ops as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(ops)).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(message);
    }
  });
});
