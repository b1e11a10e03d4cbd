import type { CreateMode, Stat } from '../types.js';

/** A znode as the memory store keeps it. */
export interface ZNode {
  data: Buffer;
  mode: CreateMode;
  ttlMs: number;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  ephemeralOwner: string | null;
  children: Set<string>;
  /** Sorted child names, rebuilt lazily: parents with 100k children are read far more than changed. */
  sorted: string[] | null;
}

export function statOf(n: ZNode): Stat {
  return {
    czxid: n.czxid,
    mzxid: n.mzxid,
    pzxid: n.pzxid,
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: n.cversion,
    aversion: 0,
    ephemeralOwner: n.ephemeralOwner,
    dataLength: n.data.length,
    numChildren: n.children.size,
  };
}

export function sortedChildren(n: ZNode): string[] {
  if (n.sorted === null) n.sorted = [...n.children].sort();
  return n.sorted;
}
