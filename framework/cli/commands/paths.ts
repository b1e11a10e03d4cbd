import { joinPath, NoNodeError, type Client, type Stat } from '../../../core/index.js';

/** Every child name of `path`, fetched a page at a time so 100k-child parents stay cheap per call. */
export async function allChildren(zk: Client, path: string, limit = Infinity): Promise<{ children: string[]; stat: Stat }> {
  const children: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await zk.getChildren(path, { limit: Math.min(1000, limit - children.length), after });
    children.push(...page.children);
    if (page.next === undefined || children.length >= limit) return { children, stat: page.stat };
    after = page.next;
  }
}

/** A node of `corral tree`: its stat and data, and its children's nodes. */
export interface TreeNode {
  path: string;
  name: string;
  stat: Stat;
  data: Buffer;
  children: TreeNode[];
  /** Children left out by `--depth`. */
  hidden: number;
}

/** Reads the subtree under `path` (depth-first); znodes deleted meanwhile are skipped. */
export async function readTree(zk: Client, path: string, depth: number): Promise<TreeNode | null> {
  let node: TreeNode;
  try {
    const { data, stat } = await zk.getData(path);
    node = { path, name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1), stat, data, children: [], hidden: 0 };
  } catch (err) {
    if (err instanceof NoNodeError) return null;
    throw err;
  }
  if (node.stat.numChildren === 0) return node;
  if (depth <= 0) {
    node.hidden = node.stat.numChildren;
    return node;
  }
  let names: string[];
  try {
    names = (await allChildren(zk, path)).children;
  } catch (err) {
    if (err instanceof NoNodeError) return node;
    throw err;
  }
  for (const name of names) {
    const child = await readTree(zk, joinPath(path, name), depth - 1);
    if (child) node.children.push(child);
  }
  return node;
}
