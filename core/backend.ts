import type { CreateMode, Op, OpResult, ReadOp, ReadResult, Stat, WatchEventType } from './types.js';
import type { CorralError } from './errors.js';

/**
 * The contract between the shared client layer and a store. A backend only stores and
 * orders; sessions' heartbeats, the watch registry, event dispatch and the ordering
 * guarantees live in the client (core/client.ts), so both backends behave alike.
 *
 * One Backend instance is one client's connection: `cut()`-style faults affect only it.
 * Errors are thrown as {@link CorralError} subclasses (see core/errors.ts); a lost
 * connection is a `ConnectionLossError`.
 */
export interface Backend {
  /** `memory` or `redis`, for logs and tests. */
  readonly kind: string;

  /** Connects; resolves once calls can be made. */
  open(): Promise<void>;
  /** Closes this connection (not the sessions: the client closes its session first). */
  close(): Promise<void>;

  /** Starts a session whose deadline the backend's own clock keeps. */
  createSession(timeoutMs: number): Promise<{ sessionId: string; zxid: number }>;
  /**
   * Heartbeat: moves the session's deadline to backend-now + timeout. Rejects with
   * SessionExpiredError when the session is gone (its `cause` a StoreRolledBackError when
   * the store lost writes the client saw, the session with them). Returns the backend's
   * last zxid, so the client can detect a store that went back in time. If that zxid is
   * behind `seenZxid` (the highest the client has seen), the backend raises its counter
   * past `seenZxid` so zxids (and fencing tokens) never go backwards, and still returns
   * the old value so the client can report the rollback. A backend that can lose writes also
   * checks that `seenZxid` is in its history when its counter has moved past it (others
   * wrote since it went back): if not, `rolledBackAt` is the last zxid the client's
   * history shares with the store's.
   */
  touchSession(sessionId: string, seenZxid?: number): Promise<{ zxid: number; rolledBackAt?: number }>;
  /**
   * Ends a session now, deleting its ephemerals in one write (one zxid, in path order;
   * no zxid is used when it had none). Idempotent.
   */
  closeSession(sessionId: string): Promise<void>;

  /** Every write checks `sessionId` first and fails with SessionExpiredError if it is not live. */
  create(sessionId: string, path: string, data: Uint8Array, mode: CreateMode, ttlMs?: number): Promise<{ path: string; stat: Stat; zxid: number }>;
  delete(sessionId: string, path: string, version: number): Promise<{ zxid: number }>;
  setData(sessionId: string, path: string, data: Uint8Array, version: number): Promise<{ stat: Stat; zxid: number }>;
  /**
   * All or nothing, one zxid for the whole (an empty multi uses none). Ops see the
   * effects of earlier ops of the same multi (create a parent then its child). On failure
   * nothing is applied. After any write, containers left without children (having had
   * some: cversion > 0) are deleted in the order they were emptied, each as its own write
   * with its own zxid; a deleted container's parent is then checked the same way.
   * TTL znodes with no children whose mtime + ttl has passed are deleted by the reaper,
   * one zxid each, in path order.
   */
  multi(sessionId: string, ops: Op[]): Promise<MultiReply>;

  /** Reads return the backend's last zxid at the time of the read (`zxid`). */
  exists(path: string): Promise<{ stat: Stat | null; zxid: number }>;
  getData(path: string): Promise<{ data: Buffer; stat: Stat; zxid: number }>;
  getChildren(path: string, page?: ChildrenPage): Promise<{ children: string[]; stat: Stat; next?: string; zxid: number }>;
  /**
   * Many reads in one round trip, all at one point of the total order (`zxid`): each gets
   * its value or its own error (NoNodeError for a missing znode), in op order.
   */
  multiRead(ops: ReadOp[]): Promise<{ results: ReadResult[]; zxid: number }>;
  /** Resolves once every write acknowledged before the call is visible to this connection. */
  sync(path: string): Promise<{ zxid: number }>;

  /**
   * Declares (on = true) or withdraws interest in events. The client calls this before
   * the read that arms a watch, so no event can fall between the read and the interest.
   * Calls are reference-counted by the client: the backend sees one `on` per (path, kind).
   */
  setInterest(path: string, kind: InterestKind, on: boolean): Promise<void>;
  /** Registers the single listener for events this connection has interest in. */
  onEvent(listener: (ev: BackendEvent) => void): void;
  /**
   * Resolves once every event with zxid ≤ `zxid` that matches this connection's interests
   * has been passed to the event listener. The client calls it before handing out a read
   * result, so watch events always come before the reads that reflect them.
   */
  flushEvents(zxid: number): Promise<void>;
  /**
   * Raw events with zxid > `zxid`, oldest first, for catching up after a reconnect; null
   * when the bounded change log no longer reaches back that far; {@link HistoryLost} when
   * `seenZxid` (the highest zxid the client has seen) is not in the store's history: the
   * events after `zxid` are then not the history the client saw.
   */
  changesSince(zxid: number, seenZxid?: number): Promise<BackendEvent[] | null | HistoryLost>;
  /** Registers the single listener for link changes (true = connected, false = lost). */
  onLink(listener: (up: boolean) => void): void;
}

/**
 * The store went back in time and lost writes the client saw (a Redis fail-over to a
 * lagging replica, a restart from an older snapshot), then went on from there.
 */
export interface HistoryLost {
  /** The last zxid the client's history shares with the store's. */
  rolledBackAt: number;
  /** The store's last zxid. */
  zxid: number;
}

/**
 * What a watch asks the backend for:
 * - `node`: created / deleted / dataChanged of exactly this path;
 * - `children`: childrenChanged and deleted of exactly this path;
 * - `recursive`: created / deleted / dataChanged of this path and every path below it;
 * - the same with `-others`: only events of other sessions' writes (a watch that ignores
 *   its own session's writes, so the backend need not send those at all);
 * - `node` and `recursive` kinds (with `-others` or not), and `children`, with `+data`:
 *   the same events, carrying the data their write wrote to the znode (see BackendEvent).
 */
export type InterestKind = PlainInterestKind | `${'node' | 'recursive'}${'' | '-others'}+data` | 'children+data';
type PlainInterestKind = BaseInterestKind | `${BaseInterestKind}-others`;
export type BaseInterestKind = 'node' | 'children' | 'recursive';

/**
 * What each interest kind matches events by, whether it ignores the session's own writes,
 * and whether it wants data: a table, not string tests, since it is looked up for every
 * event received.
 */
const KIND_OF: Record<InterestKind, { base: BaseInterestKind; others: boolean; data: boolean }> = {
  node: { base: 'node', others: false, data: false }, children: { base: 'children', others: false, data: false },
  recursive: { base: 'recursive', others: false, data: false },
  'node-others': { base: 'node', others: true, data: false }, 'children-others': { base: 'children', others: true, data: false },
  'recursive-others': { base: 'recursive', others: true, data: false },
  'node+data': { base: 'node', others: false, data: true }, 'recursive+data': { base: 'recursive', others: false, data: true },
  'node-others+data': { base: 'node', others: true, data: true }, 'recursive-others+data': { base: 'recursive', others: true, data: true },
  'children+data': { base: 'children', others: false, data: true },
};

/**
 * True if any of a connection's interests (path → kinds) wants the event: checked on the
 * event's own path and, for recursive interests, on its ancestors. With `dataOnly`, only
 * the interests that want data (`+data` kinds) count: the event is then sent with its data,
 * by a backend that has it at hand.
 */
export function interestsWant(interests: ReadonlyMap<string, ReadonlySet<InterestKind>>, e: BackendEvent, dataOnly = false): boolean {
  let p = e.path;
  for (;;) {
    const kinds = interests.get(p);
    if (kinds) for (const k of kinds) if ((!dataOnly || KIND_OF[k].data) && interestWants(e, p, k)) return true;
    if (p === '/') return false;
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
  }
}

/** True if an interest of this kind wants the event: it matches, and is not an own write the interest ignores. */
export function interestWants(ev: BackendEvent, path: string, kind: InterestKind): boolean {
  const k = KIND_OF[kind];
  return !(k.others && ev.own === true) && eventMatches(ev, path, k.base);
}

/**
 * A change as the backend records it. A create yields `created` for the node and
 * `childrenChanged` for its parent; a delete yields `deleted` and `childrenChanged` for
 * the parent; a setData yields `dataChanged`. Events of one write share its zxid, and a
 * backend may send an event that repeats within one write only once (64 creates under one
 * parent: one `childrenChanged` of it): the client delivers such repeats once anyway.
 */
export interface BackendEvent {
  type: WatchEventType;
  path: string;
  zxid: number;
  /**
   * Set when this connection's own session made the write (a multi it sent, with the
   * containers that multi emptied). Events replayed from the change log never carry it.
   */
  own?: boolean;
  /**
   * For events sent for a `+data` interest whose write wrote data to the znode: `created`
   * and `dataChanged` always, `deleted` when the multi that deleted it had set its data
   * first (a release mark) — the last op's data when one multi wrote it more than once, if
   * at most EVENT_DATA_MAX bytes. Never on events replayed from the change log.
   */
  data?: Buffer;
}

/**
 * The most data an event carries (64 KiB; tree.lua has the same): events notify, and a
 * multi of many large znodes must not make one message that overruns what Redis buffers
 * for a subscriber (client-output-buffer-limit pubsub). Larger data is read.
 */
export const EVENT_DATA_MAX = 64 * 1024;

export interface ChildrenPage {
  /** Only children sorting after this name. */
  after?: string;
  /** At most this many children; `next` is set on the reply when more follow. */
  limit?: number;
}

export type MultiReply =
  | { ok: true; results: OpResult[]; zxid: number }
  | { ok: false; failedIndex: number; error: CorralError };

/** True if a backend event matches an interest (shared by backends and the client). */
export function eventMatches(ev: BackendEvent, path: string, kind: BaseInterestKind): boolean {
  switch (kind) {
    case 'node':
      return ev.path === path && ev.type !== 'childrenChanged';
    case 'children':
      return ev.path === path && (ev.type === 'childrenChanged' || ev.type === 'deleted');
    case 'recursive':
      return ev.type !== 'childrenChanged' && (path === '/' || ev.path === path || (ev.path.startsWith(path) && ev.path.charCodeAt(path.length) === 47));
  }
}
