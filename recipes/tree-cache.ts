import { EventEmitter } from 'node:events';
import {
  BadArgumentsError, ClientClosedError, NoNodeError, SessionExpiredError, joinPath, isWithin,
  type Client, type SessionState, type Stat, type WatchEvent, type WatchStream,
} from '../core/index.js';
import { checkClient, checkOpts, checkRecipePath, show } from './internal/args.js';
import { FOREVER, isConnectionLoss, untilConnected } from './internal/wait.js';

/** A cached znode. */
export interface CachedNode {
  data: Buffer;
  stat: Stat;
}

export interface TreeCacheEvents {
  /** A znode appeared in the cache (also for every znode of the first load). */
  added: [string, CachedNode];
  /** A cached znode's data (or stat) changed. */
  updated: [string, CachedNode];
  /** A znode left the cache. */
  removed: [string, CachedNode];
  /** The first load is complete. */
  initialized: [];
  /** The cache re-read everything (after a reconnect or a gap in the change log). */
  resynced: [];
  /** The cache stopped for good: session expired or client closed. Not emitted if nobody listens. */
  error: [Error];
}

/**
 * A local copy of the subtree at `path` (Curator's TreeCache; with `maxDepth` 1 a
 * children cache, with 0 a node cache), kept current by one persistent watch: recursive
 * for depth ≥ 1, so a change costs one event per change, never a per-znode watch. Events
 * are applied in order, each by re-reading the changed znode; after a reconnect (or when
 * the change log could not reach back) the whole subtree is re-read and the differences
 * emitted, so the cache never silently drifts.
 *
 * @example
 * const cache = new TreeCache(zk, '/app/config');
 * cache.on('updated', (path, { data }) => reload(path, data));
 * await cache.start();
 * cache.get('/app/config/db')?.data.toString();
 */
export class TreeCache extends EventEmitter<TreeCacheEvents> {
  readonly path: string;
  readonly maxDepth: number;
  protected readonly zk: Client;
  private readonly nodes = new Map<string, CachedNode>();
  private stream: WatchStream | null = null;
  private readonly queue: Array<WatchEvent | 'reload'> = [];
  private pumping: Promise<void> | null = null;
  private phase: 'idle' | 'live' | 'closed' | 'failed' = 'idle';
  private readonly onState = (s: SessionState): void => {
    if (s === 'reconnected') this.push('reload');
  };

  constructor(zk: Client, path: string, options?: { maxDepth?: number }) {
    super();
    this.zk = checkClient(zk, 'TreeCache');
    this.path = checkRecipePath(path, 'cache');
    const o = checkOpts<{ maxDepth: number }>(options, 'TreeCache');
    const d = o.maxDepth ?? Infinity;
    if (typeof d !== 'number' || Number.isNaN(d) || d < 0 || (d !== Infinity && !Number.isInteger(d))) {
      throw new BadArgumentsError(`Expected \`maxDepth\` to be an integer ≥ 0 or Infinity, got ${show(d)}`);
    }
    this.maxDepth = d;
  }

  /** Arms the watch, then loads the subtree; resolves once the cache is current. */
  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new BadArgumentsError(`Cache of ${this.path} was already started`);
    this.phase = 'live';
    this.stream = this.zk.watch(this.path, { recursive: this.maxDepth > 0 });
    this.zk.on('state', this.onState);
    await this.stream.ready;
    await this.reload(false);
    void this.read(this.stream);
    this.emit('initialized');
  }

  /** True while the cache is being kept current. */
  get live(): boolean {
    return this.phase === 'live';
  }

  /** The cached znode at `path`, if any. */
  get(path: string = this.path): CachedNode | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of `path`, sorted. */
  childrenOf(path: string = this.path): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p.startsWith(prefix) && p.length > prefix.length && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    }
    return out.sort();
  }

  /** Every cached path, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.phase === 'live') this.phase = 'closed';
    this.zk.off('state', this.onState);
    this.stream?.close();
    await this.pumping?.catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private depthOf(path: string): number {
    if (path === this.path) return 0;
    const rest = this.path === '/' ? path : path.slice(this.path.length);
    return rest.split('/').length - 1;
  }

  private async read(stream: WatchStream): Promise<void> {
    try {
      for await (const ev of stream) this.push(ev.resync ? 'reload' : ev);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private push(item: WatchEvent | 'reload'): void {
    if (this.phase !== 'live') return;
    this.queue.push(item);
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null;
      if (this.queue.length > 0 && this.phase === 'live') this.push(this.queue.shift()!);
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && this.phase === 'live') {
      // A pending reload makes every queued event redundant.
      const item = this.queue.includes('reload') ? 'reload' : this.queue.shift()!;
      if (item === 'reload') this.queue.length = 0;
      try {
        if (item === 'reload') await this.reload(true);
        else await this.apply(item);
      } catch (err) {
        if (isConnectionLoss(err)) {
          // Re-read everything once the session is back: events meanwhile may be partial.
          try {
            await untilConnected(this.zk, FOREVER, 'TreeCache');
          } catch (e) {
            this.fail(e as Error);
            return;
          }
          this.queue.unshift('reload');
        } else if (err instanceof SessionExpiredError || err instanceof ClientClosedError) {
          this.fail(err);
          return;
        } else {
          this.queue.unshift('reload');
          if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        }
      }
    }
  }

  private async apply(ev: WatchEvent): Promise<void> {
    if (!isWithin(ev.path, this.path) || this.depthOf(ev.path) > this.maxDepth) return;
    if (ev.type === 'childrenChanged') return;
    if (ev.type === 'deleted') {
      this.removeUnder(ev.path);
      return;
    }
    try {
      const r = await this.zk.getData(ev.path);
      this.put(ev.path, { data: r.data, stat: r.stat });
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.removeUnder(ev.path);
    }
  }

  /** Reads the whole subtree and emits the differences from what was cached. */
  private async reload(resync: boolean): Promise<void> {
    const fresh = new Map<string, CachedNode>();
    await this.load(this.path, 0, fresh);
    for (const [p, n] of [...this.nodes]) if (!fresh.has(p)) this.remove(p, n);
    for (const [p, n] of fresh) this.put(p, n);
    if (resync) this.emit('resynced');
  }

  private async load(path: string, depth: number, into: Map<string, CachedNode>): Promise<void> {
    try {
      const r = await this.zk.getData(path);
      into.set(path, { data: r.data, stat: r.stat });
      if (depth >= this.maxDepth || r.stat.numChildren === 0) return;
      let after: string | undefined;
      for (;;) {
        const page = await this.zk.getChildren(path, after === undefined ? { limit: 1000 } : { limit: 1000, after });
        for (const c of page.children) await this.load(joinPath(path, c), depth + 1, into);
        if (page.next === undefined) break;
        after = page.next;
      }
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  private put(path: string, n: CachedNode): void {
    const old = this.nodes.get(path);
    if (old && old.stat.czxid === n.stat.czxid && old.stat.mzxid === n.stat.mzxid) {
      this.nodes.set(path, n); // only the children changed: not an update of this znode
      return;
    }
    if (old && old.stat.czxid !== n.stat.czxid) this.remove(path, old);
    this.nodes.set(path, n);
    this.emit(old && old.stat.czxid === n.stat.czxid ? 'updated' : 'added', path, n);
  }

  private remove(path: string, n: CachedNode): void {
    this.nodes.delete(path);
    this.emit('removed', path, n);
  }

  private removeUnder(path: string): void {
    for (const [p, n] of [...this.nodes]) if (isWithin(p, path)) this.remove(p, n);
  }

  private fail(err: Error): void {
    if (this.phase !== 'live') return;
    this.phase = 'failed';
    this.zk.off('state', this.onState);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * The children of `path` and their data (Curator's PathChildrenCache): a TreeCache of
 * depth 1. `get(childPath)`, `childrenOf()`, events `added` / `updated` / `removed`.
 */
export class ChildrenCache extends TreeCache {
  constructor(zk: Client, path: string) {
    super(zk, path, { maxDepth: 1 });
  }

  /** The cached children as name → node, in name order. */
  children(): Map<string, CachedNode> {
    const out = new Map<string, CachedNode>();
    for (const name of this.childrenOf()) out.set(name, this.get(joinPath(this.path, name))!);
    return out;
  }
}

/** One znode's data and stat (Curator's NodeCache): `current` is null while it does not exist. */
export class NodeCache extends TreeCache {
  constructor(zk: Client, path: string) {
    super(zk, path, { maxDepth: 0 });
  }

  get current(): CachedNode | null {
    return this.get() ?? null;
  }
}
