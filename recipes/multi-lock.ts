import { BadArgumentsError, type Client } from '../core/index.js';
import { LeaseLostError } from './errors.js';
import { checkClient, checkFn, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { checkNotOver } from './internal/wait.js';
import { Lease } from './lease.js';
import { Mutex } from './mutex.js';

/** What a {@link MultiLock} grants: one lease per path, released together. */
export interface MultiLease {
  /** The per-path leases, in the (sorted) order they were taken. */
  readonly leases: readonly Lease[];
  /** Highest fencing token of the set. */
  readonly token: number;
  /** Aborted as soon as any of the leases is lost. */
  readonly signal: AbortSignal;
  /** True while any lease is in doubt. */
  readonly inDoubt: boolean;
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Several mutexes taken as one (Curator's InterProcessMultiLock): all or none. Paths are
 * locked in sorted order, so two MultiLocks over overlapping sets cannot deadlock; if one
 * cannot be had in time, those already taken are released.
 *
 * @example
 * const ml = new MultiLock(zk, ['/locks/acct-1', '/locks/acct-2']);
 * await ml.withLock(async ({ signal }) => transfer(signal));
 */
export class MultiLock {
  readonly paths: readonly string[];
  private readonly mutexes: Mutex[];

  constructor(zk: Client, paths: readonly string[]) {
    checkClient(zk, 'MultiLock');
    if (!Array.isArray(paths) || paths.length === 0) throw new BadArgumentsError('Expected `paths` to be a non-empty array of znode paths');
    const sorted = [...new Set(paths.map((p) => checkRecipePath(p, 'MultiLock')))].sort();
    this.paths = sorted;
    this.mutexes = sorted.map((p) => new Mutex(zk, p));
  }

  async acquire(options?: WaitOptions): Promise<MultiLease> {
    const wait = checkWait(options, 'MultiLock.acquire');
    const taken: Lease[] = [];
    try {
      for (const m of this.mutexes) {
        checkNotOver(wait, 'MultiLock.acquire');
        const remaining = wait.deadline === Infinity ? undefined : Math.max(0, wait.deadline - performance.now());
        taken.push(await m.acquire({ timeoutMs: remaining, signal: wait.signal }));
        if (taken.some((l) => !l.held)) throw new LeaseLostError('a lease was lost while taking the others');
      }
    } catch (err) {
      await Promise.all(taken.map((l) => l.release()));
      throw err;
    }
    const signal = AbortSignal.any(taken.map((l) => l.signal));
    const release = async (): Promise<void> => {
      await Promise.all(taken.map((l) => l.release()));
    };
    return {
      leases: taken,
      token: Math.max(...taken.map((l) => l.token)),
      signal,
      get inDoubt() {
        return taken.some((l) => l.inDoubt);
      },
      release,
      [Symbol.asyncDispose]: release,
    };
  }

  async withLock<T>(fn: (lease: MultiLease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    checkFn(fn, 'MultiLock.withLock');
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }
}
