import { randomUUID } from 'node:crypto';
import {
  AbortedError, ClientClosedError, NoNodeError, SessionExpiredError, TimeoutError, ensurePath, joinPath, op,
  type Client, type CreateMode, type Data, type Stat,
} from '../../core/index.js';
import type { Wait } from './args.js';
import { FOREVER, isConnectionLoss, untilConnected } from './wait.js';

/**
 * Protected names, after Curator's protected mode: `_c_<guid>-<prefix><10-digit seq>`.
 * The guid is fixed per attempt, so after a create whose reply was lost we can look for
 * our znode by name instead of creating a duplicate (an orphan that would block a lock
 * forever, or count twice in a semaphore).
 */
const MARK = '_c_';
const GUID_LEN = 36;

export interface Contender {
  /** Child name. */
  name: string;
  guid: string;
  /** The recipe's prefix (`lock-`, `read-`, `latch-`…). */
  prefix: string;
  /** Sequence number: creation order within the parent. */
  seq: number;
}

export function parseContender(name: string): Contender | null {
  if (!name.startsWith(MARK) || name.length < MARK.length + GUID_LEN + 1 + 10 || name[MARK.length + GUID_LEN] !== '-') return null;
  const rest = name.slice(MARK.length + GUID_LEN + 1);
  const digits = rest.slice(-10);
  if (!/^\d{10}$/.test(digits)) return null;
  return { name, guid: name.slice(MARK.length, MARK.length + GUID_LEN), prefix: rest.slice(0, -10), seq: Number(digits) };
}

/**
 * Creates `<dir>/_c_<guid>-<prefix>` (sequential by default), creating `dir` if missing.
 * On ConnectionLossError it waits for the session to come back, then looks for a child
 * carrying its guid that belongs to this session before trying again: the znode is
 * created at most once. If `wait` ends first (timeout, abort) it rejects on time and
 * leaves the rest to the background: once the session is back, the znode is looked for
 * and deleted if the create did happen. (If the session expires instead, the ephemeral
 * is gone anyway.)
 *
 * `alongside`, if given, is called right after each create is sent, in the same turn, so
 * its calls share the create's round trip (and, on Redis, its socket write); the promise
 * made alongside the create that succeeded comes back as `alongside` (none when the
 * znode was found again after a lost reply). The caller must not assume it ran after the
 * create: only what it returns can tell (a contender list that holds our name does).
 */
export async function createProtected<T = never>(
  zk: Client, dir: string, prefix: string, data: Data | undefined,
  mode: CreateMode = 'ephemeral_sequential', wait: Wait = FOREVER, alongside?: () => Promise<T>,
): Promise<{ path: string; stat: Stat; alongside?: Promise<T> }> {
  const guid = randomUUID();
  const path = joinPath(dir, `${MARK}${guid}-${prefix}`);
  let uncertain = false;
  for (;;) {
    try {
      if (uncertain) {
        const found = await findProtected(zk, dir, guid);
        if (found) return found;
        uncertain = false;
      }
      const creating = zk.createWithStat(path, data, { mode });
      if (!alongside) return await creating;
      const side = alongside();
      side.catch(() => undefined); // its failure is the caller's to see, or not, if it never looks
      const r = await creating;
      return { path: r.path, stat: r.stat, alongside: side };
    } catch (err) {
      if (err instanceof NoNodeError && !uncertain) {
        await ensureDir(zk, dir, wait);
        continue;
      }
      if (!isConnectionLoss(err)) throw err;
      uncertain = true;
      try {
        await untilConnected(zk, wait, 'create');
      } catch (over) {
        if (waitOver(over)) void deleteIfCreated(zk, dir, guid);
        throw over;
      }
    }
  }
}

/** The caller's wait ended (timeout or abort), as opposed to the session ending. */
function waitOver(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof AbortedError;
}

/** In the background, after an abandoned create whose outcome is unknown: deletes the znode if it was made. */
async function deleteIfCreated(zk: Client, dir: string, guid: string): Promise<void> {
  for (;;) {
    try {
      await untilConnected(zk, FOREVER, 'create');
      const found = await findProtected(zk, dir, guid);
      if (found) await deleteOwn(zk, found.path);
      return;
    } catch (err) {
      // Session expired or client closed: an ephemeral went with it.
      if (!isConnectionLoss(err)) return;
    }
  }
}

/** The child of `dir` carrying `guid`, if it exists and belongs to this session. */
async function findProtected(zk: Client, dir: string, guid: string): Promise<{ path: string; stat: Stat } | null> {
  // Protected names sort by guid first, so one page starting just before ours finds it.
  let children: string[];
  try {
    children = (await zk.getChildren(dir, { after: `${MARK}${guid}`, limit: 1 })).children;
  } catch (err) {
    if (err instanceof NoNodeError) return null;
    throw err;
  }
  const name = children[0];
  if (!name || parseContender(name)?.guid !== guid) return null;
  const path = joinPath(dir, name);
  const stat = await zk.exists(path);
  // Never adopt an ephemeral of another session: only ours counts as found.
  if (!stat || (stat.ephemeralOwner !== null && stat.ephemeralOwner !== zk.sessionId)) return null;
  return { path, stat };
}

/** Creates `dir` and its ancestors, riding out connection loss (until `wait` ends). */
export async function ensureDir(zk: Client, dir: string, wait: Wait = FOREVER): Promise<void> {
  for (;;) {
    try {
      await ensurePath(zk, dir);
      return;
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
      await untilConnected(zk, wait, 'create');
    }
  }
}

/**
 * Every protected contender under `dir` with one of `prefixes`, in creation order. Pages
 * through the child list, so a parent with a huge number of children is fine.
 */
export async function listContenders(zk: Client, dir: string, prefixes: readonly string[]): Promise<Contender[]> {
  const out: Contender[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await zk.getChildren(dir, after === undefined ? { limit: 1000 } : { limit: 1000, after });
    for (const name of page.children) {
      const c = parseContender(name);
      if (c && prefixes.includes(c.prefix)) out.push(c);
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * Deletes a znode this session created, riding out connection loss; gone already,
 * session expired or client closed all count as done (an ephemeral goes with its session).
 * While the link is down it waits for the session to come back only until `wait` ends
 * (an attempt that timed out or was aborted passes a wait that is already over): then
 * it returns and the delete carries on in the background, so an abandoned wait is not
 * held up for as long as the session timeout by its clean-up.
 */
export function deleteOwn(zk: Client, path: string, wait: Wait = FOREVER): Promise<void> {
  return removeOwn(zk, path, wait, () => zk.delete(path));
}

/**
 * What a release writes to the znode it deletes, in the same multi: no reader ever sees it
 * in the znode; it reaches the waiter behind on the deletion event (includeData).
 */
const RELEASED = Buffer.from('corral:released');

/** True if a deletion event's data is the release mark (see releaseExclusive). */
export function isReleaseMark(data: Uint8Array | undefined): boolean {
  return data !== undefined && RELEASED.equals(data);
}

/**
 * Gives up an exclusive hold (a mutex, a write lock): the znode's data is set to the
 * release mark, then it is deleted, in one multi. The one waiter watching it (a child
 * watch with includeData, which fires on deletion only) gets the mark with the deletion,
 * which tells it the znode was released by its holder and not given up by a waiter or
 * expired: nobody queued before it remains, so the waiter takes the grant without reading
 * the contender list again (see contend.ts). Retries as deleteOwn does; a znode already
 * gone is done.
 */
export function releaseExclusive(zk: Client, path: string, wait: Wait = FOREVER): Promise<void> {
  return removeOwn(zk, path, wait, () => zk.multi([op.setData(path, RELEASED), op.delete(path)]));
}

async function removeOwn(zk: Client, path: string, wait: Wait, remove: () => Promise<unknown>): Promise<void> {
  for (;;) {
    try {
      await remove();
      return;
    } catch (err) {
      if (err instanceof NoNodeError || err instanceof SessionExpiredError || err instanceof ClientClosedError) return;
      if (!isConnectionLoss(err)) throw err;
      try {
        await untilConnected(zk, wait, 'delete');
      } catch (over) {
        if (waitOver(over)) void removeOwn(zk, path, FOREVER, remove).catch(() => undefined);
        return;
      }
    }
  }
}
