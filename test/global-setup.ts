import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Gives the run an id for test/namespace.ts, and once every test is done removes the keys
 * of the namespaces this run made from the shared Redis (a full run made ~1 000 of them).
 * A Redis that does not answer is left alone: the tests that need it have said so already.
 */
export default function setup(): () => Promise<void> {
  const run = randomBytes(4).toString('hex');
  process.env.CORRAL_TEST_RUN = run;
  return async () => {
    const redis = new Redis(process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `corral:{*-${run}-*}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    } catch {
      // No Redis: nothing of ours in it.
    } finally {
      redis.disconnect();
    }
  };
}
