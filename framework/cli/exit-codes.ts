import {
  AbortedError, BadArgumentsError, ConnectionLossError, CorralError, InvalidPathError, OperationTimeoutError, StoreFullError,
  SessionExpiredError, DataTooLargeError,
} from '../../core/index.js';

/**
 * The CLI's exit codes. Scripts can tell "you asked wrongly" from "the store said no"
 * from "the store could not be reached", as with curl or git.
 */
export const EXIT = {
  /** Everything asked for was done (every task succeeded, the znode was written…). */
  ok: 0,
  /** The request was valid but failed: no such znode, bad version, a task failed, a lock timed out. */
  failed: 1,
  /** The request itself was wrong: unknown command or option, bad path, bad JSON, missing file. */
  usage: 2,
  /** The store could not be reached or the session was lost (unreachable Redis, expiry). */
  unavailable: 3,
  /** Stopped by Ctrl-C / SIGTERM before it was done (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

/** A mistake in how the command was called; exits with {@link EXIT.usage}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The backend could not be reached at all; exits with {@link EXIT.unavailable}. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** A command that failed for a reason already explained; carries its exit code. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** The exit code an error should end the process with. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof UnavailableError) return EXIT.unavailable;
  if (err instanceof AbortedError) return EXIT.interrupted;
  if (err instanceof InvalidPathError || err instanceof BadArgumentsError || err instanceof DataTooLargeError) return EXIT.usage;
  if (err instanceof ConnectionLossError || err instanceof SessionExpiredError || err instanceof OperationTimeoutError) return EXIT.unavailable;
  // Redis out of memory: the store cannot take writes now; as for a lost link, try again later.
  if (err instanceof StoreFullError) return EXIT.unavailable;
  if (err instanceof CorralError) return EXIT.failed;
  return EXIT.failed;
}
