import { BadArgumentsError } from '../core/index.js';
import type { NormalizedOptions } from './options.js';

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
 * Decodes a task record, throwing BadArgumentsError when the znode does not hold one (e.g.
 * something written by hand with `corral set`): the master fails such a task rather than
 * crash on it.
 */
export function decodeTask(data: Uint8Array): TaskRecord {
  let r: unknown;
  try {
    r = JSON.parse(utf8(data));
  } catch (err) {
    throw new BadArgumentsError(`Malformed task JSON: ${(err as Error).message}`);
  }
  const t = r as TaskRecord;
  if (typeof r !== 'object' || r === null || Array.isArray(r) || !('payload' in t) || typeof t.opts !== 'object' || t.opts === null
    || typeof t.attempts !== 'number' || typeof t.notBefore !== 'number' || !Array.isArray(t.opts.labels)
    || typeof t.opts.attempts !== 'number' || typeof t.opts.priority !== 'number' || typeof t.opts.backoff !== 'object') {
    throw new BadArgumentsError('Malformed task record: expected { payload, opts, attempts, notBefore, … } as written by submit()');
  }
  t.stalls ??= 0;
  t.submittedAt ??= 0;
  return t;
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
