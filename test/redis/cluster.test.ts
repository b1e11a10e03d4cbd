import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, op, type Client, type WatchEvent } from '../../core/index.js';
import { keySlot, namespaceKeys } from '../../core/redis/index.js';
import { startRedis, type RedisServer } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

/** Redis Cluster: every key of a namespace in one slot, and a real 3-master local cluster. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const run = promisify(execFile);

describe('Redis Cluster key layout', () => {
  it('every key and channel of a namespace maps to one slot; namespaces spread over slots', async () => {
    const ns = testNamespace('ns');
    const zk = await connect({ redis: 'redis://127.0.0.1:6379' }, { namespace: ns, logger: quiet });
    try {
      await zk.create('/app', 'x');
      await zk.create('/app/{odd}', 'braces in a path must not change the slot');
      await zk.create('/app/e', '', { mode: 'ephemeral' });
      await zk.create('/app/t', '', { mode: 'persistent_with_ttl', ttlMs: 60_000 });
      const stream = zk.watch('/app', { recursive: true });
      await stream.ready;
      await zk.multi([op.setData('/app', 'y'), op.create('/app/q-', '', { mode: 'persistent_sequential' })]);
      const admin = new Redis({ host: '127.0.0.1', port: 6379 });
      try {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await admin.scan(cursor, 'MATCH', `corral:{${ns}}:*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        const k = namespaceKeys(ns);
        // The tree, the session, its ephemerals, the TTL index, the change log, the recursive registry.
        for (const expected of [k.zxid, k.sessions, k.timeouts, k.ttl, k.log, k.recursive, k.node('/app/{odd}'), k.children('/app'), k.ephemerals(zk.sessionId)]) {
          expect(keys).toContain(expected);
        }
        const slot = keySlot(k.zxid);
        expect(new Set(keys.map(keySlot))).toEqual(new Set([slot]));
        expect(keySlot(k.sessionChannel('1a2b-000001'))).toBe(slot);
        expect(keySlot(k.watchers('/'))).toBe(slot);
        const slots = new Set(Array.from({ length: 50 }, (_, i) => keySlot(namespaceKeys(`app-${i}`).zxid)));
        expect(slots.size).toBeGreaterThan(40);
      } finally {
        admin.disconnect();
        stream.close();
      }
    } finally {
      await zk.close();
    }
  });
});

describe('Redis Cluster (3 local masters)', () => {
  const nodes: RedisServer[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    // Wait until every node agrees the cluster is up.
    const deadline = Date.now() + 15_000;
    for (const n of nodes) {
      for (;;) {
        const info = String(await n.command(['CLUSTER', 'INFO']));
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok: ${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 40_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('works across namespaces living on different shards: writes, reads, multi, watches in order', async () => {
    const seed = [{ host: '127.0.0.1', port: nodes[0].port }];
    // Namespaces whose slots fall on different masters.
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'].map((n) => `${n}-${randomUUID()}`);
    const clients: Client[] = [];
    try {
      for (const namespace of names) {
        const a = await connect({ redis: { cluster: seed } }, { namespace, logger: quiet });
        const b = await connect({ redis: { cluster: seed } }, { namespace, logger: quiet });
        clients.push(a, b);
        await a.create('/q', 'x');
        const events: WatchEvent[] = [];
        await b.getChildren('/q', { watch: (ev) => events.push(ev) });
        const [created] = await a.multi([op.create('/q/item-', 'v', { mode: 'persistent_sequential' }), op.setData('/q', 'y')]);
        expect(created).toMatchObject({ type: 'create', path: '/q/item-0000000000' });
        // The event comes before any read that reflects its change.
        const seen = await b.getChildren('/q');
        expect(seen.children).toEqual(['item-0000000000']);
        expect(events.map((e) => e.type)).toEqual(['childrenChanged']);
        expect((await b.getData('/q')).data.toString()).toBe('y');
      }
      const owners = new Set(names.map((n) => keySlot(namespaceKeys(n).zxid)).map((slot) => Math.floor(slot / (16384 / 3))));
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 30_000);

  it('keySlot computes the slot exactly as Redis does', async () => {
    const k = namespaceKeys('app');
    const samples = [k.zxid, k.node('/a/{b}/c'), k.children('/'), k.ephemerals('1a2b-000001'), 'plain', '{}x', 'a{}{b}', '{user1000}.following', 'é{ü}', k.sessionChannel('ü')];
    for (const key of samples) expect(keySlot(key), key).toBe(Number(await nodes[0].command(['CLUSTER', 'KEYSLOT', key])));
  });

  it('an ioredis Cluster instance passed in is used and never closed', async () => {
    const { Cluster } = await import('ioredis');
    const mine = new Cluster([{ host: '127.0.0.1', port: nodes[1].port }]);
    try {
      const zk = await connect({ redis: mine }, { namespace: testNamespace('ns'), logger: quiet });
      await zk.create('/x', 'y');
      expect((await zk.getData('/x')).data.toString()).toBe('y');
      await zk.close();
      expect(mine.status).toBe('ready');
      expect(await mine.set(testNamespace('mine'), '1')).toBe('OK');
    } finally {
      mine.disconnect();
    }
  }, 20_000);
});
