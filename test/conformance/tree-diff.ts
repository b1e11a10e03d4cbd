import { expect } from 'vitest';
import type { Client } from '../../core/index.js';
import { snapshotTree, type TreeSnapshot } from './invariants.js';

/** A comparable form of a snapshot: every znode's data (hex) and full Stat. */
export function flat(tree: TreeSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, n] of tree) out[path] = { data: n.data.toString('hex'), stat: n.stat, children: n.children };
  return out;
}

/**
 * Runs `fn` and asserts the store is exactly as before: same znodes, data and Stats, and
 * no zxid used (a probe write made after has the zxid right after one made before).
 */
export async function expectUnchanged(zk: Client, fn: () => Promise<void>): Promise<void> {
  const p0 = (await zk.createWithStat('/probe-', '', { mode: 'persistent_sequential' })).stat.czxid;
  const before = flat(await snapshotTree(zk));
  await fn();
  const after = flat(await snapshotTree(zk));
  expect(after).toEqual(before);
  const p1 = (await zk.createWithStat('/probe-', '', { mode: 'persistent_sequential' })).stat.czxid;
  expect(p1, 'a zxid was used by a call that should have changed nothing').toBe(p0 + 1);
}
