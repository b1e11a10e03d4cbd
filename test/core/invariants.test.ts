import { describe, expect, it } from 'vitest';
import { connect, memoryStore, type Client, type MemoryStore } from '../../core/index.js';
import { checkTreeInvariants, TreeHistory } from '../conformance/invariants.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

/**
 * The checker must catch what it claims to: each case corrupts a real memory store behind
 * the client's back (the only way to build a tree the service itself never produces).
 */
async function setup(): Promise<{ zk: Client; store: MemoryStore; live: () => Promise<Set<string>> }> {
  const namespace = testNamespace('ns');
  const zk = await connect({ backend: 'memory' }, { namespace, logger: quietLogger });
  const store = memoryStore(namespace);
  await zk.create('/a', 'data');
  await zk.create('/a/b');
  await zk.create('/a/c');
  await zk.create('/e', '', { mode: 'ephemeral' });
  return { zk, store, live: async () => new Set(store.liveSessions()) };
}

function node(store: MemoryStore, path: string) {
  for (const [p, n] of store.walk()) if (p === path) return n;
  throw new Error(`no ${path}`);
}

describe('tree-invariant checker', () => {
  it('passes a healthy tree and returns its snapshot', async () => {
    const { zk, live } = await setup();
    const tree = await checkTreeInvariants(zk, live);
    expect([...tree.keys()]).toEqual(['/', '/a', '/e', '/a/b', '/a/c']);
    await zk.close();
  });

  it('catches numChildren disagreeing with the listed children', async () => {
    const { zk, store, live } = await setup();
    node(store, '/a').sorted = ['b', 'c', 'ghost'];
    const err = String(await checkTreeInvariants(zk, live).catch((e: Error) => e));
    expect(err).toMatch(/\/a: numChildren 2 but 3 children listed/);
    expect(err).toMatch(/\/a\/ghost: listed by its parent but does not exist/);
    await zk.close();
  });

  it('catches an ephemeral with children', async () => {
    const { zk, store, live } = await setup();
    node(store, '/a').ephemeralOwner = zk.sessionId;
    await expect(checkTreeInvariants(zk, live)).rejects.toThrow(/\/a: ephemeral has children/);
    await zk.close();
  });

  it('catches an ephemeral whose owner is not a live session', async () => {
    const { zk, store, live } = await setup();
    node(store, '/a/b').ephemeralOwner = 'no-such-session';
    await expect(checkTreeInvariants(zk, live)).rejects.toThrow(/\/a\/b: ephemeral owned by no-such-session/);
    await zk.close();
  });

  it('catches versions and zxids going back between walks', async () => {
    const { zk, store, live } = await setup();
    const history = new TreeHistory();
    await zk.setData('/a', 'v1');
    await checkTreeInvariants(zk, live, history);
    node(store, '/a').version = 0;
    await expect(checkTreeInvariants(zk, live, history)).rejects.toThrow(/\/a: version went back from 1 to 0/);
    await zk.close();
  });

  it('catches impossible stats (mzxid before czxid, cversion below numChildren)', async () => {
    const { zk, store, live } = await setup();
    const a = node(store, '/a');
    a.mzxid = 0;
    a.cversion = 1;
    const err = await checkTreeInvariants(zk, live).catch((e: Error) => e);
    expect(String(err)).toMatch(/\/a: mzxid 0 < czxid/);
    expect(String(err)).toMatch(/\/a: cversion 1 < numChildren 2/);
    await zk.close();
  });
});
