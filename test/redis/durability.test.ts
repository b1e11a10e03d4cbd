import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client, type Logger, type StoreRolledBackError, type WatchEvent } from '../../core/index.js';
import { startRedis, type RedisServer } from '../faults/index.js';

/** Redis restarts on a private redis-server: AOF keeps the tree, an older state is reported loudly. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function server(options: Parameters<typeof startRedis>[0]): Promise<RedisServer> {
  const r = await startRedis(options);
  cleanups.push(() => r.stop());
  return r;
}

async function client(url: string, namespace: string, sessionTimeoutMs: number, logger: Logger = quiet): Promise<Client> {
  const zk = await connect({ redis: url }, { namespace, sessionTimeoutMs, logger });
  cleanups.push(() => zk.close());
  return zk;
}

describe('Redis restarts', () => {
  it('AOF (appendfsync always): after a crash and restart the tree is intact and clients reconnect by themselves', async () => {
    const redis = await server({ aof: 'always' });
    const ns = `ns-${randomUUID()}`;
    const zk = await client(redis.url, ns, 8000);
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    const rolledBack: unknown[] = [];
    zk.on('rolledBack', (e) => rolledBack.push(e));
    await zk.create('/app', 'cfg');
    for (let i = 0; i < 20; i++) await zk.create('/app/item-', `n${i}`, { mode: 'persistent_sequential' });
    await zk.create('/app/live', '', { mode: 'ephemeral' });
    const last = await zk.setData('/app', 'cfg2');
    const before = await zk.getChildren('/app');

    await redis.kill('SIGKILL');
    await expect.poll(() => zk.state, { timeout: 3000 }).toBe('suspended');
    await redis.restart();
    await zk.whenConnected(6000);
    expect(states).toEqual(['suspended', 'reconnected']);
    const after = await zk.getChildren('/app');
    expect(after.children).toEqual(before.children);
    expect((await zk.getData('/app')).stat).toEqual(last);
    expect((await zk.exists('/app/live'))?.ephemeralOwner).toBe(zk.sessionId);
    const next = await zk.createWithStat('/after');
    expect(next.stat.czxid).toBe(last.mzxid + 1);
    expect(rolledBack).toEqual([]);
  }, 30_000);

  it('a store restored to an older state is detected: `rolledBack` fires, watches on lost znodes resync, new zxids stay above everything seen', async () => {
    const redis = await server({ aof: false });
    const ns = `ns-${randomUUID()}`;
    const errors: unknown[] = [];
    const logger: Logger = { ...quiet, error: (o: unknown) => void errors.push(o) };
    const zk = await client(redis.url, ns, 8000, logger);
    await zk.create('/kept', 'a');
    // A snapshot of the store as it is now…
    expect(await redis.command(['SAVE'])).toBe('OK');
    const saved = join(redis.dir, 'older.rdb');
    copyFileSync(join(redis.dir, 'dump.rdb'), saved);
    // …then writes it will lose.
    await zk.create('/lost', 'b');
    const { stat: lostStat } = await zk.createWithStat('/lost/child', 'c');
    const fired: WatchEvent[] = [];
    await zk.getData('/lost/child', { watch: (ev) => fired.push(ev) });
    const rolledBack = new Promise<StoreRolledBackError>((resolve) => zk.once('rolledBack', resolve));

    await redis.kill('SIGKILL');
    copyFileSync(saved, join(redis.dir, 'dump.rdb'));
    await redis.restart();

    const err = await rolledBack;
    expect(err.message).toContain(`saw zxid ${lostStat.czxid}`);
    expect(errors.length).toBeGreaterThan(0);
    await zk.whenConnected(6000);
    expect(await zk.exists('/lost')).toBeNull();
    expect((await zk.getData('/kept')).data.toString()).toBe('a');
    // Fencing tokens never go backwards: new znodes get zxids above every one seen before.
    const fresh = await zk.createWithStat('/fresh');
    expect(fresh.stat.czxid).toBeGreaterThan(lostStat.czxid);
    // The watch on a znode the store lost fires (a resync) rather than staying armed on nothing.
    await expect.poll(() => fired.map((e) => e.type), { timeout: 3000 }).toEqual(['deleted']);
  }, 30_000);
});
