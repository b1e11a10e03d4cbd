import { connect, MemoryBackend, memoryStore, type Client, type Logger } from '../../core/index.js';
import { startProxy, startRedis, type Proxy, type RedisServer } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

/** A logger that keeps errors (a rolled-back store is logged as one) and drops the rest. */
export function keepingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return {
    errors,
    debug() {},
    info() {},
    warn() {},
    error(obj: object | string) {
      errors.push(obj);
      if (errors.length > 200) errors.shift();
    },
  };
}

/** A client plus the faults its own link can suffer. */
export interface FaultyClient {
  zk: Client;
  /** The link fails loudly (resets); ops fail fast with ConnectionLossError. */
  cut(): void;
  /**
   * The link goes silent (packets held): on Redis a real silent partition; the memory
   * backend has no such thing, so there it is the same as `cut`.
   */
  block(): void;
  /** Link back to normal. */
  heal(): void;
  close(): Promise<void>;
}

/** Where a reliability test runs: a backend, a fresh namespace, and clients with faultable links. */
export interface Target {
  readonly name: 'memory' | 'redis';
  readonly namespace: string;
  connect(opts?: { sessionTimeoutMs?: number; logger?: Logger }): Promise<FaultyClient>;
  /** Sessions the store counts as live, for the tree-invariant checker. */
  liveSessions(): Promise<Set<string>>;
  close(): Promise<void>;
}

/** The embedded store: faults are the connection's own cut()/heal(). */
export function memoryTarget(): Target {
  const namespace = testNamespace('ns');
  const clients = new Set<FaultyClient>();
  return {
    name: 'memory',
    namespace,
    async connect(opts = {}) {
      const zk = await connect({ backend: 'memory' }, { namespace, logger: opts.logger ?? keepingLogger(), sessionTimeoutMs: opts.sessionTimeoutMs ?? 1000 });
      const b = zk.backend as MemoryBackend;
      const c: FaultyClient = {
        zk,
        cut: () => b.cut(),
        block: () => b.cut(),
        heal: () => b.heal(),
        close: async () => {
          clients.delete(c);
          b.heal();
          await zk.close().catch(() => undefined);
        },
      };
      clients.add(c);
      return c;
    },
    async liveSessions() {
      return new Set(memoryStore(namespace).liveSessions());
    },
    async close() {
      for (const c of [...clients]) await c.close();
    },
  };
}

/**
 * Redis: one private redis-server (or the one given), and one TCP proxy per client so a
 * fault hits exactly that client's link.
 */
export async function redisTarget(server?: RedisServer): Promise<Target & { redis: RedisServer }> {
  const redis = server ?? await startRedis();
  const namespace = testNamespace('ns');
  const clients = new Set<FaultyClient>();
  const proxies = new Set<Proxy>();
  return {
    name: 'redis',
    namespace,
    redis,
    async connect(opts = {}) {
      const proxy = await startProxy({ targetPort: redis.port });
      proxies.add(proxy);
      let zk: Client;
      try {
        zk = await connect({ redis: proxy.url }, { namespace, logger: opts.logger ?? keepingLogger(), sessionTimeoutMs: opts.sessionTimeoutMs ?? 1000 });
      } catch (err) {
        await proxy.close();
        throw err;
      }
      const c: FaultyClient = {
        zk,
        cut: () => proxy.cut(),
        block: () => proxy.block(),
        heal: () => proxy.heal(),
        close: async () => {
          clients.delete(c);
          proxy.heal();
          await zk.close().catch(() => undefined);
          await proxy.close();
          proxies.delete(proxy);
        },
      };
      clients.add(c);
      return c;
    },
    async liveSessions() {
      // Every client in these tests is ours, so the sessions our connected clients hold
      // are the live ones; this keeps the check independent of the backend's key layout.
      // (Use it only once faults have healed: a suspended client's session may be live.)
      const live = new Set<string>();
      for (const c of clients) if (c.zk.state === 'connected' || c.zk.state === 'reconnected') live.add(c.zk.sessionId);
      return live;
    },
    async close() {
      for (const c of [...clients]) await c.close();
      for (const p of [...proxies]) await p.close();
      if (!server) await redis.stop();
    },
  };
}

/**
 * The backends a test file runs on: memory and Redis, unless `CORRAL_BACKENDS`
 * (comma-separated, as for the conformance suite in test/conformance/harnesses) names a
 * subset. Nothing is dropped because a server does not answer: that is a failure.
 */
export function selectedBackends(): Array<'memory' | 'redis'> {
  const only = process.env.CORRAL_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
  return (['memory', 'redis'] as const).filter((k) => !only || only.includes(k));
}

/**
 * Whether this run includes the Redis backend: yes, unless `CORRAL_BACKENDS` leaves it
 * out (as for every other test folder). A run that includes it and cannot start a
 * private redis-server fails; it never skips the Redis half quietly.
 */
export function redisSelected(): boolean {
  return selectedBackends().includes('redis');
}
