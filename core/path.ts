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
  // A sequential path is checked as if its suffix were already there (a last segment
  // that is not empty, `.` or `..`). Checked in place: this runs for every path of every
  // call, so it builds no strings.
  const n = path.length;
  if (n === 1 && !sequential) return; // the root
  if (!sequential && path.charCodeAt(n - 1) === 47) throw new InvalidPathError('must not end with /', path);
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) throw new InvalidPathError(`NUL character at index ${i}`, printable(path));
    if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)) {
      throw new InvalidPathError(`control character U+${hex(c)} at index ${i}`, printable(path));
    }
    if ((c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      throw new InvalidPathError(`character U+${hex(c)} not allowed at index ${i}`, printable(path));
    }
  }
  let start = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && path.charCodeAt(i) !== 47) continue;
    const len = i - start;
    const last = i === n;
    if (!(last && sequential)) {
      if (len === 0) throw new InvalidPathError('empty segment', path);
      if (len <= 2 && path.charCodeAt(start) === 46 && (len === 1 || path.charCodeAt(start + 1) === 46)) {
        throw new InvalidPathError(`relative segment "${path.slice(start, i)}"`, path);
      }
    }
    start = i + 1;
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
