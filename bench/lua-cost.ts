/**
 * What one multi costs Redis itself, for work on the Lua scripts (not a peer benchmark):
 * calls the multi script directly, `k` one-op multis per call (as the client's group commit
 * sends them), and reads Redis's own time for it from INFO commandstats. Redis's time per
 * op moves far less with the machine's load than any end-to-end rate, so a script change
 * can be judged in seconds: run it before and after, a few times each.
 *
 *   npx tsx bench/lua-cost.ts [setData|create|delete|move] [k=16] [calls=1500]
 *
 * As corral runs them: functions of its library (FCALL); BENCH_LUA_MODE=eval for EVALSHA
 * (what corral falls back to where functions are refused).
 *
 * Uses BENCH_REDIS_URL (default 127.0.0.1:6379) and its own namespace, removed afterwards.
 * CONFIG RESETSTAT clears the server's command statistics: point it at a private
 * redis-server if others rely on them.
 */
import { Redis } from 'ioredis';
import type { Op } from '../core/index.js';
import { packOps } from '../core/redis/codec.js';
import { namespaceKeys } from '../core/redis/keys.js';
import { ScriptRunner } from '../core/redis/script-runner.js';
import type { ScriptName } from '../core/redis/scripts.js';
import { benchNamespace, dropRedisNamespace, quietLogger, REDIS_URL } from './lib/corral.js';

const KINDS = ['setData', 'create', 'delete', 'move'] as const;
type Kind = (typeof KINDS)[number];

const [kindArg = 'setData', kArg = '16', callsArg = '1500'] = process.argv.slice(2);
if (!(KINDS as readonly string[]).includes(kindArg)) throw new Error(`kind must be one of ${KINDS.join(', ')}`);
const kind = kindArg as Kind;
const K = Number(kArg);
const CALLS = Number(callsArg);

const redis = new Redis(REDIS_URL);
const namespace = benchNamespace('lua-cost');
const keys = namespaceKeys(namespace);
// The scripts as corral runs them (core/redis/script-runner.ts): the library loaded if
// missing, FCALL; or EVALSHA when asked.
const runner = new ScriptRunner(redis, false, quietLogger, () => [keys.zxid, keys.sessions, keys.recursive, keys.prefix, '']);
await runner.prepare();
if (process.env.BENCH_LUA_MODE === 'eval') runner.mode = 'eval';
const MODE = runner.mode === 'functions' ? 'fcall' : 'evalsha';
const call = (name: ScriptName, ...args: Array<string | number | Buffer>): Promise<unknown> =>
  runner.fn(name, false)(...keys.writeKeys, keys.prefix, ...args);
const multis = (sid: string, ops: () => Op[]): Array<string | number | Buffer> => {
  const args: Array<string | number | Buffer> = [sid, K];
  for (let i = 0; i < K; i++) {
    const o = ops();
    args.push(o.length, packOps(o));
  }
  return args;
};

try {
  const [sid] = (await call('create-session', 3_600_000)) as [string];
  const data = Buffer.alloc(100, 'x');
  for (const p of ['/p', '/from', '/to']) await call('multi', sid, 1, 1, packOps([{ type: 'create', path: p, data, mode: 'persistent' }]));
  // Each call's ops; deletes and moves need znodes made beforehand, one per op.
  let n = 0;
  const next = (): Op[] => {
    const i = n++;
    switch (kind) {
      case 'setData': return [{ type: 'setData', path: '/p', data, version: -1 }];
      case 'create': return [{ type: 'create', path: '/p/n-', data, mode: 'persistent_sequential' }];
      case 'delete': return [{ type: 'delete', path: `/from/t${i}`, version: -1 }];
      case 'move': return [{ type: 'create', path: `/to/t${i}`, data, mode: 'persistent' }, { type: 'delete', path: `/from/t${i}`, version: -1 }];
    }
  };
  const warmup = 100;
  if (kind === 'delete' || kind === 'move') {
    const total = (warmup + CALLS) * K;
    for (let i = 0; i < total; i += 500) {
      const ops: Op[] = [];
      for (let j = i; j < Math.min(total, i + 500); j++) ops.push({ type: 'create', path: `/from/t${j}`, data, mode: 'persistent' });
      await call('multi', sid, 1, ops.length, packOps(ops));
    }
  }
  for (let i = 0; i < warmup; i++) await call('multi', ...multis(sid, next));
  await redis.config('RESETSTAT');
  for (let i = 0; i < CALLS; i++) await call('multi', ...multis(sid, next));
  const line = (await redis.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${MODE}:`));
  if (!line) throw new Error(`no ${MODE} in INFO commandstats`);
  const usec = Number(/usec=(\d+)/.exec(line)![1]);
  const calls = Number(/calls=(\d+)/.exec(line)![1]);
  console.log(`${kind} (${MODE}): ${(usec / calls / K).toFixed(2)} µs of Redis per multi (${K} per call, ${(usec / calls).toFixed(1)} µs per call, ${calls} calls)`);
} finally {
  redis.disconnect();
  await dropRedisNamespace(namespace);
}
