import { describe, expect, it } from 'vitest';
import { op } from '../../core/index.js';
import { recorder, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

describe.each(harnesses)('getChildren and paging — $name', (harness) => {
  const ctx = useHarness(harness);

  it('lists child names sorted, with the parent Stat; an empty parent lists none', async () => {
    const a = await ctx.client();
    await a.create('/p', 'data');
    expect(await a.getChildren('/p')).toEqual({ children: [], stat: (await a.exists('/p'))! });
    for (const n of ['b', 'a', 'B', 'a0', '10', '9']) await a.create(`/p/${n}`);
    const r = await a.getChildren('/p');
    expect(r.children).toEqual(['10', '9', 'B', 'a', 'a0', 'b']);
    expect(r.stat.numChildren).toBe(6);
    expect(r.next).toBeUndefined();
  });

  it('pages with limit and after: every child exactly once, in order, `next` on all pages but the last', async () => {
    const a = await ctx.client();
    await a.create('/big');
    const names = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    await a.multi(names.map((n) => op.create(`/big/${n}`)));
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const r = await a.getChildren('/big', { limit: 10, after });
      pages.push(r.children);
      if (r.next === undefined) break;
      expect(r.next).toBe(r.children[r.children.length - 1]);
      after = r.next;
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(names);
  });

  it('`after` is exclusive and need not be an existing child; a limit above the count gives no `next`', async () => {
    const a = await ctx.client();
    await a.create('/q');
    for (const n of ['a', 'c', 'e']) await a.create(`/q/${n}`);
    expect((await a.getChildren('/q', { after: 'a' })).children).toEqual(['c', 'e']);
    expect((await a.getChildren('/q', { after: 'b' })).children).toEqual(['c', 'e']);
    expect((await a.getChildren('/q', { after: 'e' })).children).toEqual([]);
    expect((await a.getChildren('/q', { after: '' })).children).toEqual(['a', 'c', 'e']);
    const all = await a.getChildren('/q', { limit: 3 });
    expect(all.children).toEqual(['a', 'c', 'e']);
    expect(all.next).toBeUndefined();
    expect(await a.getChildren('/q', { limit: 100 })).toMatchObject({ children: ['a', 'c', 'e'] });
  });

  it('a znode whose children all went lists none, plain and paged, and lists again once one comes', async () => {
    const a = await ctx.client();
    await a.create('/gone');
    expect(await a.getChildren('/gone', { limit: 1 })).toMatchObject({ children: [], stat: { numChildren: 0, cversion: 0 } });
    await a.create('/gone/x');
    await a.create('/gone/y');
    await a.delete('/gone/x');
    await a.delete('/gone/y');
    for (const opts of [{}, { limit: 1 }, { limit: 5, after: 'a' }]) {
      const r = await a.getChildren('/gone', opts);
      expect(r.children).toEqual([]);
      expect(r.next).toBeUndefined();
      expect(r.stat).toMatchObject({ numChildren: 0, cversion: 4 });
    }
    await a.create('/gone/z');
    expect(await a.getChildren('/gone')).toMatchObject({ children: ['z'], stat: { numChildren: 1, cversion: 5 } });
    expect(await a.getChildren('/gone', { limit: 1 })).toMatchObject({ children: ['z'] });
    // The root lists its children whether or not anything ever wrote it.
    expect((await a.getChildren('/')).children).toContain('gone');
    expect((await a.getChildren('/', { limit: 1000 })).children).toContain('gone');
  });

  it('a paged read can arm a child watch like a plain one', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/w');
    await b.create('/w/x');
    const seen = recorder();
    await a.getChildren('/w', { limit: 1, watch: seen.watcher });
    await b.create('/w/y');
    expect(await seen.next()).toMatchObject({ type: 'childrenChanged', path: '/w' });
  });

  it('pages through 3000 children quickly', async () => {
    const a = await ctx.client();
    await a.create('/many');
    const names: string[] = [];
    for (let start = 0; start < 3000; start += 500) {
      const batch = Array.from({ length: 500 }, (_, i) => `item-${String(start + i).padStart(5, '0')}`);
      names.push(...batch);
      await a.multi(batch.map((n) => op.create(`/many/${n}`)));
    }
    const t0 = performance.now();
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const r = await a.getChildren('/many', { limit: 250, after });
      seen.push(...r.children);
      after = r.next;
    } while (after !== undefined);
    expect(seen).toEqual(names);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect((await a.exists('/many'))!.numChildren).toBe(3000);
  });
});
