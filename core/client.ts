import { EventEmitter } from 'node:events';
import type { Backend, BackendEvent, InterestKind } from './backend.js';
import { eventMatches } from './backend.js';
import {
  BadArgumentsError, ClientClosedError, ConnectionLossError, CorralError, RolledBackError,
  SessionExpiredError, StoreRolledBackError, SystemError, TimeoutError,
} from './errors.js';
import { Interests } from './interests.js';
import type { Logger } from './logger.js';
import type { OpInput } from './ops.js';
import { parentOf, validatePath } from './path.js';
import { SendOrder } from './send-order.js';
import type { CreateMode, Data, GetChildrenResult, GetDataResult, OpResult, ReadOp, ReadResult, SessionState, Stat, WatchEvent } from './types.js';
import { checkCreate, checkOp, checkOptions, checkPositiveInt, checkReadOp, checkVersion, toBytes } from './validate.js';
import { WatchRegistry, type OneShotKind, type Watcher } from './watch-registry.js';
import { WatchStream } from './watch-stream.js';

/** `true` delivers to the client's `watch` event; a function is called once with the event. */
export type WatchOption = boolean | ((ev: WatchEvent) => void);

/** Options of a read that can set a one-shot watch. */
export interface OneShotOptions {
  watch?: WatchOption;
  /**
   * The watch's event carries `data`: the data its write wrote to the znode (`created`,
   * `dataChanged`; `deleted` when the multi that deleted it set its data first), up to
   * 64 KiB. A watcher set twice on one path keeps what it first asked for.
   */
  includeData?: boolean;
}

export interface ClientSettings {
  namespace: string;
  sessionTimeoutMs: number;
  maxDataBytes: number;
  logger: Logger;
}

/** Properties added to the error a failed `multi` throws. */
export interface MultiFailure {
  /** Index of the op that failed. */
  opIndex: number;
  /** One entry per op: the failing op's error, RolledBackError for the others. */
  opResults: CorralError[];
}

export interface ClientEvents {
  state: [SessionState];
  watch: [WatchEvent];
  rolledBack: [StoreRolledBackError];
}

/**
 * A session with the znode service. Get one with `connect()`.
 *
 * Ops complete in the order they were issued; a watch event is always delivered before
 * any read result that reflects the change behind it. While the link is down ops fail
 * fast with ConnectionLossError (retryable); once the session has expired every op fails
 * with SessionExpiredError and a new client is needed, as in ZooKeeper.
 */
export class Client extends EventEmitter<ClientEvents> {
  /** The session id, as the backend knows it (the `ephemeralOwner` of this client's ephemerals). */
  sessionId = '';
  private currentState: SessionState | 'connecting' = 'connecting';
  private readonly registry = new WatchRegistry();
  private readonly interests: Interests;
  private readonly streams = new Set<WatchStream>();
  /** `streams` as an array, for dispatch (iterating a Set made garbage per event and stream). */
  private streamList: WatchStream[] = [];
  /** Streams being armed: events that arrived meanwhile, and the lowest zxid of this client's writes issued after the watch call. */
  private readonly arming = new Map<WatchStream, { pending: BackendEvent[]; ownFloor: number; issuedAt: number }>();
  /** Count of writes issued, so a write can be placed before or after a `watch()` call. */
  private issued = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** Calls reach the backend in the order they were made (FIFO client order). */
  private readonly order = new SendOrder();
  private timer: NodeJS.Timeout | null = null;
  /** While suspended: fires when the session must have expired on the backend too. */
  private expiryTimer: NodeJS.Timeout | null = null;
  private lastContact = 0;
  /** When the last heartbeat was sent. */
  private lastBeat = 0;
  /** Highest zxid seen in any reply: the store must never be behind it. */
  private seenZxid = 0;
  /** Every event with zxid ≤ this has been received (what catch-up starts from). */
  private safeZxid = 0;
  private recovering: BackendEvent[] | null = null;
  /**
   * Set when the store went back in time and lost writes this client saw: the last zxid
   * its history shares with the store's. Until the next recovery has resynced the watches,
   * no catch-up may replay the store's log as if it were what this client saw.
   */
  private lostAfter: number | null = null;
  private beating = false;
  private closing: Promise<void> | null = null;
  private readonly defaultWatcher: Watcher = (ev) => this.notify('watch', ev);

  constructor(readonly backend: Backend, readonly settings: ClientSettings) {
    super();
    this.interests = new Interests(backend, (err) => this.settings.logger.warn({ err }, 'withdrawing watch interest failed'));
    backend.onEvent((ev) => this.receive(ev));
    backend.onLink((up) => (up ? this.onLinkUp() : this.suspend()));
  }

  /** The session's state now. */
  get state(): SessionState | 'connecting' {
    return this.currentState;
  }

  /** The session timeout the backend enforces. */
  get sessionTimeoutMs(): number {
    return this.settings.sessionTimeoutMs;
  }

  /** @internal Called by connect(): opens the backend and starts the session. */
  async start(): Promise<void> {
    await this.backend.open();
    const sent = performance.now();
    const { sessionId, zxid } = await this.backend.createSession(this.settings.sessionTimeoutMs);
    this.sessionId = sessionId;
    this.seenZxid = this.safeZxid = zxid;
    this.lastContact = this.lastBeat = sent;
    this.setState('connected');
    this.scheduleBeat();
  }

  // ---- writes -------------------------------------------------------------------------

  /**
   * Creates a znode; returns its path (with the 10-digit suffix for sequential modes).
   * @example await zk.create('/app/tasks/task-', '{"n":1}', { mode: 'persistent_sequential' })
   */
  create(path: string, data?: Data, options?: { mode?: CreateMode; ttlMs?: number }): Promise<string> {
    return this.createWithStat(path, data, options).then((r) => r.path);
  }

  /** Like `create`, also returning the new znode's Stat (its czxid is a fencing token). */
  createWithStat(path: string, data?: Data, options?: { mode?: CreateMode; ttlMs?: number }): Promise<{ path: string; stat: Stat }> {
    return this.call(async (t) => {
      const o = checkOptions<{ mode: CreateMode; ttlMs: number }>(options, 'create');
      const c = checkCreate(path, data, o, this.settings.maxDataBytes);
      const seq = ++this.issued;
      const r = await this.inTurn(t, () => this.backend.create(this.sessionId, c.path, c.data, c.mode, c.ttlMs));
      this.wrote(r.zxid, seq);
      return { path: r.path, stat: r.stat };
    });
  }

  /** Deletes a znode if its version matches (`-1`, the default, matches any). */
  delete(path: string, version = -1): Promise<void> {
    return this.call(async (t) => {
      validatePath(path);
      const v = checkVersion(version, path);
      const seq = ++this.issued;
      const r = await this.inTurn(t, () => this.backend.delete(this.sessionId, path, v));
      this.wrote(r.zxid, seq);
    });
  }

  /** Replaces a znode's data if its version matches; returns the new Stat. */
  setData(path: string, data: Data, version = -1): Promise<Stat> {
    return this.call(async (t) => {
      validatePath(path);
      const bytes = toBytes(data, this.settings.maxDataBytes, path, true);
      const v = checkVersion(version, path);
      const seq = ++this.issued;
      const r = await this.inTurn(t, () => this.backend.setData(this.sessionId, path, bytes, v));
      this.wrote(r.zxid, seq);
      return r.stat;
    });
  }

  /**
   * Runs ops as one all-or-nothing write. On failure it throws the failing op's error,
   * with `opIndex` and `opResults` (see {@link MultiFailure}).
   * @example await zk.multi([op.check('/cfg', 3), op.setData('/cfg', 'v2'), op.create('/log/e-', 'x', { mode: 'persistent_sequential' })])
   */
  multi(ops: readonly OpInput[]): Promise<OpResult[]> {
    return this.call(async (t) => {
      if (!Array.isArray(ops)) throw new BadArgumentsError(`Expected multi ops to be an array, got ${ops === null ? 'null' : typeof ops}`);
      const checked = ops.map((o) => checkOp(o, this.settings.maxDataBytes));
      const seq = ++this.issued;
      const reply = await this.inTurn(t, () => this.backend.multi(this.sessionId, checked));
      if (reply.ok) {
        this.wrote(reply.zxid, seq);
        return reply.results;
      }
      const err = reply.error;
      if (err instanceof SessionExpiredError) throw err;
      const opResults = checked.map((o, i) => (i === reply.failedIndex ? err : new RolledBackError(o.path)));
      throw Object.assign(err, { opIndex: reply.failedIndex, opResults } satisfies MultiFailure);
    });
  }

  // ---- reads --------------------------------------------------------------------------

  /**
   * The znode's Stat, or null if it does not exist. A watch set here fires on the
   * znode's creation, data change or deletion.
   */
  exists(path: string, options?: OneShotOptions): Promise<Stat | null> {
    return this.call(async (t) => {
      validatePath(path);
      const w = this.watcherOf(options);
      const mark = w ? await this.prepare(path, interestOf('data', w.data)) : 0;
      let armed = false;
      try {
        const r = await this.inTurn(t, () => this.backend.exists(path));
        this.saw(r.zxid);
        armed = true;
        if (w) this.arm('data', path, w, r.zxid, mark, r.stat !== null);
        await this.flush(r.zxid);
        return r.stat;
      } catch (err) {
        // Once armed, the watch is registered: a failure after that (the flush) leaves it be.
        if (w && !armed) this.disarm(path, interestOf('data', w.data));
        throw err;
      }
    });
  }

  /** The znode's data and Stat. A watch set here fires on data change or deletion. */
  getData(path: string, options?: OneShotOptions): Promise<GetDataResult> {
    return this.call(async (t) => {
      validatePath(path);
      const w = this.watcherOf(options);
      const mark = w ? await this.prepare(path, interestOf('data', w.data)) : 0;
      let armed = false;
      try {
        const r = await this.inTurn(t, () => this.backend.getData(path));
        this.saw(r.zxid);
        armed = true;
        if (w) this.arm('data', path, w, r.zxid, mark);
        await this.flush(r.zxid);
        return { data: r.data, stat: r.stat };
      } catch (err) {
        // Once armed, the watch is registered: a failure after that (the flush) leaves it be.
        if (w && !armed) this.disarm(path, interestOf('data', w.data));
        throw err;
      }
    });
  }

  /**
   * The znode's child names, sorted, and its Stat. A watch set here fires when a child is
   * created or deleted, or the znode itself is deleted. Pass `limit` (and `after`, the
   * previous page's `next`) to page through very large child lists.
   */
  getChildren(path: string, options?: OneShotOptions & { limit?: number; after?: string }): Promise<GetChildrenResult> {
    return this.call(async (t) => {
      validatePath(path);
      const o = checkOptions<{ watch: WatchOption; includeData: boolean; limit: number; after: string }>(options, 'getChildren');
      const page = o.limit !== undefined || o.after !== undefined
        ? { limit: o.limit === undefined ? undefined : checkPositiveInt(o.limit, 'limit'), after: checkAfter(o.after) }
        : undefined;
      const w = this.watcherOf(options);
      const mark = w ? await this.prepare(path, interestOf('child', w.data)) : 0;
      let armed = false;
      try {
        const r = await this.inTurn(t, () => this.backend.getChildren(path, page));
        this.saw(r.zxid);
        armed = true;
        if (w) this.arm('child', path, w, r.zxid, mark);
        await this.flush(r.zxid);
        return r.next === undefined ? { children: r.children, stat: r.stat } : { children: r.children, stat: r.stat, next: r.next };
      } catch (err) {
        // Once armed, the watch is registered: a failure after that (the flush) leaves it be.
        if (w && !armed) this.disarm(path, interestOf('child', w.data));
        throw err;
      }
    });
  }

  /**
   * Many reads in one round trip, as ZooKeeper 3.6's `multiRead`: results come in op order,
   * all read at one point of the total order; each read gets its own value or its own error
   * (a missing znode gets `{ type: 'error', error: NoNodeError }` in its slot, the others
   * still succeed). Sets no watches. Like every read, its results come after the watch
   * events of the changes they reflect.
   * @example
   * const [cfg, kids] = await zk.multiRead([op.getData('/app/config'), op.getChildren('/app/workers')]);
   * if (cfg.type === 'getData') console.log(cfg.data.toString(), kids);
   */
  multiRead(ops: readonly ReadOp[]): Promise<ReadResult[]> {
    return this.call(async (t) => {
      if (!Array.isArray(ops)) throw new BadArgumentsError(`Expected multiRead ops to be an array, got ${ops === null ? 'null' : typeof ops}`);
      const checked = ops.map(checkReadOp);
      if (checked.length === 0) return [];
      const r = await this.inTurn(t, () => this.backend.multiRead(checked));
      this.saw(r.zxid);
      await this.flush(r.zxid);
      return r.results;
    });
  }

  /** Waits until every write acknowledged before this call is visible to this client. */
  sync(path = '/'): Promise<void> {
    return this.call(async (t) => {
      validatePath(path);
      const r = await this.inTurn(t, () => this.backend.sync(path));
      this.saw(r.zxid);
      await this.flush(r.zxid);
    });
  }

  /**
   * A persistent watch: every change to `path` (and with `recursive`, to every znode below
   * it) from the moment of the call on, as an async iterator. Non-recursive watches report
   * created / deleted / dataChanged / childrenChanged of the path; recursive ones report
   * created / deleted / dataChanged of the subtree (never childrenChanged), as ZooKeeper 3.6+.
   *
   * With `ignoreOwnWrites`, the writes this client's session makes (its multis, and the
   * containers they empty) are not reported, and the backend does not even send them: a
   * component that tracks its own writes from their replies (the framework's master and
   * workers) pays nothing for their echo. ZooKeeper has no such option; MQTT 5's "No Local"
   * is the same idea. After a reconnect, events replayed from the change log carry no
   * writer, so an own write the client could not see live may then be reported.
   *
   * With `includeData`, `created` and `dataChanged` events carry `data`: the znode's data
   * as that write left it, sent with the event, so a consumer that needs it (a queue's
   * consumer, a cache) makes no read per event — as etcd's watch sends values (`deleted`
   * carries it too when the multi that deleted the znode set its data first). It is
   * absent from events the client replays from the change log after a reconnect (and from
   * resyncs), and when the data is over 64 KiB: then read the znode as without the option.
   *
   * @example
   * for await (const ev of zk.watch('/app/config', { recursive: true })) reload(ev.path);
   * for await (const ev of zk.watch('/jobs', { recursive: true, includeData: true })) {
   *   if (ev.type === 'created') run(ev.data ?? (await zk.getData(ev.path)).data);
   * }
   */
  watch(path: string, options?: { recursive?: boolean; ignoreOwnWrites?: boolean; includeData?: boolean }): WatchStream {
    this.usable();
    validatePath(path);
    const o = checkOptions<{ recursive: boolean; ignoreOwnWrites: boolean; includeData: boolean }>(options, 'watch');
    for (const k of ['recursive', 'ignoreOwnWrites', 'includeData'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new BadArgumentsError(`Expected \`${k}\` to be a boolean`);
    }
    const recursive = o.recursive === true;
    const issuedAt = this.issued;
    return new WatchStream(path, recursive, (s) => this.armStream(s, issuedAt), (s) => this.dropStream(s), o.ignoreOwnWrites === true, o.includeData === true);
  }

  /** Resolves when the session is connected (now or after a reconnect); rejects on expiry, close or timeout. */
  whenConnected(timeoutMs = this.settings.sessionTimeoutMs): Promise<void> {
    if (this.currentState === 'connected' || this.currentState === 'reconnected') return Promise.resolve();
    if (this.currentState === 'expired') return Promise.reject(new SessionExpiredError());
    if (this.currentState === 'closed') return Promise.reject(new ClientClosedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new TimeoutError(`Not reconnected within ${timeoutMs} ms`)), timeoutMs);
      const onState = (s: SessionState) => {
        if (s === 'reconnected' || s === 'connected') done();
        else if (s === 'expired') done(new SessionExpiredError());
        else if (s === 'closed') done(new ClientClosedError());
      };
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.off('state', onState);
        if (err) reject(err); else resolve();
      };
      this.on('state', onState);
    });
  }

  /** Ends the session (its ephemerals go) and the connection. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals: op plumbing ------------------------------------------------------

  /** Runs an op and hands out its result only after every earlier op's result (issue order). */
  private call<T>(fn: (ticket: number) => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      this.usable();
      const ticket = this.order.take();
      p = fn(ticket).catch((err) => {
        throw this.failed(err);
      });
      // A call that failed before it sent must not hold back the ones made after it. This
      // also marks `p` handled now: it is only chained once the earlier ops settle, and a
      // later op failing before an earlier one completes is no unhandled rejection.
      const done = () => this.order.done(ticket);
      p.then(done, done);
    } catch (err) {
      p = Promise.reject(err);
      // Refused at once (closed, suspended, expired) while an earlier op is still in flight:
      // handled only when that one settles, so mark it handled now or Node kills the process.
      p.catch(noop);
    }
    // A caller that never yields to the event loop (a loop of awaits on the embedded store
    // completes in microtasks) would starve the heartbeat timer: beat from here when one is due.
    if (performance.now() - this.lastBeat >= this.beatInterval()) void this.beat();
    const prev = this.tail;
    const out = prev.then(() => p);
    this.tail = out.then(noop, noop);
    return out;
  }

  private usable(): void {
    switch (this.currentState) {
      case 'closed': throw new ClientClosedError();
      case 'expired': throw new SessionExpiredError();
      case 'suspended': throw new ConnectionLossError('Connection lost; the session is suspended until it reconnects');
      case 'connecting': throw new ConnectionLossError('Not connected yet');
      default:
        if (this.closing) throw new ClientClosedError();
        if (this.recovering) throw new ConnectionLossError('Reconnecting; catching up on missed events');
    }
  }

  private failed(err: unknown): unknown {
    if (err instanceof SessionExpiredError) {
      this.expire();
      return err;
    }
    if (err instanceof ConnectionLossError) {
      this.suspend();
      return err;
    }
    if (err instanceof CorralError) return err;
    return new SystemError(`Backend failure: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  private saw(zxid: number): void {
    if (zxid > this.seenZxid) this.seenZxid = zxid;
  }

  /** A write of this client completed: streams armed before it was issued must report it. */
  private wrote(zxid: number, seq: number): void {
    this.saw(zxid);
    for (const a of this.arming.values()) if (seq > a.issuedAt && zxid < a.ownFloor) a.ownFloor = zxid;
  }

  private async flush(zxid: number): Promise<void> {
    if (this.interests.size > 0 && zxid > this.safeZxid) {
      await this.backend.flushEvents(zxid);
      if (zxid > this.safeZxid) this.safeZxid = zxid;
    }
  }

  // ---- internals: watches ----------------------------------------------------------

  /** The watch a read asks for: its watcher and whether its event is to carry data. */
  private watcherOf(options: unknown): { watcher: Watcher; data: boolean } | undefined {
    const o = checkOptions<{ watch: WatchOption; includeData: boolean }>(options, 'read');
    if (o.includeData !== undefined && typeof o.includeData !== 'boolean') throw new BadArgumentsError('Expected `includeData` to be a boolean');
    const data = o.includeData === true;
    if (o.watch === undefined || o.watch === false) return undefined;
    if (o.watch === true) return { watcher: this.defaultWatcher, data };
    if (typeof o.watch === 'function') return { watcher: o.watch as Watcher, data };
    throw new BadArgumentsError(`Expected \`watch\` to be a boolean or a function, got ${typeof o.watch}`);
  }

  /**
   * Sends `send()` in the call's turn (see SendOrder): at once unless an earlier call has yet
   * to send. Returns the backend's own promise when it can, adding no step between its reply
   * and the caller (the bookkeeping of a write, `wrote()`, must not fall behind a watch
   * being armed meanwhile).
   */
  private inTurn<R>(ticket: number, send: () => Promise<R>): Promise<R> {
    const turn = this.order.turn(ticket);
    if (turn === null) {
      const pending = send();
      this.order.done(ticket);
      return pending;
    }
    return turn.then(() => {
      const pending = send();
      this.order.done(ticket);
      return pending;
    });
  }

  /**
   * Declares interest before the read, so no event can slip between the read and the watch
   * (only for a read that sets one: a plain read must not wait a microtask here, or a call
   * made after it could be sent first). A backend may take a round trip for it (Redis sends
   * the registration with the read itself); reads made after this one prepare meanwhile
   * too, and every call is still sent in order (inTurn).
   */
  private async prepare(path: string, kind: InterestKind): Promise<number> {
    const mark = this.registry.beginArm();
    try {
      await this.interests.acquire(path, kind);
    } catch (err) {
      this.registry.cancelArm();
      throw err;
    }
    return mark;
  }

  /** The read that was to arm a watch failed after prepare(): undo what prepare() did. */
  private disarm(path: string, kind: InterestKind): void {
    this.registry.cancelArm();
    this.interests.release(path, kind);
  }

  private arm(kind: OneShotKind, path: string, w: { watcher: Watcher; data: boolean }, zxid: number, mark: number, existed = true): void {
    const r = this.registry.add(kind, path, w.watcher, zxid, mark, existed, w.data);
    if (!r.added || r.firedBy) this.interests.release(path, interestOf(kind, w.data));
    if (r.firedBy) this.deliver(w.watcher, oneShotEvent(r.firedBy, w.data));
  }

  private receive(ev: BackendEvent): void {
    if (this.currentState === 'closed' || this.currentState === 'expired') return;
    if (this.recovering) {
      this.recovering.push(ev);
      return;
    }
    this.dispatch(ev);
  }

  private dispatch(ev: BackendEvent): void {
    // Events arrive in zxid order, but one write's events may arrive apart: only the
    // writes before this one are known to be complete.
    if (ev.zxid - 1 > this.safeZxid) this.safeZxid = ev.zxid - 1;
    this.saw(ev.zxid);
    const { fired, withData, released } = this.registry.trigger(ev);
    if (released.length > 0) for (const [path, kind, data] of released) this.interests.release(path, interestOf(kind, data));
    if (fired.length > 0) {
      const event: WatchEvent = { type: ev.type, path: ev.path, zxid: ev.zxid };
      for (const w of fired) this.deliver(w, withData?.has(w) ? oneShotEvent(ev, true) : event);
    }
    const streams = this.streamList;
    let dataGiven = false;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i];
      if (!streamWants(s, ev)) continue;
      const arming = this.arming.get(s);
      if (arming) {
        arming.pending.push(ev);
        continue;
      }
      // Each stream its own event object (and data): a consumer may keep or change what it
      // gets. The first stream given data takes the backend's buffer, the others a copy.
      const withData = s.includeData && ev.data !== undefined;
      s.offer(streamEvent(s, ev, dataGiven));
      dataGiven ||= withData;
    }
  }

  /**
   * Emits to each listener on its own, so one that throws (or rejects) neither stops the
   * others nor breaks the session machinery that emitted (EventEmitter would do both).
   */
  private notify<K extends keyof ClientEvents>(event: K, arg: ClientEvents[K][0]): void {
    for (const listener of this.rawListeners(event) as Array<(a: unknown) => unknown>) {
      try {
        const r = listener.call(this, arg);
        if (r instanceof Promise) r.catch((err) => this.settings.logger.error({ err, event }, 'listener rejected'));
      } catch (err) {
        this.settings.logger.error({ err, event }, 'listener threw');
      }
    }
  }

  /** Calls a watcher so that a throwing or async one cannot break delivery to the others. */
  private deliver(w: Watcher, ev: WatchEvent): void {
    try {
      const r = w(ev) as unknown;
      if (r instanceof Promise) r.catch((err) => this.settings.logger.error({ err, path: ev.path }, 'watcher rejected'));
    } catch (err) {
      this.settings.logger.error({ err, path: ev.path }, 'watcher threw');
    }
  }

  /**
   * Arms a persistent watch. It reports every write after the point where the backend
   * armed it (the zxid of a sync made once the interest is in place), plus this client's
   * own writes issued after the `watch()` call, replayed from the change log if they
   * overtook the arming — as ZooKeeper orders a client's addWatch before its later writes.
   * Writes that completed before the call are never reported.
   */
  private async armStream(s: WatchStream, issuedAt: number): Promise<void> {
    this.streams.add(s);
    this.streamList = [...this.streams];
    const arming = { pending: [] as BackendEvent[], ownFloor: Infinity, issuedAt };
    this.arming.set(s, arming);
    try {
      await Promise.all(streamKinds(s).map((k) => this.interests.acquire(s.path, k)));
      // Own writes sent before the sync may reply in the same socket read as it: their
      // zxids (wrote() lowers ownFloor) must be in before the start is chosen.
      const sentBefore = this.tail;
      const { zxid } = await this.backend.sync(s.path);
      await sentBefore;
      this.saw(zxid);
      // Own writes that overtook the arming are replayed, unless the stream ignores them.
      const start = s.ignoreOwn ? zxid : Math.min(zxid, arming.ownFloor - 1);
      s.startAt(start);
      if (start < zxid) {
        const seen = this.seenZxid;
        const missed = await this.backend.changesSince(start, seen);
        if (missed === null || !Array.isArray(missed)) {
          s.offer({ type: 'dataChanged', path: s.path, zxid, resync: true });
          // The store lost writes this client saw: resync every other watch too, now.
          if (missed !== null) this.historyLost(missed.zxid, seen, missed.rolledBackAt, true);
        } else for (const ev of missed) if (ev.zxid <= zxid && streamWants(s, ev)) s.offer({ type: ev.type, path: ev.path, zxid: ev.zxid });
      }
    } finally {
      this.arming.delete(s);
      for (const ev of arming.pending) s.offer(streamEvent(s, ev, true));
    }
  }

  private dropStream(s: WatchStream): void {
    if (!this.streams.delete(s)) return;
    this.streamList = [...this.streams];
    this.arming.delete(s);
    if (this.currentState === 'closed' || this.currentState === 'expired') return;
    for (const k of streamKinds(s)) this.interests.release(s.path, k);
  }

  // ---- internals: session ------------------------------------------------------------

  private setState(s: SessionState): void {
    if (this.currentState === s) return;
    this.currentState = s;
    this.settings.logger.debug({ sessionId: this.sessionId, state: s }, 'session state');
    this.notify('state', s);
  }

  private scheduleBeat(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beat(), this.beatInterval());
    this.timer.unref();
  }

  /** Heartbeat at a third of the timeout; while suspended, retry often so a short outage ends quickly. */
  private beatInterval(): number {
    const t = this.settings.sessionTimeoutMs;
    return Math.max(this.currentState === 'suspended' ? Math.min(Math.floor(t / 10), 200) : Math.floor(t / 3), 5);
  }

  private async beat(): Promise<void> {
    if (this.beating || this.currentState === 'closed' || this.currentState === 'expired' || this.closing) return;
    this.beating = true;
    try {
      // A silent link (partition, frozen server) never answers: without a deadline the
      // beat would wait forever and the session would never be seen as suspended/expired.
      // The backend moved the deadline when it ran the beat, at or after this moment: counting
      // from here, the client never believes in a session the backend has already expired.
      const sent = performance.now();
      this.lastBeat = sent;
      // What the client had seen when it sent the beat: the store answered after that, so
      // it must be at least there. Events seen meanwhile (on the events link, which can run
      // ahead of this reply) prove nothing about the store having gone back.
      const seen = this.seenZxid;
      const r = await withDeadline(this.backend.touchSession(this.sessionId, seen), Math.max(Math.floor(this.settings.sessionTimeoutMs / 3), 20));
      this.lastContact = sent;
      // Behind what this client saw, or past it on another history (others wrote since the
      // store went back): either way writes it saw are gone.
      const shared = r.rolledBackAt ?? (r.zxid < seen ? r.zxid : undefined);
      if (shared !== undefined) this.historyLost(r.zxid, seen, shared, false);
      this.saw(r.zxid);
      if (this.currentState === 'suspended' || this.lostAfter !== null) await this.recover();
    } catch (err) {
      if (err instanceof SessionExpiredError) {
        // The store went back in time and lost this session with it: say so first.
        if (err.cause instanceof StoreRolledBackError) this.notifyRollback(err.cause);
        this.expire();
      } else {
        this.suspend();
        if (performance.now() - this.lastContact >= this.settings.sessionTimeoutMs) this.expire();
      }
    } finally {
      this.beating = false;
      if (this.alive) this.scheduleBeat();
    }
  }

  private get alive(): boolean {
    const s: string = this.currentState;
    return s !== 'closed' && s !== 'expired' && !this.closing;
  }

  private suspend(): void {
    if (this.currentState !== 'connected' && this.currentState !== 'reconnected') return;
    this.setState('suspended');
    this.scheduleBeat();
    this.armExpiry();
  }

  /**
   * Expires the session locally once the timeout has passed since the last heartbeat the
   * backend answered, as Curator reports LOST: waiting for a beat to fail would add up to
   * a third of the timeout, during which a lock holder would still believe in its lease
   * although the backend may have handed it on.
   */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.currentState !== 'suspended') return;
    const left = this.lastContact + this.settings.sessionTimeoutMs - performance.now();
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.currentState !== 'suspended') return;
      if (performance.now() - this.lastContact >= this.settings.sessionTimeoutMs) this.expire();
      else this.armExpiry(); // a beat got through meanwhile and recovery is under way
    }, Math.max(left, 0));
    this.expiryTimer.unref();
  }

  private onLinkUp(): void {
    if (this.currentState === 'suspended') {
      if (this.timer) clearTimeout(this.timer);
      void this.beat();
    }
  }

  /**
   * Same session, link back: fire every watch whose node changed meanwhile, keep the rest.
   * Also run (while connected) after the store was found to have lost writes this client
   * saw: then the watches are resynced from the store as it is, never caught up from its log.
   */
  private async recover(): Promise<void> {
    const resumed = this.currentState === 'suspended';
    this.recovering = [];
    try {
      if (this.registry.size > 0 || this.streams.size > 0) {
        if (this.lostAfter === null) {
          const seen = this.seenZxid;
          const missed = await this.backend.changesSince(this.safeZxid, seen);
          if (missed !== null && !Array.isArray(missed)) this.historyLost(missed.zxid, seen, missed.rolledBackAt, false);
          else if (missed) for (const ev of missed) this.dispatch(ev);
          else await this.recheckWatches();
        }
        if (this.lostAfter !== null) {
          // Where the store is now: every change up to here shows in the Stats read below,
          // later ones come as events (the interests are in place).
          const { zxid } = await this.backend.sync('/');
          this.saw(zxid);
          await this.recheckWatches(this.lostAfter);
          if (zxid > this.safeZxid) this.safeZxid = zxid;
        }
      }
      this.lostAfter = null;
    } catch (err) {
      // Still unreachable: stay suspended and try again on the next beat.
      const held = this.recovering;
      this.recovering = null;
      for (const ev of held) this.dispatch(ev);
      if (err instanceof SessionExpiredError) this.expire();
      return;
    }
    const held = this.recovering;
    this.recovering = null;
    for (const ev of held) this.dispatch(ev);
    if (!resumed) return;
    this.setState('reconnected');
    this.currentState = 'connected';
  }

  /**
   * The change log no longer reaches back: compare each watched znode with what its watch
   * saw, and fire (flagged `resync`) every watch whose znode changed or may have; the
   * others stay armed. A watcher set on a path as both data and child watch fires once.
   * `lostAfter`: the store lost the writes after this zxid that this client saw. A watch
   * armed after it saw a state the store no longer has, which no Stat can be compared with:
   * it fires (`deleted` if its znode is gone or is another one now) unless its znode was and
   * still is absent with nothing created under its parent since.
   */
  private async recheckWatches(lostAfter?: number): Promise<void> {
    const stats = new Map<string, Stat | null>();
    const statOf = async (path: string): Promise<Stat | null> => {
      if (!stats.has(path)) {
        const r = await this.backend.exists(path);
        this.saw(r.zxid);
        stats.set(path, r.stat);
      }
      return stats.get(path)!;
    };
    const fired = new Map<string, Set<Watcher>>();
    for (const w of this.registry.armed()) {
      const type = lostAfter !== undefined && w.zxid > lostAfter ? await this.lostChange(w, statOf, lostAfter) : await this.missedChange(w, statOf);
      if (!type) continue;
      this.registry.remove(w.kind, w.path, w.watcher);
      this.interests.release(w.path, interestOf(w.kind, w.data));
      const done = fired.get(w.path) ?? new Set<Watcher>();
      fired.set(w.path, done);
      if (done.has(w.watcher)) continue;
      done.add(w.watcher);
      this.deliver(w.watcher, { type, path: w.path, zxid: this.seenZxid, resync: true });
    }
    for (const s of this.streams) s.offer({ type: 'dataChanged', path: s.path, zxid: this.seenZxid, resync: true });
  }

  /** The first event a watch armed at `zxid` would have seen, judged from Stats; null if none. */
  private async missedChange(
    w: { kind: OneShotKind; path: string; zxid: number; existed: boolean },
    statOf: (path: string) => Promise<Stat | null>,
  ): Promise<WatchEvent['type'] | null> {
    const stat = await statOf(w.path);
    if (w.kind === 'child') {
      if (!stat || stat.czxid > w.zxid) return 'deleted';
      return stat.pzxid > w.zxid ? 'childrenChanged' : null;
    }
    if (w.existed) {
      if (!stat || stat.czxid > w.zxid) return 'deleted';
      return stat.mzxid > w.zxid ? 'dataChanged' : null;
    }
    if (stat) return 'created';
    // Missing then and now: it may have come and gone, which moves the parent's pzxid.
    if (w.path === '/') return null;
    const parent = await statOf(parentOf(w.path));
    return !parent || parent.pzxid > w.zxid ? 'created' : null;
  }

  /** The event of a watch armed on a state the store lost (see recheckWatches); null if none. */
  private async lostChange(
    w: { kind: OneShotKind; path: string; zxid: number; existed: boolean },
    statOf: (path: string) => Promise<Stat | null>,
    lostAfter: number,
  ): Promise<WatchEvent['type'] | null> {
    const stat = await statOf(w.path);
    if (w.kind === 'data' && !w.existed) return stat ? 'created' : this.missedChange({ ...w, zxid: lostAfter }, statOf);
    // A znode created since the shared zxid is not the one the watch saw (sequential names
    // come from the parent's cversion, which went back too: they are handed out again).
    if (!stat || stat.czxid > lostAfter) return 'deleted';
    return w.kind === 'child' ? 'childrenChanged' : 'dataChanged';
  }

  /**
   * The store lost writes this client saw (`seenZxid` is not in its history; `shared` is
   * the last zxid the two share): report it, and take the store's history from `shared` on.
   * Watches are resynced by the next recovery (`now`: start one at once).
   */
  private historyLost(serverZxid: number, seenZxid: number, shared: number, now: boolean): void {
    this.reportRollback(serverZxid, seenZxid);
    // What this client saw after `shared` is gone: a later heartbeat must not find it again.
    this.seenZxid = shared;
    if (this.safeZxid > shared) this.safeZxid = shared;
    this.lostAfter = this.lostAfter === null ? shared : Math.min(this.lostAfter, shared);
    if (now && !this.recovering) void this.beat();
  }

  private reportRollback(serverZxid: number, seenZxid: number): void {
    this.notifyRollback(new StoreRolledBackError(seenZxid, serverZxid));
  }

  private notifyRollback(err: StoreRolledBackError): void {
    this.settings.logger.error({ err, sessionId: this.sessionId }, 'STORE ROLLED BACK: acknowledged writes were lost by the backend');
    this.notify('rolledBack', err);
  }

  private expire(): void {
    if (this.currentState === 'expired' || this.currentState === 'closed') return;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.setState('expired');
    this.endWatches(new SessionExpiredError());
    // Best effort: if the backend can still be reached, make sure its ephemerals go now.
    this.backend.closeSession(this.sessionId).catch(noop);
  }

  private endWatches(err?: unknown): void {
    this.registry.clear();
    this.interests.clear();
    for (const s of [...this.streams]) (err ? s.fail(err) : s.close());
    this.streams.clear();
    this.streamList = [];
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.tail.catch(noop);
    const steps: Array<() => Promise<void>> = [];
    if (this.currentState !== 'expired' && this.sessionId) steps.push(() => this.backend.closeSession(this.sessionId));
    steps.push(() => this.backend.close());
    // Each step on its own: a failed session close must not leave the connection open.
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.settings.logger.debug({ err }, 'close step failed');
      }
    }
    this.endWatches();
    this.setState('closed');
  }
}

/** The backend interest a one-shot watch holds: per kind, with data or not. */
function interestOf(kind: OneShotKind, data: boolean): InterestKind {
  if (kind === 'data') return data ? 'node+data' : 'node';
  return data ? 'children+data' : 'children';
}

/** The event a one-shot watcher gets: with (its own copy of) the data when it asked and the event has some. */
function oneShotEvent(ev: WatchEvent | BackendEvent, data: boolean): WatchEvent {
  const out: WatchEvent = { type: ev.type, path: ev.path, zxid: ev.zxid };
  if ('resync' in ev && ev.resync) out.resync = true;
  if (data && ev.data) out.data = Buffer.from(ev.data);
  return out;
}

/** The event a stream gets: with the data when it asked and the event has some (`copy`: a copy of it). */
function streamEvent(s: WatchStream, ev: BackendEvent, copy: boolean): WatchEvent {
  if (!s.includeData || !ev.data) return { type: ev.type, path: ev.path, zxid: ev.zxid };
  return { type: ev.type, path: ev.path, zxid: ev.zxid, data: copy ? Buffer.from(ev.data) : ev.data };
}

function streamWants(s: WatchStream, ev: BackendEvent): boolean {
  if (s.ignoreOwn && ev.own === true) return false;
  return s.recursive ? eventMatches(ev, s.path, 'recursive') : eventMatches(ev, s.path, 'node') || eventMatches(ev, s.path, 'children');
}

/** The backend interests a persistent watch holds. */
function streamKinds(s: WatchStream): InterestKind[] {
  if (s.recursive) {
    if (s.includeData) return [s.ignoreOwn ? 'recursive-others+data' : 'recursive+data'];
    return [s.ignoreOwn ? 'recursive-others' : 'recursive'];
  }
  if (s.includeData) return s.ignoreOwn ? ['node-others+data', 'children-others'] : ['node+data', 'children'];
  return s.ignoreOwn ? ['node-others', 'children-others'] : ['node', 'children'];
}

function checkAfter(after: unknown): string | undefined {
  if (after === undefined) return undefined;
  if (typeof after !== 'string') throw new BadArgumentsError('Expected `after` to be a child name (string)');
  return after;
}

function noop(): void {}

/** Rejects with ConnectionLossError if `p` has not settled within `ms` (heartbeats on a silent link). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionLossError(`No reply from the backend within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}
