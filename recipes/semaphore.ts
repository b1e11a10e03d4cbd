import { joinPath, type Client, type Data } from '../core/index.js';
import { checkClient, checkCount, checkFn, checkOpts, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { contend, predecessor } from './internal/contend.js';
import { createProtected, deleteOwn, listContenders } from './internal/protected.js';
import { joinWatch } from './internal/shared-watch.js';
import { isConnectionLoss, untilConnected, waitWake } from './internal/wait.js';
import { Lease } from './lease.js';

/**
 * A counting semaphore with `maxLeases` leases shared by every process using `path`
 * (Curator's InterProcessSemaphoreV2). Waiters queue on an internal fair lock
 * (`<path>/locks`); only the head of that queue watches the lease list
 * (`<path>/leases`), so a returned lease wakes exactly one waiter, and leases are handed
 * out in arrival order. A lease is an ephemeral znode: a crashed holder's lease returns
 * when its session expires.
 *
 * All users of one path must agree on `maxLeases` (it is not stored).
 *
 * @example
 * const sem = new Semaphore(zk, '/sem/db-connections', 5);
 * await sem.withLease(async (lease) => query(lease.signal), { timeoutMs: 2000 });
 */
export class Semaphore {
  readonly path: string;
  readonly maxLeases: number;
  private readonly zk: Client;
  private readonly data: Data | undefined;

  constructor(zk: Client, path: string, maxLeases: number, options?: { data?: Data }) {
    this.zk = checkClient(zk, 'Semaphore');
    this.path = checkRecipePath(path, 'Semaphore');
    this.maxLeases = checkCount(maxLeases, 'maxLeases');
    this.data = checkOpts<{ data: Data }>(options, 'Semaphore').data;
  }

  /** Waits for a lease. Timeout / abort leave nothing behind. */
  async acquire(options?: WaitOptions): Promise<Lease> {
    const wait = checkWait(options, 'Semaphore.acquire');
    const what = `Semaphore ${this.path} acquire`;
    const leases = joinPath(this.path, 'leases');
    const gate = await contend(this.zk, {
      dir: joinPath(this.path, 'locks'), prefix: 'lock-', prefixes: ['lock-'], wait, what, blocker: predecessor,
    });
    try {
      for (;;) {
        const joined: Array<() => void> = [];
        try {
          let changed = false;
          let count: number;
          try {
            count = (await listContenders(this.zk, leases, ['lease-'])).length;
          } catch (err) {
            if ((err as { code?: number }).code !== -101) throw err;
            count = 0;
          }
          if (count < this.maxLeases) {
            const node = await createProtected(this.zk, leases, 'lease-', this.data, 'ephemeral_sequential', wait);
            return new Lease(this.zk, { path: node.path, token: node.stat.czxid }, () => deleteOwn(this.zk, node.path));
          }
          // Full: as head of the queue, wait for the lease list to change.
          await waitWake(this.zk, wait, what, async (w) => {
            const watch = joinWatch(this.zk, leases, 'children', () => {
              changed = true;
              w();
            });
            joined.push(watch.leave);
            await this.zk.getChildren(leases, { watch: watch.watcher, limit: 1 });
            // Re-count after arming the watch: a lease returned in between must not be missed.
            return changed || (await listContenders(this.zk, leases, ['lease-'])).length < this.maxLeases;
          });
        } catch (err) {
          if (!isConnectionLoss(err)) throw err;
          await untilConnected(this.zk, wait, what);
        } finally {
          for (const leave of joined) leave();
        }
      }
    } finally {
      await deleteOwn(this.zk, gate.path, wait);
    }
  }

  /** Runs `fn` holding a lease; always returns it. */
  async withLease<T>(fn: (lease: Lease) => Promise<T> | T, options?: WaitOptions): Promise<T> {
    checkFn(fn, 'Semaphore.withLease');
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }
}
