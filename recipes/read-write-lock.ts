import type { Client } from '../core/index.js';
import { checkClient, checkFn, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { contend, predecessor } from './internal/contend.js';
import { deleteOwn, releaseExclusive, type Contender } from './internal/protected.js';
import { Lease } from './lease.js';

const READ = 'read-';
const WRITE = 'write-';

/**
 * A distributed read–write lock (ZooKeeper's shared-lock recipe, Curator's
 * InterProcessReadWriteLock): any number of readers, or one writer. Readers and writers
 * queue in one line under `path`, in arrival order: a reader waits only for the last
 * writer queued before it, a writer for its immediate predecessor. A writer that arrived
 * first is never overtaken by later readers (no writer starvation).
 *
 * @example
 * const rw = new ReadWriteLock(zk, '/locks/catalog');
 * await rw.withRead(async (lease) => readCatalog(lease.signal));
 * await rw.withWrite(async (lease) => rewriteCatalog(lease.token));
 */
export class ReadWriteLock {
  readonly path: string;
  private readonly zk: Client;

  constructor(zk: Client, path: string) {
    this.zk = checkClient(zk, 'ReadWriteLock');
    this.path = checkRecipePath(path, 'ReadWriteLock');
  }

  /** Acquires a shared (read) lease. */
  acquireRead(options?: WaitOptions): Promise<Lease> {
    return this.acquire(READ, options, lastWriterBefore);
  }

  /** Acquires the exclusive (write) lease. */
  acquireWrite(options?: WaitOptions): Promise<Lease> {
    return this.acquire(WRITE, options, predecessor);
  }

  async withRead<T>(fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    // Checked before acquiring, as Mutex.withLock does: no lock taken for a call that cannot run.
    checkFn(fn, 'ReadWriteLock.withRead');
    return using(await this.acquireRead(options), fn);
  }

  async withWrite<T>(fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    checkFn(fn, 'ReadWriteLock.withWrite');
    return using(await this.acquireWrite(options), fn);
  }

  private async acquire(prefix: string, options: WaitOptions | undefined, blocker: (l: Contender[], i: number) => Contender | null): Promise<Lease> {
    const wait = checkWait(options, `ReadWriteLock.acquire${prefix === READ ? 'Read' : 'Write'}`);
    const node = await contend(this.zk, {
      dir: this.path, prefix, prefixes: [READ, WRITE], wait,
      what: `ReadWriteLock ${this.path} ${prefix === READ ? 'read' : 'write'}`, blocker, watchOwn: true, exclusiveReleases: true,
    });
    // A writer holds alone, so its release is marked (waiters behind it need not re-read); readers share.
    const release = prefix === WRITE ? releaseExclusive : deleteOwn;
    return new Lease(this.zk, { path: node.path, token: node.stat.czxid }, () => release(this.zk, node.path), node.watch);
  }
}

/** A reader waits only for the nearest writer queued before it. */
function lastWriterBefore(list: Contender[], mine: number): Contender | null {
  for (let i = mine - 1; i >= 0; i--) if (list[i].prefix === WRITE) return list[i];
  return null;
}

async function using<T>(lease: Lease, fn: (lease: Lease) => Promise<T> | T): Promise<T> {
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}
