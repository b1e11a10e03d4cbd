import { randomUUID } from 'node:crypto';
import {
  ClientClosedError, NoNodeError, SessionExpiredError, ensurePath, joinPath,
  type Client, type CreateMode, type Data, type Stat,
} from '../../core/index.js';
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
 * created at most once. It deliberately ignores the caller's timeout and signal: the
 * outcome must be known so that an abandoned attempt can delete what it made. It ends
 * on its own when the session expires (the ephemeral is then gone anyway).
 */
export async function createProtected(
  zk: Client, dir: string, prefix: string, data: Data | undefined,
  mode: CreateMode = 'ephemeral_sequential',
): Promise<{ path: string; stat: Stat }> {
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
      return await zk.createWithStat(path, data, { mode });
    } catch (err) {
      if (err instanceof NoNodeError && !uncertain) {
        await ensureDir(zk, dir);
        continue;
      }
      if (!isConnectionLoss(err)) throw err;
      uncertain = true;
      await untilConnected(zk, FOREVER, 'create');
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

/** Creates `dir` and its ancestors, riding out connection loss. */
export async function ensureDir(zk: Client, dir: string): Promise<void> {
  for (;;) {
    try {
      await ensurePath(zk, dir);
      return;
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
      await untilConnected(zk, FOREVER, 'create');
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
 */
export async function deleteOwn(zk: Client, path: string): Promise<void> {
  for (;;) {
    try {
      await zk.delete(path);
      return;
    } catch (err) {
      if (err instanceof NoNodeError || err instanceof SessionExpiredError || err instanceof ClientClosedError) return;
      if (!isConnectionLoss(err)) throw err;
      try {
        await untilConnected(zk, FOREVER, 'delete');
      } catch {
        return;
      }
    }
  }
}
