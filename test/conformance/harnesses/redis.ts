import { Redis } from 'ioredis';
import { connect, type Client } from '../../../core/index.js';
import { namespaceKeys, RedisBackend } from '../../../core/redis/index.js';
import { startProxy, type Proxy } from '../../faults/index.js';
import type { BackendHarness } from '../harness.js';
import { quietLogger } from '../logger.js';
import { testNamespace } from '../../namespace.js';

/** Where the shared test Redis listens (never flushed: every case has its own namespace). */
const REDIS_HOST = process.env.CORRAL_TEST_REDIS_HOST ?? '127.0.0.1';
const REDIS_PORT = Number(process.env.CORRAL_TEST_REDIS_PORT ?? 6379);

/**
 * The Redis backend on the shared test Redis. Each client connects through its own TCP
 * proxy, so `partition` cuts exactly that client's links (commands and pub/sub) for real.
 */
export function redisHarness(): BackendHarness {
  let namespace = '';
  let admin: Redis | null = null;
  const proxies = new Map<Client, Proxy>();
  let old: Proxy[] = [];

  const proxyOf = (zk: Client): Proxy => {
    const p = proxies.get(zk);
    if (!p) throw new Error('not a client of this redis harness');
    return p;
  };

  return {
    name: 'redis',
    async setup() {
      admin = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true });
      await admin.connect();
    },
    newCase() {
      // The previous case's clients are closed by now: its keys can go (the shared Redis is
      // never flushed, and a case such as the 3 000-children one leaves thousands).
      if (namespace && admin) void dropNamespace(admin, namespace).catch(() => undefined);
      namespace = testNamespace('ns');
      // The previous case's clients are closed by now; their proxies can go.
      old.push(...proxies.values());
      proxies.clear();
      const closing = old;
      old = [];
      for (const p of closing) void p.close();
    },
    async connect(opts = {}) {
      if (!namespace) throw new Error('call newCase() first');
      const proxy = await startProxy({ targetHost: REDIS_HOST, targetPort: REDIS_PORT });
      try {
        const zk = await connect({ redis: proxy.url }, { namespace, logger: quietLogger, ...opts });
        proxies.set(zk, proxy);
        return zk;
      } catch (err) {
        await proxy.close();
        throw err;
      }
    },
    async partition(zk) {
      proxyOf(zk).cut();
    },
    async heal(zk) {
      proxyOf(zk).heal();
      // Like the memory backend's heal(), return once the link is usable again (ioredis
      // reconnects on its own, within its retry delay).
      if (zk.state === 'closed' || !(zk.backend instanceof RedisBackend)) return;
      const be = zk.backend;
      const deadline = Date.now() + 5000;
      while (!be.isConnected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
    async liveSessions() {
      const keys = namespaceKeys(namespace);
      const [sec, micro] = await admin!.time();
      const now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
      return new Set(await admin!.zrangebyscore(keys.sessions, now, '+inf'));
    },
    async teardown() {
      await Promise.all([...proxies.values(), ...old].map((p) => p.close()));
      if (namespace && admin) await dropNamespace(admin, namespace).catch(() => undefined);
      proxies.clear();
      admin?.disconnect();
      admin = null;
    },
  };
}

/** Unlinks every key of a namespace (they all carry its `{ns}` hash tag). */
async function dropNamespace(admin: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `corral:{${namespace}}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await admin.unlink(...keys);
  } while (cursor !== '0');
}
