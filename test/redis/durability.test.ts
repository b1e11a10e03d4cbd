import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client, type Logger, type StoreRolledBackError, type WatchEvent } from '../../core/index.js';
import { RedisBackend } from '../../core/redis/index.js';
import { Mutex } from '../../recipes/index.js';
import { startProxy, startRedis, type Proxy, type RedisServer } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

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

async function proxy(redis: RedisServer): Promise<Proxy> {
  const p = await startProxy({ targetPort: redis.port });
  cleanups.push(() => p.close());
  return p;
}

/** Takes an RDB snapshot now; `restore()` later crashes Redis and restarts it from that snapshot. */
async function snapshot(redis: RedisServer): Promise<{ restore(): Promise<void> }> {
  expect(await redis.command(['SAVE'])).toBe('OK');
  const saved = join(redis.dir, `older-${randomUUID()}.rdb`);
  copyFileSync(join(redis.dir, 'dump.rdb'), saved);
  return {
    async restore() {
      await redis.kill('SIGKILL');
      copyFileSync(saved, join(redis.dir, 'dump.rdb'));
      await redis.restart();
    },
  };
}

/** Resolves with the first `rolledBack` of `zk`, or null after `ms`. */
function nextRollback(zk: Client, ms: number): Promise<StoreRolledBackError | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    zk.once('rolledBack', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
}

async function client(url: string, namespace: string, sessionTimeoutMs: number, logger: Logger = quiet): Promise<Client> {
  const zk = await connect({ redis: url }, { namespace, sessionTimeoutMs, logger });
  cleanups.push(() => zk.close());
  return zk;
}

describe('Redis restarts', () => {
  it('AOF (appendfsync always): after a crash and restart the tree is intact and clients reconnect by themselves', async () => {
    const redis = await server({ aof: 'always' });
    const ns = testNamespace('ns');
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
    const watched: WatchEvent[] = [];
    await zk.getData('/app', { watch: (ev) => watched.push(ev) });

    await redis.kill('SIGKILL');
    await expect.poll(() => zk.state, { timeout: 3000 }).toBe('suspended');
    await redis.restart();
    await zk.whenConnected(6000);
    expect(states).toEqual(['suspended', 'reconnected']);
    const after = await zk.getChildren('/app');
    expect(after.children).toEqual(before.children);
    expect((await zk.getData('/app')).stat).toEqual(last);
    expect((await zk.exists('/app/live'))?.ephemeralOwner).toBe(zk.sessionId);
    // A restart is a new Redis lifetime: the counter may jump (to a floor set by the Redis
    // clock), never go back, and then counts on by one.
    const next = await zk.createWithStat('/after');
    expect(next.stat.czxid).toBeGreaterThan(last.mzxid);
    expect((await zk.createWithStat('/after-2')).stat.czxid).toBe(next.stat.czxid + 1);
    expect(rolledBack).toEqual([]);
    // Nothing was lost, so the catch-up across the jump is exact: the watch armed before the
    // crash did not fire (no resync), and fires on the next real change.
    expect(watched).toEqual([]);
    await zk.setData('/app', 'cfg3');
    await expect.poll(() => watched.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['dataChanged /app undefined']);
  }, 30_000);

  it('a store restored to an older state is detected: `rolledBack` fires, watches on lost znodes resync, new zxids stay above everything seen', async () => {
    const redis = await server({ aof: false });
    const ns = testNamespace('ns');
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

  it('after an RDB restore a fresh client that writes first gets zxids above every one issued before; a lock granted then has a higher token than the stale holder', async () => {
    const redis = await server({ aof: false });
    const ns = testNamespace('ns');
    // The client that saw the lost writes reaches Redis through a proxy, held down until the
    // fresh client has written: nothing it knows can help the store.
    const link = await proxy(redis);
    const stale = await client(link.url, ns, 20_000);
    await stale.create('/locks');
    await stale.create('/kept', 'v0');
    const older = await snapshot(redis);
    // Writes the rollback loses, among them a lock grant with its fencing token.
    const staleLease = await new Mutex(stale, '/locks/db').acquire({ timeoutMs: 5000 });
    let maxLost = staleLease.token;
    for (let i = 0; i < 20; i++) maxLost = Math.max(maxLost, (await stale.createWithStat(`/lost-${i}`, 'x')).stat.czxid);
    maxLost = Math.max(maxLost, (await stale.setData('/kept', 'v1')).mzxid);

    link.cut();
    await older.restore();
    const fresh = await client(redis.url, ns, 20_000);
    expect(await fresh.exists('/lost-0')).toBeNull();
    const first = await fresh.createWithStat('/first', 'x');
    expect(first.stat.czxid).toBeGreaterThan(maxLost);
    const kept = await fresh.setData('/kept', 'v2');
    expect(kept.mzxid).toBeGreaterThan(first.stat.czxid);
    // The stale holder's lock znode went with the rollback: the lock is free, and its new
    // holder's token is above the stale one, so a guarded resource rejects the stale holder.
    const lease = await new Mutex(fresh, '/locks/db').acquire({ timeoutMs: 5000 });
    expect(lease.token).toBeGreaterThan(staleLease.token);
    expect(lease.token).toBeGreaterThan(maxLost);
    await lease.release();
    // Every zxid the fresh client sees from now on is above the lost ones, reads included.
    expect((await fresh.getData('/locks')).stat.pzxid).toBeGreaterThan(maxLost);
    link.heal();
  }, 30_000);

  it('a client that saw lost writes gets `rolledBack` although another client wrote first and the counter passed its position; its watches on lost znodes fire (resync), the others stay armed', async () => {
    const redis = await server({ aof: false });
    const ns = testNamespace('ns');
    const link = await proxy(redis);
    const errors: unknown[] = [];
    // Heartbeats every 2 s; the session outlives the restore (its deadline is in the snapshot).
    const a = await client(link.url, ns, 6000, { ...quiet, error: (o: unknown) => void errors.push(o) });
    let reports = 0;
    a.on('rolledBack', () => reports++);
    const shared = (await a.createWithStat('/kept', 'v0')).stat.czxid;
    const keptEvents: WatchEvent[] = [];
    await a.getData('/kept', { watch: (ev) => keptEvents.push(ev) });
    const older = await snapshot(redis);
    // Six writes the rollback loses; `a` watches what they made.
    await a.create('/lost', 'x');
    let seen = 0;
    for (let i = 0; i < 5; i++) seen = (await a.createWithStat('/lost/c-', '', { mode: 'persistent_sequential' })).stat.czxid;
    const dataEvents: WatchEvent[] = [];
    const childEvents: WatchEvent[] = [];
    await a.getData('/lost', { watch: (ev) => dataEvents.push(ev) });
    await a.getChildren('/lost', { watch: (ev) => childEvents.push(ev) });

    link.cut();
    await older.restore();
    // Another client writes first, more times than the rollback lost: on a store that only
    // counted on, the counter would now be past `a`'s position and nothing would look wrong.
    const b = await client(redis.url, ns, 20_000);
    let last = 0;
    for (let i = 0; i < 30; i++) last = (await b.createWithStat(`/b-${i}`)).stat.czxid;
    expect(last).toBeGreaterThan(seen);
    // A catch-up from `a`'s position is refused, naming the last zxid both histories share…
    const be = b.backend as RedisBackend;
    expect(await be.changesSince(shared, seen)).toEqual({ rolledBackAt: shared, zxid: last });
    // …while one that saw nothing lost is served across the jump, even from before the
    // namespace's first write (the recorded jump explains the log's first id).
    expect(await be.changesSince(shared, shared)).toEqual([]);
    expect(await be.changesSince(0, 0)).toEqual([]);
    const rolledBack = nextRollback(a, 10_000);
    link.heal();
    const err = await rolledBack;
    expect(err, 'the client that saw the lost writes was not told').not.toBeNull();
    expect(err!.code).toBe(-1004);
    expect(err!.message).toContain(`saw zxid ${seen}`);
    expect(errors.length).toBeGreaterThan(0);
    await a.whenConnected(10_000);
    // Watches armed on what the rollback took fire, flagged as a resync…
    await expect.poll(() => dataEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['deleted /lost true']);
    await expect.poll(() => childEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['deleted /lost true']);
    // …one armed before the lost writes, on a znode they did not touch, stays armed and
    // fires on the next real change.
    expect(keptEvents).toEqual([]);
    await b.setData('/kept', 'v1');
    await expect.poll(() => keptEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['dataChanged /kept undefined']);
    // Told once: the heartbeats that follow find `a` in step with the store's history.
    await new Promise((r) => setTimeout(r, 2 * Math.ceil(6000 / 3) + 500));
    expect(reports).toBe(1);
  }, 40_000);

  it('without INFO (an ACL that denies it) zxids are floored at the clock at every write: after a rollback a fresh client still gets zxids above the lost ones, and a client that saw them is told through the change log', async () => {
    const user = { name: 'corral', password: 'pw', rules: '~* &* +@all -info' };
    const redis = await server({ aof: false, users: [user] });
    const auth = `${user.name}:${user.password}@`;
    await expect(redis.command(['INFO', 'replication'])).rejects.toThrow(/NOPERM/);
    const ns = testNamespace('ns');
    const link = await proxy(redis);
    const a = await client(link.url.replace('//', `//${auth}`), ns, 6000);
    await a.create('/kept', 'v0');
    const older = await snapshot(redis);
    let seen = 0;
    for (let i = 0; i < 5; i++) seen = (await a.createWithStat(`/lost-${i}`, 'x')).stat.czxid;
    const lostEvents: WatchEvent[] = [];
    await a.getData('/lost-0', { watch: (ev) => lostEvents.push(ev) });

    link.cut();
    await older.restore();
    const b = await client(redis.url.replace('//', `//${auth}`), ns, 6000);
    const first = await b.createWithStat('/first', 'x');
    expect(first.stat.czxid).toBeGreaterThan(seen);
    for (let i = 0; i < 30; i++) await b.create(`/b-${i}`);
    const rolledBack = nextRollback(a, 10_000);
    link.heal();
    const err = await rolledBack;
    expect(err, 'the client that saw the lost writes was not told').not.toBeNull();
    expect(err!.message).toContain(`saw zxid ${seen}`);
    await a.whenConnected(10_000);
    await expect.poll(() => lostEvents.map((e) => `${e.type} ${e.path} ${e.resync}`), { timeout: 3000 }).toEqual(['deleted /lost-0 true']);
  }, 30_000);

  it('a client whose session the rollback took is expired and told why: `rolledBack`, then `expired`', async () => {
    const redis = await server({ aof: false });
    const ns = testNamespace('ns');
    const older = await snapshot(redis);
    // Its session, and everything it did, came after the snapshot.
    const a = await client(redis.url, ns, 6000);
    let seen = 0;
    for (let i = 0; i < 3; i++) seen = (await a.createWithStat(`/lost-${i}`, 'x')).stat.czxid;
    const order: string[] = [];
    a.on('rolledBack', (e) => order.push(`rolledBack ${e.message}`));
    a.on('state', (st) => order.push(st));
    await older.restore();
    await expect.poll(() => order.at(-1), { timeout: 10_000 }).toBe('expired');
    expect(order).toEqual(['suspended', `rolledBack Store went back in time: this client saw zxid ${seen}, the backend is at 0`, 'expired']);
  }, 30_000);
});
