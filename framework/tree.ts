import { NodeExistsError, NoNodeError, op, type Client, type OpInput } from '../core/index.js';
import { FOLDERS, statusPath } from './paths.js';
import { encode, type StatusRecord } from './task.js';

/** Children per getChildren page: big queues are read in pages, never in one reply. */
export const PAGE = 1000;

/** Creates the framework's folders that do not exist yet. */
export async function ensureFolders(zk: Client): Promise<void> {
  for (const f of FOLDERS) {
    if (await zk.exists(f)) continue;
    try {
      await zk.create(f);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }
}

/** Every child of `path`, read page by page; [] when the znode does not exist. */
export async function listAll(zk: Client, path: string): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    let page;
    try {
      page = await zk.getChildren(path, after === undefined ? { limit: PAGE } : { limit: PAGE, after });
    } catch (err) {
      if (err instanceof NoNodeError) return out;
      throw err;
    }
    out.push(...page.children);
    if (page.next === undefined) return out;
    after = page.next;
  }
}

/** The op creating a task's single status record, with its retention as the znode's TTL. */
export function statusOp(record: StatusRecord, ttlMs: number): OpInput {
  const data = encode(record, 'status record');
  return ttlMs > 0
    ? op.create(statusPath(record.id), data, { mode: 'persistent_with_ttl', ttlMs })
    : op.create(statusPath(record.id), data);
}

/**
 * Runs groups of ops, `groupsPerMulti` groups to one multi (fewer round trips); when a
 * shared multi fails, its groups are retried one by one so one stale group cannot sink
 * the rest. Returns, per group, the zxid it was applied at or the error that refused it.
 */
export async function multiGroups(zk: Client, groups: OpInput[][], groupsPerMulti: number): Promise<Array<{ zxid: number } | { error: unknown }>> {
  const out: Array<{ zxid: number } | { error: unknown }> = new Array(groups.length);
  const batches: Promise<void>[] = [];
  for (let i = 0; i < groups.length; i += groupsPerMulti) {
    const idx = Array.from({ length: Math.min(groupsPerMulti, groups.length - i) }, (_, k) => i + k);
    batches.push((async () => {
      try {
        const results = await zk.multi(idx.flatMap((j) => groups[j]));
        const zxid = zxidOf(results);
        for (const j of idx) out[j] = { zxid };
      } catch (err) {
        if (idx.length === 1 || !isOpFailure(err)) {
          for (const j of idx) out[j] = { error: err };
          return;
        }
        await Promise.all(idx.map(async (j) => {
          try {
            out[j] = { zxid: zxidOf(await zk.multi(groups[j])) };
          } catch (e) {
            out[j] = { error: e };
          }
        }));
      }
    })());
  }
  await Promise.all(batches);
  return out;
}

/** True when a multi failed because of one op (worth retrying the others), not the session or link. */
function isOpFailure(err: unknown): boolean {
  return typeof (err as { opIndex?: unknown })?.opIndex === 'number';
}

function zxidOf(results: Awaited<ReturnType<Client['multi']>>): number {
  for (const r of results) if ((r.type === 'create' || r.type === 'setData') && r.stat) return r.stat.mzxid;
  return 0;
}
