import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { connect, ConnectionLossError, op, type Client, type SessionState } from '../../core/index.js';
import { namespaceKeys } from '../../core/redis/keys.js';
import { ScriptRunner } from '../../core/redis/script-runner.js';
import { loadLibrary, loadScripts } from '../../core/redis/scripts.js';
import { startRedis, waitForReplication, type RedisServer } from '../faults/index.js';
import { testNamespace } from '../namespace.js';
import { useCleanups } from './later.js';
import { watchedWrite, watchOnce } from './watch-once.js';

/**
 * How the scripts run: as functions of corral's library (Redis 7+), loaded by the first
 * client and again after it is lost; with EVALSHA where functions are refused. Each test
 * has a private redis-server, so the counts of commands and libraries are its own.
 */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const later = useCleanups();

/** Script calls Redis ran, by command (INFO commandstats). */
async function scriptCalls(redis: RedisServer): Promise<{ fcall: number; evalsha: number }> {
  const info = String(await redis.command(['INFO', 'commandstats']));
  const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { fcall: calls('fcall'), evalsha: calls('evalsha') + calls('eval') };
}

/** corral's libraries on the server. */
async function libraries(redis: RedisServer): Promise<string[]> {
  const list = (await redis.command(['FUNCTION', 'LIST'])) as unknown[][];
  return list.map((lib) => String(lib[lib.indexOf('library_name') + 1])).filter((n) => n.startsWith('corral_'));
}

/** Writes of every kind, a watch, reads and a session's end: the scripts' behaviour, end to end. */
async function exercise(zk: Client, other: Client): Promise<void> {
  await watchedWrite(zk, other);
  await other.create('/app/e', '', { mode: 'ephemeral' });
  const seq = await zk.multi([op.create('/app/q-', 'a', { mode: 'persistent_sequential' }), op.setData('/app', 'z')]);
  expect(seq[0].type).toBe('create');
  expect((await zk.getChildren('/app')).children.sort()).toEqual(['e', 'q-0000000001']);
  await expect(zk.setData('/app', 'w', 0)).rejects.toMatchObject({ code: -103 });
  await other.close();
  expect((await zk.getChildren('/app')).children).toEqual(['q-0000000001']);
  expect((await zk.getData('/app')).data.toString()).toBe('z');
}

function stateReached(zk: Client, wanted: SessionState): Promise<void> {
  return new Promise((resolve) => {
    const on = (s: SessionState) => {
      if (s !== wanted) return;
      zk.off('state', on);
      resolve();
    };
    zk.on('state', on);
  });
}

describe('Redis scripts as functions', () => {
  it('every script compiles in both forms: its EVAL script, and the library with one function per script', async () => {
    const redis = later(await startRedis(), (r) => r.stop());
    for (const s of loadScripts().values()) {
      expect(String(await redis.command(['SCRIPT', 'LOAD', s.lua]))).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(String(await redis.command(['FUNCTION', 'LOAD', loadLibrary().code]))).toBe(loadLibrary().name);
    const list = (await redis.command(['FUNCTION', 'LIST', 'WITHCODE'])) as unknown[][];
    const functions = list[0][list[0].indexOf('functions') + 1] as unknown[][];
    expect(functions.map((f) => String(f[f.indexOf('name') + 1])).sort()).toEqual([...loadScripts().values()].map((s) => s.fn).sort());
  });

  it('run as functions of one library (named by its code hash), loaded once for every client', async () => {
    const redis = later(await startRedis(), (r) => r.stop());
    const ns = testNamespace('fn');
    const a = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    const b = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    await exercise(a, b);
    expect(await libraries(redis)).toEqual([loadLibrary().name]);
    const calls = await scriptCalls(redis);
    expect(calls.fcall).toBeGreaterThan(10);
    expect(calls.evalsha).toBe(0);
  });

  for (const [denied, why] of [['-function', 'FUNCTION'], ['-fcall', 'FCALL']] as const) {
    it(`where an ACL denies ${why}, they run with EVALSHA and behave the same`, async () => {
      const redis = later(await startRedis({ users: [{ name: 'app', password: 'pw', rules: `~corral:* &corral:* +@all ${denied}` }], defaultUser: true }), (r) => r.stop());
      const url = `redis://app:pw@127.0.0.1:${redis.port}`;
      const ns = testNamespace('eval');
      const a = later(await connect({ redis: url }, { namespace: ns, logger: quiet }), (z) => z.close());
      const b = later(await connect({ redis: url }, { namespace: ns, logger: quiet }), (z) => z.close());
      await exercise(a, b);
      const calls = await scriptCalls(redis);
      expect(calls.evalsha).toBeGreaterThan(10);
      // The probe that found FCALL refused is all: nothing ran as a function.
      expect(calls.fcall).toBeLessThanOrEqual(denied === '-fcall' ? 0 : 2);
    });
  }

  it('a library lost under live clients (FUNCTION FLUSH) is loaded again: a call in flight fails as a lost link would, then the same session carries on, its watches armed', async () => {
    const redis = later(await startRedis(), (r) => r.stop());
    const ns = testNamespace('flush');
    const zk = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    const other = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    await zk.create('/app', 'x');
    const w = watchOnce();
    await zk.getData('/app', { watch: w.watch });
    const session = other.sessionId;

    await redis.command(['FUNCTION', 'FLUSH']);
    // The first call to find the library gone makes its client load it again: this setData,
    // or (rarely) a reaper tick of either client that came first.
    const outcome = await other.setData('/app', 'y').then(() => 'written', (e: unknown) => e);
    if (outcome !== 'written') {
      expect(outcome).toBeInstanceOf(ConnectionLossError);
      if (other.state !== 'reconnected' && other.state !== 'connected') await stateReached(other, 'reconnected');
      expect(await libraries(redis)).toEqual([loadLibrary().name]);
      expect(other.sessionId).toBe(session);
      // The failed call did not run: the znode is as it was, and the watch still waits.
      expect((await other.getData('/app')).data.toString()).toBe('x');
      await other.setData('/app', 'y');
    }
    expect(await libraries(redis)).toEqual([loadLibrary().name]);
    expect(other.sessionId).toBe(session);
    const ev = await w.fired;
    expect(ev.type).toBe('dataChanged');
    expect((await zk.getData('/app')).data.toString()).toBe('y');
  });

  it('a refusal that is not about functions (a read-only replica) decides nothing: connect fails saying why, and the next try finds functions', async () => {
    const primary = later(await startRedis(), (r) => r.stop());
    const replica = later(await startRedis({ replicaOf: { port: primary.port } }), (r) => r.stop());
    await waitForReplication(primary);
    const ns = testNamespace('ro');
    await expect(connect({ redis: replica.url }, { namespace: ns, logger: quiet })).rejects.toThrow(/READONLY/);
    const keys = namespaceKeys(ns);
    const conn = later(new Redis(replica.url), async (c) => c.disconnect());
    const runner = new ScriptRunner(conn, false, quiet, () => [keys.zxid, keys.sessions, keys.recursive, keys.prefix, '']);
    await expect(runner.prepare()).rejects.toThrow(/READONLY/);
    expect(runner.mode).toBeNull();
    await replica.command(['REPLICAOF', 'NO', 'ONE']);
    await runner.prepare();
    expect(runner.mode).toBe('functions');
  });

  it('a Redis restarted without persistence gets the library again from the reconnecting client', async () => {
    const redis = later(await startRedis({ args: ['--save', ''] }), (r) => r.stop());
    const ns = testNamespace('restart');
    const zk = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    await zk.create('/app', 'x');
    const expired = stateReached(zk, 'expired');
    await redis.restart('SIGKILL');
    // Everything was lost, the session with it: the client is told so once it is back.
    await expired;
    expect(await libraries(redis)).toEqual([loadLibrary().name]);
    const fresh = later(await connect({ redis: redis.url }, { namespace: ns, logger: quiet }), (z) => z.close());
    await fresh.create('/app', 'again');
    expect((await fresh.getData('/app')).data.toString()).toBe('again');
  });
});
