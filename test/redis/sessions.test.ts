import { afterEach, describe, expect, it } from 'vitest';
import { connect, SessionExpiredError, type Client, type WatchEvent } from '../../core/index.js';
import { RedisBackend } from '../../core/redis/index.js';
import { spawnTs, startProxy, type Proxy, type TsProcess } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

/**
 * Sessions on Redis under real faults: a SIGKILLed process, a SIGSTOPped one, a silent
 * partition (a proxy that holds every byte), all against the shared test Redis.
 */
const REDIS = 'redis://127.0.0.1:6379';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function client(namespace: string, url = REDIS, sessionTimeoutMs = 10_000): Promise<Client> {
  const zk = await connect({ redis: url }, { namespace, sessionTimeoutMs, logger: quiet });
  cleanups.push(() => zk.close());
  return zk;
}

async function holder(namespace: string, timeoutMs: number, path: string, url = REDIS): Promise<{ child: TsProcess; sessionId: string }> {
  const child = await spawnTs('test/redis/fixtures/session-holder.ts', [url, namespace, String(timeoutMs), path], { ready: /^READY/, readyTimeoutMs: 30_000 });
  cleanups.push(() => child.stop());
  const line = child.lines.find((l) => l.startsWith('READY'))!;
  return { child, sessionId: line.split(' ')[1] };
}

function deletion(zk: Client, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    zk.exists(path, { watch: (ev: WatchEvent) => (ev.type === 'deleted' ? resolve(performance.now()) : reject(new Error(`unexpected ${ev.type}`))) })
      .then((stat) => { if (!stat) reject(new Error(`${path} does not exist`)); }, reject);
  });
}

describe('Redis sessions under real faults', () => {
  it('the ephemerals of a SIGKILLed process disappear within session timeout + 250 ms', async () => {
    const ns = testNamespace('ns');
    const timeout = 1000;
    const { child, sessionId } = await holder(ns, timeout, '/worker');
    const observer = await client(ns);
    const stat = await observer.exists('/worker');
    expect(stat?.ephemeralOwner).toBe(sessionId);
    const gone = deletion(observer, '/worker');
    const killedAt = performance.now();
    await child.kill('SIGKILL');
    const elapsed = (await gone) - killedAt;
    expect(elapsed).toBeLessThanOrEqual(timeout + 250);
    // Its heartbeats stopped at most a third of the timeout before the kill.
    expect(elapsed).toBeGreaterThan(timeout / 2);
    expect(await observer.exists('/worker')).toBeNull();
  }, 40_000);

  it('a process frozen (SIGSTOP) past its timeout cannot write when it wakes: SessionExpiredError, store untouched', async () => {
    const ns = testNamespace('ns');
    const observer = await client(ns);
    await observer.create('/guard', 'v0');
    const { child } = await holder(ns, 600, '/frozen');
    const gone = deletion(observer, '/frozen');
    await child.kill('SIGSTOP');
    await gone;
    await child.kill('SIGCONT');
    child.send('write /guard');
    expect(await child.waitFor(/^backend /, 10_000)).toBe('backend SessionExpiredError');
    expect(await child.waitFor(/^client /, 10_000)).toBe('client SessionExpiredError');
    const { data, stat } = await observer.getData('/guard');
    expect(data.toString()).toBe('v0');
    expect(stat.version).toBe(0);
  }, 40_000);

  it('a silent partition (no TCP reset): suspended, then expired by the backend clock; a late write is refused', async () => {
    const ns = testNamespace('ns');
    const proxy: Proxy = await startProxy({ targetPort: 6379 });
    cleanups.push(() => proxy.close());
    const observer = await client(ns);
    await observer.create('/guard', 'v0');
    const a = await client(ns, proxy.url, 600);
    await a.create('/mine', '', { mode: 'ephemeral' });
    const states: string[] = [];
    a.on('state', (s) => states.push(s));
    const gone = deletion(observer, '/mine');
    proxy.block();
    await gone;
    await expect.poll(() => a.state, { timeout: 3000 }).toBe('expired');
    expect(states).toEqual(['suspended', 'expired']);
    proxy.unblock();
    const be = a.backend as RedisBackend;
    await expect.poll(() => be.isConnected, { timeout: 5000 }).toBe(true);
    await expect(be.setData(a.sessionId, '/guard', Buffer.from('late'), -1)).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(be.create(a.sessionId, '/late', new Uint8Array(0), 'ephemeral')).rejects.toBeInstanceOf(SessionExpiredError);
    expect((await observer.getData('/guard')).data.toString()).toBe('v0');
    expect(await observer.exists('/late')).toBeNull();
  }, 30_000);

  it('a short silent partition within the timeout: same session, watches fire for what changed meanwhile, the rest stay armed', async () => {
    const ns = testNamespace('ns');
    const proxy: Proxy = await startProxy({ targetPort: 6379 });
    cleanups.push(() => proxy.close());
    const b = await client(ns);
    await b.create('/changed', 'v0');
    await b.create('/quiet', 'v0');
    const a = await client(ns, proxy.url, 3000);
    const sessionId = a.sessionId;
    await a.create('/mine', '', { mode: 'ephemeral' });
    const fired: WatchEvent[] = [];
    await a.getData('/changed', { watch: (ev) => fired.push(ev) });
    await a.getData('/quiet', { watch: (ev) => fired.push(ev) });
    const stream = a.watch('/', { recursive: true });
    await stream.ready;
    const seen: WatchEvent[] = [];
    void (async () => { for await (const ev of stream) seen.push(ev); })().catch(() => undefined);

    const suspended = new Promise((r) => a.once('state', r));
    proxy.block();
    await expect(suspended).resolves.toBe('suspended');
    await b.setData('/changed', 'v1');
    await b.create('/new', 'x');
    proxy.unblock();
    await a.whenConnected(5000);
    expect(a.sessionId).toBe(sessionId);
    expect(a.state).toBe('connected');
    await expect.poll(() => fired.map((e) => `${e.type} ${e.path}`), { timeout: 3000 }).toEqual(['dataChanged /changed']);
    await expect.poll(() => seen.map((e) => `${e.type} ${e.path}`), { timeout: 3000 }).toEqual(['dataChanged /changed', 'created /new']);
    // Still armed: the next change fires it.
    await b.setData('/quiet', 'v1');
    await expect.poll(() => fired.map((e) => `${e.type} ${e.path}`), { timeout: 3000 }).toEqual(['dataChanged /changed', 'dataChanged /quiet']);
    expect((await b.exists('/mine'))?.ephemeralOwner).toBe(sessionId);
    stream.close();
  }, 30_000);

  it('touchSession raises a zxid counter that is behind what the client saw, and reports the old value', async () => {
    const ns = testNamespace('ns');
    const a = await client(ns);
    const { stat } = await a.createWithStat('/x');
    const be = a.backend as RedisBackend;
    const r = await be.touchSession(a.sessionId, stat.czxid + 1000);
    expect(r.zxid).toBe(stat.czxid);
    const next = await a.createWithStat('/y');
    expect(next.stat.czxid).toBeGreaterThan(stat.czxid + 1000);
    // The raise is marked in the change log: catching up across it means re-reading.
    expect(await be.changesSince(stat.czxid)).toBeNull();
  });
});
