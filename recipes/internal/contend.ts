import { AbortedError, NoNodeError, joinPath, type Client, type Data, type Stat } from '../../core/index.js';
import { LeaseLostError } from '../errors.js';
import type { Wait } from './args.js';
import { createProtected, deleteOwn, listContenders, type Contender } from './protected.js';
import { joinWatch } from './shared-watch.js';
import { isConnectionLoss, untilConnected, waitWake } from './wait.js';

/**
 * Waits until one of `paths` is gone (or its children change: the caller re-reads either
 * way). Only these znodes are watched — never the parent — so a release wakes only the
 * waiter(s) that depend on it: no herd effect. Child watches: on the ephemeral znodes
 * waited for here they fire only on deletion (a data change wakes no one), and a znode
 * already gone arms nothing — an `exists` watch on it would stay armed, with its
 * subscription, until that path is created again, which for a sequential name is never.
 * The watches are shared per client and path (see shared-watch.ts), so a wait that
 * times out leaves nothing of its own armed.
 */
export async function waitChange(zk: Client, paths: readonly string[], wait: Wait, what: string): Promise<void> {
  const joined: Array<() => void> = [];
  try {
    await waitWake(zk, wait, what, async (wake) => {
      for (const p of paths) {
        const w = joinWatch(zk, p, 'children', wake);
        joined.push(w.leave);
        try {
          await zk.getChildren(p, { watch: w.watcher, limit: 1 });
        } catch (err) {
          if (err instanceof NoNodeError) return true;
          throw err;
        }
      }
      return false;
    });
  } finally {
    for (const leave of joined) leave();
  }
}

export interface ContendOptions {
  /** Parent znode of the contenders. */
  dir: string;
  /** Our name's prefix (`lock-`, `read-`, `write-`…). */
  prefix: string;
  /** Every prefix that takes part in this queue. */
  prefixes: readonly string[];
  data?: Data;
  wait: Wait;
  /** For error messages: "Mutex /locks/db acquire". */
  what: string;
  /** The contender we must wait for, or null when we may go ahead. */
  blocker(list: Contender[], mine: number): Contender | null;
}

/**
 * The shared core of locks and elections (ZooKeeper's lock recipe): create an
 * ephemeral sequential znode (protected), then until no earlier contender blocks us,
 * watch the one that does. Arrival order decides, so it is fair. On timeout, abort or
 * any error our znode is deleted before the error is thrown (or, if the link is down
 * then, as soon as it is back): an abandoned attempt leaves nothing behind, and a
 * timeout is kept even while the session is suspended.
 */
export async function contend(zk: Client, o: ContendOptions): Promise<{ path: string; stat: Stat }> {
  if (o.wait.signal?.aborted) throw new AbortedError(`${o.what}: aborted`, { cause: o.wait.signal.reason });
  // The first list rides with the create: one round trip for both.
  const node = await createProtected(zk, o.dir, o.prefix, o.data, 'ephemeral_sequential', o.wait, () => listContenders(zk, o.dir, o.prefixes));
  const name = node.path.slice(node.path.lastIndexOf('/') + 1);
  let first = node.alongside;
  try {
    for (;;) {
      try {
        let list = first ? await first.catch(() => null) : null;
        first = undefined;
        // A list that holds our name was read after our create: a sound view of who is
        // ahead of us. One that does not (failed, or read before the create) is read again.
        if (!list?.some((c) => c.name === name)) list = await listContenders(zk, o.dir, o.prefixes);
        const mine = list.findIndex((c) => c.name === name);
        if (mine < 0) throw new LeaseLostError('our znode vanished while waiting', node.path);
        const b = o.blocker(list, mine);
        if (!b) {
          if (o.wait.signal?.aborted) throw new AbortedError(`${o.what}: aborted`, { cause: o.wait.signal.reason });
          return node;
        }
        await waitChange(zk, [joinPath(o.dir, b.name)], o.wait, o.what);
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
        await untilConnected(zk, o.wait, o.what);
      }
    }
  } catch (err) {
    // Bounded by the wait: while the link is down the delete finishes in the background.
    await deleteOwn(zk, node.path, o.wait);
    throw err;
  }
}

/** Blocker rule of an exclusive lock: the immediate predecessor. */
export function predecessor(list: Contender[], mine: number): Contender | null {
  return mine > 0 ? list[mine - 1] : null;
}
