import { describe, expect, it } from 'vitest';
import { connect, MemoryBackend, memoryStore, op, type Client, type WatchEvent } from '../../core/index.js';
import { nextState, recorder, sleep } from '../conformance/context.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

/**
 * No silent loss when the change log no longer reaches back to the disconnect: the client
 * then compares each watched znode with what its watch saw (memory backend, whose log
 * keeps the last 100 000 events, trimmed once past 112 500: one multi of 60 000 creates,
 * two events each, pushes everything older out).
 */
async function pair(): Promise<[Client, Client]> {
  const namespace = testNamespace('ns');
  const a = await connect({ backend: 'memory' }, { namespace, logger: quietLogger, sessionTimeoutMs: 5000 });
  const b = await connect({ backend: 'memory' }, { namespace, logger: quietLogger });
  return [a, b];
}

async function overflowLog(b: Client): Promise<void> {
  await b.create('/filler');
  await b.multi(Array.from({ length: 60_000 }, (_, i) => op.create(`/filler/f${i}`)));
}

describe('reconnect after the change log was trimmed', () => {
  it('fires every watch whose znode changed (flagged resync) and keeps the others armed', async () => {
    const [a, b] = await pair();
    for (const p of ['/changed', '/untouched', '/parent', '/quietparent', '/doomed', '/recreated', '/tree']) await b.create(p, 'v0');
    await b.create('/watched-parent');
    await b.create('/quiet-dir');
    const w = {
      changed: recorder(), untouched: recorder(), parent: recorder(), quietParent: recorder(), later: recorder(),
      stillMissing: recorder(), doomed: recorder(), recreated: recorder(), blinked: recorder(),
    };
    await a.getData('/changed', { watch: w.changed.watcher });
    await a.getData('/untouched', { watch: w.untouched.watcher });
    await a.getChildren('/parent', { watch: w.parent.watcher });
    await a.getChildren('/quietparent', { watch: w.quietParent.watcher });
    await a.exists('/later', { watch: w.later.watcher });
    await a.exists('/quiet-dir/never', { watch: w.stillMissing.watcher });
    await a.exists('/watched-parent/blink', { watch: w.blinked.watcher });
    await a.exists('/doomed', { watch: w.doomed.watcher });
    await a.getData('/recreated', { watch: w.recreated.watcher });
    const both = recorder();
    await b.create('/both');
    await a.getData('/both', { watch: both.watcher });
    await a.getChildren('/both', { watch: both.watcher });
    const stream = a.watch('/tree', { recursive: true });
    await stream.ready;

    const suspended = nextState(a, 'suspended');
    (a.backend as MemoryBackend).cut();
    await suspended;
    await b.setData('/changed', 'v1');
    await b.create('/parent/kid');
    await b.setData('/quietparent', 'data only');
    await b.create('/later');
    await b.create('/watched-parent/blink');
    await b.delete('/watched-parent/blink');
    await b.delete('/doomed');
    await b.delete('/recreated');
    await b.create('/recreated', 'again');
    await b.create('/tree/x');
    await b.delete('/both');
    await overflowLog(b);

    const back = nextState(a, 'reconnected');
    (a.backend as MemoryBackend).heal();
    await back;
    const expectFired = async (r: ReturnType<typeof recorder>, type: WatchEvent['type'], path: string) =>
      expect(await r.next(1000)).toMatchObject({ type, path, resync: true });
    await expectFired(w.changed, 'dataChanged', '/changed');
    await expectFired(w.parent, 'childrenChanged', '/parent');
    await expectFired(w.later, 'created', '/later');
    await expectFired(w.doomed, 'deleted', '/doomed');
    await expectFired(w.recreated, 'deleted', '/recreated');
    // Created and deleted again while away: it may have been, so the watch fires.
    await expectFired(w.blinked, 'created', '/watched-parent/blink');
    expect((await stream.next()).value).toMatchObject({ path: '/tree', resync: true });
    expect(await both.next()).toMatchObject({ type: 'deleted', path: '/both', resync: true });

    await a.sync();
    await sleep(20);
    for (const r of [w.untouched, w.quietParent, w.stillMissing]) expect(r.events).toHaveLength(0);
    await b.setData('/untouched', 'v1');
    await b.create('/quietparent/kid');
    await b.create('/quiet-dir/never');
    expect(await w.untouched.next()).toMatchObject({ type: 'dataChanged', path: '/untouched' });
    expect(await w.quietParent.next()).toMatchObject({ type: 'childrenChanged', path: '/quietparent' });
    expect(await w.stillMissing.next()).toMatchObject({ type: 'created', path: '/quiet-dir/never' });
    for (const r of [...Object.values(w), both]) expect(r.events).toHaveLength(1);
    stream.close();
    await a.close();
    await b.close();
  });
});

describe('memory change log', () => {
  it('a write whose events were partly trimmed is not handed out as complete', async () => {
    const namespace = testNamespace('ns');
    const zk = await connect({ backend: 'memory' }, { namespace, logger: quietLogger });
    await zk.create('/f');
    const store = memoryStore(namespace);
    const before = store.lastZxid;
    // One multi, one zxid, 120 000 events: the trim keeps the newest 100 000 of them.
    await zk.multi(Array.from({ length: 60_000 }, (_, i) => op.create(`/f/n${i}`)));
    expect(store.lastZxid).toBe(before + 1);
    expect(store.changesSince(before)).toBeNull();
    expect(store.changesSince(store.lastZxid)).toEqual([]);
    await zk.close();
  });
});
