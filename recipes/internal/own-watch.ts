import type { Client, Stat, WatchEvent } from '../../core/index.js';

/**
 * A one-shot child watch on a znode of our own. Our znodes here are ephemeral, so they
 * have no children and the watch fires only when the znode goes (a data change is not
 * even delivered); a znode already gone arms nothing (the read fails with NoNodeError).
 *
 * A contender arms one while it waits (see contend.ts) and hands it to its Lease, which
 * would otherwise arm the same watch itself once granted.
 */
export class OwnWatch {
  /** The event that fired the watch, once it has (it fires at most once). */
  fired: WatchEvent | null = null;
  /** The arming read: the znode's Stat; rejects if it failed (NoNodeError: already gone). */
  readonly armed: Promise<Stat>;
  /** The Stat the arming read saw, once it succeeded. */
  stat: Stat | null = null;
  private target: ((ev: WatchEvent) => void) | null = null;
  private firedWaiters: Array<() => void> = [];

  constructor(zk: Client, readonly path: string) {
    this.armed = zk.getChildren(path, { watch: (ev) => this.fire(ev), limit: 1 }).then((r) => (this.stat = r.stat));
    this.armed.catch(() => undefined); // whoever cares looks at it
  }

  /**
   * True if this client knows, without a read, that our znode (czxid `token`) still
   * exists: the watch was armed on it and has not fired. Sound at the moment another
   * watch's event is handled: events reach a client in zxid order, so a deletion of our
   * znode that came before that event has already fired this watch.
   */
  intact(token: number): boolean {
    return this.stat !== null && this.stat.czxid === token && this.fired === null;
  }

  /** Passes the event that fires the watch to `fn`: now if it already fired. */
  onFire(fn: (ev: WatchEvent) => void): void {
    this.target = fn;
    if (this.fired) fn(this.fired);
  }

  /**
   * Resolves once the watch has fired, or after `ms`, or at once if it was never armed:
   * an attempt that deleted its znode can wait for its watch to be gone with it.
   */
  async firedWithin(ms: number): Promise<void> {
    try {
      await this.armed;
    } catch {
      return;
    }
    if (this.fired) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.firedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private fire(ev: WatchEvent): void {
    if (this.fired) return;
    this.fired = ev;
    for (const w of this.firedWaiters.splice(0)) w();
    this.target?.(ev);
  }
}
