import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { respCommand, spawnTs, startProxy, startRedis, startSentinel, waitForReplication } from './index.js';

// Everything started in a test is stopped after it, even when it fails.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
function later<T extends { stop?: () => Promise<void>; close?: () => Promise<void> }>(x: T): T {
  cleanups.push(() => (x.stop ?? x.close)!.call(x));
  return x;
}

/** Opens a raw socket to send RESP by hand and collect what comes back. */
async function rawSocket(port: number): Promise<{ sock: net.Socket; received: () => string; closed: Promise<void> }> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  let got = '';
  sock.on('data', (c) => { got += c.toString(); });
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, received: () => got, closed };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TCP proxy', () => {
  it('forwards, cuts live connections, refuses new ones until healed', async () => {
    const redis = later(await startRedis());
    const proxy = later(await startProxy({ targetPort: redis.port }));
    expect(await respCommand('127.0.0.1', proxy.port, ['PING'])).toBe('PONG');

    const raw = await rawSocket(proxy.port);
    await sleep(20);
    expect(proxy.connections).toBe(1);
    proxy.cut();
    await raw.closed;
    expect(proxy.connections).toBe(0);
    await expect(respCommand('127.0.0.1', proxy.port, ['PING'], undefined, 1000)).rejects.toThrow();
    expect(proxy.stats.refused).toBeGreaterThan(0);

    proxy.heal();
    expect(await respCommand('127.0.0.1', proxy.port, ['PING'])).toBe('PONG');
  });

  it('block holds bytes with sockets open; unblock delivers them in order', async () => {
    const redis = later(await startRedis());
    const proxy = later(await startProxy({ targetPort: redis.port }));
    const raw = await rawSocket(proxy.port);
    proxy.block();
    raw.sock.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
    await sleep(200);
    expect(raw.received()).toBe('');
    expect(raw.sock.destroyed).toBe(false);
    // The write did not reach the server either.
    expect(await respCommand('127.0.0.1', redis.port, ['GET', 'k'])).toBe(null);
    proxy.unblock();
    await sleep(100);
    expect(raw.received()).toBe('+OK\r\n$1\r\n1\r\n');
    raw.sock.destroy();
  });

  it('delays each direction by setDelay and resets on a drop rate of 1', async () => {
    const redis = later(await startRedis());
    const proxy = later(await startProxy({ targetPort: redis.port }));
    proxy.setDelay(150);
    const t0 = performance.now();
    expect(await respCommand('127.0.0.1', proxy.port, ['PING'])).toBe('PONG');
    // There and back: at least two delays.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    proxy.setDelay(0);
    proxy.setDropRate(1);
    await expect(respCommand('127.0.0.1', proxy.port, ['PING'], undefined, 1000)).rejects.toThrow();
    expect(proxy.stats.dropped).toBeGreaterThan(0);
    proxy.heal();
    expect(await respCommand('127.0.0.1', proxy.port, ['PING'])).toBe('PONG');
    expect(() => proxy.setDropRate(2)).toThrow(TypeError);
  });
});

describe('private redis-server', () => {
  it('keeps acknowledged writes across SIGKILL + restart with AOF always', async () => {
    const redis = later(await startRedis({ aof: 'always' }));
    const pid = redis.pid;
    expect(await respCommand(redis.host, redis.port, ['SET', 'k', 'kept'])).toBe('OK');
    await redis.kill('SIGKILL');
    expect(redis.running).toBe(false);
    await redis.restart();
    expect(redis.pid).not.toBe(pid);
    expect(await redis.command(['GET', 'k'])).toBe('kept');
  });

  it('loses everything across SIGKILL + restart without AOF (so the test above can fail)', async () => {
    const redis = later(await startRedis());
    await redis.command(['SET', 'k', 'gone']);
    await redis.restart('SIGKILL');
    expect(await redis.command(['GET', 'k'])).toBe(null);
  });

  it('enforces generated ACL users', async () => {
    const redis = later(await startRedis({ users: [{ name: 'app', password: 's3cret' }] }));
    await expect(respCommand(redis.host, redis.port, ['SET', 'k', 'v'])).rejects.toThrow(/NOAUTH/);
    expect(await respCommand(redis.host, redis.port, ['SET', 'k', 'v'], { user: 'app', password: 's3cret' })).toBe('OK');
    await expect(respCommand(redis.host, redis.port, ['GET', 'k'], { user: 'app', password: 'wrong' })).rejects.toThrow(/WRONGPASS/);
  });

  it('fails over to a replica under Sentinel when the master is killed', async () => {
    const master = later(await startRedis());
    const replica = later(await startRedis({ replicaOf: { port: master.port } }));
    await master.command(['SET', 'k', 'replicated']);
    await waitForReplication(master, 1);
    const sentinel = later(await startSentinel({ masterPort: master.port, quorum: 1, downAfterMs: 400, failoverTimeoutMs: 2000 }));
    expect((await sentinel.masterAddress()).port).toBe(master.port);
    // Sentinel must have discovered the replica before it can promote it.
    for (let i = 0; i < 100; i++) {
      const r = await sentinel.command(['SENTINEL', 'replicas', sentinel.masterName]);
      if (Array.isArray(r) && r.length > 0) break;
      await sleep(100);
    }
    await master.kill('SIGKILL');
    const now = await sentinel.waitForFailover(master.port, 20_000);
    expect(now.port).toBe(replica.port);
    expect(await replica.command(['GET', 'k'])).toBe('replicated');
    expect(await replica.command(['SET', 'k2', 'writable'])).toBe('OK');
  }, 30_000);
});

describe('TypeScript child processes', () => {
  it('waits for READY, can be stopped, continued and killed', async () => {
    const p = later(await spawnTs('test/faults/fixtures/ticker.ts', ['a1'], { env: { TICKER_TAG: 'tagged' }, ready: 'READY' }));
    expect(p.lines[0]).toBe('READY a1 tagged');
    await p.waitFor(/^tick 2$/);

    await p.kill('SIGSTOP');
    await sleep(50);
    const frozenAt = p.lines.length;
    await sleep(300);
    expect(p.lines.length).toBe(frozenAt);

    await p.kill('SIGCONT');
    await p.waitFor(/^tick/, 5000, frozenAt);
    p.send('hello');
    await p.waitFor('echo hello');

    await p.kill('SIGKILL');
    expect(p.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('rejects waitFor when the child exits first', async () => {
    const p = later(await spawnTs('test/faults/fixtures/ticker.ts', [], { ready: 'READY' }));
    const waiting = p.waitFor('never printed', 10_000);
    await p.kill('SIGTERM');
    await expect(waiting).rejects.toThrow(/exited/);
  });
});
