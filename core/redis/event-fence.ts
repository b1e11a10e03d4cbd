import { ConnectionLossError } from '../errors.js';

/**
 * Watch events before the reads that reflect them (ZooKeeper's guarantee), although the
 * events come on one connection and the replies on another.
 *
 * Redis publishes a session's events on its own channel, one message per write, and notes
 * the zxid of the last message it sent the session; every call of the reads script returns
 * that zxid (and the zxid it read at). The messages arrive in publish order, so once the
 * last one a read was told of is in, every earlier one is too: a read waits here for that,
 * which is normally no wait at all (the message left Redis before the reply did).
 */
export class EventFence {
  /** Zxid of the last message received on the session's channel… */
  private received = 0;
  /** …and of the last one Redis said it sent (by the time of the latest reads call)… */
  private lastSent = 0;
  /** …as of this zxid (the latest a reads call ran at). */
  private sentAsOf = 0;
  private readonly waiters: Array<{ zxid: number; resolve(): void; reject(err: Error): void }> = [];

  /** The zxid the latest reads call ran at. */
  get readZxid(): number {
    return this.sentAsOf;
  }

  /** The zxid of the last message Redis said it sent the session. */
  get sent(): number {
    return this.lastSent;
  }

  /**
   * Takes a reads script reply's last two elements (the zxid it ran at, the zxid of the last
   * message sent to the session by then) off `reply`.
   */
  takeFrom(reply: unknown[]): void {
    const sent = Number(reply.pop());
    const asOf = Number(reply.pop());
    if (sent > this.lastSent) this.lastSent = sent;
    if (asOf > this.sentAsOf) this.sentAsOf = asOf;
  }

  /** A message of the session's channel came in. */
  arrived(zxid: number): void {
    if (zxid <= this.received) return;
    this.received = zxid;
    if (this.waiters.length > 0) this.release();
  }

  /**
   * After a reconnect: messages up to `zxid` were sent while the link was down and are lost
   * (the client's catch-up from the change log covers them), so no read may wait for them.
   */
  skipTo(zxid: number): void {
    this.arrived(zxid);
  }

  /**
   * Resolves once the last message the session was sent (by the time of the latest read) is
   * in; after `timeoutMs` rejects with ConnectionLossError and calls `onTimeout`.
   */
  wait(timeoutMs: number, onTimeout: () => void): Promise<void> {
    const wanted = this.lastSent;
    if (this.received >= wanted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new ConnectionLossError(`Redis did not deliver a watch event within ${timeoutMs} ms`));
        onTimeout();
      }, timeoutMs);
      const waiter = {
        zxid: wanted,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The events connection dropped or closed: what the waiting reads wait for is not coming. */
  fail(why: string): void {
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionLossError(why));
  }

  private release(): void {
    let i = 0;
    while (i < this.waiters.length) {
      const w = this.waiters[i];
      if (w.zxid <= this.received) {
        this.waiters.splice(i, 1);
        w.resolve();
      } else i++;
    }
  }
}
