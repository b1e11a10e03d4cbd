import {
  BadArgumentsError, BadVersionError, CorralError, NoChildrenForEphemeralsError, NoNodeError,
  NodeExistsError, NotEmptyError, SessionExpiredError,
} from '../errors.js';
import { parentOf, nameOf, sequenceSuffix } from '../path.js';
import { isEphemeralMode, isSequentialMode, type CreateMode, type Op, type OpResult, type Stat } from '../types.js';
import type { BackendEvent, MultiReply } from '../backend.js';
import { statOf, type ZNode } from './znode.js';

interface Session {
  id: string;
  timeoutMs: number;
  deadline: number;
  ephemerals: Set<string>;
}

/** How many change-log entries the store keeps for reconnecting clients. */
const CHANGE_LOG_LIMIT = 100_000;
/** How often the reaper looks for expired sessions and TTL nodes. */
const REAPER_TICK_MS = 25;

/**
 * One namespace's whole tree, sessions and zxid counter, in this process: the server
 * side of the memory backend. Connections (MemoryBackend) call it; it emits each write's
 * events to every attached sink, which filters by its own interests.
 *
 * Writes are applied with an undo log, so a failing `multi` op rolls back the ops before
 * it and nothing half-written is ever visible.
 */
export class MemoryStore {
  private readonly nodes = new Map<string, ZNode>();
  private readonly sessions = new Map<string, Session>();
  private readonly ttlNodes = new Set<string>();
  private readonly log: BackendEvent[] = [];
  /** The newest zxid with an event trimmed off the log: a reader behind it must resync. */
  private trimmedThrough = 0;
  private readonly sinks = new Set<(events: BackendEvent[], writer: string | undefined) => void>();
  private zxid = 0;
  private nextSession = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => number = Date.now) {
    this.nodes.set('/', newNode(Buffer.alloc(0), 'persistent', 0, 0, 0, null));
  }

  get lastZxid(): number {
    return this.zxid;
  }

  attach(sink: (events: BackendEvent[], writer: string | undefined) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  // ---- sessions -------------------------------------------------------------------------

  createSession(timeoutMs: number): string {
    const id = `${this.now().toString(16)}-${(this.nextSession++).toString(16).padStart(6, '0')}`;
    this.sessions.set(id, { id, timeoutMs, deadline: this.now() + timeoutMs, ephemerals: new Set() });
    this.schedule();
    return id;
  }

  touchSession(id: string): void {
    this.reap();
    const s = this.sessions.get(id);
    if (!s) throw new SessionExpiredError();
    s.deadline = this.now() + s.timeoutMs;
  }

  isLive(id: string): boolean {
    this.reap();
    return this.sessions.has(id);
  }

  /** Ends a session: its ephemerals go in one write (one zxid), as ZooKeeper's closeSession. */
  closeSession(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    if (s.ephemerals.size === 0) return;
    const events: BackendEvent[] = [];
    const zxid = ++this.zxid;
    const containers: string[] = [];
    for (const path of [...s.ephemerals].sort()) {
      this.removeNode(path, zxid, events, containers, () => undefined);
    }
    this.publish(events);
    this.cascadeContainers(containers);
  }

  // ---- writes ---------------------------------------------------------------------------

  create(sessionId: string, path: string, data: Buffer, mode: CreateMode, ttlMs: number): { path: string; stat: Stat; zxid: number } {
    const reply = this.multi(sessionId, [{ type: 'create', path, data, mode, ttlMs }]);
    if (!reply.ok) throw reply.error;
    const r = reply.results[0] as Extract<OpResult, { type: 'create' }>;
    return { path: r.path, stat: r.stat, zxid: reply.zxid };
  }

  delete(sessionId: string, path: string, version: number): number {
    const reply = this.multi(sessionId, [{ type: 'delete', path, version }]);
    if (!reply.ok) throw reply.error;
    return reply.zxid;
  }

  setData(sessionId: string, path: string, data: Buffer, version: number): { stat: Stat; zxid: number } {
    const reply = this.multi(sessionId, [{ type: 'setData', path, data, version }]);
    if (!reply.ok) throw reply.error;
    const r = reply.results[0] as Extract<OpResult, { type: 'setData' }>;
    return { stat: r.stat, zxid: reply.zxid };
  }

  /** Applies ops in order as one write with one zxid; on the first failure undoes them all. */
  multi(sessionId: string, ops: Op[]): MultiReply {
    this.reap();
    if (!this.sessions.has(sessionId)) return { ok: false, failedIndex: 0, error: new SessionExpiredError() };
    if (ops.length === 0) return { ok: true, results: [], zxid: this.zxid };
    const zxid = this.zxid + 1;
    const now = this.now();
    const undo: Array<() => void> = [];
    const events: BackendEvent[] = [];
    const containers: string[] = [];
    const results: OpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      try {
        results.push(this.apply(sessionId, ops[i], zxid, now, undo, events, containers));
      } catch (err) {
        for (let u = undo.length - 1; u >= 0; u--) undo[u]();
        if (!(err instanceof CorralError)) throw err;
        return { ok: false, failedIndex: i, error: err };
      }
    }
    this.zxid = zxid;
    if (this.ttlNodes.size > 0) this.schedule();
    if (ops.length > 1) lastDataWins(events);
    this.publish(events, sessionId);
    this.cascadeContainers(containers, sessionId);
    // For a single create the reply carries the created node's stat as of this zxid.
    for (const r of results) {
      if (r.type === 'create' || r.type === 'setData') {
        const n = this.nodes.get(r.path);
        if (n) r.stat = statOf(n);
      }
    }
    return { ok: true, results, zxid };
  }

  private apply(
    sessionId: string, op: Op, zxid: number, now: number,
    undo: Array<() => void>, events: BackendEvent[], containers: string[],
  ): OpResult {
    switch (op.type) {
      case 'create': {
        if (op.path === '/') throw new NodeExistsError('/');
        const parentPath = parentOf(op.path);
        const parent = this.nodes.get(parentPath);
        if (!parent) throw new NoNodeError(op.path);
        if (parent.ephemeralOwner !== null) throw new NoChildrenForEphemeralsError(op.path);
        const path = isSequentialMode(op.mode) ? op.path + sequenceSuffix(parent.cversion) : op.path;
        if (this.nodes.has(path)) throw new NodeExistsError(path);
        const owner = isEphemeralMode(op.mode) ? sessionId : null;
        const node = newNode(Buffer.from(op.data), op.mode, op.ttlMs ?? 0, zxid, now, owner);
        this.nodes.set(path, node);
        const name = nameOf(path);
        const prev = { cversion: parent.cversion, pzxid: parent.pzxid };
        parent.children.add(name);
        parent.sorted = null;
        parent.cversion++;
        parent.pzxid = zxid;
        if (owner) this.sessions.get(owner)!.ephemerals.add(path);
        if (op.mode === 'persistent_with_ttl') this.ttlNodes.add(path);
        undo.push(() => {
          this.nodes.delete(path);
          parent.children.delete(name);
          parent.sorted = null;
          parent.cversion = prev.cversion;
          parent.pzxid = prev.pzxid;
          if (owner) this.sessions.get(owner)?.ephemerals.delete(path);
          this.ttlNodes.delete(path);
        });
        // With the data written: a connection passes it on (a copy) to watches that want it.
        events.push({ type: 'created', path, zxid, data: node.data }, { type: 'childrenChanged', path: parentPath, zxid });
        return { type: 'create', path, stat: statOf(node) };
      }
      case 'delete': {
        if (op.path === '/') throw new BadArgumentsError('The root znode cannot be deleted', '/');
        const node = this.nodes.get(op.path);
        if (!node) throw new NoNodeError(op.path);
        if (op.version !== -1 && op.version !== node.version) throw new BadVersionError(op.path);
        if (node.children.size > 0) throw new NotEmptyError(op.path);
        this.removeNode(op.path, zxid, events, containers, (u) => undo.push(u));
        return { type: 'delete', path: op.path };
      }
      case 'setData': {
        const node = this.nodes.get(op.path);
        if (!node) throw new NoNodeError(op.path);
        if (op.version !== -1 && op.version !== node.version) throw new BadVersionError(op.path);
        const prev = { data: node.data, version: node.version, mzxid: node.mzxid, mtime: node.mtime };
        node.data = Buffer.from(op.data);
        node.version++;
        node.mzxid = zxid;
        node.mtime = now;
        undo.push(() => Object.assign(node, prev));
        events.push({ type: 'dataChanged', path: op.path, zxid, data: node.data });
        return { type: 'setData', path: op.path, stat: statOf(node) };
      }
      case 'check': {
        const node = this.nodes.get(op.path);
        if (!node) throw new NoNodeError(op.path);
        if (op.version !== -1 && op.version !== node.version) throw new BadVersionError(op.path);
        return { type: 'check', path: op.path };
      }
    }
  }

  /** Removes a childless node, updating its parent, and records the undo step. */
  private removeNode(
    path: string, zxid: number, events: BackendEvent[], containers: string[], onUndo: (u: () => void) => void,
  ): void {
    const node = this.nodes.get(path)!;
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath)!;
    const name = nameOf(path);
    const prev = { cversion: parent.cversion, pzxid: parent.pzxid };
    this.nodes.delete(path);
    parent.children.delete(name);
    parent.sorted = null;
    parent.cversion++;
    parent.pzxid = zxid;
    const owner = node.ephemeralOwner;
    if (owner) this.sessions.get(owner)?.ephemerals.delete(path);
    const wasTtl = this.ttlNodes.delete(path);
    onUndo(() => {
      this.nodes.set(path, node);
      parent.children.add(name);
      parent.sorted = null;
      parent.cversion = prev.cversion;
      parent.pzxid = prev.pzxid;
      if (owner) this.sessions.get(owner)?.ephemerals.add(path);
      if (wasTtl) this.ttlNodes.add(path);
    });
    // With the data this write set before deleting it, if it did (its mzxid is this zxid).
    const deleted: BackendEvent = node.mzxid === zxid ? { type: 'deleted', path, zxid, data: node.data } : { type: 'deleted', path, zxid };
    events.push(deleted, { type: 'childrenChanged', path: parentPath, zxid });
    if (parent.mode === 'container' && !containers.includes(parentPath)) containers.push(parentPath);
  }

  /**
   * Deletes containers left without children, in the order they were recorded, each as
   * its own write with its own zxid; a deleted container's parent joins the end of the list.
   * (ZooKeeper does this in a background sweep; doing it right away makes it observable
   * and identical on both backends.)
   */
  private cascadeContainers(candidates: string[], writer?: string): void {
    for (let i = 0; i < candidates.length; i++) {
      const path = candidates[i];
      const node = this.nodes.get(path);
      if (!node || node.mode !== 'container' || node.children.size > 0 || node.cversion === 0) continue;
      const zxid = ++this.zxid;
      const events: BackendEvent[] = [];
      this.removeNode(path, zxid, events, candidates, () => undefined);
      this.publish(events, writer);
    }
  }

  // ---- reads ----------------------------------------------------------------------------

  get(path: string): ZNode | undefined {
    this.reap();
    return this.nodes.get(path);
  }

  /** Events with zxid > `zxid`, or null if the log was trimmed past that point. */
  changesSince(zxid: number): BackendEvent[] | null {
    if (zxid >= this.zxid) return [];
    // One write's events may straddle a trim, so judge by the newest zxid trimmed away.
    if (zxid < this.trimmedThrough) return null;
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid].zxid <= zxid) lo = mid + 1; else hi = mid;
    }
    return this.log.slice(lo);
  }

  /** Every znode, for the tree-invariant checker and tests. */
  *walk(): Iterable<[string, ZNode]> {
    yield* this.nodes;
  }

  /** Sessions still live by the store's clock (overdue ones are expired first). */
  liveSessions(): string[] {
    this.reap();
    return [...this.sessions.keys()];
  }

  // ---- internals ------------------------------------------------------------------------

  /**
   * Logs a write's events and hands them to every connection; `writer` is the session whose
   * multi made the write (a container that multi emptied included), absent for expiry.
   */
  private publish(events: BackendEvent[], writer?: string): void {
    if (events.length === 0) return;
    // The change log keeps no data (as Redis's does not): a replayed event never carries it.
    for (const e of events) this.log.push(e.data ? { type: e.type, path: e.path, zxid: e.zxid } : e);
    // Trim in chunks: splicing one entry off a full 100k-entry log on every write made each
    // write O(limit) (setData fell to ~4k ops/s); with 1/8 slack the cost is amortized O(1).
    if (this.log.length > CHANGE_LOG_LIMIT + (CHANGE_LOG_LIMIT >> 3)) {
      const cut = this.log.length - CHANGE_LOG_LIMIT;
      this.trimmedThrough = this.log[cut - 1].zxid;
      this.log.splice(0, cut);
    }
    for (const sink of this.sinks) sink(events, writer);
  }

  /** Expires overdue sessions and TTL nodes. Called on a timer and before each call, so expiry never depends on timer luck. */
  private reap(): void {
    const now = this.now();
    for (const s of this.sessions.values()) {
      if (s.deadline < now) this.closeSession(s.id);
    }
    if (this.ttlNodes.size === 0) return;
    const due = [...this.ttlNodes].filter((p) => {
      const n = this.nodes.get(p)!;
      return n.children.size === 0 && n.mtime + n.ttlMs < now;
    });
    for (const path of due.sort()) {
      const zxid = ++this.zxid;
      const events: BackendEvent[] = [];
      const containers: string[] = [];
      this.removeNode(path, zxid, events, containers, () => undefined);
      this.publish(events);
      this.cascadeContainers(containers);
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.reap();
      if (this.sessions.size === 0 && this.ttlNodes.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }, REAPER_TICK_MS);
    this.timer.unref();
  }

}

function newNode(data: Buffer, mode: CreateMode, ttlMs: number, zxid: number, now: number, owner: string | null): ZNode {
  return {
    data, mode, ttlMs,
    czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now,
    version: 0, cversion: 0, ephemeralOwner: owner, children: new Set(), sorted: null,
  };
}

/**
 * An event repeated within one write (a znode set twice by one multi) is delivered once,
 * at its first place: it carries the data of the last, what the write left (as Redis
 * sends it).
 */
function lastDataWins(events: BackendEvent[]): void {
  const first = new Map<string, BackendEvent>();
  for (const e of events) {
    if (!e.data) continue;
    const key = `${e.type}\0${e.path}`;
    const f = first.get(key);
    if (f) f.data = e.data;
    else first.set(key, e);
  }
}
