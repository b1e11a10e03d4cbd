import type { WatchEvent } from './types.js';

const TYPE_BIT: Record<WatchEvent['type'], number> = { created: 1, deleted: 2, dataChanged: 4, childrenChanged: 8 };

/**
 * A persistent watch as an async iterator: events queue up until the consumer takes
 * them, so a slow consumer holds up no one else. `close()` (or leaving a `for await`
 * loop) removes the watch.
 *
 * @example
 * const w = zk.watch('/app', { recursive: true });
 * await w.ready;
 * for await (const ev of w) console.log(ev.type, ev.path);
 */
export class WatchStream implements AsyncIterableIterator<WatchEvent> {
  /** Resolves once the watch is armed: every later write under it will be reported. */
  readonly ready: Promise<void>;
  /** Events not yet taken, from `head` on (a queue without shift()'s O(n) on a burst of 500). */
  private buffer: WatchEvent[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private failure: unknown = null;
  /** Dedupe state: the highest zxid delivered and the events already delivered at it (path → type bits). */
  private lastZxid = 0;
  private readonly atLast = new Map<string, number>();
  /** Events at or before this zxid happened before the watch was armed. */
  private from = 0;

  constructor(
    readonly path: string,
    readonly recursive: boolean,
    arm: (stream: WatchStream) => Promise<void>,
    private readonly onClose: (stream: WatchStream) => void,
    /** True if the writes of the client's own session are not reported (`ignoreOwnWrites`). */
    readonly ignoreOwn = false,
    /** True if events carry the data their write wrote to the znode (`includeData`). */
    readonly includeData = false,
  ) {
    this.ready = arm(this);
    this.ready.catch((err) => this.fail(err));
  }

  /** Hands an event to the consumer unless it was already delivered (replay and live can overlap). */
  offer(ev: WatchEvent): void {
    if (this.ended) return;
    if (!ev.resync) {
      if (ev.zxid <= this.from) return;
      if (ev.zxid < this.lastZxid) return;
      const bit = TYPE_BIT[ev.type];
      if (ev.zxid > this.lastZxid) {
        this.lastZxid = ev.zxid;
        this.atLast.clear();
        this.atLast.set(ev.path, bit);
      } else {
        const seen = this.atLast.get(ev.path) ?? 0;
        if (seen & bit) return;
        this.atLast.set(ev.path, seen | bit);
      }
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: ev, done: false });
    } else {
      this.buffer.push(ev);
    }
  }

  /**
   * Takes every event queued now, without waiting ([] when none is). For consumers that
   * handle bursts in one go: a multi of 500 creates is 500 events, and awaiting each one
   * costs more than handling it. A failure still surfaces through `next()`.
   *
   * @example
   * for await (const ev of w) {
   *   handle(ev);
   *   for (const more of w.drain()) handle(more);
   * }
   */
  drain(): WatchEvent[] {
    if (this.head >= this.buffer.length) return [];
    const out = this.head === 0 ? this.buffer : this.buffer.slice(this.head);
    this.buffer = [];
    this.head = 0;
    return out;
  }

  /** The zxid up to which this stream has delivered. */
  get deliveredZxid(): number {
    return this.lastZxid;
  }

  /** Sets the starting point: events at or before `zxid` are not delivered. */
  startAt(zxid: number): void {
    this.from = Math.max(this.from, zxid);
  }

  /** Ends the stream with an error (e.g. SessionExpiredError); the consumer's loop throws it. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = err;
    this.finish();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.head < this.buffer.length) {
      const ev = this.buffer[this.head++];
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      }
      return Promise.resolve({ value: ev, done: false });
    }
    if (this.ended) {
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        return Promise.reject(f);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Removes the watch; a pending `next()` resolves as done. Safe to call twice. */
  close(): void {
    if (this.ended) return;
    this.finish();
  }

  get closed(): boolean {
    return this.ended;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    this.ended = true;
    this.onClose(this);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        w.reject(f);
      } else {
        w.resolve({ value: undefined, done: true });
      }
    }
  }
}
