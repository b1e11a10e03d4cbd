import { randomUUID } from 'node:crypto';
import { BadArgumentsError, NodeExistsError, NoNodeError, joinPath, type Client } from '../core/index.js';
import { checkClient, checkCount, checkName, checkOpts, checkRecipePath, checkWait, type Wait, type WaitOptions } from './internal/args.js';
import { waitChange } from './internal/contend.js';
import { deleteOwn, ensureDir } from './internal/protected.js';
import { joinWatch } from './internal/shared-watch.js';
import { isConnectionLoss, untilConnected, waitWake } from './internal/wait.js';

const READY = '_ready';

/**
 * A double barrier (ZooKeeper's recipe, Curator's DistributedDoubleBarrier): `enter()`
 * blocks until `memberCount` members have entered, `leave()` until all of them have left.
 * Members are ephemeral znodes `<path>/<id>`; the member completing the quorum creates
 * `<path>/_ready`, which every waiter watches. On leave the lowest member waits for the
 * highest and every other member for the lowest, so a departure wakes one waiter.
 *
 * @example
 * const b = new DoubleBarrier(zk, '/barriers/round-7', 3);
 * await b.enter({ timeoutMs: 10_000 });
 * await compute();
 * await b.leave({ timeoutMs: 10_000 });
 */
export class DoubleBarrier {
  readonly path: string;
  readonly memberCount: number;
  readonly id: string;
  private readonly zk: Client;
  private readonly me: string;

  constructor(zk: Client, path: string, memberCount: number, options?: { id?: string }) {
    this.zk = checkClient(zk, 'DoubleBarrier');
    this.path = checkRecipePath(path, 'DoubleBarrier');
    this.memberCount = checkCount(memberCount, 'memberCount');
    const o = checkOpts<{ id: string }>(options, 'DoubleBarrier');
    this.id = o.id === undefined ? randomUUID() : checkName(o.id, 'id');
    if (this.id === READY) throw new BadArgumentsError(`\`id\` must not be "${READY}" (reserved)`);
    this.me = joinPath(this.path, this.id);
  }

  /** Enters; resolves once `memberCount` members are in. Timeout / abort withdraw our znode. */
  async enter(options?: WaitOptions): Promise<void> {
    const wait = checkWait(options, 'DoubleBarrier.enter');
    const what = `DoubleBarrier ${this.path} enter`;
    await ensureDir(this.zk, this.path);
    await this.retry(wait, what, async () => {
      try {
        await this.zk.create(this.me, undefined, { mode: 'ephemeral' });
      } catch (err) {
        const stat = err instanceof NodeExistsError ? await this.zk.exists(this.me) : null;
        if (!stat || stat.ephemeralOwner !== this.zk.sessionId) throw err;
      }
    });
    const ready = joinPath(this.path, READY);
    try {
      for (;;) {
        let open = false;
        const joined: Array<() => void> = [];
        try {
          await this.retry(wait, what, () => waitWake(this.zk, wait, what, async (wake) => {
            const watch = joinWatch(this.zk, ready, 'data', wake);
            joined.push(watch.leave);
            if (await this.zk.exists(ready, { watch: watch.watcher })) return (open = true);
            if ((await this.members()).length >= this.memberCount) {
              await this.zk.create(ready).catch((err) => {
                if (!(err instanceof NodeExistsError)) throw err;
              });
              return (open = true);
            }
            return false;
          }));
        } finally {
          for (const leave of joined) leave();
        }
        if (open) return;
      }
    } catch (err) {
      await deleteOwn(this.zk, this.me);
      throw err;
    }
  }

  /** Leaves; resolves once every member has left. */
  async leave(options?: WaitOptions): Promise<void> {
    const wait = checkWait(options, 'DoubleBarrier.leave');
    const what = `DoubleBarrier ${this.path} leave`;
    for (;;) {
      const done = await this.retry(wait, what, async () => {
        const members = await this.members();
        if (members.length === 0) return true;
        const mine = members.includes(this.id);
        if (members.length === 1 && mine) {
          await deleteOwn(this.zk, this.me);
          return true;
        }
        const lowest = members[0];
        const highest = members[members.length - 1];
        if (mine && lowest === this.id) {
          await waitChange(this.zk, [joinPath(this.path, highest)], wait, what);
        } else {
          if (mine) await deleteOwn(this.zk, this.me);
          await waitChange(this.zk, [joinPath(this.path, lowest)], wait, what);
        }
        return false;
      });
      if (done) break;
    }
    // The last one out takes the ready flag down, so the path can host another round.
    await this.zk.delete(joinPath(this.path, READY)).catch((err) => {
      if (!(err instanceof NoNodeError) && !isConnectionLoss(err)) throw err;
    });
  }

  private async members(): Promise<string[]> {
    const out: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.zk.getChildren(this.path, after === undefined ? { limit: 1000 } : { limit: 1000, after });
      for (const c of page.children) if (c !== READY) out.push(c);
      if (page.next === undefined) return out;
      after = page.next;
    }
  }

  private async retry<T>(wait: Wait, what: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
        await untilConnected(this.zk, wait, what);
      }
    }
  }
}
