import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  AbortedError, BadArgumentsError, ClientClosedError, NoNodeError, SessionExpiredError, TimeoutError,
  joinPath, type Client,
} from '../core/index.js';
import { LeaseLostError } from './errors.js';
import { checkClient, checkOpts, checkRecipePath, checkWait, show, type WaitOptions } from './internal/args.js';
import { waitChange } from './internal/contend.js';
import { createProtected, deleteOwn, listContenders, type Contender } from './internal/protected.js';
import { isConnectionLoss, sleep, untilConnected, FOREVER } from './internal/wait.js';
import { Lease } from './lease.js';

const PREFIX = 'latch-';

/** What winning an election grants. */
export interface Leadership {
  /** Fencing token: czxid of our election znode, strictly increasing across grants. */
  token: number;
  /** Aborted when leadership is lost (session expired, resigned, znode deleted). */
  signal: AbortSignal;
  /** True while the session is suspended (leadership may be lost). */
  inDoubt: boolean;
}

export interface LeaderLatchEvents {
  /** We became leader. */
  elected: [Leadership];
  /** While leader: the session is suspended, leadership is in doubt. */
  suspended: [];
  /** While leader: back from `suspended`, our znode verified as still ours. */
  reconnected: [];
  /** Leadership lost (not emitted for a voluntary `close()`). */
  lost: [Error];
  /**
   * The leader as this latch last saw it changed. Listening costs one watch on the
   * leader's znode (so every listener is woken when the leader goes): opt-in.
   */
  leaderChanged: [{ id: string } | null];
  /** The latch stopped for good (session expired or client closed). */
  error: [Error];
}

/**
 * Leader election, latch style (Curator's LeaderLatch): every contender creates an
 * ephemeral sequential znode under `path` (protected, data = its id); the lowest is the
 * leader, each other contender watches only its predecessor. Leadership comes with a
 * fencing token and an AbortSignal; a suspended session puts it in doubt (`suspended`,
 * `inDoubt`), an expired one loses it (`lost`, the signal).
 *
 * @example
 * const latch = new LeaderLatch(zk, '/app/leader', { id: 'node-1' });
 * await latch.start();
 * const { token, signal } = await latch.elected();
 * while (!signal.aborted) await doLeaderWork(token, signal);
 * await latch.close();
 */
export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  /** This contender's id (stored as its znode's data). Default: a random UUID. */
  readonly id: string;
  readonly path: string;
  private readonly zk: Client;
  private phase: 'idle' | 'started' | 'closed' | 'failed' = 'idle';
  private node: { path: string; name: string; token: number } | null = null;
  private lease: Lease | null = null;
  private readonly stop = new AbortController();
  private running: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Set by close() on a started latch until its znode is deleted (a refused delete is retried by the next close()). */
  private resigning = false;
  private failure: Error | null = null;
  private readonly waiters = new Set<(l: Leadership | Error) => void>();
  private lastLeader: string | null | undefined = undefined;

  constructor(zk: Client, path: string, options?: { id?: string }) {
    super();
    this.zk = checkClient(zk, 'LeaderLatch');
    this.path = checkRecipePath(path, 'LeaderLatch');
    const o = checkOpts<{ id: string }>(options, 'LeaderLatch');
    if (o.id !== undefined && (typeof o.id !== 'string' || o.id.length === 0)) {
      throw new BadArgumentsError(`Expected \`id\` to be a non-empty string, got ${show(o.id)}`);
    }
    this.id = o.id ?? randomUUID();
  }

  /** Joins the election. Resolves once our znode exists; leadership is reported by `elected`. */
  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new BadArgumentsError(`LeaderLatch ${this.path} was already started`);
    this.phase = 'started';
    try {
      await this.join();
    } catch (err) {
      this.phase = 'failed';
      this.failure = err as Error;
      throw err;
    }
    this.running = this.run();
  }

  /** True while we hold leadership that is not known to be lost. */
  get isLeader(): boolean {
    return this.lease !== null && this.lease.held;
  }

  /**
   * Resolves when (or if already) leader. Rejects with TimeoutError / AbortedError
   * (leaving the latch in the election), or when the latch closes or its session ends.
   */
  elected(options?: WaitOptions): Promise<Leadership> {
    let wait;
    try {
      wait = checkWait(options, 'LeaderLatch.elected');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.isLeader) return Promise.resolve(this.leadership(this.lease!));
    if (this.phase === 'closed') return Promise.reject(new AbortedError(`LeaderLatch ${this.path} is closed`));
    if (this.phase === 'failed') return Promise.reject(this.failure);
    if (this.zk.state === 'closed') return Promise.reject(new ClientClosedError());
    if (this.zk.state === 'expired') return Promise.reject(new SessionExpiredError());
    return new Promise<Leadership>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (r: Leadership | Error): void => {
        this.waiters.delete(done);
        if (timer) clearTimeout(timer);
        wait.signal?.removeEventListener('abort', onAbort);
        this.zk.off('state', onState);
        if (r instanceof Error) reject(r); else resolve(r);
      };
      const onAbort = (): void => done(new AbortedError('LeaderLatch.elected: aborted', { cause: wait.signal?.reason }));
      // The session's end settles every waiter, started latch or not (one waiting before start()).
      const onState = (s: string): void => {
        if (s === 'closed') done(new ClientClosedError());
        else if (s === 'expired') done(new SessionExpiredError());
      };
      if (wait.signal?.aborted) return onAbort();
      wait.signal?.addEventListener('abort', onAbort, { once: true });
      this.zk.on('state', onState);
      if (wait.deadline !== Infinity) {
        timer = setTimeout(() => done(new TimeoutError('LeaderLatch.elected: timed out')), Math.max(0, wait.deadline - performance.now()));
      }
      this.waiters.add(done);
    });
  }

  /** The current leader (lowest contender), without campaigning. */
  getLeader(): Promise<{ id: string; path: string } | null> {
    return getLeader(this.zk, this.path);
  }

  /** The current leader of the election at `path`, without campaigning. */
  static getLeader(zk: Client, path: string): Promise<{ id: string; path: string } | null> {
    return getLeader(zk, path);
  }

  /**
   * Resigns (deletes our znode) and stops. Idempotent. If the store refuses the delete
   * (Redis out of memory: StoreFullError), the latch is closed and leadership given up at
   * once, but its znode stays and nobody else is elected: call `close()` again to retry,
   * or close the client.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.phase === 'started') this.resigning = true;
      if (this.phase !== 'failed') this.phase = 'closed';
      this.stop.abort();
      this.lease?.lose(new AbortedError('Leadership resigned'));
      this.lease = null;
      this.settle(new AbortedError(`LeaderLatch ${this.path} is closed`));
      await this.running?.catch(() => undefined);
      if (this.resigning && this.node) {
        try {
          await deleteOwn(this.zk, this.node.path);
        } catch (err) {
          this.closing = null;
          throw err;
        }
      }
      this.resigning = false;
      this.node = null;
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private leadership(lease: Lease): Leadership {
    return {
      token: lease.token,
      signal: lease.signal,
      get inDoubt() {
        return lease.inDoubt;
      },
    };
  }

  private async join(): Promise<void> {
    const n = await createProtected(this.zk, this.path, PREFIX, this.id);
    this.node = { path: n.path, name: n.path.slice(n.path.lastIndexOf('/') + 1), token: n.stat.czxid };
    if (this.phase !== 'started') await deleteOwn(this.zk, n.path);
  }

  private async run(): Promise<void> {
    const wait = { deadline: Infinity, signal: this.stop.signal };
    while (this.phase === 'started') {
      try {
        if (!this.node) await this.join();
        const node = this.node!;
        const list = await listContenders(this.zk, this.path, [PREFIX]);
        const mine = list.findIndex((c) => c.name === node.name);
        if (this.listenerCount('leaderChanged') > 0) await this.reportLeader(list);
        if (mine < 0) {
          // Someone deleted our znode: we are no longer in the election. Join again.
          this.node = null;
          this.lease?.lose(new LeaseLostError('election znode deleted', node.path));
          continue;
        }
        if (mine === 0) {
          if (!this.lease) this.promote(node);
          const lease = this.lease!;
          // Leader: nothing to do until leadership ends or the latch closes.
          await new Promise<void>((resolve) => {
            if (lease.signal.aborted || this.stop.signal.aborted) return resolve();
            lease.signal.addEventListener('abort', () => resolve(), { once: true });
            this.stop.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          if (this.lease === lease) this.lease = null;
          if (this.phase === 'started' && this.node === node) {
            // Lost without the znode's deletion (e.g. failed verification): start over with a fresh znode.
            await deleteOwn(this.zk, node.path);
            this.node = null;
          }
          continue;
        }
        const watch = [joinPath(this.path, list[mine - 1].name)];
        if (this.listenerCount('leaderChanged') > 0 && mine > 1) watch.push(joinPath(this.path, list[0].name));
        await waitChange(this.zk, watch, wait, 'LeaderLatch');
      } catch (err) {
        if (this.phase !== 'started') return;
        if (isConnectionLoss(err)) {
          await untilConnected(this.zk, wait, 'LeaderLatch').catch(() => undefined);
          continue;
        }
        if (err instanceof SessionExpiredError || err instanceof ClientClosedError) return this.fail(err);
        if (err instanceof AbortedError) return;
        // Anything else is unexpected: report it and try again shortly rather than die silently.
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        await sleep(this.zk, 100, FOREVER, 'LeaderLatch').catch(() => undefined);
      }
    }
  }

  private promote(node: { path: string; token: number }): void {
    const lease = new Lease(this.zk, node, async () => undefined);
    this.lease = lease;
    lease.on('suspended', () => this.emit('suspended'));
    lease.on('reconnected', () => this.emit('reconnected'));
    lease.on('lost', (err) => {
      if (this.phase === 'started' || err instanceof SessionExpiredError) this.emit('lost', err);
    });
    const l = this.leadership(lease);
    this.settle(l);
    this.emit('elected', l);
  }

  private settle(r: Leadership | Error): void {
    for (const w of [...this.waiters]) w(r);
  }

  private fail(err: Error): void {
    this.phase = 'failed';
    this.failure = err;
    this.settle(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async reportLeader(list: Contender[]): Promise<void> {
    let id: string | null = null;
    if (list.length > 0) {
      try {
        id = (await this.zk.getData(joinPath(this.path, list[0].name))).data.toString('utf8');
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        return; // the leader just went; the next round reports its successor
      }
    }
    if (id !== this.lastLeader) {
      this.lastLeader = id;
      this.emit('leaderChanged', id === null ? null : { id });
    }
  }
}

/**
 * The current leader of the election at `path` (lowest contender), without campaigning.
 * @example const leader = await getLeader(zk, '/app/leader'); // { id: 'node-1', path: '…' } or null
 */
export async function getLeader(zk: Client, path: string): Promise<{ id: string; path: string } | null> {
  checkClient(zk, 'getLeader');
  checkRecipePath(path, 'election');
  for (;;) {
    let list: Contender[];
    try {
      list = await listContenders(zk, path, [PREFIX]);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
    if (list.length === 0) return null;
    const p = joinPath(path, list[0].name);
    try {
      return { id: (await zk.getData(p)).data.toString('utf8'), path: p };
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err; // leader went meanwhile: look again
    }
  }
}
