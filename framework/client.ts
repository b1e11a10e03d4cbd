import {
  BadArgumentsError, NodeExistsError, NoNodeError, op, TimeoutError, AbortedError,
  type Client, type WatchEvent,
} from '../core/index.js';
import { NoSuchTaskError, TaskCancelledError, TaskFailedError } from './errors.js';
import { currentMaster } from './election.js';
import { normalizeOptions, int, type TaskOptions } from './options.js';
import {
  ASSIGN, assignDir, assignPath, cancelPath, isTaskId, keyPath, leaf, STATUS, statusPath, TASK_PREFIX, TASKS, taskPath, WORKERS, workerPath,
} from './paths.js';
import { decodeStatus, decodeTask, encodeTask, type StatusRecord, type TaskRecord, type TaskState } from './task.js';
import { ensureFolders, listAll, PAGE, statusOp } from './tree.js';

/** What `get()` and `list()` report about a task. */
export interface TaskInfo {
  id: string;
  state: TaskState;
  /** The payload (queued, delayed and assigned tasks). */
  payload?: unknown;
  /** Failed runs so far (queued / assigned), or runs made (finished). */
  attempts: number;
  /** The worker holding it (assigned) or that recorded it (finished). */
  worker?: string;
  /** Last progress the handler reported (assigned). */
  progress?: unknown;
  /** Earliest start (delayed). */
  notBefore?: number;
  /** The status record (finished). */
  status?: StatusRecord;
}

/** A registered worker, as `workers()` lists it. */
export interface WorkerSummary {
  id: string;
  host?: string;
  pid?: number;
  capacity: number;
  labels: string[];
  draining: boolean;
  /** Tasks assigned to it now. */
  load: number;
}

export interface WaitOptions {
  /** Reject with TimeoutError after this long. Default: wait for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each progress value the handler reports while the task runs. */
  onProgress?: (value: unknown) => void;
}

/** Submits `payloads` with `options` each. */
export interface SubmitItem {
  payload: unknown;
  options?: TaskOptions;
}

/** Creates per multi in `submitMany`. */
const SUBMIT_BATCH = 500;
/** Multis of one `submitMany` on their way at once. */
const SUBMIT_LANES = 4;

/**
 * The producer's side: submit tasks, wait for their results, cancel them, list them.
 * Uses a client you own (never closed here).
 *
 * @example
 * const zk = await connect({ redis: 'redis://127.0.0.1:6379' }, { namespace: 'jobs' });
 * const tasks = createTaskClient(zk);
 * const id = await tasks.submit({ n: 21 }, { attempts: 3, backoff: { type: 'exponential', delay: 100 } });
 * console.log(await tasks.result(id)); // 42
 */
export class TaskClient {
  private folders: Promise<void> | null = null;

  constructor(readonly zk: Client) {
    if (typeof zk !== 'object' || zk === null || typeof (zk as Client).multi !== 'function') {
      throw new BadArgumentsError('Expected a connected Client (from connect())');
    }
  }

  /**
   * Stores a task; resolves with its id once it is safely in the tree (from then on it is
   * never lost). With `idempotencyKey`, a task already submitted under that key is not
   * stored again: its id is returned. If this rejects with ConnectionLossError the task may
   * or may not be stored — resubmit with an idempotencyKey to be sure.
   * @example const id = await tasks.submit({ url: 'https://example.com' }, { priority: 5, timeoutMs: 10_000 });
   */
  async submit(payload: unknown, options?: TaskOptions): Promise<string> {
    const { record, key, keyTtlMs } = this.prepare(payload, options);
    await this.ensure();
    if (key) return this.submitKeyed(record, key, keyTtlMs);
    const [r] = await this.zk.multi([op.create(`${TASKS}/${TASK_PREFIX}`, record, { mode: 'persistent_sequential' })]);
    return leaf(r.path);
  }

  /**
   * Stores many tasks with one multi per 500 (all of a batch or none); resolves with their
   * ids, in order. Every item is validated before anything is written.
   * @example const ids = await tasks.submitMany(files.map((f) => ({ payload: { f }, options: { attempts: 2 } })));
   */
  async submitMany(items: SubmitItem[]): Promise<string[]> {
    if (!Array.isArray(items)) throw new BadArgumentsError('Expected `items` to be an array of { payload, options? }');
    const prepared = items.map((it, i) => {
      if (typeof it !== 'object' || it === null || !('payload' in it)) throw new BadArgumentsError(`Expected items[${i}] to be { payload, options? }`);
      return this.prepare(it.payload, it.options);
    });
    await this.ensure();
    const ids: string[] = new Array(items.length);
    const plain: number[] = [];
    for (let i = 0; i < prepared.length; i++) {
      if (prepared[i].key) ids[i] = await this.submitKeyed(prepared[i].record, prepared[i].key, prepared[i].keyTtlMs);
      else plain.push(i);
    }
    // A few batches on the way at a time: enough to keep Redis busy, without building all
    // of a large submit's multis (and holding their memory) at once.
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      // After a failure no new batch starts: the caller gets the error, not the later ids.
      while (next < plain.length && !failed) {
        const idx = plain.slice(next, (next += SUBMIT_BATCH));
        try {
          const results = await this.zk.multi(idx.map((i) => op.create(`${TASKS}/${TASK_PREFIX}`, prepared[i].record, { mode: 'persistent_sequential' })));
          results.forEach((r, k) => (ids[idx[k]] = leaf(r.path)));
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: SUBMIT_LANES }, lane));
    return ids;
  }

  /** Where a task is now, or null if the tree does not know it. */
  async get(id: string): Promise<TaskInfo | null> {
    checkId(id);
    // A task moves between places with atomic multis; reading them one after the other can
    // miss it mid-move, so look again a few times before saying it does not exist.
    for (let round = 0; round < 3; round++) {
      const s = await this.readStatus(id);
      if (s) return finished(s);
      try {
        const { data } = await this.zk.getData(taskPath(id));
        return queuedInfo(id, decodeTask(data));
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
      const a = await this.findAssignment(id);
      if (a) return a.info;
    }
    return null;
  }

  /**
   * Waits for the task's status record (through a watch on `/status/<id>`, no polling) and
   * returns it, whatever the outcome. See `result()` for the value or an error.
   * @example const status = await tasks.wait(id, { timeoutMs: 60_000, onProgress: (p) => console.log(p) });
   */
  async wait(id: string, options: WaitOptions = {}): Promise<StatusRecord> {
    checkId(id);
    const o = checkWaitOptions(options);
    const deadline = o.timeoutMs === undefined ? Infinity : performance.now() + o.timeoutMs;
    let assignment: string | null = null;
    let lastProgress: unknown = undefined;
    for (let round = 0; ; round++) {
      if (o.signal?.aborted) throw new AbortedError(`wait(${id}) aborted`);
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      // The record comes with its creation event (includeData): no read once it is written.
      let written: Buffer | undefined;
      const onStatus = (ev: WatchEvent): void => {
        if (ev.type === 'created' && ev.data) written = ev.data;
        wake();
      };
      const stat = await this.zk.exists(statusPath(id), { watch: onStatus, includeData: true });
      if (stat) {
        const s = await this.readStatus(id);
        if (s) return s;
        throw new NoSuchTaskError(id); // removed by its retention between the two reads
      }
      // Never submitted, or its record already removed by its retention: nothing will come.
      // (Checked once, after the watch is armed, so a task finishing meanwhile still wakes us.)
      if (round === 0 && !(await this.known(id))) throw new NoSuchTaskError(id);
      if (o.onProgress) {
        // Follow the assignment's data: the worker writes progress there.
        assignment ??= (await this.findAssignment(id))?.path ?? null;
        if (assignment) {
          try {
            const { data } = await this.zk.getData(assignment, { watch: () => wake() });
            const p = decodeTask(data).progress;
            if (p !== undefined && JSON.stringify(p) !== JSON.stringify(lastProgress)) {
              lastProgress = p;
              o.onProgress(p);
            }
          } catch (err) {
            if (!(err instanceof NoNodeError)) throw err;
            assignment = null;
          }
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(`Task ${id} did not finish within ${o.timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => wake();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (left !== Infinity) timer = setTimeout(() => wake(), left);
      // Not assigned yet: a watch on the queued task fires when the master assigns it.
      if (o.onProgress && !assignment && !(await this.zk.exists(taskPath(id), { watch: () => wake() }))) setTimeout(() => wake(), 50).unref();
      await woken;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (written) return decodeStatus(written);
    }
  }

  /**
   * The task's result: resolves with the handler's return value, rejects with
   * TaskFailedError / TaskCancelledError (carrying the status record).
   * @example const value = await tasks.result(await tasks.submit({ n: 2 }));
   */
  async result<R = unknown>(id: string, options?: WaitOptions): Promise<R> {
    const s = await this.wait(id, options);
    if (s.state === 'succeeded') return s.result as R;
    if (s.state === 'cancelled') throw new TaskCancelledError(s);
    throw new TaskFailedError(s);
  }

  /**
   * Waits for many tasks through one recursive watch on `/status`; returns their status
   * records in the order of `ids`.
   * @example const records = await tasks.waitAll(await tasks.submitMany(items), { timeoutMs: 60_000 });
   */
  async waitAll(ids: string[], options: { timeoutMs?: number } = {}): Promise<StatusRecord[]> {
    // Each record comes with its creation event, or (finished before the watch was armed,
    // or replayed after a reconnect) is read as soon as it is known to exist, well within
    // any retention TTL.
    const records = new Map<string, Promise<StatusRecord | null>>();
    await this.watchFinished(ids, options, (id, data) => records.set(id, data ? Promise.resolve().then(() => decodeStatus(data)) : this.readStatus(id)), true);
    return Promise.all(ids.map(async (id) => {
      const s = await records.get(id);
      if (!s) throw new NoSuchTaskError(id); // its retention removed it before it could be read
      return s;
    }));
  }

  /**
   * Resolves once every task in `ids` has its status record, without reading the records:
   * the cheapest way to wait for a large batch.
   * @example await tasks.whenFinished(ids); const { finished } = await tasks.counts();
   */
  async whenFinished(ids: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    await this.watchFinished(ids, options, () => undefined);
  }

  /** `found` gets each id once, with its status record's data when `withData` and its event carried it. */
  private async watchFinished(ids: string[], options: { timeoutMs?: number }, found: (id: string, data?: Buffer) => void, withData = false): Promise<void> {
    if (!Array.isArray(ids)) throw new BadArgumentsError('Expected `ids` to be an array of task ids');
    ids.forEach(checkId);
    const o = checkWaitOptions(options);
    await this.ensure();
    const missing = new Set(ids);
    const see = (id: string, data?: Buffer) => {
      if (missing.delete(id)) found(id, data);
    };
    const stream = this.zk.watch(STATUS, { recursive: true, includeData: withData });
    let timer: NodeJS.Timeout | undefined;
    // Tasks that finished before the watch was armed: by id for a few, by listing for many.
    const check = async (list: string[]) => {
      if (list.length <= 64) {
        (await Promise.all(list.map((id) => this.zk.exists(statusPath(id))))).forEach((st, i) => st && see(list[i]));
      } else {
        for (const id of await listAll(this.zk, STATUS)) see(id);
      }
    };
    try {
      await stream.ready;
      await check(ids);
      if (missing.size > 0) {
        if (o.timeoutMs !== undefined) timer = setTimeout(() => stream.fail(new TimeoutError(`${missing.size} task(s) did not finish within ${o.timeoutMs} ms`)), o.timeoutMs);
        for await (const first of stream) {
          // The whole burst queued by now (a worker records many outcomes in one multi).
          for (const ev of [first, ...stream.drain()]) {
            if (ev.resync) await check([...missing]);
            else if (ev.type === 'created') see(leaf(ev.path), ev.data);
          }
          if (missing.size === 0) break;
        }
      }
    } finally {
      clearTimeout(timer);
      stream.close();
    }
  }

  /**
   * Cancels a task. A queued task is finished as `cancelled` at once; a running one is
   * asked to stop (its handler's AbortSignal fires) and finished as `cancelled` by its
   * worker. Resolves false when the task had already finished.
   * @example if (await tasks.cancel(id)) console.log((await tasks.wait(id)).state); // 'cancelled' (or its result, if it finished first)
   */
  async cancel(id: string): Promise<boolean> {
    checkId(id);
    await this.ensure();
    for (let round = 0; round < 3; round++) {
      try {
        const { data, stat } = await this.zk.getData(taskPath(id));
        let rec: TaskRecord | null = null;
        try {
          rec = decodeTask(data);
        } catch {
          // Malformed: the master fails it; cancelling it is still fine.
        }
        const status: StatusRecord = {
          id, state: 'cancelled', attempts: rec?.attempts ?? 0, submittedAt: rec?.submittedAt ?? 0,
          finishedAt: Date.now(), error: { name: 'AbortedError', message: 'Cancelled' },
        };
        await this.zk.multi([op.delete(taskPath(id), stat.version), statusOp(status, rec?.opts.removeOnFail ?? 0)]);
        return true;
      } catch (err) {
        if (!(err instanceof NoNodeError) && (err as { code?: number }).code !== -103 && !(err instanceof NodeExistsError)) throw err;
      }
      if (await this.zk.exists(statusPath(id))) return false;
      if (await this.findAssignment(id)) {
        try {
          await this.zk.create(cancelPath(id));
        } catch (err) {
          if (!(err instanceof NodeExistsError)) throw err;
        }
        return true;
      }
    }
    if (await this.zk.exists(statusPath(id))) return false;
    throw new NoSuchTaskError(id);
  }

  /**
   * Tasks in a state, a page at a time (`after` = the previous page's `next`).
   * `queued` includes `delayed` ones (their state says which); `assigned` lists every
   * worker's tasks.
   * @example const { tasks: page, next } = await tasks.list('failed', { limit: 50 });
   */
  async list(state: TaskState, options: { limit?: number; after?: string } = {}): Promise<{ tasks: TaskInfo[]; next?: string }> {
    const limit = options.limit === undefined ? 100 : int(options.limit, 'limit', 1, PAGE);
    const after = options.after;
    if (after !== undefined && typeof after !== 'string') throw new BadArgumentsError('Expected `after` to be a task id');
    await this.ensure();
    if (state === 'queued' || state === 'delayed') {
      const page = await this.zk.getChildren(TASKS, after === undefined ? { limit } : { limit, after });
      const infos = await Promise.all(page.children.map(async (t) => {
        try {
          return queuedInfo(t, decodeTask((await this.zk.getData(taskPath(t))).data));
        } catch {
          return null;
        }
      }));
      const tasks = infos.filter((i): i is TaskInfo => i !== null && (state === 'queued' || i.state === 'delayed'));
      return page.next === undefined ? { tasks } : { tasks, next: page.next };
    }
    if (state === 'assigned') {
      const all: TaskInfo[] = [];
      for (const w of await listAll(this.zk, ASSIGN)) {
        for (const t of await listAll(this.zk, assignDir(w))) if (after === undefined || t > after) all.push({ id: t, state: 'assigned', attempts: 0, worker: w });
      }
      all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const tasks = all.slice(0, limit);
      return all.length > limit ? { tasks, next: tasks[tasks.length - 1].id } : { tasks };
    }
    if (state === 'succeeded' || state === 'failed' || state === 'cancelled') {
      const page = await this.zk.getChildren(STATUS, after === undefined ? { limit } : { limit, after });
      const infos = await Promise.all(page.children.map((t) => this.readStatus(t)));
      const tasks = infos.filter((s): s is StatusRecord => s !== null && s.state === state).map(finished);
      return page.next === undefined ? { tasks } : { tasks, next: page.next };
    }
    throw new BadArgumentsError(`Unknown task state ${JSON.stringify(state)}; expected queued, delayed, assigned, succeeded, failed or cancelled`);
  }

  /** How many tasks are queued (incl. delayed), assigned, and finished (status records kept). */
  async counts(): Promise<{ queued: number; assigned: number; finished: number }> {
    await this.ensure();
    const [t, s] = await Promise.all([this.zk.exists(TASKS), this.zk.exists(STATUS)]);
    let assigned = 0;
    for (const w of await listAll(this.zk, ASSIGN)) assigned += (await this.zk.exists(assignDir(w)))?.numChildren ?? 0;
    return { queued: t?.numChildren ?? 0, assigned, finished: s?.numChildren ?? 0 };
  }

  /** The registered workers, with their capacity, labels and current load. */
  async workers(): Promise<WorkerSummary[]> {
    await this.ensure();
    const out = await Promise.all((await listAll(this.zk, WORKERS)).map(async (w): Promise<WorkerSummary | null> => {
      try {
        const [{ data }, dir] = await Promise.all([this.zk.getData(workerPath(w)), this.zk.exists(assignDir(w))]);
        const j = JSON.parse(data.toString('utf8')) as Partial<WorkerSummary>;
        return {
          id: w, host: j.host, pid: j.pid, capacity: j.capacity ?? 1, labels: j.labels ?? [], draining: j.draining === true,
          load: dir?.numChildren ?? 0,
        };
      } catch {
        return null; // went away while we looked
      }
    }));
    return out.filter((w): w is WorkerSummary => w !== null);
  }

  /** The id of the current master (`/master`), or null while there is none. */
  master(): Promise<string | null> {
    return currentMaster(this.zk);
  }

  // ---- internals ----------------------------------------------------------------------------

  private ensure(): Promise<void> {
    this.folders ??= ensureFolders(this.zk).catch((err) => {
      this.folders = null;
      throw err;
    });
    return this.folders;
  }

  private prepare(payload: unknown, options?: TaskOptions): { record: Buffer; key: string; keyTtlMs: number } {
    const { opts, delay, keyTtlMs } = normalizeOptions(options);
    const now = Date.now();
    const rec: TaskRecord = { payload, opts, attempts: 0, stalls: 0, notBefore: delay > 0 ? now + delay : 0, submittedAt: now };
    if (payload === undefined) throw new BadArgumentsError('Expected a task payload (any JSON value), got undefined');
    const record = encodeTask(rec, 'the task payload');
    if (record.length > this.zk.settings.maxDataBytes) {
      throw new BadArgumentsError(`Task too large: ${record.length} bytes encoded > maxDataBytes ${this.zk.settings.maxDataBytes}`);
    }
    return { record, key: opts.idempotencyKey, keyTtlMs };
  }

  /**
   * Idempotent submit: the task and its key znode (holding the task's id) are created in
   * one multi, so a key exists only with its id and its task. The id must be known before
   * that multi, so the task is created under the name a sequential create would give it
   * now (the parent's cversion); if another create took that name first, the multi fails
   * as a whole and we try again with the new cversion. A multi whose reply was lost either
   * happened (the key answers the resubmit) or did not: never a key without its id.
   */
  private async submitKeyed(record: Buffer, key: string, ttlMs: number): Promise<string> {
    const path = keyPath(key);
    for (let round = 0; ; round++) {
      const existing = await this.readKey(path);
      if (existing) return existing;
      const parent = await this.zk.exists(TASKS);
      if (!parent) throw new NoNodeError(TASKS);
      const id = `${TASK_PREFIX}${String(parent.cversion).padStart(10, '0')}`;
      try {
        // A key with a TTL is a TTL znode: gone that long after the submit (it never changes).
        const keyNode = ttlMs > 0 ? op.create(path, id, { mode: 'persistent_with_ttl', ttlMs }) : op.create(path, id);
        await this.zk.multi([op.create(taskPath(id), record), keyNode]);
        return id;
      } catch (err) {
        // The key (another submit won: read it) or the name (another create: new cversion).
        if (!(err instanceof NodeExistsError)) throw err;
      }
      if (round >= 100) throw new TimeoutError(`idempotencyKey ${key}: could not store the task (100 tries, /tasks too busy)`);
      await new Promise((r) => setTimeout(r, Math.min(round, 20)));
    }
  }

  /** null: no key, else the task id. */
  private async readKey(path: string): Promise<string | null> {
    try {
      return (await this.zk.getData(path)).data.toString('utf8');
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
  }

  private async readStatus(id: string): Promise<StatusRecord | null> {
    try {
      return decodeStatus((await this.zk.getData(statusPath(id))).data);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
  }

  /**
   * Whether the task is anywhere in the tree (queued, assigned or finished), its record
   * unread. Looking in the order a task moves (queued → assigned → finished) finds one
   * that moves forward meanwhile; one sent back to the queue (a retry, a dead worker) can
   * slip past a round, so look a few times.
   */
  private async known(id: string): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      if (await this.zk.exists(taskPath(id))) return true;
      for (const w of await listAll(this.zk, ASSIGN)) if (await this.zk.exists(assignPath(w, id))) return true;
      if (await this.zk.exists(statusPath(id))) return true;
    }
    return false;
  }

  private async findAssignment(id: string): Promise<{ path: string; info: TaskInfo } | null> {
    for (const w of await listAll(this.zk, ASSIGN)) {
      try {
        const { data } = await this.zk.getData(assignPath(w, id));
        const rec = decodeTask(data);
        return {
          path: assignPath(w, id),
          info: { id, state: 'assigned', payload: rec.payload, attempts: rec.attempts, worker: w, progress: rec.progress },
        };
      } catch (err) {
        if (!(err instanceof NoNodeError) && !(err instanceof BadArgumentsError)) throw err;
      }
    }
    return null;
  }
}

/**
 * The producer's API on a client you own (see {@link TaskClient}).
 * @example const tasks = createTaskClient(await connect({ redis: 'redis://127.0.0.1:6379' }, { namespace: 'jobs' }));
 */
export function createTaskClient(zk: Client): TaskClient {
  return new TaskClient(zk);
}

function checkId(id: unknown): asserts id is string {
  if (!isTaskId(id)) throw new BadArgumentsError(`Expected a task id like task-0000000042, got ${JSON.stringify(id)}`);
}

function checkWaitOptions(o: unknown): WaitOptions {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new BadArgumentsError('Expected wait options to be an object');
  const w = o as WaitOptions;
  if (w.timeoutMs !== undefined) int(w.timeoutMs, 'timeoutMs', 0, 2 ** 31 - 1);
  if (w.onProgress !== undefined && typeof w.onProgress !== 'function') throw new BadArgumentsError('Expected `onProgress` to be a function');
  if (w.signal !== undefined && !(w.signal instanceof AbortSignal)) throw new BadArgumentsError('Expected `signal` to be an AbortSignal');
  return w;
}

function queuedInfo(id: string, rec: TaskRecord): TaskInfo {
  const delayed = rec.notBefore > Date.now();
  const info: TaskInfo = { id, state: delayed ? 'delayed' : 'queued', payload: rec.payload, attempts: rec.attempts };
  if (delayed) info.notBefore = rec.notBefore;
  return info;
}

function finished(s: StatusRecord): TaskInfo {
  const info: TaskInfo = { id: s.id, state: s.state, attempts: s.attempts, status: s };
  if (s.worker) info.worker = s.worker;
  return info;
}

