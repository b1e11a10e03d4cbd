/**
 * corral's errors: one class per condition, all extending {@link CorralError}.
 *
 * `code` is stable and uses ZooKeeper's numbers where ZooKeeper has the same
 * condition, so users who know ZooKeeper's `KeeperException.Code` recognise them;
 * conditions ZooKeeper reports as a client-side exception get numbers from -1000 down.
 * `retryable` says whether trying the same call again later may succeed.
 */
export class CorralError extends Error {
  /** Stable numeric code (ZooKeeper's where one exists). */
  readonly code: number;
  /** The znode path the error is about, when there is one. */
  readonly path: string | undefined;
  /** True when the same call may succeed if tried again (e.g. after reconnecting). */
  readonly retryable: boolean;

  constructor(code: number, message: string, path?: string, retryable = false, options?: { cause?: unknown }) {
    super(path !== undefined ? `${message}: ${path}` : message, options);
    this.code = code;
    this.path = path;
    this.retryable = retryable;
    this.name = new.target.name;
  }
}

/** Thrown when a znode the call needs does not exist (ZooKeeper NONODE). */
export class NoNodeError extends CorralError {
  constructor(path?: string) { super(-101, 'No node', path); }
}

/** Thrown when `create` targets a path that already exists (NODEEXISTS). */
export class NodeExistsError extends CorralError {
  constructor(path?: string) { super(-110, 'Node exists', path); }
}

/** Thrown when the expected version does not match the znode's (BADVERSION). */
export class BadVersionError extends CorralError {
  constructor(path?: string) { super(-103, 'Bad version', path); }
}

/** Thrown when deleting a znode that still has children (NOTEMPTY). */
export class NotEmptyError extends CorralError {
  constructor(path?: string) { super(-111, 'Node not empty', path); }
}

/** Thrown when creating a child under an ephemeral znode (NOCHILDRENFOREPHEMERALS). */
export class NoChildrenForEphemeralsError extends CorralError {
  constructor(path?: string) { super(-108, 'Ephemeral nodes may not have children', path); }
}

/** Thrown when the session has expired; every later call of that session fails too (SESSIONEXPIRED). */
export class SessionExpiredError extends CorralError {
  constructor(message = 'Session expired', path?: string) { super(-112, message, path); }
}

/** Thrown when the connection to the backend is lost; the call may or may not have been applied (CONNECTIONLOSS). */
export class ConnectionLossError extends CorralError {
  constructor(message = 'Connection lost', path?: string, options?: { cause?: unknown }) {
    super(-4, message, path, true, options);
  }
}

/** Thrown when an operation did not complete in time (OPERATIONTIMEOUT). */
export class OperationTimeoutError extends CorralError {
  constructor(message = 'Operation timed out', path?: string) { super(-7, message, path, true); }
}

/** Thrown for arguments of the wrong type or out of range (BADARGUMENTS). */
export class BadArgumentsError extends CorralError {
  constructor(message: string, path?: string) { super(-8, message, path); }
}

/** Given, inside a failed `multi`, to every op other than the one that failed (RUNTIMEINCONSISTENCY). */
export class RolledBackError extends CorralError {
  constructor(path?: string) { super(-2, 'Rolled back: another op of the multi failed', path); }
}

/** Thrown for a backend failure that is not the caller's fault (SYSTEMERROR). */
export class SystemError extends CorralError {
  constructor(message: string, options?: { cause?: unknown }) { super(-1, message, undefined, false, options); }
}

/** Thrown when a path breaks the znode path rules (ZooKeeper throws IllegalArgumentException). */
export class InvalidPathError extends CorralError {
  constructor(reason: string, path?: string) { super(-1001, `Invalid path (${reason})`, path); }
}

/** Thrown when znode data is larger than the configured `maxDataBytes`. */
export class DataTooLargeError extends CorralError {
  constructor(size: number, limit: number, path?: string) {
    super(-1002, `Data too large (${size} bytes > maxDataBytes ${limit})`, path);
  }
}

/** Thrown when a client is used after `close()`. */
export class ClientClosedError extends CorralError {
  constructor() { super(-1003, 'Client is closed'); }
}

/**
 * Raised (and emitted as the client's `rolledBack` event) when the backend's last zxid
 * is behind one this client already saw: the store lost acknowledged writes, e.g. a Redis
 * fail-over to a replica that had not received them.
 */
export class StoreRolledBackError extends CorralError {
  constructor(seen: number, server: number) {
    super(-1004, `Store went back in time: this client saw zxid ${seen}, the backend is at ${server}`);
  }
}

/** Thrown when a wait (lock acquire, election, task wait…) runs past its timeout. */
export class TimeoutError extends CorralError {
  constructor(message = 'Timed out') { super(-1005, message, undefined, true); }
}

/**
 * Thrown when the store is out of memory and refused a write before running it (Redis over
 * its `maxmemory` with the `noeviction` policy): nothing was written. Retryable — the same
 * write succeeds once memory is freed or the limit raised — but not at once: retry after
 * a pause. Reads, watches and sessions keep working meanwhile.
 */
export class StoreFullError extends CorralError {
  constructor(message = 'The store is out of memory and refused the write: nothing was written', options?: { cause?: unknown }) {
    super(-1007, message, undefined, true, options);
  }
}

/** Thrown when a wait was cancelled through its AbortSignal. */
export class AbortedError extends CorralError {
  constructor(message = 'Aborted', options?: { cause?: unknown }) { super(-1006, message, undefined, false, options); }
}

/** True for errors where trying the same call again later may succeed. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CorralError && err.retryable;
}

/** Builds the error class for a code, used by backends that carry errors as codes (e.g. Lua replies). */
export function errorFromCode(code: number, path?: string, message?: string): CorralError {
  switch (code) {
    case -101: return new NoNodeError(path);
    case -110: return new NodeExistsError(path);
    case -103: return new BadVersionError(path);
    case -111: return new NotEmptyError(path);
    case -108: return new NoChildrenForEphemeralsError(path);
    case -112: return new SessionExpiredError(message, path);
    case -4: return new ConnectionLossError(message, path);
    case -7: return new OperationTimeoutError(message, path);
    case -8: return new BadArgumentsError(message ?? 'Bad arguments', path);
    case -2: return new RolledBackError(path);
    case -1001: return new InvalidPathError(message ?? 'rejected by backend', path);
    case -1002: return new DataTooLargeError(-1, -1, path);
    case -1007: return new StoreFullError(message);
    default: return new SystemError(`${message ?? 'backend error'} (code ${code})${path ? `: ${path}` : ''}`);
  }
}
