import { EventEmitter } from 'node:events';
import { AbortedError, ClientClosedError, SessionExpiredError, type Client } from '../core/index.js';
import { LeaseLostError } from './errors.js';
import { checkFn, checkOpts, checkWait, type WaitOptions } from './internal/args.js';
import { FOREVER, sleep } from './internal/wait.js';
import { LeaderLatch, type Leadership } from './leader-latch.js';

/**
 * Runs `fn` as leader of the election at `path` (Curator's LeaderSelector, one round):
 * joins, waits to be elected, runs `fn`, then resigns. Leadership ends when `fn` returns
 * or as soon as it is in doubt: the `signal` handed to `fn` aborts on `suspended` as well
 * as on loss, so work that listens to it stops before another leader can be elected.
 * Resolves with `fn`'s result. `timeoutMs` / `signal` bound the wait to be elected.
 *
 * @example
 * await runAsLeader(zk, '/app/leader', async ({ token, signal }) => {
 *   while (!signal.aborted) await tick(token, signal);
 * });
 */
export async function runAsLeader<T>(
  zk: Client, path: string, fn: (leadership: Leadership) => Promise<T> | T,
  options?: WaitOptions & { id?: string },
): Promise<T> {
  checkFn(fn, 'runAsLeader');
  const o = checkOpts<WaitOptions & { id: string }>(options, 'runAsLeader');
  const wait = checkWait(o, 'runAsLeader');
  const latch = new LeaderLatch(zk, path, o.id === undefined ? undefined : { id: o.id });
  try {
    await latch.start();
    const won = await latch.elected({ signal: wait.signal, timeoutMs: wait.deadline === Infinity ? undefined : Math.max(0, wait.deadline - performance.now()) });
    const ended = new AbortController();
    const onSuspended = (): void => ended.abort(new LeaseLostError('session suspended: leadership in doubt', latch.path));
    const onLost = (): void => ended.abort(won.signal.reason);
    if (won.signal.aborted) onLost(); else won.signal.addEventListener('abort', onLost, { once: true });
    if (won.inDoubt) onSuspended();
    latch.on('suspended', onSuspended);
    try {
      return await fn({
        token: won.token,
        signal: ended.signal,
        get inDoubt() {
          return won.inDoubt || ended.signal.aborted;
        },
      });
    } finally {
      latch.off('suspended', onSuspended);
      won.signal.removeEventListener('abort', onLost);
      if (!ended.signal.aborted) ended.abort(new AbortedError('Leadership ended: the leader function returned'));
    }
  } finally {
    await resign(zk, latch);
  }
}

/** How often a refused resignation is tried again in the background. */
const RESIGN_RETRY_MS = 1000;

/**
 * Closes the round's latch. If the store refuses to delete its znode (Redis out of memory:
 * StoreFullError), the error goes to the caller, and the latch, which the caller cannot reach,
 * keeps trying in the background until it is done or the session is gone: otherwise our
 * stale znode would stay first in line and nobody would be elected while the client lives.
 */
async function resign(zk: Client, latch: LeaderLatch): Promise<void> {
  try {
    await latch.close();
  } catch (err) {
    void (async () => {
      while (zk.state !== 'closed' && zk.state !== 'expired') {
        await new Promise((r) => setTimeout(r, RESIGN_RETRY_MS).unref());
        if (await latch.close().then(() => true, () => false)) return;
      }
    })();
    throw err;
  }
}

export interface LeaderSelectorEvents {
  /** A leadership round's function threw (the selector keeps going if `autoRequeue`). */
  error: [Error];
  /** The selector stopped for good (closed, session expired or client closed). */
  stopped: [];
}

/**
 * Leader election, selector style: runs `fn` each time this process becomes leader;
 * with `autoRequeue` (default true) it joins again after each round, so it leads again
 * later. `fn` must stop when its signal aborts (in doubt, lost, or `close()`).
 *
 * @example
 * const sel = new LeaderSelector(zk, '/app/leader', async ({ token, signal }) => serve(token, signal));
 * sel.start();
 * …
 * await sel.close();
 */
export class LeaderSelector extends EventEmitter<LeaderSelectorEvents> {
  private readonly stop = new AbortController();
  private running: Promise<void> | null = null;
  private readonly autoRequeue: boolean;
  private readonly id: string | undefined;
  /** Number of completed leadership rounds. */
  rounds = 0;

  constructor(
    private readonly zk: Client, private readonly path: string,
    private readonly fn: (leadership: Leadership) => Promise<unknown> | unknown,
    options?: { id?: string; autoRequeue?: boolean },
  ) {
    super();
    checkFn(fn, 'LeaderSelector');
    const o = checkOpts<{ id: string; autoRequeue: boolean }>(options, 'LeaderSelector');
    this.autoRequeue = o.autoRequeue ?? true;
    this.id = o.id;
    // Validate path and id now rather than at start().
    void new LeaderLatch(zk, path, o.id === undefined ? undefined : { id: o.id });
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.running) return;
    this.running = this.loop();
  }

  /** Stops: aborts a running round's signal, resigns, waits for `fn` to return. Idempotent. */
  async close(): Promise<void> {
    this.stop.abort(new AbortedError('LeaderSelector closed'));
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      try {
        await runAsLeader(this.zk, this.path, (l) => {
          const ac = new AbortController();
          const stopRound = (): void => ac.abort(this.stop.signal.reason);
          this.stop.signal.addEventListener('abort', stopRound, { once: true });
          l.signal.addEventListener('abort', () => ac.abort(l.signal.reason), { once: true });
          if (l.signal.aborted) ac.abort(l.signal.reason);
          const leadership: Leadership = { token: l.token, signal: ac.signal, get inDoubt() { return l.inDoubt; } };
          return Promise.resolve(this.fn(leadership)).finally(() => this.stop.signal.removeEventListener('abort', stopRound));
        }, { signal: this.stop.signal, ...(this.id === undefined ? {} : { id: this.id }) });
        this.rounds++;
      } catch (err) {
        if (this.stop.signal.aborted) break;
        if (err instanceof SessionExpiredError || err instanceof ClientClosedError) break;
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        await sleep(this.zk, 100, FOREVER, 'LeaderSelector').catch(() => undefined);
      }
    } while (this.autoRequeue && !this.stop.signal.aborted);
    this.emit('stopped');
  }
}
