import { CorralError } from '../core/index.js';
import type { StatusRecord } from './task.js';

/** Thrown by `result()` when the task failed for good; `status` is its record. */
export class TaskFailedError extends CorralError {
  constructor(readonly status: StatusRecord) {
    super(-2001, `Task ${status.id} failed after ${status.attempts} attempt(s): ${status.error?.message ?? 'unknown error'}`);
  }
}

/** Thrown by `result()` when the task was cancelled. */
export class TaskCancelledError extends CorralError {
  constructor(readonly status: StatusRecord) {
    super(-2002, `Task ${status.id} was cancelled`);
  }
}

/** Thrown when a task id does not name a task the tree knows (never submitted, or its record was cleaned up). */
export class NoSuchTaskError extends CorralError {
  constructor(id: string) {
    super(-2003, `No such task (never submitted, or its status record was removed): ${id}`);
  }
}
