import { AbortedError, NoNodeError, joinPath, type Client, type Data, type Stat } from '../../core/index.js';
import { LeaseLostError } from '../errors.js';
import type { Wait } from './args.js';
import { OwnWatch } from './own-watch.js';
import { createProtected, deleteOwn, isReleaseMark, listContenders, type Contender } from './protected.js';
import { joinWatch } from './shared-watch.js';
import { isConnectionLoss, untilConnected, waitWake } from './wait.js';

/** Why a wait on a blocker ended: released by an exclusive holder, gone otherwise, or woken (a reconnect, a resync). */
export type BlockerEnd = 'released' | 'gone' | 'woken';

/**
 * Waits until one of `paths` is gone (or its children change: the caller re-reads either
 * way). Only these znodes are watched — never the parent — so a release wakes only the
 * waiter(s) that depend on it: no herd effect. Child watches: on the ephemeral znodes
 * waited for here they fire only on deletion (a data change wakes no one), and a znode
 * already gone arms nothing — an `exists` watch on it would stay armed, with its
 * subscription, until that path is created again, which for a sequential name is never.
 * The watches are shared per client and path (see shared-watch.ts), so a wait that
 * times out leaves nothing of its own armed.
 *
 * With `marked`, the child watch is set with includeData: the `deleted` event of a znode
 * that releaseExclusive deleted carries its release mark (the data its deleting multi set
 * first), which tells "released by its exclusive holder" ('released') from gone any other
 * way (given up, expired, deleted by hand: 'gone'). The watch still fires on deletion
 * alone, so a data change of the holder's znode wakes no one.
 *
 * Ends 'gone' when a path is known gone (its `deleted` event, or NoNodeError when arming).
 */
export async function waitChange(zk: Client, paths: readonly string[], wait: Wait, what: string, marked = false): Promise<BlockerEnd> {
  const joined: Array<() => void> = [];
  let end: BlockerEnd = 'woken';
  try {
    await waitWake(zk, wait, what, async (wake) => {
      for (const p of paths) {
        const w = joinWatch(zk, p, marked ? 'children+data' : 'children', (ev) => {
          if (ev.type === 'deleted') end = marked && isReleaseMark(ev.data) ? 'released' : 'gone';
          wake();
        });
        joined.push(w.leave);
        try {
          await zk.getChildren(p, { watch: w.watcher, limit: 1, includeData: marked });
        } catch (err) {
          if (err instanceof NoNodeError) {
            end = 'gone';
            return true;
          }
          throw err;
        }
      }
      return false;
    });
  } finally {
    for (const leave of joined) leave();
  }
  return end;
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
  /**
   * The contender we must wait for, or null when we may go ahead. It must look only at the
   * contenders before `mine`, and be monotone: taking contenders out of the list never
   * makes us blocked (both rules here are).
   */
  blocker(list: Contender[], mine: number): Contender | null;
  /**
   * Take the grant on the blocker's deletion without reading the list again when it was
   * the only contender in our way, watching our own znode meanwhile (see contend). For
   * recipes that hand that watch on to a Lease (which would arm it anyway); a gate held
   * for a moment is better off reading the list again.
   */
  watchOwn?: boolean;
  /**
   * Exclusive holders in this queue give their grant back with releaseExclusive, so a
   * blocker seen released (not merely gone) was holding alone: every contender queued
   * before it is gone. When that, by the blocker rule, leaves nothing in our way, its
   * release grants us with no second read of the list (with `watchOwn`, as below).
   */
  exclusiveReleases?: boolean;
}

/** What contend grants: our znode, and the watch on it when one was armed while waiting. */
export interface Contended {
  path: string;
  stat: Stat;
  /** A watch on our own znode armed while waiting, for the Lease to take over. */
  watch?: OwnWatch;
}

/** How long an abandoned attempt waits for the watch on its deleted znode to fire (normally well under a millisecond). */
const OWN_WATCH_SETTLE_MS = 250;

/**
 * The shared core of locks and elections (ZooKeeper's lock recipe): create an
 * ephemeral sequential znode (protected), then until no earlier contender blocks us,
 * watch the one that does. Arrival order decides, so it is fair. On timeout, abort or
 * any error our znode is deleted before the error is thrown (or, if the link is down
 * then, as soon as it is back): an abandoned attempt leaves nothing behind, and a
 * timeout is kept even while the session is suspended.
 *
 * When the blocker is the only contender in our way (for a mutex: it was first in line,
 * the holder or about to be), its deletion alone grants us: contenders before it can only
 * go, and later ones queue behind us. Then we also watch our own znode while we wait, and
 * on the blocker's `deleted` event take the grant with no second read of the list, if that
 * watch shows our znode still there (events come in zxid order, so a deletion of ours
 * before the blocker's would have fired it) and the session is connected. Otherwise — the
 * blocker was a waiter further back, or the wake was a reconnect — we read the list again.
 * Likewise, with `exclusiveReleases`, when the blocker is seen *released* by its holder
 * (its deletion event carries the mark releaseExclusive writes in the multi that deletes
 * it) and nothing queued after it is in our way: a mutex's waiter behind the holder takes
 * the lock on that one event, however it was queued, with no second read. A blocker gone
 * otherwise (given up, expired) comes without the mark, and we read the list again.
 *
 * One case that reasoning does not cover: a single write that deletes both the blocker's
 * znode and ours (a multi by an operator; the reaper expiring our session and the
 * blocker's in one tick while our client still takes events) sends two events of one
 * zxid, and if a socket read splits them, the blocker's is handled first: we take a grant
 * whose znode is already gone, and the lease is reported lost when the next read brings
 * the other event. On the memory backend the two always come in one batch (and the grant
 * is not taken); Redis writes them to the socket together, and they are normally read so.
 */
export async function contend(zk: Client, o: ContendOptions): Promise<Contended> {
  if (o.wait.signal?.aborted) throw new AbortedError(`${o.what}: aborted`, { cause: o.wait.signal.reason });
  // The first list rides with the create: one round trip for both.
  const node = await createProtected(zk, o.dir, o.prefix, o.data, 'ephemeral_sequential', o.wait, () => listContenders(zk, o.dir, o.prefixes));
  const name = node.path.slice(node.path.lastIndexOf('/') + 1);
  const token = node.stat.czxid;
  let first = node.alongside;
  let own: OwnWatch | undefined;
  const granted = (): Contended => {
    if (o.wait.signal?.aborted) throw new AbortedError(`${o.what}: aborted`, { cause: o.wait.signal.reason });
    return own ? { path: node.path, stat: node.stat, watch: own } : { path: node.path, stat: node.stat };
  };
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
        if (!b) return granted();
        const alone = o.watchOwn === true && o.blocker(list.filter((c) => c !== b), mine - 1) === null;
        const at = list.indexOf(b);
        // Released by its holder, b took everyone before it along: are those after it clear?
        const clearOnRelease = o.watchOwn === true && o.exclusiveReleases === true && o.blocker(list.slice(at + 1), mine - at - 1) === null;
        if (alone || clearOnRelease) own ??= new OwnWatch(zk, node.path);
        const end = await waitChange(zk, [joinPath(o.dir, b.name)], o.wait, o.what, clearOnRelease);
        if ((end === 'gone' && alone) || end === 'released') {
          // The watch on our znode is normally armed by now; if its read is still out, it is
          // no further from done than a new read of the list would be.
          await own!.armed.catch(() => undefined);
          if (own!.intact(token) && (zk.state === 'connected' || zk.state === 'reconnected')) return granted();
        }
      } catch (err) {
        if (!isConnectionLoss(err)) throw err;
        await untilConnected(zk, o.wait, o.what);
      }
    }
  } catch (err) {
    // Bounded by the wait: while the link is down the delete finishes in the background.
    await deleteOwn(zk, node.path, o.wait);
    // Nothing of the attempt left behind: the watch on our znode goes with its deletion event.
    if (own && (zk.state === 'connected' || zk.state === 'reconnected')) await own.firedWithin(OWN_WATCH_SETTLE_MS);
    throw err;
  }
}

/** Blocker rule of an exclusive lock: the immediate predecessor. */
export function predecessor(list: Contender[], mine: number): Contender | null {
  return mine > 0 ? list[mine - 1] : null;
}
