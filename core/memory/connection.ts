import { ConnectionLossError, NoNodeError } from '../errors.js';
import { EVENT_DATA_MAX, interestsWant, type Backend, type BackendEvent, type ChildrenPage, type InterestKind, type MultiReply } from '../backend.js';
import type { CreateMode, Op, ReadOp, ReadResult, Stat } from '../types.js';
import type { MemoryStore } from './store.js';
import { sortedChildren, statOf } from './znode.js';

/**
 * One client's connection to a {@link MemoryStore}. It behaves like a network link so the
 * client's session logic is exercised on the embedded backend too: {@link cut} makes
 * every call fail with ConnectionLossError and drops events until {@link heal}.
 *
 * Events are queued and handed to the client in a microtask (never inside another
 * client's call stack); `flushEvents` drains the queue first, which gives the ordering
 * guarantee "watch event before the read that reflects it".
 */
export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  private readonly interests = new Map<string, Set<InterestKind>>();
  private readonly queue: BackendEvent[] = [];
  private eventListener: (ev: BackendEvent) => void = () => undefined;
  private linkListener: (up: boolean) => void = () => undefined;
  private detach: (() => void) | null = null;
  private isCut = false;
  private draining = false;
  /** The session this connection opened: its writes' events are marked `own`. */
  private sessionId: string | undefined;

  constructor(readonly store: MemoryStore) {}

  async open(): Promise<void> {
    this.detach ??= this.store.attach((events, writer) => this.receive(events, writer));
  }

  async close(): Promise<void> {
    this.detach?.();
    this.detach = null;
    this.queue.length = 0;
  }

  /** Simulates a network partition between this client and the store. */
  cut(): void {
    if (this.isCut) return;
    this.isCut = true;
    this.queue.length = 0;
    this.linkListener(false);
  }

  /** Ends a simulated partition. */
  heal(): void {
    if (!this.isCut) return;
    this.isCut = false;
    this.linkListener(true);
  }

  get isConnected(): boolean {
    return !this.isCut && this.detach !== null;
  }

  async createSession(timeoutMs: number): Promise<{ sessionId: string; zxid: number }> {
    this.check();
    this.sessionId = this.store.createSession(timeoutMs);
    return { sessionId: this.sessionId, zxid: this.store.lastZxid };
  }

  async touchSession(sessionId: string, _seenZxid?: number): Promise<{ zxid: number }> {
    this.check();
    this.store.touchSession(sessionId);
    return { zxid: this.store.lastZxid };
  }

  async closeSession(sessionId: string): Promise<void> {
    this.check();
    this.store.closeSession(sessionId);
  }

  async create(sessionId: string, path: string, data: Uint8Array, mode: CreateMode, ttlMs?: number): Promise<{ path: string; stat: Stat; zxid: number }> {
    this.check();
    return this.store.create(sessionId, path, Buffer.from(data), mode, ttlMs ?? 0);
  }

  async delete(sessionId: string, path: string, version: number): Promise<{ zxid: number }> {
    this.check();
    return { zxid: this.store.delete(sessionId, path, version) };
  }

  async setData(sessionId: string, path: string, data: Uint8Array, version: number): Promise<{ stat: Stat; zxid: number }> {
    this.check();
    return this.store.setData(sessionId, path, Buffer.from(data), version);
  }

  async multi(sessionId: string, ops: Op[]): Promise<MultiReply> {
    this.check();
    return this.store.multi(sessionId, ops);
  }

  async exists(path: string): Promise<{ stat: Stat | null; zxid: number }> {
    this.check();
    const n = this.store.get(path);
    return { stat: n ? statOf(n) : null, zxid: this.store.lastZxid };
  }

  async getData(path: string): Promise<{ data: Buffer; stat: Stat; zxid: number }> {
    this.check();
    const n = this.store.get(path);
    if (!n) throw new NoNodeError(path);
    return { data: Buffer.from(n.data), stat: statOf(n), zxid: this.store.lastZxid };
  }

  async getChildren(path: string, page?: ChildrenPage): Promise<{ children: string[]; stat: Stat; next?: string; zxid: number }> {
    this.check();
    const n = this.store.get(path);
    if (!n) throw new NoNodeError(path);
    let all = sortedChildren(n);
    if (page?.after !== undefined) {
      const after = page.after;
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (all[mid] <= after) lo = mid + 1; else hi = mid;
      }
      all = all.slice(lo);
    }
    if (page?.limit !== undefined && all.length > page.limit) {
      const children = all.slice(0, page.limit);
      return { children, stat: statOf(n), next: children[children.length - 1], zxid: this.store.lastZxid };
    }
    // `all` may be the node's cached sorted list: never hand that out.
    return { children: all === sortedChildren(n) ? [...all] : all, stat: statOf(n), zxid: this.store.lastZxid };
  }

  async multiRead(ops: ReadOp[]): Promise<{ results: ReadResult[]; zxid: number }> {
    this.check();
    // One synchronous pass over the store: every read sees the same state.
    const results = ops.map((op): ReadResult => {
      const n = this.store.get(op.path);
      if (!n) return { type: 'error', path: op.path, error: new NoNodeError(op.path) };
      return op.type === 'getData'
        ? { type: 'getData', path: op.path, data: Buffer.from(n.data), stat: statOf(n) }
        : { type: 'getChildren', path: op.path, children: [...sortedChildren(n)], stat: statOf(n) };
    });
    return { results, zxid: this.store.lastZxid };
  }

  async sync(_path: string): Promise<{ zxid: number }> {
    this.check();
    return { zxid: this.store.lastZxid };
  }

  async setInterest(path: string, kind: InterestKind, on: boolean): Promise<void> {
    let kinds = this.interests.get(path);
    if (on) {
      if (!kinds) this.interests.set(path, (kinds = new Set()));
      kinds.add(kind);
    } else if (kinds) {
      kinds.delete(kind);
      if (kinds.size === 0) this.interests.delete(path);
    }
  }

  onEvent(listener: (ev: BackendEvent) => void): void {
    this.eventListener = listener;
  }

  async flushEvents(_zxid: number): Promise<void> {
    this.drain();
  }

  async changesSince(zxid: number): Promise<BackendEvent[] | null> {
    this.check();
    const all = this.store.changesSince(zxid);
    return all && all.filter((e) => this.wants(e));
  }

  onLink(listener: (up: boolean) => void): void {
    this.linkListener = listener;
  }

  private receive(events: BackendEvent[], writer: string | undefined): void {
    if (this.isCut || this.interests.size === 0) return;
    // The events are shared by every connection: ours are marked on copies.
    const own = writer !== undefined && writer === this.sessionId;
    for (const e of events) {
      let ev: BackendEvent = own ? { ...e, own: true } : e;
      if (!this.wants(ev)) continue;
      // The store's own buffer is never handed out: a copy for a watch that wants the
      // data, and none at all for the others.
      if (ev.data) {
        const { data, ...rest } = ev;
        ev = data.length <= EVENT_DATA_MAX && interestsWant(this.interests, ev, true) ? { ...rest, data: Buffer.from(data) } : rest;
      }
      this.queue.push(ev);
    }
    if (this.queue.length > 0 && !this.draining) {
      this.draining = true;
      queueMicrotask(() => this.drain());
    }
  }

  private drain(): void {
    this.draining = false;
    while (this.queue.length > 0) this.eventListener(this.queue.shift()!);
  }

  private wants(e: BackendEvent): boolean {
    return interestsWant(this.interests, e);
  }

  private check(): void {
    if (this.isCut) throw new ConnectionLossError('Connection to the memory store is cut');
    if (!this.detach) throw new ConnectionLossError('Memory backend is not open');
  }
}
