/**
 * The Redis backend: the znode tree of a namespace in Redis (standalone, Sentinel or
 * Cluster), every write one atomic Lua script, watch events over pub/sub.
 */
import type { Backend } from '../backend.js';
import type { Logger } from '../logger.js';
import { RedisBackend } from './backend.js';
import { openLinks } from './connection.js';

export { RedisBackend } from './backend.js';
export { keySlot, namespaceKeys, type NamespaceKeys } from './keys.js';

/**
 * Builds the Redis backend for `connect()`; see {@link openLinks} for what `target.redis`
 * may be. The connection is opened by the client (`Backend.open`).
 *
 * @example
 * const zk = await connect({ redis: 'redis://127.0.0.1:6379' }, { namespace: 'app' });
 */
export async function createRedisBackend(target: { redis: unknown; sentinels?: unknown }, namespace: string, logger: Logger): Promise<Backend> {
  return new RedisBackend(openLinks(target), namespace, logger);
}
