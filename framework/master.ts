import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  BadArgumentsError, isRetryable, NodeExistsError, NoNodeError, NotEmptyError, op, SessionExpiredError, StoreFullError,
  type Client, type OpInput, type ReadResult, type WatchEvent, type WatchStream,
} from '../core/index.js';
import { electMaster } from './election.js';
import {
  ASSIGN, assignDir, assignPath, CANCEL, cancelPath, leaf, splitAssignment, statusPath, TASKS, taskPath, WORKERS, workerPath,
} from './paths.js';
import { clientFactory, fullStorePause, Kick, ownsSessions, sessionLoop, type ClientFactory, type ConnectionOptions } from './session.js';
import { decodeTask, encodeTask, toTaskError, type StatusRecord, type TaskRecord } from './task.js';
import { ensureFolders, listAll, multiGroups, statusOp } from './tree.js';

/** An assignment's multi is in flight (see Master.inflight). */
const PENDING = 1;
/** … and the worker's delete of it has been seen already. */
const GONE = 2;

/** Task records per multiRead (see load()). */
const LOAD_BATCH = 256;
/** multiReads of task records in flight at once (see load()). */
const LOADS_IN_FLIGHT = 2;

export interface MasterOptions extends ConnectionOptions {
  /** This master's id (the data of `/master` while it leads). Default `<host>-<pid>-<random>`. */
  id?: string;
  /** Tasks per assignment multi (each is 2 ops). Default 64. */
  batchSize?: number;
  /** Close on SIGTERM and SIGINT. Default false (the CLI turns it on). */
  handleSignals?: boolean;
}

export interface MasterEvents {
  /** This master won the election and rebuilt its picture from the tree. */
  elected: [{ id: string; token: number }];
  /** Leadership ended (session lost); it rejoins the election with a new session. */
  deposed: [Error];
  /** A batch of tasks was assigned. */
  assigned: [{ count: number }];
  /** A dead worker's unfinished tasks went back to /tasks. */
  reclaimed: [{ worker: string; tasks: number }];
  /** Redis is out of memory and refused assignments: the next round comes after `pauseMs`. */
  storeFull: [{ pauseMs: number }];
  error: [Error];
}

interface WorkerInfo {
  capacity: number;
  /** Tasks it buffers beyond its capacity, so it never idles while the next assignment travels. */
  prefetch: number;
  labels: string[];
  draining: boolean;
}

/** The fields of a task record the master schedules by (and cancels with). */
interface Scheduling {
  priority: number;
  labels: string[];
  notBefore: number;
  attempts: number;
  submittedAt: number;
  removeOnFail: number;
}

const NO_LABELS: string[] = [];

function scheduling(rec: TaskRecord): Scheduling {
  return {
    priority: rec.opts.priority, labels: rec.opts.labels.length === 0 ? NO_LABELS : rec.opts.labels, notBefore: rec.notBefore, attempts: rec.attempts,
    submittedAt: rec.submittedAt, removeOnFail: rec.opts.removeOnFail,
  };
}

interface Queued {
  id: string;
  data?: Buffer;
  /** What scheduling needs of the record (not the record: 20 000 queued tasks' decoded records outlived the young generation). */
  rec?: Scheduling;
  /** 0: free; -1: an assignment multi is in flight; >0: assigned at this zxid, waiting for the stream to confirm. */
  taking: number;
}

/**
 * The master: elected through the leader-election recipe (backups wait), it rebuilds its
 * whole picture from the tree — no state is handed over from the previous master — then
 * watches `/workers`, `/tasks`, `/assign` and `/cancel` and assigns each task with one
 * multi (create `/assign/<worker>/<task>`, delete `/tasks/<task>`), batched, in priority
 * order, within each worker's capacity and labels. A dead worker's assignments are moved
 * back to `/tasks` (one multi each: create the task, delete the assignment).
 *
 * @example
 * const master = createMaster({ connect: { redis: 'redis://127.0.0.1:6379' }, namespace: 'jobs' });
 * master.on('elected', ({ id }) => console.log('master now', id));
 * // … later
 * await master.close();
 */
export class Master extends EventEmitter<MasterEvents> {
  readonly id: string;
  private readonly factory: ClientFactory;
  /** Its sessions are its own: its streams can skip the echo of its own writes (see ownsSessions). */
  private readonly ownSessions: boolean;
  private readonly batchSize: number;
  private readonly stop = new AbortController();
  private readonly kick = new Kick();
  private readonly loop: Promise<void>;
  private closing: Promise<void> | null = null;
  private leading = false;
  private readonly signalHandler = () => void this.close();

  // The picture, rebuilt from the tree by each new master.
  private workers = new Map<string, WorkerInfo>();
  /** /assign/<w> → tasks there, as the /assign stream reported them. */
  private dirs = new Map<string, Set<string>>();
  /**
   * Assignments whose multi is in flight: worker → task → PENDING, or GONE once the
   * worker's delete of it was seen first. The reply moves them into `dirs` (this master's
   * own writes are not echoed on its streams).
   */
  private inflight = new Map<string, Map<string, number>>();
  /** pzxid of /tasks just before the last rebuild listed it (see onTaskEvent). */
  private listedAt = 0;
  /** Assignment multis in flight, which a rebuild lets settle before it reads the tree. */
  private assigning = new Set<Promise<unknown>>();
  private queued = new Map<string, Queued>();
  private cancels = new Set<string>();
  /**
   * Loaded queued tasks in priority order, from `orderHead` on (stale entries are skipped,
   * and dropped once the head passes them: a round never copies the queue).
   */
  private order: Queued[] = [];
  private orderHead = 0;
  /** Loaded since the last round, merged into `order` at the next one. */
  private fresh: Queued[] = [];
  private reclaiming = new Set<string>();
  /** Tasks whose records are still to be read, from `toLoadHead` on (a queue without shift()'s O(n)). */
  private toLoad: Queued[] = [];
  private toLoadHead = 0;
  private loadPlanned = false;
  private loading = 0;
  private loadWaiters: Array<() => void> = [];
  /** A rebuild waits for the link (see rebuildWhenConnected). */
  private rebuildPlanned = false;
  /** The pause before the next round after Redis refused assignments for lack of memory (0: none lately). */
  private fullPause = 0;

  constructor(options: MasterOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new BadArgumentsError('Expected master options to be an object');
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    if (typeof this.id !== 'string' || this.id.length === 0 || this.id.length > 200) throw new BadArgumentsError('Expected `id` to be a string of 1-200 characters');
    const b = options.batchSize ?? 64;
    if (!Number.isInteger(b) || b < 1 || b > 1000) throw new BadArgumentsError(`Expected \`batchSize\` to be an integer from 1 to 1000, got ${String(b)}`);
    this.batchSize = b;
    this.factory = clientFactory(options);
    this.ownSessions = ownsSessions(options);
    if (options.handleSignals) {
      process.once('SIGTERM', this.signalHandler);
      process.once('SIGINT', this.signalHandler);
    }
    this.on('error', () => undefined);
    this.loop = this.run();
  }

  /** True while this master leads. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Leaves the election (a backup takes over) and ends the session. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.off('SIGTERM', this.signalHandler);
      process.off('SIGINT', this.signalHandler);
      this.stop.abort();
      this.kick.kick();
      await this.loop;
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private run(): Promise<void> {
    return sessionLoop(this.factory, this.stop.signal, {
      serve: (zk) => this.serve(zk),
      ended: () => this.depose(),
      error: (err) => this.emit('error', err),
    });
  }

  /** Leadership ended (not by close()): reported once, as soon as it is known. */
  private depose(): void {
    if (!this.leading) return;
    this.leading = false;
    if (!this.stop.signal.aborted) this.emit('deposed', new SessionExpiredError('Master lost its session or leadership'));
  }

  private async serve(zk: Client): Promise<void> {
    const session = new AbortController();
    const onState = (s: string) => {
      if (s !== 'expired' && s !== 'closed') return;
      session.abort();
      // Said at once, not after the clean-up: a backup may already be taking over.
      this.depose();
    };
    zk.on('state', onState);
    const signal = AbortSignal.any([this.stop.signal, session.signal]);
    await ensureFolders(zk);
    const { latch, leadership } = await electMaster(zk, this.id, signal);
    const lost = AbortSignal.any([signal, leadership.signal]);
    lost.addEventListener('abort', () => {
      this.depose();
      this.kick.kick();
    }, { once: true });
    // /tasks and /assign change mostly by this master's own multis, whose replies it
    // tracks: the backend need not echo those (3 of every task's 4 events here) when the
    // session is the master's alone. The picture takes the echoes too (they repeat what
    // the replies said), for a session from a user's `connect` function.
    const own = this.ownSessions;
    // /tasks with includeData: a submitted task's record comes with its event, not by a read.
    const streams = [WORKERS, TASKS, ASSIGN, CANCEL].map((p) => zk.watch(p, {
      recursive: true, ignoreOwnWrites: own && (p === TASKS || p === ASSIGN), includeData: p === TASKS,
    }));
    try {
      await Promise.all(streams.map((s) => s.ready));
      await this.rebuild(zk);
      // Lost while rebuilding: never elected, so nothing to depose.
      if (lost.aborted) return;
      this.leading = true;
      this.emit('elected', { id: this.id, token: leadership.token });
      const [w, t, a, c] = streams;
      this.consume(zk, w, (ev) => this.onWorkerEvent(zk, ev));
      this.consume(zk, t, (ev) => this.onTaskEvent(zk, ev));
      this.consume(zk, a, (ev) => this.onAssignEvent(zk, ev));
      this.consume(zk, c, (ev) => this.onCancelEvent(zk, ev));
      while (!lost.aborted) {
        const wait = await this.schedule(zk, lost);
        if (lost.aborted) break;
        await this.kick.wait(wait);
        // Let the events of this I/O phase land first, so one round sees all the freed slots.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      for (const s of streams) s.close();
      zk.off('state', onState);
      await latch.close().catch(() => undefined);
    }
  }

  private consume(zk: Client, stream: WatchStream, fn: (ev: WatchEvent) => void): void {
    void (async () => {
      try {
        for await (const first of stream) {
          // The whole burst queued by now (one multi's events come together) in one go.
          for (const ev of [first, ...stream.drain()]) {
            if (ev.resync) {
              // The change log did not reach back far enough: read everything again.
              await this.rebuild(zk);
              continue;
            }
            fn(ev);
          }
          this.kick.kick();
        }
      } catch {
        // Ends with the session; serve() notices through the session's state.
      }
    })();
  }

  // ---- the picture ----------------------------------------------------------------------

  /** Reads the whole picture from the tree: workers, their assignments, queued tasks, cancel requests. */
  private async rebuild(zk: Client): Promise<void> {
    // Our assignments in flight are in the tree, or not, before it is read: their
    // creations will not come back as events to correct a picture read meanwhile.
    await Promise.allSettled([...this.assigning]);
    // Assignment folders first, then workers: a worker's folder and registration appear in
    // one multi, so a folder read before it whose worker is missing after it belongs to a
    // dead worker. The other order took a worker registering in between for dead, and
    // reclaim() deleted the live worker's folder: it never got a task.
    const dirs = new Map<string, Set<string>>();
    for (const w of await listAll(zk, ASSIGN)) dirs.set(w, new Set(await listAll(zk, assignDir(w))));
    const workers = new Map<string, WorkerInfo>();
    await Promise.all((await listAll(zk, WORKERS)).map(async (w) => {
      const info = await this.readWorker(zk, w);
      if (info) workers.set(w, info);
    }));
    const cancels = new Set(await listAll(zk, CANCEL));
    this.workers = workers;
    this.dirs = dirs;
    this.cancels = cancels;
    this.inflight = new Map();
    this.queued = new Map();
    this.order = [];
    this.orderHead = 0;
    this.fresh = [];
    // Every queued task's record is read before the first round, so priorities hold from the start.
    this.toLoad = [];
    this.toLoadHead = 0;
    // Tasks created up to here are in the listing below (or gone before it): their
    // creation events, still to come from the stream armed before, are not news.
    this.listedAt = (await zk.exists(TASKS))?.pzxid ?? 0;
    for (const t of await listAll(zk, TASKS)) this.load(zk, t);
    await this.loadsDone();
    for (const w of dirs.keys()) if (!workers.has(w)) void this.reclaim(zk, w);
    for (const t of cancels) void this.settleCancel(zk, t);
    this.kick.kick();
  }

  /** Reads the picture again once the link is back (after a multi whose reply was lost). */
  private rebuildWhenConnected(zk: Client): void {
    if (this.rebuildPlanned) return;
    this.rebuildPlanned = true;
    void zk.whenConnected().then(() => {
      this.rebuildPlanned = false;
      return this.rebuild(zk);
    }).catch((err: unknown) => {
      this.rebuildPlanned = false;
      this.emitUnlessSession(err);
    });
  }

  private async readWorker(zk: Client, w: string): Promise<WorkerInfo | null> {
    try {
      const { data } = await zk.getData(workerPath(w));
      const j = JSON.parse(data.toString('utf8')) as Partial<WorkerInfo>;
      return {
        capacity: Number.isInteger(j.capacity) && j.capacity! > 0 ? j.capacity! : 1,
        prefetch: Number.isInteger(j.prefetch) && j.prefetch! >= 0 ? j.prefetch! : 0,
        labels: Array.isArray(j.labels) ? j.labels.filter((l): l is string => typeof l === 'string') : [],
        draining: j.draining === true,
      };
    } catch (err) {
      if (err instanceof NoNodeError || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  private onWorkerEvent(zk: Client, ev: WatchEvent): void {
    if (ev.path === WORKERS) return;
    const w = leaf(ev.path);
    if (ev.type === 'deleted') {
      this.workers.delete(w);
      void this.reclaim(zk, w);
    } else {
      void this.readWorker(zk, w).then((info) => {
        if (info) this.workers.set(w, info);
        this.kick.kick();
      }, (err) => this.emit('error', err as Error));
    }
  }

  private onTaskEvent(zk: Client, ev: WatchEvent): void {
    if (ev.path === TASKS) return;
    const t = leaf(ev.path);
    // Always (re)loaded, even if an entry is there: it may be ours for an assignment whose
    // reply has not come yet, and the worker has already put the task back (a retry).
    // The event carries the record (the stream has includeData), except when it was
    // replayed after a reconnect: then the record is read. A creation the rebuild's
    // listing already saw is skipped: taken as news, its record (perhaps older than the
    // one loaded, or of a task assigned since) would be queued a second time.
    if (ev.type === 'created') {
      if (ev.zxid <= this.listedAt) return;
      if (ev.data) this.take(zk, t, ev.data); else this.load(zk, t);
    } else if (ev.type === 'deleted') this.queued.delete(t);
  }

  /** Queues a task whose record came with its creation event: no read. */
  private take(zk: Client, t: string, data: Buffer): void {
    const entry: Queued = { id: t, taking: 0 };
    this.queued.set(t, entry);
    void this.accept(zk, entry, data);
  }

  /** Takes a queued task's record in: ready for scheduling, or failed if it is not a task record. */
  private accept(zk: Client, entry: Queued, data: Buffer): Promise<void> | undefined {
    entry.data = data;
    try {
      entry.rec = scheduling(decodeTask(data));
    } catch (err) {
      return this.failMalformed(zk, entry.id, err);
    }
    this.fresh.push(entry);
    return undefined;
  }

  private onAssignEvent(zk: Client, ev: WatchEvent): void {
    const wt = splitAssignment(ev.path);
    if (!wt) {
      if (ev.path === ASSIGN) return;
      const w = leaf(ev.path);
      if (ev.type === 'created' && !this.dirs.has(w)) this.dirs.set(w, new Set());
      if (ev.type === 'deleted') this.dirs.delete(w);
      return;
    }
    const [w, t] = wt;
    let set = this.dirs.get(w);
    if (ev.type === 'created') {
      if (!set) this.dirs.set(w, (set = new Set()));
      set.add(t);
    } else if (ev.type === 'deleted') {
      set?.delete(t);
      // Done by the worker before our multi's reply came: the reply must not count it.
      const m = this.inflight.get(w);
      if (m?.get(t) === PENDING) m.set(t, GONE);
    }
    void zk;
  }

  private onCancelEvent(zk: Client, ev: WatchEvent): void {
    if (ev.path === CANCEL) return;
    const t = leaf(ev.path);
    if (ev.type === 'created') {
      this.cancels.add(t);
      void this.settleCancel(zk, t);
    } else if (ev.type === 'deleted') this.cancels.delete(t);
  }

  /**
   * Queues a read of a task's record (the master needs its priority, labels and delay).
   * Records are read LOAD_BATCH to a multiRead, at most LOADS_IN_FLIGHT at a time: a
   * client completes calls in the order they were issued, so 20 000 reads issued at once
   * would hold up every assignment behind them. The reads of one I/O phase's events (a
   * submit of 500 tasks is one event message) go out together.
   */
  private load(zk: Client, t: string): void {
    const entry: Queued = { id: t, taking: 0 };
    this.queued.set(t, entry);
    this.toLoad.push(entry);
    this.planLoads(zk);
  }

  private planLoads(zk: Client): void {
    if (this.loadPlanned) return;
    this.loadPlanned = true;
    setImmediate(() => {
      this.loadPlanned = false;
      this.pumpLoads(zk);
    });
  }

  private pumpLoads(zk: Client): void {
    while (this.loading < LOADS_IN_FLIGHT && this.toLoadHead < this.toLoad.length) {
      const batch: Queued[] = [];
      while (batch.length < LOAD_BATCH && this.toLoadHead < this.toLoad.length) {
        const entry = this.toLoad[this.toLoadHead++];
        if (this.queued.get(entry.id) === entry) batch.push(entry);
      }
      if (this.toLoadHead === this.toLoad.length) {
        this.toLoad = [];
        this.toLoadHead = 0;
      }
      if (batch.length === 0) break;
      this.loading++;
      void this.read(zk, batch).finally(() => {
        this.loading--;
        this.pumpLoads(zk);
      });
    }
    if (this.loading === 0 && this.toLoadHead === this.toLoad.length) {
      const w = this.loadWaiters;
      this.loadWaiters = [];
      w.forEach((f) => f());
    }
  }

  /** Resolves once every queued read is done. */
  private loadsDone(): Promise<void> {
    if (this.loading === 0 && this.toLoadHead === this.toLoad.length) return Promise.resolve();
    return new Promise((resolve) => this.loadWaiters.push(resolve));
  }

  private async read(zk: Client, batch: Queued[]): Promise<void> {
    let results: ReadResult[];
    try {
      results = await zk.multiRead(batch.map((entry) => op.getData(taskPath(entry.id))));
    } catch (err) {
      if (isRetryable(err)) {
        // The link dropped: read them again once it is back (they are still queued in the tree).
        void zk.whenConnected().then(() => {
          for (const entry of batch) if (this.queued.get(entry.id) === entry) this.toLoad.push(entry);
          this.planLoads(zk);
        }, () => undefined);
        return;
      }
      for (const entry of batch) if (this.queued.get(entry.id) === entry) this.queued.delete(entry.id);
      this.emitUnlessSession(err);
      return;
    }
    const malformed: Promise<void>[] = [];
    results.forEach((r, i) => {
      const entry = batch[i];
      const t = entry.id;
      if (r.type !== 'getData') {
        if (this.queued.get(t) === entry) this.queued.delete(t);
        if (r.type === 'error' && !(r.error instanceof NoNodeError)) this.emitUnlessSession(r.error);
        return;
      }
      if (this.queued.get(t) !== entry) return;
      const failing = this.accept(zk, entry, r.data);
      if (failing) malformed.push(failing);
    });
    this.kick.kick();
    await Promise.all(malformed);
  }

  // ---- assignment ------------------------------------------------------------------------

  /** One scheduling round. Returns how long to sleep at most (until the next delayed task is due). */
  private async schedule(zk: Client, lost: AbortSignal): Promise<number> {
    const free = new Map<string, number>();
    for (const [w, info] of this.workers) {
      if (info.draining || !this.dirs.has(w)) continue;
      const held = (this.dirs.get(w)?.size ?? 0) + (this.inflight.get(w)?.size ?? 0);
      const n = info.capacity + info.prefetch - held;
      // Top a worker up in batches (fewer, larger multis) unless it has idle slots right now.
      if (n > 0 && (held < info.capacity || n >= Math.max(1, info.prefetch >> 1))) free.set(w, n);
    }
    if (free.size === 0) return 2 ** 31 - 1; // nothing to do until a slot frees up (an event kicks us)
    const now = Date.now();
    let nextDue = Infinity;
    this.mergeFresh();
    const order = this.order;
    const picks: Array<{ q: Queued; w: string }> = [];
    // Tasks gone at the front (assigned, cancelled) are behind us for good.
    let i = this.orderHead;
    while (i < order.length && this.queued.get(order[i].id) !== order[i]) i++;
    this.orderHead = i;
    for (; i < order.length && free.size > 0; i++) {
      const q = order[i];
      if (this.queued.get(q.id) !== q) continue; // gone (assigned, cancelled) since it was sorted in
      if (q.taking !== 0 || !q.rec) continue;
      if (this.cancels.has(q.id)) {
        void this.settleCancel(zk, q.id);
        continue;
      }
      if (q.rec.notBefore > now) {
        nextDue = Math.min(nextDue, q.rec.notBefore);
        continue;
      }
      const w = pickWorker(free, this.workers, q.rec.labels);
      if (!w) continue;
      picks.push({ q, w });
      const left = free.get(w)! - 1;
      if (left > 0) free.set(w, left); else free.delete(w);
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > order.length) {
      this.order = order.slice(this.orderHead);
      this.orderHead = 0;
    }
    if (picks.length > 0 && !lost.aborted) {
      // This picture's map: a reply that comes after a rebuild must not touch the new one.
      const inflight = this.inflight;
      for (const { q, w } of picks) {
        q.taking = -1;
        let m = inflight.get(w);
        if (!m) inflight.set(w, (m = new Map()));
        m.set(q.id, PENDING);
      }
      const groups: OpInput[][] = picks.map(({ q, w }) => [op.create(assignPath(w, q.id), q.data!), op.delete(taskPath(q.id))]);
      // Not awaited: the next round need not wait for this one's reply (its tasks count as
      // in flight until then), so assignments keep flowing while the reply travels (+8%
      // tasks/s in the 20 000-task probe: one round at a time left workers idle).
      const sent = multiGroups(zk, groups, this.batchSize).then((results) => {
        // A reply after a rebuild leaves the new picture alone (it was read after this
        // multi settled: see rebuild()).
        const current = inflight === this.inflight;
        let count = 0;
        let full = false;
        results.forEach((r, i) => {
          const { q, w } = picks[i];
          const m = inflight.get(w);
          const gone = m?.get(q.id) === GONE;
          m?.delete(q.id);
          if (m?.size === 0) inflight.delete(w);
          if ('zxid' in r) {
            count++;
            q.taking = r.zxid;
            if (!current) return;
            if (this.queued.get(q.id) === q) this.queued.delete(q.id);
            if (!gone) this.dirs.get(w)?.add(q.id);
          } else if (taskGone(r.error)) {
            // Not in /tasks any more (assigned, cancelled or failed by now): a stale entry.
            if (current && this.queued.get(q.id) === q) this.queued.delete(q.id);
          } else {
            q.taking = 0;
            if (r.error instanceof StoreFullError) full = true;
            this.emitUnlessStale(r.error);
          }
        });
        if (count > 0) this.emit('assigned', { count });
        // Refused picks are free again: at once, or, when Redis refused them for lack of
        // memory, after a pause that grows while it stays full (not a round per turn).
        if (full) {
          this.retryWhenRoom(() => this.kick.kick());
        } else {
          if (count > 0) this.fullPause = 0;
          if (count < results.length) this.kick.kick();
        }
      }, (err: unknown) => {
        for (const { q, w } of picks) {
          q.taking = 0;
          inflight.get(w)?.delete(q.id);
        }
        // A lost reply leaves the outcome unknown, and our own writes are not echoed:
        // read the picture again once the link is back.
        if (isRetryable(err) && !(err instanceof SessionExpiredError)) this.rebuildWhenConnected(zk);
        this.emitUnlessSession(err);
      }).catch(() => undefined);
      this.assigning.add(sent);
      void sent.finally(() => this.assigning.delete(sent));
      // More may be assignable right away (more free slots than one round used).
      this.kick.kick();
    }
    return nextDue === Infinity ? 2 ** 31 - 1 : Math.max(1, nextDue - Date.now());
  }

  /** Sorts the tasks loaded since the last round into `order` (a merge: no full re-sort per round). */
  private mergeFresh(): void {
    if (this.fresh.length === 0) return;
    const fresh = this.fresh.filter((q) => this.queued.get(q.id) === q).sort(byPriority);
    this.fresh = [];
    if (fresh.length === 0) return; // all gone (cancelled, deleted) before they were sorted in
    if (this.orderHead === this.order.length || byPriority(this.order[this.order.length - 1], fresh[0]) <= 0) {
      // The usual case (same priority, newer ids): an append.
      for (const q of fresh) this.order.push(q);
      return;
    }
    const a = this.order.slice(this.orderHead);
    this.orderHead = 0;
    const out: Queued[] = new Array(a.length + fresh.length);
    let i = 0, j = 0, k = 0;
    while (i < a.length && j < fresh.length) out[k++] = byPriority(a[i], fresh[j]) <= 0 ? a[i++] : fresh[j++];
    while (i < a.length) out[k++] = a[i++];
    while (j < fresh.length) out[k++] = fresh[j++];
    this.order = out;
  }

  /** Moves a dead worker's unfinished tasks back to /tasks and removes its folder. */
  private async reclaim(zk: Client, w: string): Promise<void> {
    if (this.reclaiming.has(w) || this.workers.has(w)) return;
    this.reclaiming.add(w);
    let moved = 0;
    try {
      for (let round = 0; round < 100; round++) {
        const tasks = await listAll(zk, assignDir(w));
        const groups = (await Promise.all(tasks.map(async (t): Promise<OpInput[] | null> => {
          try {
            const { data, stat } = await zk.getData(assignPath(w, t));
            let out: Buffer = data;
            try {
              const rec = decodeTask(data);
              rec.stalls++;
              delete rec.progress;
              out = encodeTask(rec, 'task record');
            } catch {
              // Malformed: put it back as it is; the scheduler fails it with a status record.
            }
            return [op.create(taskPath(t), out), op.delete(assignPath(w, t), stat.version)];
          } catch (err) {
            if (err instanceof NoNodeError) return null;
            throw err;
          }
        }))).filter((g): g is OpInput[] => g !== null);
        const results = await multiGroups(zk, groups, this.batchSize);
        const full = results.find((r) => 'error' in r && r.error instanceof StoreFullError);
        for (let i = 0; i < results.length; i++) {
          const r = results[i];
          const t = leaf(groups[i][0].path);
          if ('zxid' in r) {
            moved++;
            // Queued again by us: the /tasks stream does not echo our own creates.
            this.load(zk, t);
          } else if (r.error instanceof NodeExistsError) {
            // Already queued again (a lost reply): the assignment is just a leftover.
            await zk.delete(groups[i][1].path).catch(() => undefined);
            if (!this.queued.has(t)) this.load(zk, t);
          }
        }
        if (full) throw (full as { error: unknown }).error;
        try {
          await zk.delete(assignDir(w));
          break;
        } catch (err) {
          if (err instanceof NoNodeError) break;
          if (!(err instanceof NotEmptyError)) throw err;
        }
      }
      this.dirs.delete(w);
      this.inflight.delete(w);
      if (moved > 0) this.emit('reclaimed', { worker: w, tasks: moved });
    } catch (err) {
      if (err instanceof StoreFullError) {
        // Redis is full: what was not moved yet is moved on a later try (a dead worker's
        // tasks must not wait for the next election's rebuild).
        if (moved > 0) this.emit('reclaimed', { worker: w, tasks: moved });
        this.retryWhenRoom(() => this.reclaim(zk, w));
      }
      this.emitUnlessSession(err);
    } finally {
      this.reclaiming.delete(w);
    }
  }

  /** A task whose record cannot be read gets a failed status instead of blocking the queue. */
  private async failMalformed(zk: Client, t: string, err: unknown): Promise<void> {
    const q = this.queued.get(t);
    const status: StatusRecord = { id: t, state: 'failed', attempts: 0, submittedAt: 0, finishedAt: Date.now(), error: toTaskError(err) };
    try {
      await zk.multi([statusOp(status, 0), op.delete(taskPath(t))]);
      this.queued.delete(t); // our own delete: not echoed on the /tasks stream
    } catch (e) {
      // Redis is full: try again after a pause. Nothing else would: a task without a
      // record is never scheduled, so no round comes back to it (until the next election).
      // A rebuild meanwhile makes a new picture, which fails the task itself.
      if (e instanceof StoreFullError) this.retryWhenRoom(() => this.failMalformed(zk, t, err), () => this.queued.get(t) === q);
      this.emitUnlessStale(e);
    }
  }

  /** Carries out a cancel request for a queued task; drops requests for tasks already finished. */
  private async settleCancel(zk: Client, t: string): Promise<void> {
    const q = this.queued.get(t);
    try {
      if (q && q.taking === 0) {
        q.taking = -1;
        const status: StatusRecord = {
          id: t, state: 'cancelled', attempts: q.rec?.attempts ?? 0, submittedAt: q.rec?.submittedAt ?? 0,
          finishedAt: Date.now(), error: { name: 'AbortedError', message: 'Cancelled' },
        };
        try {
          await zk.multi([op.delete(taskPath(t)), statusOp(status, q.rec?.removeOnFail ?? 0), op.delete(cancelPath(t))]);
          if (this.queued.get(t) === q) this.queued.delete(t); // our own delete: not echoed
        } catch (err) {
          q.taking = 0;
          throw err;
        }
      } else if (!q && await zk.exists(statusPath(t))) {
        await zk.delete(cancelPath(t));
      }
    } catch (err) {
      // Redis is full: try again after a pause, while the request stands (the next round
      // would too, but with every worker busy or none registered no round comes).
      if (err instanceof StoreFullError) {
        const cancels = this.cancels;
        this.retryWhenRoom(() => this.settleCancel(zk, t), () => this.cancels === cancels && cancels.has(t));
      }
      this.emitUnlessStale(err);
    }
  }

  /**
   * After a write Redis refused for lack of memory, runs `retry` once the pause is over
   * (unless the master is closing, or `still()` says it is no longer wanted: a rebuild since
   * makes a new picture that does the work itself).
   */
  private retryWhenRoom(retry: () => unknown, still: () => boolean = () => true): void {
    setTimeout(() => {
      if (this.closing || !still()) return;
      void retry();
    }, this.storeFull()).unref();
  }

  /** Redis refused writes for lack of memory: the pause before trying again, reported. */
  private storeFull(): number {
    this.fullPause = fullStorePause(this.fullPause);
    this.emit('storeFull', { pauseMs: this.fullPause });
    return this.fullPause;
  }

  private emitUnlessStale(err: unknown): void {
    // Refusals from the tree (the task moved on, the worker went) are expected races, not errors.
    if (err instanceof NoNodeError || err instanceof NodeExistsError || err instanceof NotEmptyError) return;
    if ((err as { code?: number })?.code === -103) return;
    this.emitUnlessSession(err);
  }

  private emitUnlessSession(err: unknown): void {
    if (err instanceof SessionExpiredError || (err as { retryable?: boolean })?.retryable) return;
    if ((err as Error)?.name === 'ClientClosedError') return;
    this.emit('error', err as Error);
  }
}

/**
 * True if an assignment (create `/assign/<w>/<t>`, delete `/tasks/<t>`) was refused
 * because the task is no longer queued: its delete found no task, or its create found the
 * task assigned there already. (A missing worker folder fails the create with NoNode:
 * the task stays queued for another worker.)
 */
function taskGone(err: unknown): boolean {
  const at = (err as { opIndex?: unknown })?.opIndex;
  return (at === 1 && err instanceof NoNodeError) || (at === 0 && err instanceof NodeExistsError);
}

function byPriority(a: Queued, b: Queued): number {
  const p = b.rec!.priority - a.rec!.priority;
  return p !== 0 ? p : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The worker with the most free slots among those carrying every label the task asks for. */
function pickWorker(free: Map<string, number>, workers: Map<string, WorkerInfo>, labels: string[]): string | null {
  let best: string | null = null;
  let most = 0;
  for (const [w, n] of free) {
    if (n <= most) continue;
    if (labels.length > 0) {
      const have = workers.get(w)?.labels ?? [];
      if (!labels.every((l) => have.includes(l))) continue;
    }
    best = w;
    most = n;
  }
  return best;
}

/**
 * Starts a master (see {@link Master}); run two or more for fail-over.
 * @example const master = createMaster({ connect: { redis: 'redis://127.0.0.1:6379' }, namespace: 'jobs' });
 */
export function createMaster(options?: MasterOptions): Master {
  return new Master(options);
}
