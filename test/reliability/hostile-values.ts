/**
 * Random and hostile values for the fuzz tests: odd Unicode, huge data, wrong types,
 * out-of-range numbers, reserved names, objects that throw when touched. Seeded, so a
 * failure prints a seed that replays it.
 */

/** A small seeded PRNG (mulberry32): same seed, same run. */
export function seeded(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export type Rng = ReturnType<typeof seeded>;

/** An object whose every property access throws: hostile "options". */
export const booby = new Proxy({}, {
  get() { throw new Error('booby-trapped getter'); },
  has() { throw new Error('booby-trapped has'); },
  ownKeys() { throw new Error('booby-trapped ownKeys'); },
});

const weirdNames = [
  'a', 'b', 'zookeeper', 'quota', 'x'.repeat(300), 'ü', 'ß', 'Ω', '中文', 'a b', ' ', 'a\tb', 'tab\t', 'crlf\r\n',
  'nul\u0000', 'del\u007f', 'c1\u0085', 'zw\u200b', 'rtl\u202e', 'bom\ufeff', 'fff0\ufff0', 'ffff\uffff',
  'lone\ud800', 'pair\ud83d\ude00', 'pua\ue000', '.', '..', '...', '-', 'task-0000000001', '%2F', '\\', '*', '?',
  '"', "'", '<script>', '${x}', '{ns}', '{', '}', ':', 'NaN',
];

/** A path: mostly valid under a scratch root (so calls can succeed), often broken. */
export function path(r: Rng, root = '/f'): unknown {
  switch (r.int(10)) {
    case 0: return r.pick([undefined, null, 42, -1, NaN, true, {}, [], ['/a'], () => '/a', Symbol('p'), 10n, new Date(0), booby, new String('/a')]);
    case 1: return r.pick(['', '/', '//', '/a/', 'a', 'a/b', '/a//b', '/./a', '/a/..', ' /a', '/a ', '\\a', '/\u0000', '/zookeeper', '/zookeeper/quota']);
    case 2: return '/' + 'd/'.repeat(r.int(200)) + 'leaf';
    case 3: return root + '/' + 'n'.repeat(r.pick([1, 255, 256, 1000, 70_000]));
    default: {
      let p = root;
      const depth = 1 + r.int(3);
      for (let i = 0; i < depth; i++) p += '/' + r.pick(weirdNames.slice(0, r.chance(0.6) ? 12 : weirdNames.length));
      return p;
    }
  }
}

/** Znode data: bytes, strings, huge, or not data at all. */
export function data(r: Rng): unknown {
  switch (r.int(8)) {
    case 0: return r.pick([undefined, null, 0, 1.5, true, {}, [1, 2], () => 1, Symbol('d'), 1n, booby, new ArrayBuffer(4), new DataView(new ArrayBuffer(2)), new Uint16Array([1, 2]), new Float64Array(1)]);
    case 1: return Buffer.alloc(r.pick([1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]), 7);
    case 2: return 'é'.repeat(r.pick([524_288, 524_289]));
    case 3: return r.pick(['\ud800', '\u0000\u0000', '😀', '\uffff', '']);
    case 4: return new Uint8Array(Buffer.from('view-into-a-bigger-buffer')).subarray(5, 9);
    default: return r.pick(['v', 'value', JSON.stringify({ a: 1 }), Buffer.from([0, 255, 1])]);
  }
}

/** A version argument. */
export function version(r: Rng): unknown {
  return r.pick([undefined, -1, -1, 0, 0, 1, 2, -2, -100, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 31 - 1, 2 ** 53, '0', null, {}, 0n, true]);
}

/**
 * A create mode (and maybe a TTL). Valid TTLs are a minute or more: a TTL znode expiring
 * mid-run is a write of the reaper's, which the fuzz would take for a failed call that
 * changed the store (seen: a 1 s TTL expired between a failed create and its check).
 */
export function createOptions(r: Rng): unknown {
  switch (r.int(6)) {
    case 0: return r.pick([undefined, null, 'persistent', 5, [], booby, () => 1]);
    case 1: return { mode: r.pick(['bogus', 'EPHEMERAL', '', null, 3, 'ephemeral ', 'persistent_with_ttl']), ttlMs: r.pick([undefined, 60_000]) };
    case 2: return { mode: 'persistent_with_ttl', ttlMs: r.pick([undefined, 0, -1, 1.5, NaN, 2 ** 40, 2 ** 60, '100', 60_000]) };
    case 3: return { mode: r.pick(['persistent', 'ephemeral']), ttlMs: r.pick([10, 0]) };
    default: return { mode: r.pick(['persistent', 'persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential', 'container']) };
  }
}

/** Read options (watch, paging). */
export function readOptions(r: Rng): unknown {
  return r.pick([
    undefined, null, 'watch', 1, [], booby, { watch: true }, { watch: 'yes' }, { watch: 1 },
    { watch: () => { throw new Error('watcher throws'); } },
    { watch: async () => { throw new Error('watcher rejects'); } },
    { limit: 0 }, { limit: -1 }, { limit: 1.5 }, { limit: 2 }, { limit: NaN }, { after: 5 }, { after: '' }, { after: '\uffff' }, { limit: 1, after: 'a' },
    { recursive: 'yes' }, { recursive: true },
  ]);
}

/** Anything at all. */
export function anything(r: Rng): unknown {
  return r.pick([path, data, version, createOptions, readOptions])(r);
}
