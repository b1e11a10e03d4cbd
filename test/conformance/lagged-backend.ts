import type { Backend, BackendEvent, ChildrenPage, InterestKind, MultiReply } from '../../core/backend.js';
import type { MemoryBackend } from '../../core/index.js';
import type { CreateMode, Op, ReadOp, Stat } from '../../core/types.js';

/**
 * The memory backend behind a simulated network, to hold the shared client layer to its
 * guarantees under the timing a remote store has: calls run on the store in issue order
 * (one connection, FIFO) but each reply comes back after a small random delay, and watch
 * events travel a separate, slower channel (as Redis pub/sub does), so replies routinely
 * overtake the events of the writes they reflect. `flushEvents` waits for that channel.
 */
export class LaggedBackend implements Backend {
  readonly kind = 'memory-lagged';
  private chain: Promise<unknown> = Promise.resolve();
  private readonly inFlight: Array<{ ev: BackendEvent; at: number }> = [];
  private listener: (ev: BackendEvent) => void = () => undefined;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly inner: MemoryBackend, private readonly maxReplyMs = 2, private readonly maxEventMs = 6) {
    inner.onEvent((ev) => {
      this.inFlight.push({ ev, at: performance.now() + Math.random() * this.maxEventMs });
      this.schedule();
    });
  }

  /** Cuts the simulated link: events in flight are lost with it. */
  cut(): void {
    this.inFlight.length = 0;
    this.inner.cut();
  }

  heal(): void {
    this.inner.heal();
  }

  get isConnected(): boolean {
    return this.inner.isConnected;
  }

  open(): Promise<void> { return this.fifo(() => this.inner.open()); }
  close(): Promise<void> { return this.fifo(() => this.inner.close()); }
  createSession(timeoutMs: number) { return this.fifo(() => this.inner.createSession(timeoutMs)); }
  touchSession(id: string, seen?: number) { return this.fifo(() => this.inner.touchSession(id, seen)); }
  closeSession(id: string) { return this.fifo(() => this.inner.closeSession(id)); }
  create(id: string, path: string, data: Uint8Array, mode: CreateMode, ttlMs?: number) {
    return this.fifo(() => this.inner.create(id, path, data, mode, ttlMs));
  }
  delete(id: string, path: string, version: number) { return this.fifo(() => this.inner.delete(id, path, version)); }
  setData(id: string, path: string, data: Uint8Array, version: number): Promise<{ stat: Stat; zxid: number }> {
    return this.fifo(() => this.inner.setData(id, path, data, version));
  }
  multi(id: string, ops: Op[]): Promise<MultiReply> { return this.fifo(() => this.inner.multi(id, ops)); }
  exists(path: string) { return this.fifo(() => this.inner.exists(path)); }
  getData(path: string) { return this.fifo(() => this.inner.getData(path)); }
  getChildren(path: string, page?: ChildrenPage) { return this.fifo(() => this.inner.getChildren(path, page)); }
  multiRead(ops: ReadOp[]) { return this.fifo(() => this.inner.multiRead(ops)); }
  sync(path: string) { return this.fifo(() => this.inner.sync(path)); }
  setInterest(path: string, kind: InterestKind, on: boolean) { return this.fifo(() => this.inner.setInterest(path, kind, on)); }
  changesSince(zxid: number) { return this.fifo(() => this.inner.changesSince(zxid)); }
  onLink(listener: (up: boolean) => void): void { this.inner.onLink(listener); }
  onEvent(listener: (ev: BackendEvent) => void): void { this.listener = listener; }

  async flushEvents(zxid: number): Promise<void> {
    await this.inner.flushEvents(zxid);
    // Wait, as a client of a real pub/sub channel must, until the slow channel caught up.
    while (this.inFlight.some((f) => f.ev.zxid <= zxid)) await new Promise((r) => setTimeout(r, 1));
  }

  /** Runs calls on the store in issue order; each reply arrives a little later. */
  private fifo<T>(call: () => Promise<T>): Promise<T> {
    const run = this.chain.then(call);
    this.chain = run.then(noop, noop);
    return run.then(
      async (v) => { await this.lag(); return v; },
      async (e: unknown) => { await this.lag(); throw e; },
    );
  }

  private lag(): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.random() * this.maxReplyMs));
  }

  /** Delivers events in order, each no earlier than its arrival time. */
  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      while (this.inFlight.length > 0 && this.inFlight[0].at <= now) this.listener(this.inFlight.shift()!.ev);
      if (this.inFlight.length > 0) this.schedule();
    }, 1);
  }
}

function noop(): void {}
