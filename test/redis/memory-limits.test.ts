import { describe, expect, it } from 'vitest';
import { connect, op, StoreFullError, SystemError, type Client, type SessionState } from '../../core/index.js';
import { LeaderLatch, Mutex, runAsLeader } from '../../recipes/index.js';
import { checkTreeInvariants } from '../conformance/invariants.js';
import { startRedis, type RedisServer } from '../faults/index.js';
import { testNamespace } from '../namespace.js';
import { useCleanups } from './later.js';
import { watchOnce } from './watch-once.js';

/**
 * Redis at its memory limit. With `noeviction`, a full Redis refuses what would use more
 * memory: corral's writes are refused whole (StoreFullError), while reads, watches, heartbeats and the
 * reaper (functions flagged allow-oom) go on, so no session is lost to a full Redis. An
 * `allkeys-*` policy would evict corral's keys, so such a Redis is refused at connect.
 * Each test has a private redis-server.
 */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const later = useCleanups();
const SESSION_MS = 1000;

/** Fills the server past a 1 MB maxmemory: every command that needs memory is refused from now on. */
async function fill(redis: RedisServer): Promise<void> {
  for (let i = 0; i < 20; i++) await redis.command(['SET', `filler:${i}`, 'x'.repeat(100_000)]);
  await redis.command(['CONFIG', 'SET', 'maxmemory', '1mb']);
  expect(String(await redis.command(['SET', 'probe', '1']).catch((e: unknown) => e))).toMatch(/OOM/);
}

/** A private noeviction Redis and a way to open sessions on it in a namespace of its own. */
async function fullableRedis(name: string): Promise<{ redis: RedisServer; open: () => Promise<Client> }> {
  const redis = later(await startRedis({ args: ['--maxmemory-policy', 'noeviction'] }), (r) => r.stop());
  const ns = testNamespace(name);
  return { redis, open: () => connect({ redis: redis.url }, { namespace: ns, logger: quiet, sessionTimeoutMs: SESSION_MS }) };
}

async function expectRefused(write: Promise<unknown>): Promise<void> {
  const err = await write.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(StoreFullError);
  expect(err).toMatchObject({ code: -1007, retryable: true });
  expect((err as Error).message).toMatch(/out of memory.*nothing was written/);
}

describe('Redis memory limits', () => {
  it('over maxmemory (noeviction): reads, watches and sessions go on, writes are refused whole, and all works again once memory is back', async () => {
    const { redis, open } = await fullableRedis('oom');
    const zk = later(await open(), (z) => z.close());
    const other = later(await open(), (z) => z.close());
    await zk.create('/app', 'v1');
    await zk.create('/app/child', 'c');
    await other.create('/app/e', '', { mode: 'ephemeral' });
    const before = watchOnce();
    await zk.getData('/app', { watch: before.watch });
    const states: SessionState[] = [];
    for (const c of [zk, other]) c.on('state', (s: SessionState) => states.push(s));

    await fill(redis);

    // Reads, and a watch armed while full.
    expect((await zk.getData('/app')).data.toString()).toBe('v1');
    expect((await zk.getChildren('/app')).children).toEqual(['child', 'e']);
    expect(await other.exists('/app/child')).not.toBeNull();
    const [read] = await zk.multiRead([op.getData('/app/child')]);
    expect(read.type === 'getData' && read.data.toString()).toBe('c');
    const during = watchOnce();
    await other.getChildren('/app', { watch: during.watch });

    // Writes of every kind: refused before they run.
    await expectRefused(zk.create('/app/new', 'n'));
    await expectRefused(zk.setData('/app', 'v2'));
    await expectRefused(zk.delete('/app/child'));
    await expectRefused(zk.multi([op.create('/app/m', ''), op.setData('/app', 'v3')]));
    // A new session opens, and reads.
    const late = later(await open(), (z) => z.close());
    expect((await late.getData('/app/child')).data.toString()).toBe('c');

    // Heartbeats go on: both sessions outlive two and a half timeouts, the ephemeral with them.
    await new Promise((r) => setTimeout(r, 2.5 * SESSION_MS));
    expect(states).toEqual([]);
    expect([zk.state, other.state]).toEqual(['connected', 'connected']);
    expect((await zk.getChildren('/app')).children).toEqual(['child', 'e']);
    const app = await zk.getData('/app');
    expect(app.data.toString()).toBe('v1');
    expect(app.stat.version).toBe(0);

    // Memory back: the same sessions write, and the watches armed before and during fire.
    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
    await zk.setData('/app', 'v2');
    await zk.create('/app/new', 'n');
    expect((await before.fired).type).toBe('dataChanged');
    expect((await during.fired).type).toBe('childrenChanged');
    await checkTreeInvariants(zk, async () => new Set([zk.sessionId, other.sessionId]));
    expect((await zk.getChildren('/app')).children).toEqual(['child', 'e', 'new']);
  });

  it('a lock released while Redis is full: release() fails and the next waiter waits; released again once memory is back, it passes on', async () => {
    const { redis, open } = await fullableRedis('oom-lock');
    const holder = later(await open(), (z) => z.close());
    const waiter = later(await open(), (z) => z.close());
    const lease = await new Mutex(holder, '/locks/a').acquire();
    const next = new Mutex(waiter, '/locks/a').acquire();
    await expect.poll(async () => (await holder.getChildren('/locks/a')).children.length).toBe(2);

    await fill(redis);
    await expectRefused(lease.release());
    expect(lease.held).toBe(false);
    expect(lease.signal.aborted).toBe(true);
    // Its znode is still there, so the waiter is not let in.
    const settled = await Promise.race([next.then(() => 'granted'), new Promise((r) => setTimeout(() => r('waiting'), 2 * SESSION_MS))]);
    expect(settled).toBe('waiting');
    expect(await holder.exists(lease.path)).not.toBeNull();

    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
    await lease.release();
    const granted = await next;
    expect(granted.token).toBeGreaterThan(lease.token);
    expect(await holder.exists(lease.path)).toBeNull();
    await granted.release();
  });

  it('a leader resigning while Redis is full: LeaderLatch.close() can be retried, and runAsLeader retries by itself; the next candidate is elected once memory is back', async () => {
    const { redis, open } = await fullableRedis('oom-leader');
    const a = later(await open(), (z) => z.close());
    const b = later(await open(), (z) => z.close());
    const pending = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

    // LeaderLatch: close() refused, then retried by hand.
    const latch = new LeaderLatch(a, '/leader/latch');
    await latch.start();
    await latch.elected();
    const other = new LeaderLatch(b, '/leader/latch');
    await other.start();
    await fill(redis);
    await expectRefused(latch.close());
    expect(latch.isLeader).toBe(false);
    expect(await pending(other.elected(), SESSION_MS)).toBe('pending');
    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
    await latch.close();
    await other.elected({ timeoutMs: 2000 });
    await other.close();

    // runAsLeader: its resignation is refused, reported, and retried in the background.
    let release: () => void = () => undefined;
    const round = runAsLeader(a, '/leader/round', () => new Promise<string>((r) => (release = () => r('done'))));
    await expect.poll(() => a.getChildren('/leader/round').then((c) => c.children.length, () => 0)).toBe(1);
    const next = runAsLeader(b, '/leader/round', () => 'next');
    await expect.poll(async () => (await a.getChildren('/leader/round')).children.length).toBe(2);
    await fill(redis);
    release();
    await expectRefused(round);
    expect(await pending(next, SESSION_MS)).toBe('pending');
    await redis.command(['CONFIG', 'SET', 'maxmemory', '0']);
    expect(await next).toBe('next');
  });

  it('a Redis that evicts any key once full (allkeys-*) is refused at connect, writing nothing; volatile-* and noeviction are fine', async () => {
    const evicting = later(await startRedis({ args: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'] }), (r) => r.stop());
    const ns = testNamespace('evict');
    const err = await connect({ redis: evicting.url }, { namespace: ns, logger: quiet }).then((z) => z.close(), (e: unknown) => e);
    expect(err).toBeInstanceOf(SystemError);
    expect((err as Error).message).toMatch(/maxmemory-policy is allkeys-lru.*noeviction/);
    expect(Number(await evicting.command(['DBSIZE']))).toBe(0);

    for (const policy of ['volatile-lru', 'noeviction']) {
      await evicting.command(['CONFIG', 'SET', 'maxmemory-policy', policy]);
      const zk = await connect({ redis: evicting.url }, { namespace: ns, logger: quiet });
      await zk.create('/ok', policy);
      await zk.delete('/ok');
      await zk.close();
    }

    // No maxmemory: nothing is evicted yet, so it connects, with a warning.
    await evicting.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu']);
    await evicting.command(['CONFIG', 'SET', 'maxmemory', '0']);
    const warned: string[] = [];
    const zk = await connect({ redis: evicting.url }, { namespace: ns, logger: { ...quiet, warn: (_o: object, msg?: string) => void warned.push(String(msg)) } });
    await zk.close();
    expect(warned.some((m) => /allkeys-lfu/.test(m))).toBe(true);
  });
});
