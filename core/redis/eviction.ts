import type { Cluster, Redis } from 'ioredis';
import { SystemError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Refuses a Redis that may evict corral's keys. Under an `allkeys-*` maxmemory policy,
 * Redis drops keys of its choice once it is full: a znode, a child list or a session's
 * deadline could vanish without a write, and with them the guarantees (a lock's znode
 * evicted lets a second holder in). corral sets no expiry on its keys, so the `volatile-*`
 * policies never touch them and are fine, as is `noeviction` (Redis then refuses writes
 * when full; see scripts.ts, ALLOW_OOM). An `allkeys-*` policy without a maxmemory evicts
 * nothing yet, so it is only warned about. Where INFO is not allowed (an ACL), nothing can
 * be checked: a debug line says so.
 */
export async function checkEvictionPolicy(cmd: Redis | Cluster, cluster: boolean, logger: Logger): Promise<void> {
  const nodes = cluster ? (cmd as Cluster).nodes('master') : [cmd as Redis];
  for (const node of nodes) {
    let info: string;
    try {
      info = String(await node.info('memory'));
    } catch (err) {
      if ((err as Error)?.name !== 'ReplyError') throw err;
      logger.debug({ err }, 'redis: INFO not allowed here, so the eviction policy was not checked');
      return;
    }
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? '';
    const maxmemory = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0);
    if (!policy.startsWith('allkeys-')) continue;
    const why = `Redis's maxmemory-policy is ${policy}: once full, it would evict corral's keys (znodes, sessions) and break its guarantees`;
    if (maxmemory > 0) throw new SystemError(`${why}. Set maxmemory-policy to noeviction (or a volatile-* policy: corral's keys have no expiry)`);
    logger.warn({ policy }, `${why} as soon as a maxmemory is set; use noeviction`);
  }
}
