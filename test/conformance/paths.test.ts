import { describe, expect, it } from 'vitest';
import { ensurePath, InvalidPathError, op, validatePath } from '../../core/index.js';
import { useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';
import { expectUnchanged } from './tree-diff.js';

/** Paths every backend must accept (created under the root, or under `/a` where nested). */
const VALID: string[] = [
  '/a', '/a/b', '/a/b/c/d/e/f/g', '/A', '/a-b_c.d', '/a b', '/a:b', '/a@b', '/a*b', '/a%2Fb',
  '/.a', '/a.', '/...', '/..a', '/a..', '/-', '/0000000001', '/a=b&c', '/"q"', "/'s'",
  '/ü', '/日本語', '/\u00a0', '/\u00a1', '/\u00ff', '/\ud7ff', '/\uf900', '/\uffef',
  '/a\\b', '/' + 'x'.repeat(1000),
];

/** Paths that break a rule of DESIGN §1, with the rule. */
const INVALID: Array<[unknown, string]> = [
  ['', 'empty'], ['a', 'relative'], ['a/b', 'relative'], [' /a', 'leading space'],
  ['/a/', 'trailing slash'], ['/a/b/', 'trailing slash'], ['//', 'empty segment'], ['/a//b', 'empty segment'],
  ['/.', 'dot segment'], ['/..', 'dot-dot segment'], ['/a/.', 'dot segment'], ['/a/..', 'dot-dot segment'],
  ['/a/./b', 'dot segment'], ['/a/../b', 'dot-dot segment'],
  ['/\0', 'NUL'], ['/a\0b', 'NUL'], ['/\u0001', 'control'], ['/\t', 'control'], ['/a\n', 'control'],
  ['/\u001f', 'control'], ['/\u007f', 'DEL'], ['/\u0080', 'C1 control'], ['/\u009f', 'C1 control'],
  ['/\ud800', 'surrogate'], ['/\udfff', 'surrogate'], ['/😀', 'surrogate pair'], ['/\ue000', 'private use'],
  ['/\uf8ff', 'private use'], ['/\ufff0', 'specials'], ['/\ufffe', 'specials'], ['/\uffff', 'specials'],
  [null, 'not a string'], [undefined, 'not a string'], [42, 'not a string'], [{}, 'not a string'], [['/a'], 'not a string'],
];

describe('the path table', () => {
  it('has at least 30 valid and 30 invalid paths', () => {
    expect(VALID.length).toBeGreaterThanOrEqual(30);
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });
  it.each(VALID.map((p) => [JSON.stringify(p), p]))('validatePath accepts %s', (_, p) => {
    expect(() => validatePath(p)).not.toThrow();
  });
  it.each(INVALID.map(([p, why]) => [JSON.stringify(p) ?? String(p), why, p]))('validatePath rejects %s (%s)', (_, __, p) => {
    expect(() => validatePath(p)).toThrow(InvalidPathError);
  });
});

describe.each(harnesses)('paths — $name', (harness) => {
  const ctx = useHarness(harness);

  it('every valid path can be created, read, listed and deleted, byte for byte', async () => {
    const a = await ctx.client();
    await a.create('/a');
    for (const p of VALID) {
      if (p === '/a') continue;
      const parent = p.slice(0, p.lastIndexOf('/')) || '/';
      await ensurePath(a, parent);
      expect(await a.create(p, p)).toBe(p);
      expect((await a.getData(p)).data.toString()).toBe(p);
      const name = p.slice(p.lastIndexOf('/') + 1);
      expect((await a.getChildren(parent)).children).toContain(name);
    }
    // Children sort by UTF-16 code unit, like a JS sort.
    const top = (await a.getChildren('/')).children;
    expect(top).toEqual([...top].sort());
    for (const p of [...VALID].reverse()) {
      if ((await a.exists(p))?.numChildren === 0) await a.delete(p);
    }
  });

  it('every invalid path is refused with InvalidPathError by every call, and nothing is written', async () => {
    const a = await ctx.client();
    await a.create('/a');
    await expectUnchanged(a, async () => {
      for (const [p] of INVALID) {
        const path = p as string;
        const calls: Array<() => Promise<unknown>> = [
          () => a.create(path, 'x'),
          () => a.create(path, 'x', { mode: 'ephemeral' }),
          () => a.createWithStat(path),
          () => a.exists(path),
          () => a.exists(path, { watch: true }),
          () => a.getData(path, { watch: () => undefined }),
          () => a.getChildren(path, { watch: true }),
          () => a.setData(path, 'x'),
          () => a.delete(path),
          // sync() with no path (undefined) means the root, as a default parameter.
          () => a.sync(p === undefined ? '' : path),
          () => a.multi([op.create('/ok'), op.create(path)]),
          () => a.multi([op.create('/ok'), op.setData(path, 'x')]),
          () => a.multi([op.create('/ok'), op.delete(path)]),
          () => a.multi([op.create('/ok'), op.check(path)]),
        ];
        for (const call of calls) {
          const err = await call().then(() => null, (e: unknown) => e);
          expect(err, `${JSON.stringify(p)} was accepted`).toBeInstanceOf(InvalidPathError);
        }
        expect(() => a.watch(path)).toThrow(InvalidPathError);
      }
    });
  });

  it('InvalidPathError names the rule and the path', async () => {
    const a = await ctx.client();
    const err = (await a.create('/a//b').catch((e: unknown) => e)) as InvalidPathError;
    expect(err).toMatchObject({ name: 'InvalidPathError', code: -1001, retryable: false });
    expect(err.message).toMatch(/empty segment/);
    expect(err.message).toContain('/a//b');
  });

  it('a trailing slash is allowed only for sequential creates', async () => {
    const a = await ctx.client();
    await a.create('/q');
    await expect(a.create('/q/', '', { mode: 'persistent' })).rejects.toBeInstanceOf(InvalidPathError);
    await expect(a.create('/q/', '', { mode: 'persistent_sequential' })).resolves.toBe('/q/0000000000');
    await expect(a.create('/q//', '', { mode: 'persistent_sequential' })).rejects.toBeInstanceOf(InvalidPathError);
    await expect(a.create('/q/..', '', { mode: 'persistent_sequential' })).resolves.toBe('/q/..0000000001');
  });
});
