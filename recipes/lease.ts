import { EventEmitter } from 'node:events';
import {
  AbortedError, ClientClosedError, NoNodeError, SessionExpiredError,
  type Client, type SessionState, type Stat, type WatchEvent,
} from '../core/index.js';
import { LeaseLostError } from './errors.js';
import { OwnWatch } from './internal/own-watch.js';
import { isConnectionLoss } from './internal/wait.js';

export interface LeaseEvents {
  /** The session is suspended: the lease may be lost (another holder may appear once the session expires). */
  suspended: [];
  /** Back from `suspended` with the same session, and the znode verified as still ours. */
  reconnected: [];
  /** The lease is gone: session expired, znode deleted, or it no longer belongs to this session. */
  lost: [Error];
}

/**
 * What a lock, semaphore or election grants: the znode held, its fencing token, and an
 * AbortSignal that fires the moment the grant is lost. Connection trouble is never
 * hidden: `suspended` (and `inDoubt`) while the session is cut off, `lost` (and the
 * signal) once it is known to be gone.
 *
 * A guarded resource should remember the highest `token` it has accepted and reject any
 * request carrying a lower one: a holder that was paused past its session's expiry then
 * gets rejected instead of overwriting the new holder's work.
 *
 * @example
 * const lease = await new Mutex(zk, '/locks/db').acquire({ timeoutMs: 5000 });
 * try { await db.write(row, { fence: lease.token, signal: lease.signal }); }
 * finally { await lease.release(); }
 */
export class Lease extends EventEmitter<LeaseEvents> {
  /** The held znode. */
  readonly path: string;
  /** Fencing token: the czxid of the znode; later grants get strictly higher tokens. */
  readonly token: number;
  /** The session that owns the znode. */
  readonly sessionId: string;
  /** Made when `signal` is first read: most leases are given back without anyone listening. */
  private controller: AbortController | null = null;
  /** Why the lease ended: the loss, or (made when first needed) AbortedError for a release. */
  private reason: Error | null = null;
  private doubt = false;
  private ended = false;
  private releasing: Promise<void> | null = null;
  /** The watch on our znode, so a deletion by anyone (an operator, a reaper) is reported. */
  private watch: OwnWatch | null = null;
  private readonly onState = (s: SessionState): void => this.stateChanged(s);

  /**
   * @internal Recipes create leases; users get them from `acquire()` and friends. `watch`:
   * a watch on the znode already armed (while waiting for the grant), taken over as is.
   */
  constructor(readonly zk: Client, node: { path: string; token: number }, private readonly releaser: () => Promise<void>, watch?: OwnWatch) {
    super();
    this.path = node.path;
    this.token = node.token;
    this.sessionId = zk.sessionId;
    zk.on('state', this.onState);
    if (zk.state === 'suspended') this.doubt = true;
    if (watch && watch.path === this.path) this.adopt(watch);
    // Else armed on the next turn of the event loop: a lease given back in the turn that
    // granted it (a critical section that awaits no I/O) never needed its watch, and skips
    // the read and subscription. A deletion before then is seen by the read that arms it.
    else {
      setImmediate(() => {
        if (!this.ended && !this.watch) this.adopt(new OwnWatch(zk, this.path));
      });
    }
  }

  /** Aborted when the lease is lost or released; its `reason` says which. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended) this.controller.abort(this.endReason());
    }
    return this.controller.signal;
  }

  /** True while the session is suspended: the lease may already belong to someone else. */
  get inDoubt(): boolean {
    return this.doubt && !this.ended;
  }

  /** True until the lease is released or lost. */
  get held(): boolean {
    return !this.ended;
  }

  /**
   * Gives the lease up (deletes its znode). Idempotent; never throws for a lost lease. If
   * the store refuses the delete (Redis out of memory: StoreFullError), the lease still ends
   * at once (its signal aborts) but the znode stays, so the grant is not passed on: call
   * `release()` again to retry, or close the client (its ephemerals go with the session).
   */
  release(): Promise<void> {
    this.releasing ??= (async () => {
      this.end(null, false);
      try {
        await this.releaser();
      } catch (err) {
        this.releasing = null;
        throw err;
      }
    })();
    return this.releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** @internal Marks the lease lost (recipes call it when they learn so themselves). */
  lose(err: Error): void {
    this.end(err, true);
  }

  /** `reason` null: released. */
  private end(reason: Error | null, lost: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    this.zk.off('state', this.onState);
    this.controller?.abort(this.endReason());
    if (lost) this.emit('lost', reason!);
  }

  private endReason(): Error {
    return (this.reason ??= new AbortedError('Lease released'));
  }

  private stateChanged(s: SessionState): void {
    if (this.ended) return;
    if (s === 'suspended') {
      this.doubt = true;
      this.emit('suspended');
    } else if (s === 'reconnected') {
      void this.verify();
    } else if (s === 'expired') {
      this.lose(new SessionExpiredError('Session expired: the lease is lost', this.path));
    } else if (s === 'closed') {
      this.lose(new ClientClosedError());
    }
  }

  /** After a reconnect: the znode must still exist, be the same one, and be ours. */
  private async verify(): Promise<void> {
    try {
      let stat: Stat;
      const w = this.watch;
      if (w && w.stat && !w.fired) {
        // The watch stays armed across the outage (it fires if the znode went): just look.
        stat = (await this.zk.getChildren(this.path, { limit: 1 })).stat;
      } else {
        const fresh = new OwnWatch(this.zk, this.path);
        this.adopt(fresh);
        stat = await fresh.armed;
      }
      if (this.ended) return;
      if (stat.czxid !== this.token || stat.ephemeralOwner !== this.sessionId) {
        this.lose(new LeaseLostError('znode no longer owned by this session after reconnect', this.path));
        return;
      }
      this.doubt = false;
      this.emit('reconnected');
    } catch (err) {
      if (this.ended) return;
      if (err instanceof NoNodeError) this.lose(new LeaseLostError('znode gone after reconnect', this.path));
      // Still cut off: stay in doubt; the next `reconnected` verifies again.
      else if (!isConnectionLoss(err)) this.lose(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Takes `w` as the watch on our znode: its firing, or its read finding the znode gone or replaced, loses the lease. */
  private adopt(w: OwnWatch): void {
    this.watch = w;
    w.onFire((ev) => this.nodeChanged(ev, w));
    w.armed.then(
      (stat) => {
        if (!this.ended && this.watch === w && stat.czxid !== this.token) this.lose(new LeaseLostError('znode deleted', this.path));
      },
      (err) => {
        if (this.ended || this.watch !== w || isConnectionLoss(err)) return; // verify() runs after the reconnect
        this.lose(err instanceof NoNodeError ? new LeaseLostError('znode deleted', this.path) : err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private nodeChanged(ev: WatchEvent, w: OwnWatch): void {
    if (this.ended) return;
    if (ev.type === 'deleted') this.lose(new LeaseLostError('znode deleted', this.path));
    else if (w === this.watch) this.adopt(new OwnWatch(this.zk, this.path)); // a resync, say: watch again
  }
}
