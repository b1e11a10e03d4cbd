import { BadArgumentsError } from '../core/index.js';

/** How long to wait before a retry. A number is a fixed delay in ms. */
export type Backoff = number | { type: 'fixed' | 'exponential'; delay: number; maxDelay?: number };

/** Retention of a finished task's status record. */
export type Retention = boolean | { age: number };

/**
 * Per-task options (BullMQ users will recognise them).
 * @example await tasks.submit({ url }, { attempts: 5, backoff: { type: 'exponential', delay: 200 }, timeoutMs: 30_000 })
 */
export interface TaskOptions {
  /** Runs in total before the task is failed for good. Default 1 (no retry). */
  attempts?: number;
  /** Delay between attempts. Default 0. Exponential: delay · 2^(attempt-1), capped by maxDelay. */
  backoff?: Backoff;
  /** An attempt running longer than this fails with TimeoutError (and may be retried). Default: none. */
  timeoutMs?: number;
  /** Higher runs first; ties run in submission order. Integer in ±1 000 000. Default 0. */
  priority?: number;
  /** Do not start before this many ms from now. Default 0. */
  delay?: number;
  /** Only a worker carrying every one of these labels may run the task. */
  labels?: string[];
  /** Delete the status record after success: `true` soon (1 s, so waiters can read it), `{ age: ms }` after that long. Default false (kept). */
  removeOnComplete?: Retention;
  /** Same as removeOnComplete, for failed and cancelled tasks. Default false. */
  removeOnFail?: Retention;
  /** A resubmitted task with the same key is not stored (or run) again: submit returns the first id. */
  idempotencyKey?: string;
  /**
   * How long the idempotency key is kept, in ms from the submit: after that a submit with
   * the same key stores a new task. Default: for ever. Only with `idempotencyKey`.
   */
  idempotencyTtlMs?: number;
}

/** Options as stored with the task: every default filled in. */
export interface NormalizedOptions {
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delay: number; maxDelay: number };
  timeoutMs: number;
  priority: number;
  labels: string[];
  removeOnComplete: number;
  removeOnFail: number;
  idempotencyKey: string;
}

/** How long `removeOnComplete: true` keeps a record: long enough for `wait()` to read it. */
export const SOON_MS = 1000;
const MAX_MS = 2 ** 31 - 1;
/** The longest TTL a znode takes (core's limit). */
const MAX_TTL_MS = 2 ** 40 - 1;
const LABEL = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY = /^[A-Za-z0-9_.:@=+-]{1,200}$/;
const KNOWN = new Set(['attempts', 'backoff', 'timeoutMs', 'priority', 'delay', 'labels', 'removeOnComplete', 'removeOnFail', 'idempotencyKey', 'idempotencyTtlMs']);

/**
 * Checks task options and fills in defaults; anything off throws BadArgumentsError naming
 * the option. Returns the stored form, the delay (which becomes an absolute `notBefore`)
 * and how long the idempotency key is kept (0: for ever; only submit needs it, so it is
 * not stored with the task).
 */
export function normalizeOptions(options: unknown): { opts: NormalizedOptions; delay: number; keyTtlMs: number } {
  // Most submits pass no options: share one frozen set of defaults (20 000 tasks, one object).
  if (options === undefined || options === null) return (DEFAULTS ??= Object.freeze({ opts: deepFreeze(normalizeOptions({}).opts), delay: 0, keyTtlMs: 0 }));
  if (typeof options !== 'object' || Array.isArray(options)) throw new BadArgumentsError(`Expected task options to be an object, got ${show(options)}`);
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new BadArgumentsError(`Unknown task option \`${k}\`; expected one of ${[...KNOWN].join(', ')}`);
  return {
    opts: {
      attempts: o.attempts === undefined ? 1 : int(o.attempts, 'attempts', 1, 1000),
      backoff: backoff(o.backoff),
      timeoutMs: o.timeoutMs === undefined ? 0 : int(o.timeoutMs, 'timeoutMs', 1, MAX_MS),
      priority: o.priority === undefined ? 0 : int(o.priority, 'priority', -1_000_000, 1_000_000),
      labels: labels(o.labels, 'labels'),
      removeOnComplete: retention(o.removeOnComplete, 'removeOnComplete'),
      removeOnFail: retention(o.removeOnFail, 'removeOnFail'),
      idempotencyKey: o.idempotencyKey === undefined ? '' : key(o.idempotencyKey),
    },
    delay: o.delay === undefined ? 0 : int(o.delay, 'delay', 0, MAX_MS),
    keyTtlMs: keyTtl(o.idempotencyTtlMs, o.idempotencyKey),
  };
}

/** Checks a list of labels (task requirements or worker labels). */
export function labels(v: unknown, name: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new BadArgumentsError(`Expected \`${name}\` to be an array of strings, got ${show(v)}`);
  for (const l of v) {
    if (typeof l !== 'string' || !LABEL.test(l)) throw new BadArgumentsError(`Expected each of \`${name}\` to be 1-64 characters of A-Z a-z 0-9 _ . : -, got ${show(l)}`);
  }
  return [...new Set(v as string[])].sort();
}

/** The wait before attempt number `attempt + 1`, after `attempt` failed runs. */
export function backoffDelay(b: NormalizedOptions['backoff'], attempt: number): number {
  if (b.type === 'fixed') return b.delay;
  const d = b.delay * 2 ** Math.max(0, attempt - 1);
  return Math.min(d, b.maxDelay);
}

function backoff(v: unknown): NormalizedOptions['backoff'] {
  if (v === undefined) return { type: 'fixed', delay: 0, maxDelay: MAX_MS };
  if (typeof v === 'number') return { type: 'fixed', delay: int(v, 'backoff', 0, MAX_MS), maxDelay: MAX_MS };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadArgumentsError(`Expected \`backoff\` to be ms or { type: 'fixed' | 'exponential', delay }, got ${show(v)}`);
  const b = v as Record<string, unknown>;
  if (b.type !== 'fixed' && b.type !== 'exponential') throw new BadArgumentsError(`Expected \`backoff.type\` to be 'fixed' or 'exponential', got ${show(b.type)}`);
  return {
    type: b.type,
    delay: int(b.delay, 'backoff.delay', 0, MAX_MS),
    maxDelay: b.maxDelay === undefined ? MAX_MS : int(b.maxDelay, 'backoff.maxDelay', 0, MAX_MS),
  };
}

function retention(v: unknown, name: string): number {
  // Stored as the record's TTL in ms; 0 = keep.
  if (v === undefined || v === false) return 0;
  if (v === true) return SOON_MS;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'age' in v) {
    return int((v as { age: unknown }).age, `${name}.age`, 1, MAX_MS);
  }
  throw new BadArgumentsError(`Expected \`${name}\` to be a boolean or { age: ms }, got ${show(v)}`);
}

function keyTtl(v: unknown, key: unknown): number {
  if (v === undefined) return 0;
  if (key === undefined) throw new BadArgumentsError('`idempotencyTtlMs` needs an `idempotencyKey`');
  return int(v, 'idempotencyTtlMs', 1, MAX_TTL_MS);
}

function key(v: unknown): string {
  if (typeof v !== 'string' || !KEY.test(v) || v === '.' || v === '..') {
    throw new BadArgumentsError(`Expected \`idempotencyKey\` to be 1-200 characters of A-Z a-z 0-9 _ . : @ = + -, got ${show(v)}`);
  }
  return v;
}

/** An integer option within [min, max], with the option's name in the message. */
export function int(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BadArgumentsError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

export function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

let DEFAULTS: { opts: NormalizedOptions; delay: number; keyTtlMs: number } | null = null;

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
