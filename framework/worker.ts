import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AbortedError, BadArgumentsError, BadVersionError, isRetryable, NoNodeError, op, SessionExpiredError, StoreFullError, TimeoutError,
  type Client, type CorralError, type OpInput, type ReadResult, type WatchEvent, type WatchStream,
} from '../core/index.js';
import { backoffDelay, int, labels as checkLabels } from './options.js';
import { assignDir, assignPath, CANCEL, cancelPath, leaf, taskPath, workerPath } from './paths.js';
import { clientFactory, fullStorePause, ownsSessions, sessionLoop, sleep, type ClientFactory, type ConnectionOptions } from './session.js';
import { decodeTask, encodeTask, toTaskError, type FinalState, type StatusRecord, type TaskRecord } from './task.js';
import { ensureFolders, listAll, multiGroups, statusOp } from './tree.js';

/** Assignments read per multiRead. */
const FETCH_BATCH = 256;

/** What a handler gets besides the payload. */
export interface TaskContext {
  /** The task id (`task-0000000042`). */
  id: string;
  /** This run's number, from 1. */
  attempt: number;
  /** Aborted when the task is cancelled, times out, or this worker lost the task (its session expired). */
  signal: AbortSignal;
  /** The id this worker is registered under. */
  worker: string;
  /** Records progress (any JSON value, e.g. a percentage); clients read it with `get(id)` or `wait(id, { onProgress })`. */
  progress(value: unknown): Promise<void>;
}

/** The function a worker runs for each task; its return value (JSON) is the task's result. */
export type TaskHandler<P = any, R = unknown> = (payload: P, ctx: TaskContext) => R | Promise<R>;

export interface WorkerOptions<P = any, R = unknown> extends ConnectionOptions {
  handler: TaskHandler<P, R>;
  /** Tasks run at once (the capacity the master fills). Default 1. */
  concurrency?: number;
  /**
   * Tasks the master may assign beyond `concurrency`; they wait here and start the moment a
   * slot frees, so the worker does not idle while the next assignment travels. They count
   * as assigned to this worker (reassigned if it dies). Default: equal to concurrency.
   */
  prefetch?: number;
  /** Labels this worker offers; a task asking for labels only goes to a worker with all of them. */
  labels?: string[];
  /** Name prefix of the worker's id; each registration (session) appends a random suffix. Default `<host>-<pid>`. */
  name?: string;
  /** On close(), how long running tasks may take to finish before they are aborted (and later reassigned). Default 30 000 ms. */
  drainTimeoutMs?: number;
  /** Drain and close on SIGTERM and SIGINT. Default false (the CLI turns it on). */
  handleSignals?: boolean;
}

export interface WorkerEvents {
  /** Registered under this id (again after a session expired). */
  registered: [string];
  /** A task's outcome was recorded by this worker. */
  completed: [{ id: string; state: FinalState | 'retrying' }];
  /** A result this worker tried to record was refused: the task had been taken away (e.g. it stalled past its session timeout). */
  rejected: [{ id: string; reason: Error }];
  /** The session expired; running tasks were aborted and the worker re-registers with a new session. */
  expired: [];
  /** Redis is out of memory and refused to record outcomes: they are written again after `pauseMs`. */
  storeFull: [{ pauseMs: number }];
  error: [Error];
}

interface Job {
  id: string;
  version: number;
  /** czxid of the assignment (0 until known): tells it from a later one at the same path. */
  czxid: number;
  record: TaskRecord;
  /** Made when the handler first reads `ctx.signal` (most never do): see abort(). */
  controller: AbortController | null;
  /** Set once the run was aborted (cancelled, timed out, lost), with why. */
  aborted: boolean;
  abortReason?: unknown;
  /** While the handler runs: ends the run at once (see execute()). */
  interrupt: ((reason: unknown) => void) | null;
  /** Set once the outcome is decided (done, cancelled or lost): later outcomes are ignored. */
  settled: boolean;
  started: boolean;
  /** Taken away (or the session went): its outcome is never recorded. */
  lost?: boolean;
  /** Progress writes in order; null while the handler reported none. */
  progressChain: Promise<void> | null;
}

/** What a handler gets: its AbortSignal is only made if the handler reads it. */
class JobContext implements TaskContext {
  readonly id: string;
  readonly attempt: number;
  readonly #job: Job;
  readonly #report: (job: Job, value: unknown) => Promise<void>;

  constructor(job: Job, readonly worker: string, report: (job: Job, value: unknown) => Promise<void>) {
    this.id = job.id;
    this.attempt = job.record.attempts + 1;
    this.#job = job;
    this.#report = report;
  }

  get signal(): AbortSignal {
    const job = this.#job;
    if (!job.controller) {
      job.controller = new AbortController();
      if (job.aborted) job.controller.abort(job.abortReason);
    }
    return job.controller.signal;
  }

  progress(value: unknown): Promise<void> {
    return this.#report(this.#job, value);
  }
}

/**
 * A worker: registers `/workers/<id>` (ephemeral), runs the tasks the master assigns to it
 * under `/assign/<id>`, and records each outcome with one multi (create `/status/<task>`,
 * delete the assignment at the version it read) — a multi the backend refuses once this
 * worker's session has expired, and one that fails if the task was taken away meanwhile.
 *
 * @example
 * const worker = createWorker({ connect: { redis: 'redis://127.0.0.1:6379' }, namespace: 'jobs',
 *   concurrency: 8, handler: async (payload, ctx) => { await ctx.progress(50); return payload.n * 2; } });
 * await worker.ready;
 * // … later
 * await worker.close();   // drains running tasks first
 */
export class Worker<P = any, R = unknown> extends EventEmitter<WorkerEvents> {
  /** Resolves once the worker is first registered. */
  readonly ready: Promise<void>;
  private readonly handler: TaskHandler<P, R>;
  private readonly factory: ClientFactory;
  /** Its sessions are its own: its assignment stream can skip its own deletes (see ownsSessions). */
  private readonly ownSessions: boolean;
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly labels: string[];
  private readonly name: string;
  private readonly drainTimeoutMs: number;
  private readonly stop = new AbortController();
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private readonly cancels = new Set<string>();
  /** pzxid of our assignment folder just before it was last listed (see onAssignEvent). */
  private listedAt = 0;
  /** Assignments to read with the next multiRead (see fetch()). */
  private toFetch: Job[] = [];
  private running = 0;
  private zk: Client | null = null;
  private currentId = '';
  private pending: Array<{ job: Job; ops: OpInput[]; state: FinalState | 'retrying' }> = [];
  private flushing: Promise<void> | null = null;
  /** The pause before writing outcomes again that Redis refused for lack of memory (0: none refused lately). */
  private fullPause = 0;
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  private readonly loop: Promise<void>;
  private readonly signalHandler = () => void this.close();
  private markReady!: () => void;

  constructor(options: WorkerOptions<P, R>) {
    super();
    if (typeof options !== 'object' || options === null) throw new BadArgumentsError('Expected worker options to be an object');
    if (typeof options.handler !== 'function') throw new BadArgumentsError('Expected `handler` to be a function (payload, ctx) => result');
    this.handler = options.handler;
    this.concurrency = options.concurrency === undefined ? 1 : int(options.concurrency, 'concurrency', 1, 100_000);
    this.prefetch = options.prefetch === undefined ? this.concurrency : int(options.prefetch, 'prefetch', 0, 100_000);
    this.labels = checkLabels(options.labels, 'labels');
    this.drainTimeoutMs = options.drainTimeoutMs === undefined ? 30_000 : int(options.drainTimeoutMs, 'drainTimeoutMs', 0, 2 ** 31 - 1);
    this.name = options.name ?? `${hostname()}-${process.pid}`;
    if (typeof this.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(this.name)) {
      throw new BadArgumentsError(`Expected \`name\` to be 1-100 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(this.name)}`);
    }
    this.factory = clientFactory(options);
    this.ownSessions = ownsSessions(options);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    if (options.handleSignals) {
      process.once('SIGTERM', this.signalHandler);
      process.once('SIGINT', this.signalHandler);
    }
    this.on('error', () => undefined); // an unobserved error event must not crash the process
    this.loop = this.run();
  }

  /** The id of the current registration (`/workers/<id>`); '' before the first one. */
  get id(): string {
    return this.currentId;
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /**
   * Stops taking tasks, lets running ones finish (up to `drainTimeoutMs`), records their
   * outcomes and ends the session. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      process.off('SIGTERM', this.signalHandler);
      process.off('SIGINT', this.signalHandler);
      this.stop.abort();
      await this.loop;
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- sessions ------------------------------------------------------------------------

  private async run(): Promise<void> {
    await sessionLoop(this.factory, this.stop.signal, {
      serve: (zk) => this.serve(zk),
      ended: () => {
        this.abandonAll(new SessionExpiredError('The worker lost its session; the task will be reassigned'));
        this.zk = null;
      },
      error: (err) => this.emit('error', err),
    });
    this.markReady();
  }

  private async serve(zk: Client): Promise<void> {
    this.zk = zk;
    const ended = new Promise<'expired' | 'stop'>((resolve) => {
      zk.on('state', (s) => {
        if (s === 'expired' || s === 'closed') resolve('expired');
      });
      if (this.stop.signal.aborted) resolve('stop');
      this.stop.signal.addEventListener('abort', () => resolve('stop'), { once: true });
    });
    await ensureFolders(zk);
    const id = `${this.name}-${randomBytes(4).toString('hex')}`;
    // Our own deletes of settled assignments need no echo (most of this stream's events),
    // when no other code writes through this session.
    // includeData: an assignment's record comes with its event, not by a read.
    const assigned = zk.watch(assignDir(id), { recursive: true, ignoreOwnWrites: this.ownSessions, includeData: true });
    const cancels = zk.watch(CANCEL, { recursive: true });
    try {
      await Promise.all([assigned.ready, cancels.ready]);
      for (const t of await listAll(zk, CANCEL)) this.cancels.add(t);
      // The assignment folder and the registration appear together, so a master never sees
      // one without the other.
      await zk.multi([op.create(assignDir(id)), op.create(workerPath(id), this.info(false), { mode: 'ephemeral' })]);
      this.currentId = id;
      this.consume(assigned, (ev) => this.onAssignEvent(zk, id, ev));
      this.consume(cancels, (ev) => this.onCancelEvent(ev));
      this.markReady();
      this.emit('registered', id);
      const why = await ended;
      if (why === 'stop') await this.drain(zk, id);
      else this.emit('expired');
    } finally {
      assigned.close();
      cancels.close();
    }
  }

  private info(draining: boolean): string {
    return JSON.stringify({ host: hostname(), pid: process.pid, capacity: this.concurrency, prefetch: this.prefetch, labels: this.labels, draining, startedAt: Date.now() });
  }

  private consume(stream: WatchStream, fn: (ev: WatchEvent) => void): void {
    void (async () => {
      try {
        for await (const ev of stream) {
          fn(ev);
          // The rest of the burst (one assignment multi's events come together) in one go.
          for (const more of stream.drain()) fn(more);
        }
      } catch {
        // The stream ends with the session; run() starts a new one.
      }
    })();
  }

  /** Graceful end: tell the master (no new tasks), finish what runs, record it, then leave. */
  private async drain(zk: Client, id: string): Promise<void> {
    await zk.setData(workerPath(id), this.info(true)).catch(() => undefined);
    const idle = new Promise<void>((resolve) => {
      if (this.jobs.size === 0 && this.pending.length === 0 && !this.flushing) resolve();
      else this.idleWaiters.push(resolve);
    });
    // The timer is cancelled once idle: a pending 30 s timer would keep the process alive.
    const drained = new AbortController();
    await Promise.race([idle, sleep(this.drainTimeoutMs, drained.signal)]);
    drained.abort();
    await this.flushing;
  }

  // ---- assignments ----------------------------------------------------------------------

  private onAssignEvent(zk: Client, id: string, ev: WatchEvent): void {
    if (ev.resync) {
      void (async () => {
        // Assignments made up to here are in the listing (or done before it): their
        // creation events, if any are still to come, are not news (see below).
        this.listedAt = Math.max(this.listedAt, (await zk.exists(assignDir(id)))?.pzxid ?? 0);
        for (const t of await listAll(zk, assignDir(id))) this.fetch(zk, id, t);
      })().catch(() => undefined);
      return;
    }
    if (ev.path === assignDir(id)) return;
    const task = leaf(ev.path);
    // The event carries the record (the stream has includeData), except when it was
    // replayed after a reconnect: then the assignment is read.
    if (ev.type === 'created') {
      // Seen by a listing already: taken as news, an assignment done since would run twice.
      if (ev.zxid <= this.listedAt) return;
      if (ev.data) this.take(task, ev.data, ev.zxid);
      else this.fetch(zk, id, task, true);
    } else if (ev.type === 'deleted') {
      const job = this.jobs.get(task);
      // Taken away by someone else (we delete it ourselves only when settled).
      if (job && !job.settled) this.lose(job, new AbortedError('The assignment was taken away from this worker'));
    }
  }

  /**
   * A new job for an assignment of ours, registered; null if there is one already (or we
   * are stopping). With `renew`, for an assignment's creation event: a job whose outcome is
   * already decided (its record on its way) is for the assignment before, deleted since,
   * and this one is new — the master can assign a retried task again before the reply to
   * our retry's multi is in. A listing may still show the old assignment: it never renews.
   */
  private newJob(task: string, renew = false): Job | null {
    const had = this.jobs.get(task);
    if ((had && !(renew && had.settled)) || this.stop.signal.aborted) return null;
    const job: Job = {
      id: task, version: 0, czxid: 0, record: undefined as unknown as TaskRecord, controller: null, aborted: false, interrupt: null,
      settled: false, started: false, progressChain: null,
    };
    this.jobs.set(task, job);
    return job;
  }

  /** Runs an assignment whose record came with its creation event (at `zxid`, version 0): no read. */
  private take(task: string, data: Buffer, zxid: number): void {
    const job = this.newJob(task, true);
    if (!job) return;
    job.czxid = zxid;
    this.admit(job, data, 0);
    this.pump();
  }

  private fetch(zk: Client, id: string, task: string, renew = false): void {
    const job = this.newJob(task, renew);
    if (!job) return;
    this.toFetch.push(job);
    if (this.toFetch.length > 1) return;
    // setImmediate, not a microtask: the assignments of one I/O phase (one assignment multi
    // is one event message) are read with one multiRead.
    setImmediate(() => {
      const jobs = this.toFetch;
      this.toFetch = [];
      for (let i = 0; i < jobs.length; i += FETCH_BATCH) void this.read(zk, id, jobs.slice(i, i + FETCH_BATCH));
    });
  }

  /** Reads a batch of assignments and queues each task to run. */
  private async read(zk: Client, id: string, jobs: Job[]): Promise<void> {
    let results: ReadResult[];
    try {
      results = await zk.multiRead(jobs.map((job) => op.getData(assignPath(id, job.id))));
    } catch (err) {
      if (isRetryable(err) && !(err instanceof SessionExpiredError)) {
        // The link dropped: read them again once it is back (they are still assigned to us).
        void zk.whenConnected().then(() => {
          for (const job of jobs) {
            if (this.jobs.get(job.id) !== job) continue;
            this.jobs.delete(job.id);
            if (!job.settled) this.fetch(zk, id, job.id);
          }
          this.checkIdle();
        }, () => undefined);
        return;
      }
      results = jobs.map((job) => ({ type: 'error', path: assignPath(id, job.id), error: err as CorralError }));
    }
    results.forEach((r, i) => {
      const job = jobs[i];
      if (this.jobs.get(job.id) !== job) return; // abandoned with its session meanwhile
      if (r.type !== 'getData') {
        // NoNode: moved away before we read it. Anything else: the session is going.
        this.jobs.delete(job.id);
        const err = r.type === 'error' ? r.error : new Error(`unexpected ${r.type} result`);
        if (!(err instanceof NoNodeError) && !(err instanceof SessionExpiredError)) this.emit('error', err);
        return;
      }
      job.czxid = r.stat.czxid;
      this.admit(job, r.data, r.stat.version);
    });
    this.pump();
    this.checkIdle();
  }

  /** Takes an assignment's record (at `version`) in: queued to run, failed if unrunnable, or cancelled. */
  private admit(job: Job, data: Buffer, version: number): void {
    job.version = version;
    try {
      job.record = decodeTask(data);
    } catch (err) {
      // Unrunnable: fail it now rather than loop on it.
      job.record = { payload: null, opts: { attempts: 1 } as TaskRecord['opts'], attempts: 0, stalls: 0, notBefore: 0, submittedAt: 0 };
      this.settle(job, 'failed', undefined, err);
      return;
    }
    if (this.cancels.has(job.id)) {
      this.cancel(job);
      return;
    }
    this.waiting.push(job);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      if (job.settled) continue;
      this.running++;
      job.started = true;
      this.execute(job, () => {
        this.running--;
        if (job.lost) this.done(job);
        this.pump();
        this.checkIdle();
      });
    }
  }

  /**
   * Runs the handler, then calls `done`: when the handler settles, or at once when the run
   * is aborted (cancelled, timed out, lost), so the slot is free again even if the handler
   * ignores its signal; whatever it returns later is ignored.
   */
  private execute(job: Job, done: () => void): void {
    const { record } = job;
    let timer: NodeJS.Timeout | undefined;
    const finish = (ok: boolean, value: unknown): void => {
      if (job.interrupt === null) return;
      job.interrupt = null;
      clearTimeout(timer);
      if (ok) this.settle(job, 'succeeded', value);
      else this.settle(job, 'failed', undefined, value);
      // Not synchronously: an abort comes from inside abandonAll() or lose(), which must
      // finish their work (clearing what waits) before the slot is handed on.
      queueMicrotask(done);
    };
    job.interrupt = (reason) => finish(false, reason);
    if (job.aborted) return finish(false, job.abortReason);
    if (record.opts.timeoutMs > 0) {
      timer = setTimeout(() => this.abort(job, new TimeoutError(`Task ${job.id} timed out after ${record.opts.timeoutMs} ms (timeoutMs)`)), record.opts.timeoutMs);
    }
    const ctx = new JobContext(job, this.currentId, this.reportProgress);
    // In a microtask of its own, not inside pump()'s loop.
    queueMicrotask(() => {
      let r: unknown;
      try {
        r = this.handler(record.payload as P, ctx);
      } catch (err) {
        return finish(false, err);
      }
      if (r !== null && typeof (r as PromiseLike<unknown>)?.then === 'function') {
        (r as PromiseLike<unknown>).then((v) => finish(true, v), (err: unknown) => finish(false, err));
      } else {
        finish(true, r);
      }
    });
  }

  /** Aborts a job's run: its signal (if the handler took it) fires, and a running handler is no longer waited for. */
  private abort(job: Job, reason: unknown): void {
    if (job.aborted) return;
    job.aborted = true;
    job.abortReason = reason;
    job.controller?.abort(reason);
    job.interrupt?.(reason);
  }

  private readonly reportProgress = (job: Job, value: unknown): Promise<void> => this.progress(job, value);

  private progress(job: Job, value: unknown): Promise<void> {
    const data = encodeTask({ ...job.record, progress: value }, 'progress');
    const zk = this.zk;
    const step = (job.progressChain ?? Promise.resolve()).then(async () => {
      if (job.settled || !zk) return;
      try {
        const stat = await zk.setData(assignPath(this.currentId, job.id), data, job.version);
        job.version = stat.version;
      } catch (err) {
        if (err instanceof NoNodeError || err instanceof BadVersionError) this.lose(job, new AbortedError('The assignment was taken away from this worker'));
        throw err;
      }
    });
    job.progressChain = step.catch(() => undefined);
    return step;
  }

  // ---- outcomes -------------------------------------------------------------------------

  private settle(job: Job, state: 'succeeded' | 'failed', result?: unknown, err?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    const { record } = job;
    const attempts = record.attempts + 1;
    const assignment = assignPath(this.currentId, job.id);
    if (state === 'failed' && attempts < record.opts.attempts && !(err instanceof BadArgumentsError && !job.started)) {
      // Back to the queue under the same id, to run again after the backoff.
      const next: TaskRecord = { ...record, attempts, lastError: toTaskError(err), notBefore: Date.now() + backoffDelay(record.opts.backoff, attempts) };
      delete next.progress;
      this.record(job, [op.delete(assignment, -1), op.create(taskPath(job.id), encodeTask(next, 'task record'))], 'retrying');
      return;
    }
    const status: StatusRecord = {
      id: job.id, state, attempts, worker: this.currentId, submittedAt: record.submittedAt, finishedAt: Date.now(),
    };
    let encoded: OpInput;
    try {
      if (state === 'succeeded') status.result = result === undefined ? null : result;
      else status.error = toTaskError(err);
      encoded = statusOp(status, state === 'succeeded' ? record.opts.removeOnComplete : record.opts.removeOnFail);
    } catch (e) {
      // A result JSON cannot carry fails the task rather than vanish.
      const failed: StatusRecord = { ...status, state: 'failed', error: toTaskError(e) };
      delete failed.result;
      encoded = statusOp(failed, record.opts.removeOnFail);
    }
    this.record(job, [encoded, op.delete(assignment, -1)], state);
  }

  private cancel(job: Job): void {
    if (job.settled) return;
    job.settled = true;
    this.abort(job, new AbortedError(`Task ${job.id} was cancelled`));
    const status: StatusRecord = {
      id: job.id, state: 'cancelled', attempts: job.record.attempts + (job.started ? 1 : 0), worker: this.currentId,
      submittedAt: job.record.submittedAt, finishedAt: Date.now(), error: { name: 'AbortedError', message: 'Cancelled' },
    };
    this.record(job, [statusOp(status, job.record.opts.removeOnFail), op.delete(assignPath(this.currentId, job.id), -1), op.delete(cancelPath(job.id))], 'cancelled');
  }

  /** Task lost (session gone or assignment taken away): stop it, record nothing. */
  private lose(job: Job, reason: Error): void {
    if (job.settled) return;
    job.settled = true;
    job.lost = true;
    this.abort(job, reason);
    if (!job.started) this.jobs.delete(job.id);
    this.checkIdle();
  }

  private abandonAll(reason: Error): void {
    for (const job of this.jobs.values()) {
      if (!job.settled) {
        job.settled = true;
        this.abort(job, reason);
      }
    }
    this.jobs.clear();
    this.toFetch = [];
    this.waiting.length = 0;
    this.pending = [];
    this.checkIdle();
  }

  private record(job: Job, ops: OpInput[], state: FinalState | 'retrying'): void {
    const queue = () => {
      // The assignment's version is read now: progress writes bumped it.
      const del = ops.find((o) => o.type === 'delete' && o.path.startsWith('/assign/'));
      if (del) (del as { version: number }).version = job.version;
      this.pending.push({ job, ops, state });
      // setImmediate, not a microtask: outcomes decided in the same I/O phase share one multi.
      this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
    };
    // After the progress writes still on their way, if any.
    if (job.progressChain) void job.progressChain.then(queue); else queue();
  }

  /** Writes every outcome decided in the same tick with as few multis as possible. */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const zk = this.zk;
        const batch = this.pending;
        this.pending = [];
        if (!zk) break;
        const results = await multiGroups(zk, batch.map((b) => b.ops), 32);
        const retry: typeof batch = [];
        const refused: typeof batch = [];
        results.forEach((r, i) => {
          const { job, state } = batch[i];
          if ('zxid' in r) {
            this.done(job);
            this.emit('completed', { id: job.id, state });
          } else if (r.error instanceof StoreFullError) {
            refused.push(batch[i]);
          } else if (isRetryable(r.error) && !(r.error instanceof SessionExpiredError)) {
            retry.push(batch[i]);
          } else {
            this.done(job);
            if (!(r.error instanceof SessionExpiredError)) this.emit('rejected', { id: job.id, reason: r.error as Error });
          }
        });
        if (retry.length > 0) {
          // Link down: try again once it is back. A write that did land the first time now
          // fails on the missing assignment and is reported as rejected, never recorded twice.
          const ok = await zk.whenConnected().then(() => true, () => false);
          if (ok) this.pending.push(...(await this.stillOurs(zk, retry)));
          else retry.forEach((b) => this.done(b.job));
        }
        if (refused.length > 0) {
          // Redis is full and refused them before they ran (nothing written): the same writes
          // again after a pause that grows while it stays full. Dropped, the outcomes would
          // leave their assignments in place and the tasks stuck for the session's life.
          this.fullPause = fullStorePause(this.fullPause);
          this.emit('storeFull', { pauseMs: this.fullPause });
          await sleep(this.fullPause, this.stop.signal);
          if (this.stop.signal.aborted) refused.forEach((b) => this.done(b.job));
          else this.pending.push(...refused);
        } else {
          this.fullPause = 0;
        }
      }
    } finally {
      this.flushing = null;
      this.checkIdle();
    }
  }

  /**
   * Of outcomes whose write may or may not have landed, those whose assignment is still the
   * one they were for. If the write landed, the master may have assigned the task again
   * since, at the same path with version 0 again: written again, a retry would delete that
   * new assignment and queue the task a second time. Its czxid tells them apart; the others
   * are rejected as a write that landed is when sent again.
   */
  private async stillOurs(zk: Client, batch: Worker['pending']): Promise<Worker['pending']> {
    const stats = await Promise.all(batch.map((b) => zk.exists(assignPath(this.currentId, b.job.id)).catch(() => undefined)));
    return batch.filter((b, i) => {
      const st = stats[i];
      // undefined: could not look (link down again): send it; the delete's version still guards.
      if (st === undefined || (st !== null && (b.job.czxid === 0 || st.czxid === b.job.czxid))) return true;
      this.done(b.job);
      this.emit('rejected', { id: b.job.id, reason: new NoNodeError(assignPath(this.currentId, b.job.id)) });
      return false;
    });
  }

  private done(job: Job): void {
    if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
  }

  private onCancelEvent(ev: WatchEvent): void {
    if (ev.path === CANCEL) return;
    const task = leaf(ev.path);
    if (ev.type === 'created') {
      this.cancels.add(task);
      const job = this.jobs.get(task);
      if (job && job.record) this.cancel(job);
    } else if (ev.type === 'deleted') this.cancels.delete(task);
  }

  private checkIdle(): void {
    if (this.jobs.size === 0 && this.pending.length === 0 && !this.flushing) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      w.forEach((f) => f());
    }
  }
}

/**
 * Starts a worker (see {@link Worker}).
 * @example const w = createWorker({ handler: async (p) => p.a + p.b, concurrency: 4 });
 */
export function createWorker<P = any, R = unknown>(options: WorkerOptions<P, R>): Worker<P, R> {
  return new Worker(options);
}

