import type { Client, WatchEvent } from '../../core/index.js';

/**
 * One-shot watches shared by every wait of a client on the same znode.
 *
 * The client cannot take a one-shot watch back (core has no `removeWatch`), so a wait that
 * ends by timeout or abort leaves its watch armed until the znode next changes. With a
 * watcher of its own per wait, a caller retrying `acquire({ timeoutMs })` against a lock
 * held for hours would pile up one armed watch per attempt. Sharing one watcher per
 * (client, path, kind) bounds what abandoned waits leave to one armed watch per znode, and
 * a wait that has ended keeps nothing of its own registered (its wake is removed).
 */
export type SharedWatchKind = 'data' | 'children' | 'children+data';

interface Gate {
  readonly watcher: (ev: WatchEvent) => void;
  readonly wakers: Set<(ev: WatchEvent) => void>;
}

const gates = new WeakMap<Client, Map<string, Gate>>();

/**
 * Joins the shared watch on `path`: pass `watcher` to the read that arms it (`exists` /
 * `getData` for 'data', `getChildren` for 'children', the same with includeData for
 * 'children+data'); `wake` is called once, with the
 * event, when it fires. Call `leave()` when the wait ends, however it ends.
 */
export function joinWatch(zk: Client, path: string, kind: SharedWatchKind, wake: (ev: WatchEvent) => void): { watcher: (ev: WatchEvent) => void; leave: () => void } {
  let byPath = gates.get(zk);
  if (!byPath) gates.set(zk, (byPath = new Map()));
  const key = `${kind}\0${path}`;
  let gate = byPath.get(key);
  if (!gate) {
    const g: Gate = {
      wakers: new Set(),
      watcher: (ev) => {
        // Fired: the client dropped this registration, so the next wait arms a new one.
        if (byPath.get(key) === g) byPath.delete(key);
        const wakers = [...g.wakers];
        g.wakers.clear();
        for (const w of wakers) w(ev);
      },
    };
    byPath.set(key, (gate = g));
  }
  const g = gate;
  g.wakers.add(wake);
  return { watcher: g.watcher, leave: () => g.wakers.delete(wake) };
}
