import type { CorralError } from './errors.js';

/** ZooKeeper's Stat: the metadata every znode carries. Times are the backend clock's ms. */
export interface Stat {
  /** zxid of the write that created the znode (corral's fencing token). */
  czxid: number;
  /** zxid of the last write that changed the data. */
  mzxid: number;
  /** zxid of the last change to the children (create or delete of a child). */
  pzxid: number;
  ctime: number;
  mtime: number;
  /** Number of data changes. */
  version: number;
  /** Number of child changes. */
  cversion: number;
  /** ACL version; corral has no ACLs, so always 0. */
  aversion: number;
  /** Session id owning an ephemeral znode; `null` for every other mode. */
  ephemeralOwner: string | null;
  dataLength: number;
  numChildren: number;
}

export const CREATE_MODES = [
  'persistent',
  'ephemeral',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'persistent_with_ttl',
] as const;

/** How a znode lives: see DESIGN §1. */
export type CreateMode = (typeof CREATE_MODES)[number];

export function isEphemeralMode(mode: CreateMode): boolean {
  return mode === 'ephemeral' || mode === 'ephemeral_sequential';
}

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === 'persistent_sequential' || mode === 'ephemeral_sequential';
}

/** Event types a watch can deliver (ZooKeeper's NodeCreated, NodeDeleted, …). */
export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
  /** zxid of the write that caused the event. */
  zxid: number;
  /**
   * Set when the change log no longer reached back far enough after a reconnect: the
   * watch fired because something under it may have changed, not for a known write.
   */
  resync?: boolean;
  /**
   * Only for watches set with `includeData` (streams and one-shot): the data the event's
   * write wrote to the znode — on `created` and `dataChanged`, and on `deleted` when the
   * multi that deleted it set its data first (a last word, such as a release mark) — up to
   * 64 KiB. Absent on events replayed after a reconnect, and for larger data: read the
   * znode then.
   */
  data?: Buffer;
}

/** Session states, emitted as the client's `state` event. */
export type SessionState = 'connected' | 'suspended' | 'reconnected' | 'expired' | 'closed';

/** Anything accepted as znode data: bytes, or a string (UTF-8 encoded). */
export type Data = Uint8Array | string;

export type CreateOp = { type: 'create'; path: string; data: Uint8Array; mode: CreateMode; ttlMs?: number };
export type DeleteOp = { type: 'delete'; path: string; version: number };
export type SetDataOp = { type: 'setData'; path: string; data: Uint8Array; version: number };
export type CheckOp = { type: 'check'; path: string; version: number };
/** One op of a `multi` transaction (build with `op.create(…)` etc.). */
export type Op = CreateOp | DeleteOp | SetDataOp | CheckOp;

/** The result of one op of a successful `multi`. */
export type OpResult =
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'delete'; path: string }
  | { type: 'setData'; path: string; stat: Stat }
  | { type: 'check'; path: string };

export type GetDataOp = { type: 'getData'; path: string };
export type GetChildrenOp = { type: 'getChildren'; path: string };
/** One read of a `multiRead` (build with `op.getData(…)` and `op.getChildren(…)`). */
export type ReadOp = GetDataOp | GetChildrenOp;

/** The result of one read of a `multiRead`: its value, or the error that read alone met. */
export type ReadResult =
  | { type: 'getData'; path: string; data: Buffer; stat: Stat }
  | { type: 'getChildren'; path: string; children: string[]; stat: Stat }
  | { type: 'error'; path: string; error: CorralError };

export interface GetDataResult { data: Buffer; stat: Stat }
export interface GetChildrenResult {
  /** Child names, sorted lexically (by UTF-16 code unit, like a JS sort). */
  children: string[];
  stat: Stat;
  /** When the call was paged (`limit`) and more children follow: pass as `after` for the next page. */
  next?: string;
}
