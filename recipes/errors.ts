import { CorralError } from '../core/index.js';

/**
 * Thrown (and used as the AbortSignal's reason) when something a recipe held — a lock
 * lease, a semaphore lease, leadership — is gone while the holder still counted on it:
 * its znode was deleted, or after a reconnect it no longer belongs to this session.
 * A lost session shows up as SessionExpiredError instead.
 */
export class LeaseLostError extends CorralError {
  constructor(reason: string, path?: string) {
    super(-1100, `Lease lost (${reason})`, path);
  }
}
