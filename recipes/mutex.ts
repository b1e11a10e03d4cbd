import { AsyncLocalStorage } from 'node:async_hooks';
import { type Client, type Data } from '../core/index.js';
import { checkClient, checkFn, checkOpts, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { contend, predecessor } from './internal/contend.js';
import { releaseExclusive } from './internal/protected.js';
import { Lease } from './lease.js';

export interface MutexOptions {
  /**
   * When true, the lock is re-entrant within one async call chain, as Curator's
   * InterProcessMutex is within one thread: inside `withLock(fn)`, any `acquire()` or
   * `withLock()` of this Mutex made by `fn` — directly or through the functions it awaits —
   * returns the held lease at once (a count goes up; the znode goes with the last
   * release). Callers outside that chain, even sharing this Mutex object, wait their turn.
   * Work that `fn` starts counts as inside the chain. A lease from a bare `acquire()`
   * opens no chain: hold a re-entrant mutex with `withLock` to re-enter it.
   * Default false: every acquire waits its turn like any other contender.
   *
   * @example
   * const config = new Mutex(zk, '/locks/config', { reentrant: true });
   * const save = () => config.withLock(async () => write());     // re-enters when called under the lock
   * await config.withLock(async () => { await save(); await save(); });
   */
  reentrant?: boolean;
  /** Data stored in the lock znode (e.g. who holds it, for operators). */
  data?: Data;
}

/** A re-entrant hold: the lease and how many nested holds share it. */
interface Hold {
  lease: Lease;
  count: number;
}

/** The re-entrant mutexes the current async call chain holds (entered by `withLock`). */
const chain = new AsyncLocalStorage<ReadonlyMap<Mutex, Hold>>();

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
  /** Hold counts of this Mutex's re-entrant leases. */
  private readonly holds = new WeakMap<Lease, Hold>();

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
    const mine = this.reentrant ? chain.getStore()?.get(this) : undefined;
    if (mine && mine.lease.held) {
      mine.count++;
      return mine.lease;
    }
    const node = await contend(this.zk, {
      dir: this.path, prefix: 'lock-', prefixes: ['lock-'], data: this.data, wait,
      what: `Mutex ${this.path} acquire`, blocker: predecessor, watchOwn: true, exclusiveReleases: true,
    });
    const lease: Lease = new Lease(this.zk, { path: node.path, token: node.stat.czxid }, () => releaseExclusive(this.zk, node.path), node.watch);
    if (this.reentrant) {
      const hold: Hold = { lease, count: 1 };
      this.holds.set(lease, hold);
      const release = lease.release.bind(lease);
      // Re-entrant: only the last of the nested releases lets go of the znode.
      lease.release = () => (--hold.count > 0 ? Promise.resolve() : release());
    }
    return lease;
  }

  /**
   * Number of nested holds of a re-entrant Mutex by the calling async chain (0 outside a
   * `withLock` of this Mutex, or once its lease is gone).
   */
  get holdCount(): number {
    const mine = chain.getStore()?.get(this);
    return mine && mine.lease.held ? mine.count : 0;
  }

  /**
   * Runs `fn` holding the lock and releases it however `fn` ends. `fn` gets the lease:
   * pass `lease.signal` to the work so it stops if the lock is lost.
   */
  async withLock<T>(fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    checkFn(fn, 'Mutex.withLock');
    const lease = await this.acquire(options);
    try {
      const hold = this.holds.get(lease);
      const holds = chain.getStore();
      // A first hold of a re-entrant mutex opens a chain: what fn awaits may re-enter it.
      if (!hold || holds?.get(this) === hold) return await fn(lease);
      return await chain.run(new Map(holds).set(this, hold), () => fn(lease));
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
