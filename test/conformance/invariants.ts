import { NoNodeError, type Client, type Stat } from '../../core/index.js';

/** One znode as the checker saw it. */
export interface SeenZnode {
  path: string;
  data: Buffer;
  stat: Stat;
  children: string[];
}

/** The whole tree, path → znode, in walk order (parents before children). */
export type TreeSnapshot = Map<string, SeenZnode>;

/**
 * What earlier walks saw, so a later walk can tell whether anything went back in time.
 * Keep one per namespace (a conformance case) and pass it to every check of that case.
 */
export class TreeHistory {
  /** Per znode incarnation (`czxid` + path): the highest counters seen. */
  readonly seen = new Map<string, { version: number; cversion: number; mzxid: number; pzxid: number }>();
  /** The highest zxid seen anywhere in the tree. */
  maxZxid = 0;
}

/**
 * Walks the whole tree through the public client API only (getChildren + getData), so
 * it works on every backend. A listed child that is gone when read (a TTL or container
 * reaped, an ephemeral of a closing session) restarts the walk; if it keeps happening the
 * last walk is returned with those paths in `missing` (a child list naming a non-znode).
 *
 * @example const tree = await snapshotTree(zk); tree.get('/app')?.stat.version
 */
export async function snapshotTree(zk: Client, root = '/'): Promise<TreeSnapshot & { missing?: string[] }> {
  for (let attempt = 0; ; attempt++) {
    const { tree, missing } = await walk(zk, root);
    if (missing.length === 0) return tree;
    if (attempt >= 5) return Object.assign(tree, { missing });
  }
}

async function walk(zk: Client, root: string): Promise<{ tree: TreeSnapshot; missing: string[] }> {
  const tree: TreeSnapshot = new Map();
  const missing: string[] = [];
  let level = [root];
  while (level.length > 0) {
    const next: string[] = [];
    // A level at a time, many calls in flight: wide trees walk fast on a remote store.
    for (let i = 0; i < level.length; i += 256) {
      const read = await Promise.all(level.slice(i, i + 256).map(async (path) => {
        try {
          const { children } = await zk.getChildren(path);
          const { data, stat } = await zk.getData(path);
          return { path, data, stat, children };
        } catch (err) {
          if (!(err instanceof NoNodeError)) throw err;
          return path;
        }
      }));
      for (const n of read) {
        if (typeof n === 'string') {
          missing.push(n);
          continue;
        }
        tree.set(n.path, n);
        for (const c of n.children) next.push(n.path === '/' ? `/${c}` : `${n.path}/${c}`);
      }
    }
    level = next;
  }
  return { tree, missing };
}

/**
 * Checks the rules every tree must keep, after any sequence of operations, on any backend:
 * - `numChildren` equals the number of children listed, which come sorted;
 * - no ephemeral znode has children;
 * - every ephemeral's owner is a live session (`liveSessions` comes from the harness);
 * - `dataLength` matches the data; `mzxid`, `pzxid` ≥ `czxid`; `cversion` ≥ `numChildren`;
 * - versions, cversions and zxids of a znode never go back between walks (`history`).
 * Throws one Error listing every violation; returns the snapshot it checked.
 *
 * @example
 * const history = new TreeHistory();
 * await checkTreeInvariants(zk, () => harness.liveSessions(), history);
 */
export async function checkTreeInvariants(
  zk: Client,
  liveSessions: () => Promise<Set<string>>,
  history: TreeHistory = new TreeHistory(),
): Promise<TreeSnapshot> {
  const tree = await snapshotTree(zk);
  const problems: string[] = (tree.missing ?? []).map((p) => `${p}: listed by its parent but does not exist`);
  const ephemerals: SeenZnode[] = [];
  let maxZxid = 0;
  for (const n of tree.values()) {
    const { stat, path, children } = n;
    const at = `${path}:`;
    if (stat.numChildren !== children.length) problems.push(`${at} numChildren ${stat.numChildren} but ${children.length} children listed`);
    if (!isSorted(children)) problems.push(`${at} children not sorted: ${children.join(',')}`);
    if (stat.dataLength !== n.data.length) problems.push(`${at} dataLength ${stat.dataLength} but data has ${n.data.length} bytes`);
    if (stat.mzxid < stat.czxid) problems.push(`${at} mzxid ${stat.mzxid} < czxid ${stat.czxid}`);
    if (stat.pzxid < stat.czxid) problems.push(`${at} pzxid ${stat.pzxid} < czxid ${stat.czxid}`);
    if (stat.cversion < stat.numChildren) problems.push(`${at} cversion ${stat.cversion} < numChildren ${stat.numChildren}`);
    if (stat.version < 0 || stat.aversion !== 0) problems.push(`${at} version ${stat.version}, aversion ${stat.aversion}`);
    if (stat.ephemeralOwner !== null) {
      ephemerals.push(n);
      if (children.length > 0) problems.push(`${at} ephemeral has children: ${children.join(',')}`);
    }
    maxZxid = Math.max(maxZxid, stat.czxid, stat.mzxid, stat.pzxid);
    const key = `${stat.czxid}\0${path}`;
    const before = history.seen.get(key);
    if (before) {
      for (const f of ['version', 'cversion', 'mzxid', 'pzxid'] as const) {
        if (stat[f] < before[f]) problems.push(`${at} ${f} went back from ${before[f]} to ${stat[f]}`);
      }
    }
    history.seen.set(key, { version: stat.version, cversion: stat.cversion, mzxid: stat.mzxid, pzxid: stat.pzxid });
  }
  if (maxZxid < history.maxZxid) problems.push(`highest zxid in the tree went back from ${history.maxZxid} to ${maxZxid}`);
  history.maxZxid = Math.max(history.maxZxid, maxZxid);

  if (ephemerals.length > 0) {
    const live = await liveSessions();
    for (const n of ephemerals) {
      if (live.has(n.stat.ephemeralOwner!)) continue;
      // The session may have been reaped between the walk and the listing: then its
      // ephemeral must be gone by now.
      const still = await zk.exists(n.path);
      if (still && still.czxid === n.stat.czxid) problems.push(`${n.path}: ephemeral owned by ${n.stat.ephemeralOwner}, which is not a live session`);
    }
  }
  if (problems.length > 0) throw new Error(`Tree invariants broken:\n  ${problems.join('\n  ')}`);
  return tree;
}

function isSorted(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1] >= names[i]) return false;
  return true;
}
