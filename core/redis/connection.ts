import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { BadArgumentsError } from '../errors.js';

/**
 * The two Redis connections one corral client uses: `commands` for scripts and reads,
 * `subscriber` for watch events (a connection in subscribe mode can do nothing else).
 */
export interface RedisLinks {
  commands: Redis | Cluster;
  /**
   * The events connection; null on Cluster, where {@link subscriberFor} builds it once
   * `commands` knows the slot map.
   */
  subscriber: Redis | null;
  /**
   * Cluster only: a plain connection to the master serving `slot`. Events must come from
   * the very node that runs the namespace's scripts: it delivers a script's PUBLISH to its
   * own subscribers before the script returns, so a PING there orders events before reads
   * (the cluster bus relays to other nodes later). It follows the slot to a new master on
   * reconnect.
   */
  subscriberFor?: (slot: number) => Redis;
  /** False when the user passed `commands` in: corral must never close it. */
  ownsCommands: boolean;
  /** True for Redis Cluster. */
  cluster: boolean;
}

/**
 * What corral needs from every connection it opens itself: fail fast while the link is
 * down (ops must reject with ConnectionLossError, not wait in an offline queue), never
 * resend a write whose reply was lost (it may have been applied: ZooKeeper's connection
 * loss), reconnect by itself. No auto-pipelining: the backend gathers its own calls
 * (core/redis/batch.ts), and ioredis's would hold every command back to the next turn of
 * the event loop (setImmediate) and build a pipeline for it: with it on, `setData` at 16 in
 * flight cost the client 12.7 µs of CPU per op instead of 8.7, and a lock hand-off p50
 * 0.82 ms instead of 0.59.
 */
const OWN: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  enableAutoPipelining: false,
  lazyConnect: true,
  retryStrategy: (attempt: number) => Math.min(25 * attempt, 250),
  connectTimeout: 5_000,
};

/** Subscriptions are restored by the backend itself, so it knows when they are back. */
const SUBSCRIBER: RedisOptions = { ...OWN, autoResubscribe: false };

/**
 * Builds the connections from what the user gave `connect()`:
 * - a URL string (`redis://user:pass@host:6379/0`, `rediss://` for TLS);
 * - ioredis options (`{ host, port, username, password, tls, db, … }`), or Sentinel
 *   options (`{ sentinels: [{ host, port }], name: 'mymaster', … }`), also accepted as
 *   `{ redis: {...}, sentinels: [...] }`;
 * - `{ cluster: [nodes], …ClusterOptions }` for Redis Cluster;
 * - an ioredis `Redis` or `Cluster` instance: used as is and never closed by corral; its
 *   `duplicate()` carries the watch subscriptions.
 */
export function openLinks(target: { redis: unknown; sentinels?: unknown }): RedisLinks {
  const r = target.redis;
  if (r instanceof Redis) {
    return { commands: r, subscriber: r.duplicate(SUBSCRIBER), ownsCommands: false, cluster: false };
  }
  if (r instanceof Cluster) {
    return { commands: r, subscriber: null, subscriberFor: slotSubscriber(r, r.options.redisOptions), ownsCommands: false, cluster: true };
  }
  if (typeof r === 'string') {
    if (!/^rediss?:\/\//.test(r)) throw new BadArgumentsError(`Expected a redis:// or rediss:// URL, got ${JSON.stringify(r)}`);
    return { commands: new Redis(r, OWN), subscriber: new Redis(r, SUBSCRIBER), ownsCommands: true, cluster: false };
  }
  if (typeof r === 'object' && r !== null && !Array.isArray(r)) {
    const { cluster, ...rest } = r as { cluster?: unknown } & Record<string, unknown>;
    if (cluster !== undefined) {
      if (!Array.isArray(cluster) || cluster.length === 0) {
        throw new BadArgumentsError('Expected `redis.cluster` to be a non-empty array of cluster nodes ({ host, port } or "host:port")');
      }
      const base = rest as ClusterOptions;
      const commands = new Cluster(cluster as ClusterNode[], clusterOptions(base));
      return { commands, subscriber: null, subscriberFor: slotSubscriber(commands, base.redisOptions), ownsCommands: true, cluster: true };
    }
    const options = { ...(rest as RedisOptions) };
    if (target.sentinels !== undefined) options.sentinels = target.sentinels as RedisOptions['sentinels'];
    if (options.sentinels !== undefined && typeof options.name !== 'string') {
      throw new BadArgumentsError('Sentinel needs `name`, the master group name (e.g. { sentinels: [...], name: "mymaster" })');
    }
    return { commands: new Redis({ ...options, ...OWN }), subscriber: new Redis({ ...options, ...SUBSCRIBER }), ownsCommands: true, cluster: false };
  }
  throw new BadArgumentsError('Expected `redis` to be a URL, ioredis options, { cluster: [...] } or an ioredis Redis/Cluster instance');
}

function slotSubscriber(cluster: Cluster, redisOptions: RedisOptions | undefined): (slot: number) => Redis {
  return (slot) => {
    const owner = (): { host: string; port: number } | null => {
      const key = cluster.slots[slot]?.[0];
      if (!key) return null;
      const i = key.lastIndexOf(':');
      return { host: key.slice(0, i), port: Number(key.slice(i + 1)) };
    };
    const first = owner();
    if (!first) throw new Error(`no Redis Cluster node serves slot ${slot} yet`);
    const sub: Redis = new Redis({
      ...redisOptions, ...SUBSCRIBER, ...first,
      retryStrategy: (attempt: number) => {
        // ioredis reads host/port from these options on every connect: point it at the slot's master now.
        const now = owner();
        if (now) Object.assign(sub.options, now);
        return Math.min(25 * attempt, 250);
      },
    });
    return sub;
  };
}

/** The user's Cluster options with what corral needs of its own connections (see OWN). */
function clusterOptions(base: ClusterOptions): ClusterOptions {
  return {
    ...base,
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    lazyConnect: true,
    clusterRetryStrategy: (attempt: number) => Math.min(50 * attempt, 500),
    redisOptions: { ...base.redisOptions, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, connectTimeout: 5_000 },
  };
}
