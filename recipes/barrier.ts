import { NodeExistsError, NoNodeError, parentOf, type Client } from '../core/index.js';
import { checkClient, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { ensureDir } from './internal/protected.js';
import { joinWatch } from './internal/shared-watch.js';
import { isConnectionLoss, untilConnected, waitWake } from './internal/wait.js';

/**
 * A barrier (Curator's DistributedBarrier): while the barrier znode exists, `wait()`
 * blocks; `remove()` lets every waiter through. Each waiter watches only the barrier
 * znode (every waiter must be woken, so that one event each is the minimum).
 *
 * @example
 * const b = new Barrier(zk, '/barriers/deploy');
 * await b.set();                 // coordinator
 * await b.wait({ timeoutMs });   // workers block here
 * await b.remove();              // coordinator: go
 */
export class Barrier {
  readonly path: string;
  private readonly zk: Client;

  constructor(zk: Client, path: string) {
    this.zk = checkClient(zk, 'Barrier');
    this.path = checkRecipePath(path, 'Barrier');
  }

  /** Raises the barrier (idempotent). */
  async set(): Promise<void> {
    await ensureDir(this.zk, parentOf(this.path));
    try {
      await this.zk.create(this.path);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }

  /** Lowers the barrier (idempotent). */
  async remove(): Promise<void> {
    try {
      await this.zk.delete(this.path);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** Resolves once the barrier is down (at once if it is). */
  async wait(options?: WaitOptions): Promise<void> {
    const wait = checkWait(options, 'Barrier.wait');
    const what = `Barrier ${this.path} wait`;
    for (;;) {
      const joined: Array<() => void> = [];
      try {
        let gone = false;
        await waitWake(this.zk, wait, what, async (wake) => {
          const watch = joinWatch(this.zk, this.path, 'data', wake);
          joined.push(watch.leave);
          const stat = await this.zk.exists(this.path, { watch: watch.watcher });
          gone = stat === null;
          return gone;
        });
        if (gone) return;
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
        await untilConnected(this.zk, wait, what);
      } finally {
        for (const leave of joined) leave();
      }
    }
  }
}
