import { describe, expect, it } from 'vitest';
import {
  BadArgumentsError, ClientClosedError, CorralError, DataTooLargeError, InvalidPathError, op, type Client,
} from '../../core/index.js';
import { useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';
import { expectUnchanged } from './tree-diff.js';

type Bad = [name: string, call: (zk: Client) => Promise<unknown>, error: new (...args: never[]) => CorralError, message?: RegExp];

// Casts are the point here: callers from plain JS (or `any`) pass whatever they like.
const x = (v: unknown) => v as never;

const BAD_CALLS: Bad[] = [
  // data of the wrong type
  ['create data number', (zk) => zk.create('/n', x(42)), BadArgumentsError, /data.*Uint8Array, Buffer or string.*number/],
  ['create data object', (zk) => zk.create('/n', x({ a: 1 })), BadArgumentsError],
  ['create data boolean', (zk) => zk.create('/n', x(true)), BadArgumentsError],
  ['create data array', (zk) => zk.create('/n', x([1, 2])), BadArgumentsError],
  ['setData data number', (zk) => zk.setData('/k', x(1)), BadArgumentsError],
  ['setData data undefined', (zk) => zk.setData('/k', x(undefined), 0), BadArgumentsError, /got undefined/],
  ['setData data null', (zk) => zk.setData('/k', x(null)), BadArgumentsError],
  ['multi setData without data', (zk) => zk.multi([op.create('/n'), x({ type: 'setData', path: '/k', version: -1 })]), BadArgumentsError],
  // modes and TTLs
  ['unknown mode', (zk) => zk.create('/n', '', { mode: x('sticky') }), BadArgumentsError, /Unknown create mode "sticky"/],
  ['mode of the wrong type', (zk) => zk.create('/n', '', { mode: x(1) }), BadArgumentsError],
  ['mode in upper case', (zk) => zk.create('/n', '', { mode: x('EPHEMERAL') }), BadArgumentsError],
  ['ttl mode without ttlMs', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl' }), BadArgumentsError, /ttlMs/],
  ['ttlMs zero', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: 0 }), BadArgumentsError],
  ['ttlMs negative', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: -5 }), BadArgumentsError],
  ['ttlMs fractional', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: 1.5 }), BadArgumentsError],
  ['ttlMs NaN', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: NaN }), BadArgumentsError],
  ['ttlMs Infinity', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: Infinity }), BadArgumentsError],
  ['ttlMs string', (zk) => zk.create('/n', '', { mode: 'persistent_with_ttl', ttlMs: x('100') }), BadArgumentsError],
  ['ttlMs on a persistent node', (zk) => zk.create('/n', '', { mode: 'persistent', ttlMs: 100 }), BadArgumentsError, /only allowed with mode persistent_with_ttl/],
  ['create options not an object', (zk) => zk.create('/n', '', x('ephemeral')), BadArgumentsError, /options to be an object/],
  // versions
  ['setData version -2', (zk) => zk.setData('/k', 'v', -2), BadArgumentsError, /version.*≥ -1.*-2/],
  ['setData version 1.5', (zk) => zk.setData('/k', 'v', 1.5), BadArgumentsError],
  ['setData version NaN', (zk) => zk.setData('/k', 'v', NaN), BadArgumentsError],
  ['setData version Infinity', (zk) => zk.setData('/k', 'v', Infinity), BadArgumentsError],
  ['setData version string', (zk) => zk.setData('/k', 'v', x('0')), BadArgumentsError],
  ['setData version 2^31', (zk) => zk.setData('/k', 'v', 2 ** 31), BadArgumentsError],
  ['setData version null', (zk) => zk.setData('/k', 'v', x(null)), BadArgumentsError],
  ['delete version -7', (zk) => zk.delete('/k', -7), BadArgumentsError],
  ['delete version 0.1', (zk) => zk.delete('/k', 0.1), BadArgumentsError],
  ['delete version bigint', (zk) => zk.delete('/k', x(1n)), BadArgumentsError],
  // oversize data
  ['create data over the limit', (zk) => zk.create('/n', Buffer.alloc(1025)), DataTooLargeError, /1025 bytes > maxDataBytes 1024/],
  ['create string over the limit in UTF-8 bytes', (zk) => zk.create('/n', 'é'.repeat(513)), DataTooLargeError],
  ['setData over the limit', (zk) => zk.setData('/k', new Uint8Array(2000)), DataTooLargeError],
  // reads and watches
  ['exists watch string', (zk) => zk.exists('/k', { watch: x('yes') }), BadArgumentsError, /watch.*boolean or a function/],
  ['getData watch number', (zk) => zk.getData('/k', { watch: x(1) }), BadArgumentsError],
  ['getChildren watch object', (zk) => zk.getChildren('/k', { watch: x({}) }), BadArgumentsError],
  ['read options not an object', (zk) => zk.getData('/k', x(true)), BadArgumentsError],
  ['getChildren limit 0', (zk) => zk.getChildren('/k', { limit: 0 }), BadArgumentsError, /limit/],
  ['getChildren limit -1', (zk) => zk.getChildren('/k', { limit: -1 }), BadArgumentsError],
  ['getChildren limit 2.5', (zk) => zk.getChildren('/k', { limit: 2.5 }), BadArgumentsError],
  ['getChildren limit string', (zk) => zk.getChildren('/k', { limit: x('10') }), BadArgumentsError],
  ['getChildren after number', (zk) => zk.getChildren('/k', { after: x(3) }), BadArgumentsError, /after/],
  // multi
  ['multi of a non-array', (zk) => zk.multi(x({ 0: op.create('/n') })), BadArgumentsError, /array/],
  ['multi of null', (zk) => zk.multi(x(null)), BadArgumentsError],
  ['multi op null', (zk) => zk.multi([op.create('/n'), x(null)]), BadArgumentsError],
  ['multi op of unknown type', (zk) => zk.multi([op.create('/n'), x({ type: 'rename', path: '/k' })]), BadArgumentsError, /Unknown multi op type "rename"/],
  ['multi op with a bad version', (zk) => zk.multi([op.create('/n'), op.setData('/k', 'v', -3)]), BadArgumentsError],
  ['multi op with an unknown mode', (zk) => zk.multi([op.create('/n'), op.create('/m', '', { mode: x('weird') })]), BadArgumentsError],
  ['multi op with oversize data', (zk) => zk.multi([op.create('/n'), op.setData('/k', Buffer.alloc(4096))]), DataTooLargeError],
  ['multi op with data of the wrong type', (zk) => zk.multi([op.create('/n'), x({ type: 'setData', path: '/k', data: 5, version: -1 })]), BadArgumentsError],
  ['multi op with a bad path', (zk) => zk.multi([op.create('/n'), op.check('k')]), InvalidPathError],
  ['multi check with version 1e10', (zk) => zk.multi([op.create('/n'), op.check('/k', 1e10)]), BadArgumentsError],
];

describe.each(harnesses)('bad input — $name', (harness) => {
  const ctx = useHarness(harness);

  it('has a broad table of bad calls', () => {
    expect(BAD_CALLS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(BAD_CALLS)('%s: clear typed error, store unchanged', async (_name, call, cls, message) => {
    const a = await ctx.client({ maxDataBytes: 1024 });
    await a.create('/k', 'v');
    await expectUnchanged(a, async () => {
      const err = await call(a).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err).toBeInstanceOf(CorralError);
      expect((err as CorralError).code).toBeTypeOf('number');
      expect((err as CorralError).retryable).toBe(false);
      if (message) expect((err as Error).message).toMatch(message);
    });
    // The client is still usable afterwards.
    expect((await a.getData('/k')).data.toString()).toBe('v');
  });

  it('bad watch() arguments throw at once', async () => {
    const a = await ctx.client();
    expect(() => a.watch('/k', x({ recursive: 'yes' }))).toThrow(BadArgumentsError);
    expect(() => a.watch('/k', x(5))).toThrow(BadArgumentsError);
    expect(() => a.watch('k')).toThrow(InvalidPathError);
  });

  it('use after close(): every call fails with ClientClosedError and nothing is written', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/k', 'v');
    await a.close();
    await expectUnchanged(b, async () => {
      const calls: Array<() => Promise<unknown>> = [
        () => a.create('/n'), () => a.createWithStat('/n'), () => a.delete('/k'), () => a.setData('/k', 'x'),
        () => a.exists('/k'), () => a.getData('/k'), () => a.getChildren('/'), () => a.sync(),
        () => a.multi([op.create('/n')]), () => a.create('bad path'),
      ];
      for (const call of calls) await expect(call()).rejects.toBeInstanceOf(ClientClosedError);
      expect(() => a.watch('/k')).toThrow(ClientClosedError);
    });
  });

  it('a call made while close() is in progress fails with ClientClosedError', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const closing = a.close();
    await expect(a.create('/late')).rejects.toBeInstanceOf(ClientClosedError);
    await closing;
    expect(await b.exists('/late')).toBeNull();
  });

  it('data at exactly the limit is accepted; the default limit is 1 MiB', async () => {
    const small = await ctx.client({ maxDataBytes: 1024 });
    await small.create('/edge', Buffer.alloc(1024, 1));
    expect((await small.getData('/edge')).stat.dataLength).toBe(1024);
    await small.setData('/edge', 'é'.repeat(512));
    const big = await ctx.client();
    await big.create('/mib', Buffer.alloc(1024 * 1024, 7));
    expect((await big.getData('/mib')).data.length).toBe(1024 * 1024);
    const err = await big.setData('/mib', Buffer.alloc(1024 * 1024 + 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataTooLargeError);
    expect((err as Error).message).toMatch(/maxDataBytes/);
    expect((await big.exists('/mib'))!.version).toBe(0);
  });
});
