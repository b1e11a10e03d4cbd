import { InvalidPathError } from './errors.js';

/**
 * Checks a znode path against ZooKeeper's rules and throws {@link InvalidPathError}
 * naming the rule it breaks. With `sequential`, a trailing `/` is allowed, because the
 * backend appends the 10-digit suffix (`create('/q/', …)` makes `/q/0000000007`).
 *
 * @example validatePath('/app/tasks') // ok
 * @example validatePath('/app/')      // throws InvalidPathError (trailing slash)
 */
export function validatePath(path: unknown, sequential = false): asserts path is string {
  if (typeof path !== 'string') throw new InvalidPathError(`expected a string, got ${describe(path)}`);
  if (path.length === 0) throw new InvalidPathError('empty path', path);
  if (path[0] !== '/') throw new InvalidPathError('must start with /', path);
  const checked = sequential ? path + '1' : path;
  if (checked.length === 1) return; // the root
  if (checked.endsWith('/')) throw new InvalidPathError('must not end with /', path);
  for (let i = 0; i < checked.length; i++) {
    const c = checked.charCodeAt(i);
    if (c === 0) throw new InvalidPathError(`NUL character at index ${i}`, printable(path));
    if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)) {
      throw new InvalidPathError(`control character U+${hex(c)} at index ${i}`, printable(path));
    }
    if ((c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      throw new InvalidPathError(`character U+${hex(c)} not allowed at index ${i}`, printable(path));
    }
  }
  const segments = checked.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === '') throw new InvalidPathError('empty segment', path);
    if (s === '.' || s === '..') throw new InvalidPathError(`relative segment "${s}"`, path);
  }
}

/** The parent of a valid path (`/a/b` → `/a`, `/a` → `/`). The root has no parent. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a valid path (`/a/b` → `b`, `/` → ``). */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a parent path and a child name (`/`, `a` → `/a`). */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** True if `path` is `root` or lies below it. */
export function isWithin(path: string, root: string): boolean {
  if (root === '/') return true;
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 47 /* / */);
}

/** Formats a sequence number as ZooKeeper does: 10 digits, zero-padded. */
export function sequenceSuffix(n: number): string {
  return String(n).padStart(10, '0');
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

function printable(path: string): string {
  return JSON.stringify(path);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
