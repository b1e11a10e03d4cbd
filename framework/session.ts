import { connect, type Client, type ConnectOptions, type ConnectTarget, type Logger } from '../core/index.js';

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

/**
 * True when the role opens its sessions itself (`connect` is a target, not a function):
 * then no other code writes through them, and its watches can leave out their own
 * session's writes (`ignoreOwnWrites`), which the role tracks from the replies. A client
 * from a user's function might be shared (a task client submitting through it), so those
 * watches keep every write.
 */
export function ownsSessions(o: ConnectionOptions): boolean {
  return typeof o.connect !== 'function';
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

/** What a master or worker does with one session, and how it reports its life. */
export interface SessionRole {
  /** Serves one session until it ends (or `stop` aborts). */
  serve(zk: Client): Promise<void>;
  /** After a session ended, before its client is closed. */
  ended(): void;
  /** An error other than the session's own end (which the role reports in its own terms). */
  error(err: Error): void;
}

/** Pause before a new session after a failed start: doubles up to this, so a store that is down is not hammered. */
const RETRY_MAX_MS = 1000;

/**
 * The life of a master or worker: a session from the factory, served until it ends, then
 * a new one — an expired client stays dead, as in ZooKeeper — until `stop` aborts.
 */
export async function sessionLoop(factory: ClientFactory, stop: AbortSignal, role: SessionRole): Promise<void> {
  let pause = 50;
  while (!stop.aborted) {
    let zk: Client | null = null;
    try {
      zk = await factory();
      pause = 50;
      await role.serve(zk);
    } catch (err) {
      // A session that expired or closed under serve() makes it throw (aborted waits, expired
      // calls): that is the session's end, reported by the role, not an error of its own.
      const sessionEnded = zk !== null && (zk.state === 'expired' || zk.state === 'closed');
      if (!stop.aborted && !sessionEnded) role.error(err as Error);
    } finally {
      role.ended();
      await zk?.close().catch(() => undefined);
    }
    if (stop.aborted) break;
    await sleep(pause, stop);
    pause = Math.min(pause * 2, RETRY_MAX_MS);
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

/** The first pause before writing again what Redis refused for lack of memory, and the most it grows to. */
const FULL_PAUSE_MS = 250;
const MAX_FULL_PAUSE_MS = 4000;

/**
 * The pause before trying again writes a full Redis refused (StoreFullError), given the one
 * before (0 when the last try was not refused): doubles from 250 ms up to 4 s, so a role
 * neither hammers a full Redis nor waits long once it has room again.
 */
export function fullStorePause(previous: number): number {
  return Math.min(Math.max(FULL_PAUSE_MS, previous * 2), MAX_FULL_PAUSE_MS);
}
