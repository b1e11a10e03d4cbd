import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../core/index.js';
import { nextState, recorder, sleep, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

describe.each(harnesses)('no silent loss across a disconnect — $name', (harness) => {
  const ctx = useHarness(harness);

  it('every watch set before a disconnect fires if its znode changed meanwhile, and stays armed if not', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 2000 });
    const b = await ctx.client();
    for (const p of ['/changed', '/untouched', '/parent', '/doomed', '/tree']) await b.create(p, 'v0');
    await b.create('/quietparent');
    const changed = recorder();
    const untouched = recorder();
    const parent = recorder();
    const quietParent = recorder();
    const later = recorder();
    const doomed = recorder();
    await a.getData('/changed', { watch: changed.watcher });
    await a.getData('/untouched', { watch: untouched.watcher });
    await a.getChildren('/parent', { watch: parent.watcher });
    await a.getChildren('/quietparent', { watch: quietParent.watcher });
    await a.exists('/later', { watch: later.watcher });
    await a.exists('/doomed', { watch: doomed.watcher });
    const stream = a.watch('/tree', { recursive: true });
    await stream.ready;

    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    await b.setData('/changed', 'v1');
    await b.create('/parent/kid');
    await b.create('/later');
    await b.delete('/doomed');
    await b.create('/tree/x');
    await b.setData('/quietparent', 'data only: not a child change');
    await sleep(50);
    // Nothing reaches a partitioned client.
    expect(changed.events.length + parent.events.length + later.events.length + doomed.events.length).toBe(0);

    const reconnected = nextState(a, 'reconnected');
    await harness.heal(a);
    await reconnected;
    expect(await changed.next()).toMatchObject({ type: 'dataChanged', path: '/changed' });
    expect(await parent.next()).toMatchObject({ type: 'childrenChanged', path: '/parent' });
    expect(await later.next()).toMatchObject({ type: 'created', path: '/later' });
    expect(await doomed.next()).toMatchObject({ type: 'deleted', path: '/doomed' });
    const ev = (await stream.next()).value as WatchEvent;
    expect(ev.path === '/tree/x' || ev.resync === true).toBe(true);

    // The untouched watches are still armed: the next change fires them, once.
    await a.sync();
    expect(untouched.events).toHaveLength(0);
    expect(quietParent.events).toHaveLength(0);
    await b.setData('/untouched', 'v1');
    await b.create('/quietparent/kid');
    expect(await untouched.next()).toMatchObject({ type: 'dataChanged', path: '/untouched' });
    expect(await quietParent.next()).toMatchObject({ type: 'childrenChanged', path: '/quietparent' });
    // The fired ones were one-shot.
    await b.setData('/changed', 'v2');
    await a.sync();
    await sleep(20);
    expect(changed.events).toHaveLength(1);
    stream.close();
  });

  it('repeated short partitions lose nothing: each change is seen by the re-armed watch', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 2000 });
    const b = await ctx.client();
    await b.create('/flap', '0');
    for (let i = 1; i <= 5; i++) {
      const seen = recorder();
      await a.getData('/flap', { watch: seen.watcher });
      const suspended = nextState(a, 'suspended');
      await harness.partition(a);
      await suspended;
      await b.setData('/flap', String(i));
      const back = nextState(a, 'reconnected');
      await harness.heal(a);
      await back;
      expect(await seen.next()).toMatchObject({ type: 'dataChanged', path: '/flap' });
      expect((await a.getData('/flap')).data.toString()).toBe(String(i));
    }
  });

  it('a persistent watch reports, after reconnecting, every change made while the link was down', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 2000 });
    const b = await ctx.client();
    await b.create('/pt');
    const stream = a.watch('/pt', { recursive: true });
    await stream.ready;
    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    for (let i = 0; i < 5; i++) await b.create(`/pt/c${i}`);
    const back = nextState(a, 'reconnected');
    await harness.heal(a);
    await back;
    const got: WatchEvent[] = [];
    for await (const ev of stream) {
      got.push(ev);
      if (ev.resync || got.length === 5) break;
    }
    if (!got.some((e) => e.resync)) expect(got.map((e) => e.path)).toEqual([0, 1, 2, 3, 4].map((i) => `/pt/c${i}`));
  });

  it('an includeData stream: events missed while the link was down come without data (read them), live ones with it', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 2000 });
    const b = await ctx.client();
    await b.create('/pd');
    const stream = a.watch('/pd', { recursive: true, includeData: true });
    await stream.ready;
    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    await b.create('/pd/missed', 'm');
    const back = nextState(a, 'reconnected');
    await harness.heal(a);
    await back;
    await b.create('/pd/live', 'l');
    const got: WatchEvent[] = [];
    for await (const ev of stream) {
      got.push(ev);
      if (ev.path === '/pd/live') break;
    }
    // Replayed (or a resync in its place): no data; the live event after it has its data.
    expect(got.filter((e) => e.path !== '/pd/live').every((e) => e.data === undefined)).toBe(true);
    expect(got.some((e) => e.path === '/pd/missed' || e.resync)).toBe(true);
    expect(got[got.length - 1].data?.toString()).toBe('l');
  });
});
