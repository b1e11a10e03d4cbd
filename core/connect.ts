import type { Backend } from './backend.js';
import { Client } from './client.js';
import { BadArgumentsError } from './errors.js';
import { defaultLogger, type Logger } from './logger.js';
import { MemoryBackend, memoryStore, type MemoryStore } from './memory/index.js';
import { checkOptions, checkPositiveInt } from './validate.js';

/** Where the znode tree lives. */
export type ConnectTarget =
  /** The embedded store of this process (one per namespace): zero set-up, the default. */
  | { backend: 'memory'; store?: MemoryStore }
  /** A backend instance you built yourself (advanced; tests use it). */
  | { backend: Backend }
  /** Redis: a URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS), ioredis options, or an ioredis Redis/Cluster instance (never closed by corral). */
  | { redis: unknown; sentinels?: unknown };

export interface ConnectOptions {
  /** Separates independent trees in one store (one hash tag per namespace on Redis). Default `corral`. */
  namespace?: string;
  /** The session dies this long after the last heartbeat reached the backend. Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** Largest znode data accepted. Default 1 MiB, as ZooKeeper's jute.maxbuffer. */
  maxDataBytes?: number;
  /** A pino-compatible logger. Default: pino on stderr at CORRAL_LOG_LEVEL (default `warn`). */
  logger?: Logger;
}

const NAMESPACE = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Opens a session with the znode service.
 *
 * @example
 * const zk = await connect();                                   // embedded memory backend
 * const zk = await connect({ redis: 'redis://127.0.0.1:6379' }, { namespace: 'app' });
 */
export async function connect(target: ConnectTarget = { backend: 'memory' }, options: ConnectOptions = {}): Promise<Client> {
  const t = checkOptions<Record<string, unknown>>(target, 'connect target');
  const o = checkOptions<ConnectOptions>(options, 'connect');
  const namespace = o.namespace ?? 'corral';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new BadArgumentsError(`Expected \`namespace\` to be 1-100 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(namespace)}`);
  }
  if (o.logger !== undefined && !isLogger(o.logger)) {
    // Caught here: a logger without these methods would only fail later, inside a timer.
    throw new BadArgumentsError('Expected `logger` to have debug, info, warn and error methods (a pino logger, or console)');
  }
  const settings = {
    namespace,
    sessionTimeoutMs: o.sessionTimeoutMs === undefined ? 10_000 : checkPositiveInt(o.sessionTimeoutMs, 'sessionTimeoutMs', 100),
    maxDataBytes: o.maxDataBytes === undefined ? 1024 * 1024 : checkPositiveInt(o.maxDataBytes, 'maxDataBytes', 1),
    logger: o.logger ?? defaultLogger(),
  };
  const backend = await backendFor(t, namespace, settings.logger);
  const client = new Client(backend, settings);
  try {
    await client.start();
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
  return client;
}

async function backendFor(t: Record<string, unknown>, namespace: string, logger: Logger): Promise<Backend> {
  if ('redis' in t) {
    const { createRedisBackend } = await import('./redis/index.js');
    return createRedisBackend(t as { redis: unknown }, namespace, logger);
  }
  const b = t.backend ?? 'memory';
  if (b === 'memory') {
    const store = (t.store as MemoryStore | undefined) ?? memoryStore(namespace);
    return new MemoryBackend(store);
  }
  if (typeof b === 'object' && b !== null && typeof (b as Backend).createSession === 'function') return b as Backend;
  throw new BadArgumentsError(`Unknown backend ${JSON.stringify(b)}; use { backend: 'memory' } or { redis: 'redis://host:6379' }`);
}

function isLogger(l: unknown): l is Logger {
  if (typeof l !== 'object' || l === null) return false;
  const r = l as Record<string, unknown>;
  return typeof r.debug === 'function' && typeof r.info === 'function' && typeof r.warn === 'function' && typeof r.error === 'function';
}
