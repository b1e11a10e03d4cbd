import { connect, ConnectionLossError, isRetryable, type Client, type ConnectOptions, type ConnectTarget, type Logger } from '../core/index.js';

/** Makes a new client (a new session). Called again whenever the previous session expired. */
export type ClientFactory = () => Promise<Client>;

/** How a master or worker reaches the tree. */
export interface ConnectionOptions {
  /**
   * Where the tree lives: a connect target (`{ redis: 'redis://…' }`, `{ backend: 'memory' }`)
   * or a function returning a new connected Client. Default: the embedded memory backend.
   * A master or worker whose session expires calls it again for a new session
   * (an expired client stays dead, as in ZooKeeper).
   */
  connect?: ConnectTarget | ClientFactory;
  /** Namespace of the tree (ignored when `connect` is a function). Default `corral`. */
  namespace?: string;
  /** Session timeout (ignored when `connect` is a function). Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** A pino-compatible logger. */
  logger?: Logger;
}

/** The factory for a ConnectionOptions. */
export function clientFactory(o: ConnectionOptions): ClientFactory {
  const c = o.connect;
  if (typeof c === 'function') return c;
  const options: ConnectOptions = {};
  if (o.namespace !== undefined) options.namespace = o.namespace;
  if (o.sessionTimeoutMs !== undefined) options.sessionTimeoutMs = o.sessionTimeoutMs;
  if (o.logger !== undefined) options.logger = o.logger;
  return () => connect(c ?? { backend: 'memory' }, options);
}

/**
 * Runs `fn`, retrying while it fails with a retryable error (connection loss) once the
 * session is back. Only for idempotent calls: a lost reply may mean the write happened.
 */
export async function retrying<T>(zk: Client, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || signal?.aborted) throw err;
      await zk.whenConnected().catch(() => {
        throw err instanceof ConnectionLossError ? err : new ConnectionLossError();
      });
    }
  }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A promise whose resolve is exposed: how loops are woken instead of polling. */
export class Kick {
  private resolve: (() => void) | null = null;
  private pending = false;

  /** Wakes the waiter (or the next one, if none is waiting). */
  kick(): void {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = null;
      r();
    } else {
      this.pending = true;
    }
  }

  /** Resolves at the next kick (at once if one came since the last wait), or after `ms`. */
  wait(ms = 2 ** 31 - 1): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.resolve = null;
        resolve();
      }, ms);
      this.resolve = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
