import { BadArgumentsError, validatePath, type Client } from '../../core/index.js';

/** A recipe's base path: a valid znode path other than the root. */
export function checkRecipePath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new BadArgumentsError(`Expected the ${what} path to be a non-empty znode path like "/locks/db", got ${show(path)}`);
  }
  validatePath(path);
  if (path === '/') throw new BadArgumentsError(`The ${what} path must not be the root "/"`);
  return path;
}

/** The client a recipe runs on: anything with the public client API. */
export function checkClient(zk: unknown, what: string): Client {
  if (typeof zk !== 'object' || zk === null || typeof (zk as Client).createWithStat !== 'function') {
    throw new BadArgumentsError(`Expected a corral Client (from connect()) for the ${what}, got ${show(zk)}`);
  }
  return zk as Client;
}

/** A non-empty string without "/" (member ids, child names). */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
    throw new BadArgumentsError(`Expected \`${what}\` to be a non-empty string without "/", got ${show(name)}`);
  }
  validatePath('/' + name);
  return name;
}

/** The function a `with…` helper runs while it holds a grant: checked before acquiring. */
export function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new BadArgumentsError(`Expected \`fn\` of ${what} to be a function, got ${show(fn)}`);
}

export function checkOpts<T extends object>(opts: unknown, what: string): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new BadArgumentsError(`Expected ${what} options to be an object, got ${show(opts)}`);
  return opts as Partial<T>;
}

/** Options of every wait: `timeoutMs` (default: no limit) and an AbortSignal. */
export interface WaitOptions {
  /** Give up after this many ms with TimeoutError. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** Cancels the wait with AbortedError; nothing is left behind. */
  signal?: AbortSignal;
}

/** A checked wait: an absolute deadline (`Infinity` for none) and the signal. */
export interface Wait {
  deadline: number;
  signal: AbortSignal | undefined;
}

export function checkWait(options: unknown, what: string): Wait {
  const o = checkOpts<WaitOptions>(options, what);
  let deadline = Infinity;
  if (o.timeoutMs !== undefined) {
    const t = o.timeoutMs;
    if (typeof t !== 'number' || Number.isNaN(t) || t < 0) {
      throw new BadArgumentsError(`Expected \`timeoutMs\` to be a number ≥ 0 (or omitted to wait without limit), got ${show(t)}`);
    }
    deadline = performance.now() + t;
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new BadArgumentsError(`Expected \`signal\` to be an AbortSignal, got ${show(o.signal)}`);
  }
  return { deadline, signal: o.signal };
}

export function checkCount(n: unknown, what: string, min = 1): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new BadArgumentsError(`Expected \`${what}\` to be an integer ≥ ${min}, got ${show(n)}`);
  }
  return n;
}

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}
