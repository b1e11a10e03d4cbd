import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { connect, type Client, type ConnectOptions, type Logger } from '../../core/index.js';

/** The shared Redis the benchmarks use (BENCH_REDIS_URL overrides). */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type CorralBackendKind = 'redis' | 'memory';

/** A fresh namespace per run: the shared Redis is never flushed. */
export function benchNamespace(prefix = 'bench'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Opens a corral session on the named backend. */
export function corralConnect(kind: CorralBackendKind, namespace: string, options: ConnectOptions = {}, redisUrl = REDIS_URL): Promise<Client> {
  const target = kind === 'redis' ? { redis: redisUrl } : { backend: 'memory' as const };
  return connect(target, { namespace, logger: quietLogger, ...options });
}

/**
 * Whether corral's Redis backend is usable here (it is built by another engineer and may
 * not have landed yet); the reason when it is not.
 */
export async function corralRedisReady(): Promise<{ ok: true } | { ok: false; reason: string }> {
  let zk: Client | undefined;
  const namespace = benchNamespace('probe');
  try {
    zk = await corralConnect('redis', namespace, { sessionTimeoutMs: 2000 });
    await zk.exists('/');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await zk?.close().catch(() => undefined);
    // The session left its counters behind: the shared Redis keeps nothing of a bench.
    if (zk) await dropRedisNamespace(namespace).catch(() => undefined);
  }
}

/** Removes every key of a namespace from Redis (keys carry the `{ns}` hash tag). */
export async function dropRedisNamespace(namespace: string, redisUrl = REDIS_URL): Promise<number> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let dropped = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `*{${namespace}}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) dropped += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return dropped;
}

/** Benchmarks report their own failures; corral's per-op warnings would drown the tables. */
export const quietLogger: Logger = {
  debug() {}, info() {}, warn() {},
  error(obj: object | string, msg?: string) {
    if (process.env.BENCH_VERBOSE) console.error(msg, obj);
  },
};
