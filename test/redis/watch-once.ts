import { expect } from 'vitest';
import type { Client, WatchEvent } from '../../core/index.js';

/** A watcher to pass to a read, and the promise of the one event it gets. */
export function watchOnce(): { watch: (ev: WatchEvent) => void; fired: Promise<WatchEvent> } {
  let watch: (ev: WatchEvent) => void = () => undefined;
  const fired = new Promise<WatchEvent>((resolve) => (watch = resolve));
  return { watch, fired };
}

/**
 * The smallest end-to-end check of scripts, reads and events: `zk` creates `/app` ("x") and
 * watches it, `other` sets it to "y", and the watch fires `dataChanged`.
 */
export async function watchedWrite(zk: Client, other: Client): Promise<void> {
  await zk.create('/app', 'x');
  const w = watchOnce();
  await zk.getData('/app', { watch: w.watch });
  await other.setData('/app', 'y');
  expect((await w.fired).type).toBe('dataChanged');
}
