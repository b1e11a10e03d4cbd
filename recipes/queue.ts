import { randomUUID } from 'node:crypto';
import {
  BadArgumentsError, BadVersionError, NoNodeError, joinPath, op,
  type Client, type Data, type MultiFailure, type Stat,
} from '../core/index.js';
import { checkClient, checkRecipePath, checkWait, show, type Wait, type WaitOptions } from './internal/args.js';
import { contend, predecessor } from './internal/contend.js';
import { deleteOwn, ensureDir } from './internal/protected.js';
import { joinWatch } from './internal/shared-watch.js';
import { FOREVER, isConnectionLoss, untilConnected, waitWake } from './internal/wait.js';

/** An item taken from a queue: it has been removed, and nobody else got it. */
export interface QueueItem {
  data: Buffer;
  /** The znode it was stored in (now deleted). */
  path: string;
  stat: Stat;
}

const ITEM = 'item-';
/** How many head items one read looks at: the list is paged, never read whole. */
const PAGE = 64;
/**
 * How long an abandoned claim marker lives. It is needed only until its consumer learns
 * the outcome of its take, which happens within the session timeout (or the session is
 * gone); a consumer deletes its marker as soon as it knows.
 */
const CLAIM_TTL_MS = 10 * 60_000;

/**
 * The shared machinery of the FIFO, priority and delay queues (Curator's
 * DistributedQueue family). Items are persistent sequential znodes under `<path>/items`,
 * named so that lexical order is take order. A take deletes the item: a delete succeeds
 * for exactly one consumer, so two consumers never get the same item. Only the head of
 * the list is read (one page), so a queue of 100k items costs no more than a short one.
 *
 * A take is one `multi`: delete the item and create a claim marker
 * `<path>/claims/<attempt id>` (a TTL znode). If the reply is lost (ConnectionLossError)
 * the consumer waits for its session to come back and looks for its marker: there means
 * the item is its own, absent means the take did not happen. So a lost reply neither
 * loses the item nor hands it to two consumers (Curator's protected-mode idea).
 *
 * Consumers that find nothing to take queue up on a fair lock (`<path>/takers`); only its
 * holder watches the item list, so a put wakes one waiting consumer, not all of them.
 */
abstract class QueueBase {
  readonly path: string;
  protected readonly zk: Client;
  protected readonly items: string;
  private readonly takers: string;
  private readonly claims: string;

  constructor(zk: Client, path: string, what: string) {
    this.zk = checkClient(zk, what);
    this.path = checkRecipePath(path, what);
    this.items = joinPath(this.path, 'items');
    this.takers = joinPath(this.path, 'takers');
    this.claims = joinPath(this.path, 'claims');
  }

  protected async putNamed(key: string, data: Data | undefined): Promise<string> {
    const name = joinPath(this.items, `${ITEM}${key}`);
    for (;;) {
      try {
        return await this.zk.create(name, data, { mode: 'persistent_sequential' });
      } catch (err) {
        if (err instanceof NoNodeError) {
          await ensureDir(this.zk, this.items);
          continue;
        }
        throw err;
      }
    }
  }

  /** When the item named `name` may be taken (ms since epoch); 0 = now. */
  protected dueOf(_name: string): number {
    return 0;
  }

  /**
   * Takes the head item, waiting for one if the queue is empty. Rejects with
   * TimeoutError / AbortedError (taking nothing) or SessionExpiredError. If the reply of
   * the take itself is lost, it waits for the session to come back (at most the session
   * timeout, even past `timeoutMs`) to learn whether the item is its own.
   */
  async take(options?: WaitOptions): Promise<QueueItem> {
    const wait = checkWait(options, 'take');
    const what = `Queue ${this.path} take`;
    const first = await this.retry(wait, what, () => this.tryTake());
    if (first.item) return first.item;
    const gate = await contend(this.zk, {
      dir: this.takers, prefix: 'taker-', prefixes: ['taker-'], wait, what, blocker: predecessor,
    });
    try {
      for (;;) {
        const r = await this.retry(wait, what, () => this.tryTake());
        if (r.item) return r.item;
        let changed = false;
        const joined: Array<() => void> = [];
        try {
          await this.retry(wait, what, () => waitWake(this.zk, wait, what, async (w) => {
            if (r.nextDue > 0) {
              const t = setTimeout(w, Math.max(0, r.nextDue - Date.now()));
              t.unref?.();
            }
            const watch = joinWatch(this.zk, this.items, 'children', () => {
              changed = true;
              w();
            });
            joined.push(watch.leave);
            try {
              await this.zk.getChildren(this.items, { watch: watch.watcher, limit: 1 });
            } catch (err) {
              if (!(err instanceof NoNodeError)) throw err;
              await ensureDir(this.zk, this.items);
              return true;
            }
            // Re-check after arming: an item put in between must not be missed.
            return changed || (await this.peekNames()).some((n) => this.dueOf(n) <= Date.now());
          }));
        } finally {
          for (const leave of joined) leave();
        }
      }
    } finally {
      await deleteOwn(this.zk, gate.path, wait);
    }
  }

  /** Takes the head item if one is ready now; null otherwise. Never waits. */
  async poll(): Promise<QueueItem | null> {
    return (await this.tryTake()).item;
  }

  /** The head item without taking it (null if none is ready). */
  async peek(): Promise<{ data: Buffer; path: string; stat: Stat } | null> {
    for (const name of await this.peekNames()) {
      if (this.dueOf(name) > Date.now()) return null;
      const path = joinPath(this.items, name);
      try {
        const r = await this.zk.getData(path);
        return { data: r.data, path, stat: r.stat };
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
    return null;
  }

  /** Number of items (reads the child count from the stat, not the list). */
  async size(): Promise<number> {
    const stat = await this.zk.exists(this.items);
    return stat ? stat.numChildren : 0;
  }

  private async peekNames(): Promise<string[]> {
    try {
      return (await this.zk.getChildren(this.items, { limit: PAGE })).children;
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** Tries the head items in order; the first whose take succeeds is ours. */
  private async tryTake(): Promise<{ item: QueueItem | null; nextDue: number }> {
    for (;;) {
      const names = await this.peekNames();
      if (names.length === 0) return { item: null, nextDue: 0 };
      for (const name of names) {
        const due = this.dueOf(name);
        if (due > Date.now()) return { item: null, nextDue: due };
        const path = joinPath(this.items, name);
        let r: { data: Buffer; stat: Stat };
        try {
          r = await this.zk.getData(path);
        } catch (err) {
          if (err instanceof NoNodeError) continue; // taken by another consumer: try the next one
          throw err;
        }
        const outcome = await this.claim(path, name, r.stat.version);
        if (outcome === 'taken') return { item: { data: r.data, path, stat: r.stat }, nextDue: 0 };
        // A take whose reply was lost and did not happen: the item may still be the head.
        if (outcome === 'not applied') break;
      }
      // Every item of this page was taken under us (or our take did not happen): read the head again.
    }
  }

  /**
   * Deletes the item and creates a claim marker in one multi. 'gone': another consumer
   * took it (or it changed). On a lost reply the marker tells whether the multi applied;
   * learning that waits for the session to come back, past the caller's timeout if need
   * be (at most the session timeout): an item is never dropped for want of waiting.
   */
  private async claim(path: string, name: string, version: number): Promise<'taken' | 'gone' | 'not applied'> {
    const marker = joinPath(this.claims, randomUUID());
    const ops = [op.delete(path, version), op.create(marker, name, { mode: 'persistent_with_ttl', ttlMs: CLAIM_TTL_MS })];
    for (;;) {
      // A client that is not connected fails the call before sending it: that loss is
      // certain (nothing applied) and is the caller's to wait out, within its timeout.
      const sent = this.zk.state === 'connected' || this.zk.state === 'reconnected';
      try {
        await this.zk.multi(ops);
      } catch (err) {
        if (isConnectionLoss(err) && sent) return (await this.claimed(marker)) ? 'taken' : 'not applied';
        const at = (err as Partial<MultiFailure>).opIndex;
        if (at === 0 && (err instanceof NoNodeError || err instanceof BadVersionError)) return 'gone';
        if (at === 1 && err instanceof NoNodeError) {
          await ensureDir(this.zk, this.claims);
          continue;
        }
        throw err;
      }
      // Ours for sure: the marker has done its job. Not awaited (ops complete in order, and
      // if this delete is lost the TTL removes the marker).
      this.zk.delete(marker).catch(() => undefined);
      return 'taken';
    }
  }

  /** After a lost reply: whether our claim marker exists (the take applied); removes it. */
  private async claimed(marker: string): Promise<boolean> {
    for (;;) {
      try {
        await untilConnected(this.zk, FOREVER, `Queue ${this.path} take`);
        if (!(await this.zk.exists(marker))) return false;
        this.zk.delete(marker).catch(() => undefined);
        return true;
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
      }
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

/**
 * A FIFO queue: items are taken in the order they were put.
 * @example
 * const q = new DistributedQueue(zk, '/queues/emails');
 * await q.put(JSON.stringify({ to }));
 * const item = await q.take({ timeoutMs: 5000 });   // removed: no other consumer gets it
 */
export class DistributedQueue extends QueueBase {
  constructor(zk: Client, path: string) {
    super(zk, path, 'DistributedQueue');
  }

  /** Appends an item; returns its znode path. */
  put(data?: Data): Promise<string> {
    return this.putNamed('', data);
  }
}

const PRIORITY_OFFSET = 2 ** 31;

/**
 * A priority queue: lower `priority` numbers are taken first; equal priorities in FIFO
 * order. Priorities are integers from -2^31 to 2^31-1.
 * @example
 * const q = new PriorityQueue(zk, '/queues/jobs');
 * await q.put('urgent', -10);
 * await q.put('later', 5);
 * (await q.take()).data.toString();   // 'urgent'
 */
export class PriorityQueue extends QueueBase {
  constructor(zk: Client, path: string) {
    super(zk, path, 'PriorityQueue');
  }

  async put(data: Data | undefined, priority = 0): Promise<string> {
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < -PRIORITY_OFFSET || priority >= PRIORITY_OFFSET) {
      throw new BadArgumentsError(`Expected \`priority\` to be an integer from -2^31 to 2^31-1, got ${show(priority)}`);
    }
    return this.putNamed(`${String(priority + PRIORITY_OFFSET).padStart(10, '0')}-`, data);
  }
}

/**
 * A delay queue: an item becomes takeable `delayMs` after it was put (by the putting
 * client's clock: keep clocks in sync); items are taken in due order.
 * @example
 * const q = new DelayQueue(zk, '/queues/retries');
 * await q.put('retry job 7', 30_000);
 * await q.take();   // waits until it is due
 */
export class DelayQueue extends QueueBase {
  constructor(zk: Client, path: string) {
    super(zk, path, 'DelayQueue');
  }

  async put(data: Data | undefined, delayMs: number): Promise<string> {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new BadArgumentsError(`Expected \`delayMs\` to be a finite number ≥ 0, got ${show(delayMs)}`);
    }
    const due = Date.now() + Math.ceil(delayMs);
    return this.putNamed(`${String(due).padStart(15, '0')}-`, data);
  }

  protected override dueOf(name: string): number {
    return Number(name.slice(ITEM.length, ITEM.length + 15));
  }
}
