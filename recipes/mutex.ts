import { type Client, type Data } from '../core/index.js';
import { checkClient, checkOpts, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { contend, predecessor } from './internal/contend.js';
import { deleteOwn } from './internal/protected.js';
import { Lease } from './lease.js';

export interface MutexOptions {
  /**
   * When true, `acquire()` on this Mutex object while it already holds the lock returns
   * at once (a count goes up; the znode goes on the last release), like Curator's
   * InterProcessMutex re-entering on one thread. Default false: a second acquire waits
   * its turn like any other contender.
   */
  reentrant?: boolean;
  /** Data stored in the lock znode (e.g. who holds it, for operators). */
  data?: Data;
}

/**
 * A distributed mutual-exclusion lock (ZooKeeper's lock recipe, Curator's
 * InterProcessMutex): contenders queue as ephemeral sequential znodes under `path`, each
 * watching only its predecessor, and get the lock in arrival order. A grant is a
 * {@link Lease}: fencing token, AbortSignal, `inDoubt`, events.
 *
 * @example
 * const m = new Mutex(zk, '/locks/db');
 * const lease = await m.acquire({ timeoutMs: 5000 });
 * try { await work(lease.token, lease.signal); } finally { await lease.release(); }
 *
 * await m.withLock(async (lease) => work(lease.token, lease.signal));
 *
 * { await using lease = await m.acquire(); … }   // released at the end of the block
 */
export class Mutex {
  readonly path: string;
  private readonly zk: Client;
  private readonly reentrant: boolean;
  private readonly data: Data | undefined;
  private held: { lease: Lease; count: number } | null = null;

  constructor(zk: Client, path: string, options?: MutexOptions) {
    this.zk = checkClient(zk, 'Mutex');
    this.path = checkRecipePath(path, 'Mutex');
    const o = checkOpts<MutexOptions>(options, 'Mutex');
    this.reentrant = o.reentrant === true;
    this.data = o.data;
  }

  /**
   * Waits for the lock. Rejects with TimeoutError or AbortedError (leaving no znode
   * behind), SessionExpiredError, or a typed error for bad options.
   */
  async acquire(options?: WaitOptions): Promise<Lease> {
    const wait = checkWait(options, 'Mutex.acquire');
    if (this.reentrant && this.held && this.held.lease.held) {
      const h = this.held;
      h.count++;
      return h.lease;
    }
    const node = await contend(this.zk, {
      dir: this.path, prefix: 'lock-', prefixes: ['lock-'], data: this.data, wait,
      what: `Mutex ${this.path} acquire`, blocker: predecessor,
    });
    const lease: Lease = new Lease(this.zk, { path: node.path, token: node.stat.czxid }, async () => {
      if (this.held?.lease === lease) this.held = null;
      await deleteOwn(this.zk, node.path);
    });
    if (this.reentrant) {
      const release = lease.release.bind(lease);
      // Re-entrant: only the last of the nested releases lets go of the znode.
      lease.release = () => {
        const h = this.held;
        if (h && h.lease === lease && --h.count > 0) return Promise.resolve();
        return release();
      };
      this.held = { lease, count: 1 };
    }
    return lease;
  }

  /** Number of nested holds of a re-entrant Mutex (0 when not held). */
  get holdCount(): number {
    return this.held && this.held.lease.held ? this.held.count : 0;
  }

  /**
   * Runs `fn` holding the lock and releases it however `fn` ends. `fn` gets the lease:
   * pass `lease.signal` to the work so it stops if the lock is lost.
   */
  async withLock<T>(fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('Expected `fn` to be a function');
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }
}

/**
 * Runs `fn` holding the mutex at `path`: `withLock(zk, '/locks/db', async (lease) => …)`.
 */
export function withLock<T>(zk: Client, path: string, fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
  return new Mutex(zk, path).withLock(fn, options);
}
