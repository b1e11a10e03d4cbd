import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../core/index.js';
import { WatchRegistry } from '../../core/watch-registry.js';

/**
 * The registry's race handling, driven directly: on a remote backend an event can arrive
 * while the read that arms a watch is still in flight, which timing alone rarely shows.
 */
describe('WatchRegistry', () => {
  it('an event that overtook the arming read fires the new watch at once', () => {
    const r = new WatchRegistry();
    const w = (_: WatchEvent) => undefined;
    const mark = r.beginArm();
    r.trigger({ type: 'dataChanged', path: '/x', zxid: 7 });
    expect(r.add('data', '/x', w, 6, mark)).toMatchObject({ added: true, firedBy: { type: 'dataChanged', zxid: 7 } });
    expect(r.size).toBe(0);
  });

  it('an event the read already reflects does not fire it', () => {
    const r = new WatchRegistry();
    const w = (_: WatchEvent) => undefined;
    const mark = r.beginArm();
    r.trigger({ type: 'dataChanged', path: '/x', zxid: 7 });
    expect(r.add('data', '/x', w, 7, mark)).toEqual({ added: true });
    expect(r.trigger({ type: 'dataChanged', path: '/x', zxid: 8 }).fired).toEqual([w]);
  });

  it('one watcher, armed as child watch and re-armed as data watch while the delete overtakes the read, fires once', () => {
    const r = new WatchRegistry();
    const w = (_: WatchEvent) => undefined;
    r.add('child', '/x', w, 5, r.beginArm());
    const mark = r.beginArm();
    const { fired } = r.trigger({ type: 'deleted', path: '/x', zxid: 7 });
    expect(fired).toEqual([w]);
    // The exists() that re-arms w as a data watch read the znode at zxid 6, before the delete.
    expect(r.add('data', '/x', w, 6, mark)).toEqual({ added: false });
    expect(r.size).toBe(0);
  });

  it('a watcher set twice on one path and kind is one watch', () => {
    const r = new WatchRegistry();
    const w = (_: WatchEvent) => undefined;
    expect(r.add('data', '/x', w, 5, r.beginArm())).toEqual({ added: true });
    expect(r.add('data', '/x', w, 6, r.beginArm())).toEqual({ added: false });
    expect(r.trigger({ type: 'dataChanged', path: '/x', zxid: 7 }).fired).toEqual([w]);
    expect(r.trigger({ type: 'dataChanged', path: '/x', zxid: 8 }).fired).toEqual([]);
  });

  it('more events during a read than it keeps: fires (resync) rather than risk a silent loss', () => {
    const r = new WatchRegistry();
    const mark = r.beginArm();
    for (let i = 0; i < 5000; i++) r.trigger({ type: 'dataChanged', path: `/other${i}`, zxid: 10 + i });
    expect(r.add('data', '/x', () => undefined, 9, mark)).toMatchObject({ added: true, firedBy: { resync: true } });
  });
});
