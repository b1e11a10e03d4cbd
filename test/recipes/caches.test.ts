import { afterEach, describe, expect, it } from 'vitest';
import { BadArgumentsError, SessionExpiredError, type Client } from '../../core/index.js';
import { ChildrenCache, NodeCache, TreeCache } from '../../recipes/index.js';
import { BACKENDS, clientMakers, cut, heal, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** What the cache holds, as path → data, for comparison with the store. */
function snapshot(cache: TreeCache): Record<string, string> {
  return Object.fromEntries(cache.paths().map((p) => [p, cache.get(p)!.data.toString()]));
}

async function storeTree(zk: Client, path: string, out: Record<string, string> = {}): Promise<Record<string, string>> {
  const r = await zk.getData(path);
  out[path] = r.data.toString();
  for (const c of (await zk.getChildren(path)).children) await storeTree(zk, `${path}/${c}`, out);
  return out;
}

describe.each(BACKENDS)('Caches on %s', (kind) => {
  const { zk, faulty } = clientMakers(kind, open);

  it('tree cache: loads the subtree, then follows creates, updates and deletes', async () => {
    const ns = newNamespace();
    const w = await zk(ns);
    await w.create('/cfg', 'root');
    await w.create('/cfg/a', '1');
    await w.create('/cfg/a/x', 'ax');
    const cache = new TreeCache(await zk(ns), '/cfg');
    const log: string[] = [];
    cache.on('added', (p) => log.push(`+${p}`));
    cache.on('updated', (p, n) => log.push(`~${p}=${n.data.toString()}`));
    cache.on('removed', (p) => log.push(`-${p}`));
    await cache.start();
    expect(snapshot(cache)).toEqual({ '/cfg': 'root', '/cfg/a': '1', '/cfg/a/x': 'ax' });
    log.length = 0;
    await w.create('/cfg/b', '2');
    await w.setData('/cfg/a', '1b');
    await w.delete('/cfg/a/x');
    await w.create('/cfg/b/deep', 'd');
    await until(async () => JSON.stringify(snapshot(cache)) === JSON.stringify(await storeTree(w, '/cfg')), 2000, 'cache current');
    expect(log).toEqual(['+/cfg/b', '~/cfg/a=1b', '-/cfg/a/x', '+/cfg/b/deep']);
    expect(cache.childrenOf('/cfg')).toEqual(['a', 'b']);
    await cache.close();
  });

  it('tree cache: re-syncs after a reconnect, and stops with an error on expiry', async () => {
    const ns = newNamespace();
    const w = await zk(ns);
    await w.create('/t', '');
    await w.create('/t/keep', 'k');
    await w.create('/t/gone', 'g');
    // Long enough for a Redis link to come back (ioredis retries) well before it expires.
    const c = await faulty(ns, 1000);
    const cache = new TreeCache(c, '/t');
    await cache.start();
    cut(c);
    await w.delete('/t/gone');
    await w.setData('/t/keep', 'k2');
    await w.create('/t/new', 'n');
    await sleep(100);
    expect(snapshot(cache)['/t/gone']).toBe('g'); // cut off: cannot know yet
    await heal(c);
    await until(async () => JSON.stringify(snapshot(cache)) === JSON.stringify(await storeTree(w, '/t')), 2000, 'resynced');
    const errors: Error[] = [];
    cache.on('error', (e) => errors.push(e));
    cut(c);
    await until(() => errors.length === 1, 2000, 'error');
    expect(errors[0]).toBeInstanceOf(SessionExpiredError);
    expect(cache.live).toBe(false);
    await heal(c);
  });

  it('children cache: the direct children and their data', async () => {
    const ns = newNamespace();
    const w = await zk(ns);
    await w.create('/members', '');
    await w.create('/members/a', 'A');
    const cache = new ChildrenCache(await zk(ns), '/members');
    await cache.start();
    expect([...cache.children().keys()]).toEqual(['a']);
    await w.create('/members/b', 'B');
    await w.create('/members/b/ignored', 'too deep');
    await w.setData('/members/a', 'A2');
    await until(() => cache.children().size === 2 && cache.children().get('a')!.data.toString() === 'A2', 2000, 'children');
    await sleep(50);
    expect(cache.paths()).toEqual(['/members', '/members/a', '/members/b']);
    await w.delete('/members/a');
    await until(() => !cache.children().has('a'), 2000, 'removed');
    await cache.close();
  });

  it('node cache: follows one znode through create, change and delete', async () => {
    const ns = newNamespace();
    const w = await zk(ns);
    const cache = new NodeCache(await zk(ns), '/flag');
    await cache.start();
    expect(cache.current).toBeNull();
    await w.create('/flag', 'on');
    await until(() => cache.current?.data.toString() === 'on', 2000, 'created');
    await w.setData('/flag', 'off');
    await until(() => cache.current?.data.toString() === 'off', 2000, 'changed');
    await w.create('/flag/child', 'x');
    await sleep(50);
    expect(cache.paths()).toEqual(['/flag']);
    await w.delete('/flag/child');
    await w.delete('/flag');
    await until(() => cache.current === null, 2000, 'deleted');
    await cache.close();
    await cache.close();
  });

  it('rejects bad arguments', async () => {
    const c = await zk(newNamespace());
    expect(() => new TreeCache(c, '')).toThrow(BadArgumentsError);
    expect(() => new TreeCache(c, '/x', { maxDepth: -1 })).toThrow(BadArgumentsError);
    const t = new TreeCache(c, '/x');
    await t.start();
    await expect(t.start()).rejects.toBeInstanceOf(BadArgumentsError);
    await t.close();
  });
});
