import { BadArgumentsError, DataTooLargeError } from './errors.js';
import { validatePath } from './path.js';
import { CREATE_MODES, isSequentialMode, type CreateMode, type Data, type Op, type ReadOp } from './types.js';

/** Largest version ZooKeeper can hold (int32); also the largest TTL is bounded like ZooKeeper's. */
const MAX_VERSION = 2 ** 31 - 1;
const MAX_TTL_MS = 2 ** 40 - 1;

/** Turns user data into bytes, or throws a typed error naming the problem. */
export function toBytes(data: unknown, maxDataBytes: number, path?: string, required = false): Uint8Array {
  let bytes: Uint8Array;
  if (data === undefined || data === null) {
    // create() may omit data; for setData a missing argument is almost always a mistake.
    if (required) throw new BadArgumentsError(`Expected data to be a Uint8Array, Buffer or string, got ${kind(data)} (pass '' to store empty data)`, path);
    bytes = new Uint8Array(0);
  }
  else if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) bytes = data;
  else throw new BadArgumentsError(`Expected data to be a Uint8Array, Buffer or string, got ${kind(data)}`, path);
  if (bytes.length > maxDataBytes) throw new DataTooLargeError(bytes.length, maxDataBytes, path);
  return bytes;
}

/** A version argument: an integer from -1 (any) up to 2^31-1. */
export function checkVersion(version: unknown, path?: string): number {
  if (version === undefined) return -1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < -1 || version > MAX_VERSION) {
    throw new BadArgumentsError(`Expected version to be an integer ≥ -1 (-1 = any version), got ${show(version)}`, path);
  }
  return version;
}

export function checkMode(mode: unknown, path?: string): CreateMode {
  if (mode === undefined) return 'persistent';
  if (typeof mode !== 'string' || !(CREATE_MODES as readonly string[]).includes(mode)) {
    throw new BadArgumentsError(`Unknown create mode ${show(mode)}; expected one of ${CREATE_MODES.join(', ')}`, path);
  }
  return mode as CreateMode;
}

export function checkTtl(mode: CreateMode, ttlMs: unknown, path?: string): number | undefined {
  if (mode === 'persistent_with_ttl') {
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new BadArgumentsError(`Mode persistent_with_ttl needs ttlMs, an integer > 0, got ${show(ttlMs)}`, path);
    }
    return ttlMs;
  }
  if (ttlMs !== undefined) throw new BadArgumentsError(`ttlMs is only allowed with mode persistent_with_ttl, not ${mode}`, path);
  return undefined;
}

/** An options argument: undefined or a plain object. */
export function checkOptions<T extends object>(opts: unknown, what: string): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new BadArgumentsError(`Expected ${what} options to be an object, got ${kind(opts)}`);
  return opts as Partial<T>;
}

/** A positive integer option, with the option's name in the message. */
export function checkPositiveInt(value: unknown, name: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new BadArgumentsError(`Expected \`${name}\` to be an integer ≥ ${min}, got ${show(value)}`);
  }
  return value;
}

export function checkCreate(path: unknown, data: unknown, opts: { mode?: unknown; ttlMs?: unknown }, maxDataBytes: number) {
  const mode = checkMode(opts.mode, typeof path === 'string' ? path : undefined);
  validatePath(path, isSequentialMode(mode));
  const ttlMs = checkTtl(mode, opts.ttlMs, path);
  return { path, data: toBytes(data, maxDataBytes, path), mode, ttlMs };
}

/** Validates and normalises one op of a multi (the builders in ops.ts produce these). */
export function checkOp(op: unknown, maxDataBytes: number): Op {
  if (typeof op !== 'object' || op === null) throw new BadArgumentsError(`Expected a multi op object, got ${kind(op)}`);
  const o = op as Record<string, unknown>;
  switch (o.type) {
    case 'create': {
      const c = checkCreate(o.path, o.data, { mode: o.mode, ttlMs: o.ttlMs }, maxDataBytes);
      return c.ttlMs === undefined
        ? { type: 'create', path: c.path, data: c.data, mode: c.mode }
        : { type: 'create', path: c.path, data: c.data, mode: c.mode, ttlMs: c.ttlMs };
    }
    case 'delete':
      validatePath(o.path);
      return { type: 'delete', path: o.path, version: checkVersion(o.version, o.path) };
    case 'setData':
      validatePath(o.path);
      return { type: 'setData', path: o.path, data: toBytes(o.data, maxDataBytes, o.path, true), version: checkVersion(o.version, o.path) };
    case 'check':
      validatePath(o.path);
      return { type: 'check', path: o.path, version: checkVersion(o.version, o.path) };
    default:
      throw new BadArgumentsError(`Unknown multi op type ${show(o.type)}; expected create, delete, setData or check`);
  }
}

/** Validates one op of a multiRead (built with `op.getData` / `op.getChildren`). */
export function checkReadOp(op: unknown): ReadOp {
  if (typeof op !== 'object' || op === null) throw new BadArgumentsError(`Expected a multiRead op object, got ${kind(op)}`);
  const o = op as Record<string, unknown>;
  if (o.type !== 'getData' && o.type !== 'getChildren') {
    throw new BadArgumentsError(`Unknown multiRead op type ${show(o.type)}; expected getData or getChildren (op.getData(path), op.getChildren(path))`);
  }
  validatePath(o.path);
  return { type: o.type, path: o.path };
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  return kind(v);
}
