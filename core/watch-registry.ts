import type { BackendEvent } from './backend.js';
import type { WatchEvent } from './types.js';

/** A one-shot watcher: called once with the event that triggered it. */
export type Watcher = (ev: WatchEvent) => void;
/** `data` watches come from exists/getData, `child` watches from getChildren. */
export type OneShotKind = 'data' | 'child';

/**
 * When and how a watcher was armed: the read's zxid, whether the znode existed then, and
 * whether its event is to carry data (`includeData`).
 */
export interface Armed {
  zxid: number;
  existed: boolean;
  data: boolean;
}

/** How many recent events are kept to catch those that overtook the read that armed a watch. */
const RECENT = 4096;

/**
 * The client's one-shot watches, ZooKeeper-style: per path, one set of data watchers and
 * one of child watchers; a watcher set twice on one path fires once per event. Each
 * registration remembers the zxid of the read that armed it, and fires only for a later
 * write: events older than the read are already reflected in what the user read.
 */
export class WatchRegistry {
  private readonly data = new Map<string, Map<Watcher, Armed>>();
  private readonly child = new Map<string, Map<Watcher, Armed>>();
  /**
   * The last RECENT events, each with the watchers it fired (so a re-arming cannot fire one
   * twice): a ring, event number k (counted from 0) in slot k % RECENT. `fired` is null
   * until the event fires a watcher, so events nobody watches one-shot cost no set.
   */
  private readonly recentEvents: Array<BackendEvent | null> = new Array(RECENT).fill(null);
  private readonly recentFired: Array<Set<Watcher> | null> = new Array(RECENT).fill(null);
  private received = 0;
  /**
   * Reads that will arm a watch and have not yet (see beginArm). Only while there are some
   * can an event matter later, so only then are events kept: a client that arms no watch
   * keeps none, and its events die young instead of outliving 4096 others.
   */
  private arming = 0;

  /**
   * Call before the read that arms a watch; returns the mark to pass to add(). Every call
   * is ended by exactly one add() or cancelArm().
   */
  beginArm(): number {
    this.arming++;
    return this.received;
  }

  /** The read that was to arm a watch failed: it arms nothing. */
  cancelArm(): void {
    this.arming--;
  }

  /**
   * Records a received event and returns the watchers it fires (each once), removing them;
   * `withData`: those of them armed with includeData; `released`: per watcher removed, its
   * path, kind and whether it held a data interest.
   */
  trigger(ev: BackendEvent): { fired: Watcher[]; withData: Set<Watcher> | null; released: Array<[string, OneShotKind, boolean]> } {
    const slot = this.received % RECENT;
    const keep = this.arming > 0;
    this.recentEvents[slot] = keep ? ev : null;
    this.recentFired[slot] = null;
    this.received++;
    // Most events fire no one-shot watch: find that out before making anything.
    const data = ev.type !== 'childrenChanged' ? this.data.get(ev.path) : undefined;
    const child = ev.type === 'childrenChanged' || ev.type === 'deleted' ? this.child.get(ev.path) : undefined;
    if (!data && !child) return NOTHING;
    const fired = new Set<Watcher>();
    const released: Array<[string, OneShotKind, boolean]> = [];
    const withData = new Set<Watcher>();
    if (ev.type !== 'childrenChanged') this.take(this.data, ev, fired, withData, released, 'data');
    if (ev.type === 'childrenChanged' || ev.type === 'deleted') this.take(this.child, ev, fired, withData, released, 'child');
    if (fired.size === 0) return NOTHING;
    if (keep) this.recentFired[slot] = fired;
    return { fired: [...fired], withData: withData.size > 0 ? withData : null, released };
  }

  /**
   * Registers a watcher armed by a read at `zxid` (`mark` from beginArm() before the read;
   * this ends that arm). Returns the event that already fires it
   * (one that overtook the read's reply), or undefined when it is armed and waiting.
   * Returns `added: false` when this watcher was already set on that path and kind.
   * `existed` says whether the read found the znode (false only for `exists` of a missing one).
   */
  add(kind: OneShotKind, path: string, watcher: Watcher, zxid: number, mark: number, existed = true, data = false): { added: boolean; firedBy?: WatchEvent | BackendEvent } {
    this.arming--;
    const map = kind === 'data' ? this.data : this.child;
    if (this.received - mark > RECENT) {
      // More events arrived during the read than we keep: fire rather than risk a silent loss.
      return { added: true, firedBy: { type: kind === 'data' ? 'dataChanged' : 'childrenChanged', path, zxid, resync: true } };
    }
    for (let k = mark; k < this.received; k++) {
      const slot = k % RECENT;
      // Kept: this read's arm was pending since `mark`.
      const ev = this.recentEvents[slot]!;
      if (ev.zxid > zxid && ev.path === path && firesKind(ev, kind)) {
        // Already called with this very event (as the path's other kind of watch): that was its one firing.
        const fired = this.recentFired[slot];
        if (fired?.has(watcher)) return { added: false };
        if (fired) fired.add(watcher); else this.recentFired[slot] = new Set([watcher]);
        return { added: true, firedBy: ev };
      }
    }
    let watchers = map.get(path);
    if (!watchers) map.set(path, (watchers = new Map()));
    const had = watchers.get(watcher);
    if (had !== undefined) {
      // Set twice: it stays one watch, armed since the earlier read (and with data as first asked).
      if (zxid < had.zxid) watchers.set(watcher, { zxid, existed, data: had.data });
      return { added: false };
    }
    watchers.set(watcher, { zxid, existed, data });
    return { added: true };
  }

  /** Every armed watcher, for the check after a reconnect when the change log fell short. */
  armed(): Array<{ kind: OneShotKind; path: string; watcher: Watcher } & Armed> {
    const out: Array<{ kind: OneShotKind; path: string; watcher: Watcher } & Armed> = [];
    for (const [kind, map] of [['data', this.data], ['child', this.child]] as const) {
      for (const [path, ws] of map) for (const [watcher, a] of ws) out.push({ kind, path, watcher, ...a });
    }
    return out;
  }

  /** Removes one watcher; true if it was armed. */
  remove(kind: OneShotKind, path: string, watcher: Watcher): boolean {
    const map = kind === 'data' ? this.data : this.child;
    const ws = map.get(path);
    if (!ws?.delete(watcher)) return false;
    if (ws.size === 0) map.delete(path);
    return true;
  }

  get size(): number {
    return this.data.size + this.child.size;
  }

  clear(): void {
    this.data.clear();
    this.child.clear();
  }

  private take(
    map: Map<string, Map<Watcher, Armed>>, ev: BackendEvent, fired: Set<Watcher>, withData: Set<Watcher>,
    released: Array<[string, OneShotKind, boolean]>, kind: OneShotKind,
  ): void {
    const watchers = map.get(ev.path);
    if (!watchers) return;
    for (const [w, armedAt] of watchers) {
      if (ev.zxid > armedAt.zxid) {
        fired.add(w);
        if (armedAt.data) withData.add(w);
        watchers.delete(w);
        released.push([ev.path, kind, armedAt.data]);
      }
    }
    if (watchers.size === 0) map.delete(ev.path);
  }
}

/** What trigger() returns when the event fires no one-shot watch (shared: never mutated). */
const NOTHING: { fired: Watcher[]; withData: null; released: Array<[string, OneShotKind, boolean]> } = Object.freeze({ fired: Object.freeze([]), withData: null, released: Object.freeze([]) }) as never;

function firesKind(ev: BackendEvent, kind: OneShotKind): boolean {
  return kind === 'data' ? ev.type !== 'childrenChanged' : ev.type === 'childrenChanged' || ev.type === 'deleted';
}
