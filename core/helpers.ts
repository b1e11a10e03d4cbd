import type { Client } from './client.js';
import { NodeExistsError, NoNodeError, NotEmptyError } from './errors.js';
import { joinPath, validatePath } from './path.js';

/**
 * Creates `path` and any missing ancestors as persistent znodes (like `mkdir -p`,
 * Curator's `creatingParentsIfNeeded`). Existing znodes are left as they are.
 * @example await ensurePath(zk, '/app/locks/db')
 */
export async function ensurePath(zk: Client, path: string, mode: 'persistent' | 'container' = 'persistent'): Promise<void> {
  validatePath(path);
  if (path === '/') return;
  if (await zk.exists(path)) return;
  const parts = path.split('/').slice(1);
  let p = '';
  for (const part of parts) {
    p += '/' + part;
    try {
      await zk.create(p, undefined, { mode });
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }
}

/**
 * Deletes `path` and everything below it, children first. Znodes that vanish meanwhile
 * are fine; a child created meanwhile makes it retry that level.
 */
export async function deleteRecursive(zk: Client, path: string): Promise<void> {
  validatePath(path);
  for (let attempt = 0; ; attempt++) {
    let children: string[];
    try {
      children = (await zk.getChildren(path)).children;
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    for (const c of children) await deleteRecursive(zk, joinPath(path, c));
    if (path === '/') return;
    try {
      await zk.delete(path);
      return;
    } catch (err) {
      if (err instanceof NoNodeError) return;
      if (!(err instanceof NotEmptyError) || attempt > 100) throw err;
    }
  }
}

