import { BadArgumentsError } from '../core/index.js';
import { normalizeOptions, type NormalizedOptions } from './options.js';

/**
 * A task as stored in `/tasks/<id>` and, once assigned, in `/assign/<worker>/<id>`. The
 * record travels with the task, so a new master or worker needs nothing but the tree.
 */
export interface TaskRecord {
  /** The user's payload (any JSON value). */
  payload: unknown;
  opts: NormalizedOptions;
  /** Runs that ended in failure so far (a run cut short by a dead worker does not count). */
  attempts: number;
  /** Times the task was taken back from a worker that died or stalled while holding it. */
  stalls: number;
  /** Not to be started before this time (ms since the epoch): `delay` and retry backoff. */
  notBefore: number;
  submittedAt: number;
  /** The last failed attempt's error, kept for the final status. */
  lastError?: TaskError;
  /** Progress the handler reported last (only on an assignment). */
  progress?: unknown;
}

/** A task's state, as `get()` / `list()` report it. */
export type TaskState = 'queued' | 'delayed' | 'assigned' | 'succeeded' | 'failed' | 'cancelled';

/** The final states: a task in one of them has its single `/status/<id>` record. */
export type FinalState = 'succeeded' | 'failed' | 'cancelled';

export interface TaskError {
  name: string;
  message: string;
  code?: number | string;
}

/** The result record in `/status/<id>`, written exactly once per task. */
export interface StatusRecord {
  id: string;
  state: FinalState;
  /** The handler's return value (succeeded). */
  result?: unknown;
  /** Why it failed or was cancelled. */
  error?: TaskError;
  /** Runs made (failed ones plus the last). */
  attempts: number;
  /** The worker that recorded it, when one did. */
  worker?: string;
  submittedAt: number;
  finishedAt: number;
}

/** Encodes a record as znode data. Throws BadArgumentsError for values JSON cannot carry. */
export function encode(value: unknown, what: string): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new BadArgumentsError(`Expected ${what} to be JSON-serialisable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new BadArgumentsError(`Expected ${what} to be JSON-serialisable, got ${typeof value}`);
  return Buffer.from(text, 'utf8');
}

/**
 * Encodes a task record in its stored form: only what differs from the defaults (options
 * not given, zero counters) is written, so a task submitted without options stores its
 * payload and submit time and little else. Every hop of a task moves and parses this
 * record — the submit, the master's read and its copy into the assignment, the worker's
 * read — so its size is paid four times. decodeTask fills the defaults back in.
 */
export function encodeTask(rec: TaskRecord, what: string): Buffer {
  const out: Partial<Record<keyof TaskRecord, unknown>> = { payload: rec.payload };
  const opts = storedOptions(rec.opts);
  if (opts) out.opts = opts;
  if (rec.attempts !== 0) out.attempts = rec.attempts;
  if (rec.stalls !== 0) out.stalls = rec.stalls;
  if (rec.notBefore !== 0) out.notBefore = rec.notBefore;
  out.submittedAt = rec.submittedAt;
  if (rec.lastError !== undefined) out.lastError = rec.lastError;
  if (rec.progress !== undefined) out.progress = rec.progress;
  return encode(out, what);
}

/** The options that differ from the defaults, or null when none does. */
function storedOptions(o: NormalizedOptions): Partial<NormalizedOptions> | null {
  const d = defaultOptions();
  if (o === d) return null;
  const out: Partial<Record<keyof NormalizedOptions, unknown>> = {};
  let any = false;
  for (const k of Object.keys(d) as Array<keyof NormalizedOptions>) {
    const v = o[k];
    const same = k === 'labels' ? o.labels.length === 0
      : k === 'backoff' ? o.backoff.type === d.backoff.type && o.backoff.delay === d.backoff.delay && o.backoff.maxDelay === d.backoff.maxDelay
        : v === d[k];
    if (!same) {
      out[k] = v;
      any = true;
    }
  }
  return any ? (out as Partial<NormalizedOptions>) : null;
}

/** The options of a task submitted without any (one frozen object, shared). */
function defaultOptions(): NormalizedOptions {
  return normalizeOptions(undefined).opts;
}

/**
 * Decodes a task record, stored form (see encodeTask) or complete, throwing
 * BadArgumentsError when the znode does not hold one (e.g. something written by hand with
 * `corral set`): the master fails such a task rather than crash on it.
 */
export function decodeTask(data: Uint8Array): TaskRecord {
  let r: unknown;
  try {
    r = JSON.parse(utf8(data));
  } catch (err) {
    throw new BadArgumentsError(`Malformed task JSON: ${(err as Error).message}`);
  }
  const t = r as Partial<Record<keyof TaskRecord, unknown>>;
  const malformed = (): BadArgumentsError => new BadArgumentsError('Malformed task record: expected { payload, submittedAt, opts?, attempts?, notBefore?, … } as written by submit()');
  if (typeof r !== 'object' || r === null || Array.isArray(r) || !('payload' in t)) throw malformed();
  // The stored form always has its submit time; only the complete form of early versions may lack it.
  if (t.submittedAt === undefined && t.opts === undefined) throw malformed();
  if (t.opts === undefined) t.opts = defaultOptions();
  else if (typeof t.opts !== 'object' || t.opts === null || Array.isArray(t.opts)) throw malformed();
  else t.opts = { ...defaultOptions(), ...t.opts };
  const o = t.opts as NormalizedOptions;
  if (typeof o.attempts !== 'number' || typeof o.priority !== 'number' || typeof o.timeoutMs !== 'number' || !Array.isArray(o.labels)
    || typeof o.backoff !== 'object' || o.backoff === null || typeof o.removeOnComplete !== 'number' || typeof o.removeOnFail !== 'number'
    || typeof o.idempotencyKey !== 'string') throw malformed();
  for (const k of ['attempts', 'stalls', 'notBefore', 'submittedAt'] as const) {
    if (t[k] === undefined) t[k] = 0;
    else if (typeof t[k] !== 'number') throw malformed();
  }
  return t as TaskRecord;
}

/** Decodes a status record (BadArgumentsError if it is not one). */
export function decodeStatus(data: Uint8Array): StatusRecord {
  let r: unknown;
  try {
    r = JSON.parse(utf8(data));
  } catch (err) {
    throw new BadArgumentsError(`Malformed status JSON: ${(err as Error).message}`);
  }
  const s = r as StatusRecord;
  if (typeof r !== 'object' || r === null || typeof s.state !== 'string') throw new BadArgumentsError('Malformed status record');
  return s;
}

/** An error as a status record carries it. */
export function toTaskError(err: unknown): TaskError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const e: TaskError = { name: err.name, message: err.message };
    if (typeof code === 'number' || typeof code === 'string') e.code = code;
    return e;
  }
  return { name: 'Error', message: String(err) };
}

/** The bytes as UTF-8 text, without copying them first (Buffer.from(uint8Array) copies). */
function utf8(data: Uint8Array): string {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('utf8');
}
