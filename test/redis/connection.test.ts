import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BadArgumentsError, connect, ConnectionLossError, SystemError, type Client } from '../../core/index.js';
import { startRedis, startSentinel, waitForReplication } from '../faults/index.js';
import { testNamespace } from '../namespace.js';
import { useCleanups } from './later.js';
import { watchedWrite } from './watch-once.js';

/** The ways users connect (URL, options, ACL user, their own ioredis instance, Sentinel). */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const later = useCleanups();

/** Writes, reads and a watch: enough to prove scripts, reads and pub/sub all work. */
async function exercise(zk: Client, other: Client): Promise<void> {
  await watchedWrite(zk, other);
  expect((await zk.getData('/app')).data.toString()).toBe('y');
}

describe('connecting to Redis', () => {
  it('standalone by URL and by ioredis options', async () => {
    const ns = testNamespace('ns');
    const a = later(await connect({ redis: 'redis://127.0.0.1:6379/0' }, { namespace: ns, logger: quiet }), (z) => z.close());
    const b = later(await connect({ redis: { host: '127.0.0.1', port: 6379 } }, { namespace: ns, logger: quiet }), (z) => z.close());
    await exercise(a, b);
  });

  it('as an ACL user limited to corral keys and channels (URL and options), and a clear error for a wrong password', async () => {
    const redis = later(await startRedis({ users: [{ name: 'corral', password: 's3cret', rules: '~corral:* &corral:* +@all' }] }), (r) => r.stop());
    const ns = testNamespace('ns');
    const a = later(await connect({ redis: `redis://corral:s3cret@127.0.0.1:${redis.port}` }, { namespace: ns, logger: quiet }), (z) => z.close());
    const b = later(await connect({ redis: { host: '127.0.0.1', port: redis.port, username: 'corral', password: 's3cret' } }, { namespace: ns, logger: quiet }), (z) => z.close());
    await exercise(a, b);
    const err = await connect({ redis: `redis://corral:wrong@127.0.0.1:${redis.port}` }, { namespace: ns, logger: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemError);
    expect((err as Error).message).toMatch(/WRONGPASS/);
    expect((err as Error).message).toMatch(/password/);
  });

  it('bad targets get typed errors: a non-Redis URL, Sentinel without a name, an unreachable server', async () => {
    await expect(connect({ redis: 'http://127.0.0.1:6379' })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(connect({ redis: { sentinels: [{ host: '127.0.0.1', port: 1 }] } })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(connect({ redis: { cluster: [] } })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(connect({ redis: 42 })).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(connect({ redis: 'redis://127.0.0.1:1' }, { logger: quiet })).rejects.toBeInstanceOf(ConnectionLossError);
  });

  it('an ioredis instance passed in is used, and never closed by corral', async () => {
    const mine = later(new Redis({ host: '127.0.0.1', port: 6379 }), async (r) => r.disconnect());
    const ns = testNamespace('ns');
    const a = await connect({ redis: mine }, { namespace: ns, logger: quiet });
    const b = later(await connect({ redis: mine }, { namespace: ns, logger: quiet }), (z) => z.close());
    await exercise(a, b);
    await a.close();
    expect(mine.status).toBe('ready');
    expect(await mine.ping()).toBe('PONG');
    expect((await b.getData('/app')).data.toString()).toBe('y');
  });

  it('Sentinel: after the master dies the client follows the fail-over to the promoted replica, same session', async () => {
    const master = later(await startRedis(), (r) => r.stop());
    const replica = later(await startRedis({ replicaOf: { port: master.port } }), (r) => r.stop());
    const sentinel = later(await startSentinel({ masterPort: master.port, quorum: 1, downAfterMs: 500, failoverTimeoutMs: 3000 }), (s) => s.stop());
    const ns = testNamespace('ns');
    const target = { redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: sentinel.masterName } };
    const zk = later(await connect(target, { namespace: ns, sessionTimeoutMs: 15_000, logger: quiet }), (z) => z.close());
    await zk.create('/before', 'v');
    await zk.create('/mine', '', { mode: 'ephemeral' });
    await waitForReplication(master, 1);

    await master.kill('SIGKILL');
    const promoted = await sentinel.waitForFailover(master.port);
    expect(promoted.port).toBe(replica.port);
    await zk.whenConnected(10_000);
    // Writes acknowledged by the replica (WAIT) survive; the session and its ephemeral too.
    expect((await zk.getData('/before')).data.toString()).toBe('v');
    expect((await zk.exists('/mine'))?.ephemeralOwner).toBe(zk.sessionId);
    await expect.poll(async () => zk.create('/after').then(() => true, () => false), { timeout: 10_000 }).toBe(true);
    const other = later(await connect(target, { namespace: ns, logger: quiet }), (z) => z.close());
    expect((await other.getChildren('/')).children).toEqual(['after', 'before', 'mine']);
  }, 40_000);
});
