import { AbortedError, NoNodeError, TimeoutError, type Client } from '../../core/index.js';
import { paths, type StatusRecord } from '../index.js';

/**
 * Follows tasks to their end through one recursive watch on `/status` (no polling):
 * `onStatus` is called once per task as its status record appears, with the record, or
 * null if its retention removed it before it could be read. Resolves when every task has
 * one; rejects with TimeoutError / AbortedError.
 *
 * @example await followTasks(zk, ids, { onStatus: (id, s) => bar.update(++done) });
 */
export async function followTasks(
  zk: Client,
  ids: string[],
  options: { onStatus: (id: string, status: StatusRecord | null) => void; timeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  const missing = new Set(ids);
  const reads: Promise<void>[] = [];
  const found = (id: string) => {
    if (!missing.delete(id)) return;
    reads.push(readStatus(zk, id).then((s) => options.onStatus(id, s)));
  };
  const recheck = async () => {
    const left = [...missing];
    for (let i = 0; i < left.length; i += 500) {
      const chunk = left.slice(i, i + 500);
      const stats = await Promise.all(chunk.map((id) => zk.exists(paths.statusPath(id))));
      stats.forEach((s, k) => s && found(chunk[k]));
    }
  };
  const stream = zk.watch(paths.STATUS, { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => stream.fail(new AbortedError('Stopped before every task finished'));
  try {
    await stream.ready;
    await recheck();
    if (missing.size > 0) {
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => stream.fail(new TimeoutError(`${missing.size} task(s) not finished within ${options.timeoutMs} ms`)), options.timeoutMs);
      }
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort);
      for await (const ev of stream) {
        if (ev.resync) await recheck();
        else if (ev.type === 'created' && ev.path.lastIndexOf('/') === paths.STATUS.length) found(paths.leaf(ev.path));
        if (missing.size === 0) break;
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    stream.close();
  }
  await Promise.all(reads);
}

/** A task's status record, or null when there is none (yet, or any more). */
export async function readStatus(zk: Client, id: string): Promise<StatusRecord | null> {
  try {
    const { data } = await zk.getData(paths.statusPath(id));
    return JSON.parse(data.toString('utf8')) as StatusRecord;
  } catch (err) {
    if (err instanceof NoNodeError || err instanceof SyntaxError) return null;
    throw err;
  }
}
