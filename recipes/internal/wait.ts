import {
  AbortedError, ClientClosedError, ConnectionLossError, SessionExpiredError, TimeoutError,
  type Client, type SessionState,
} from '../../core/index.js';
import type { Wait } from './args.js';

/** A wait with neither deadline nor signal. */
export const FOREVER: Wait = { deadline: Infinity, signal: undefined };

/**
 * Waits until something calls `wake` (typically a one-shot watch firing), the session
 * reconnects (the caller re-reads: the world may have moved), or the wait ends: timeout,
 * abort, session expired, client closed. `arm` sets up the watch; if it returns true the
 * condition already holds and the wait ends at once. Every exit removes its listeners.
 */
export function waitWake(zk: Client, wait: Wait, what: string, arm: (wake: () => void) => Promise<boolean>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      wait.signal?.removeEventListener('abort', onAbort);
      zk.off('state', onState);
      if (err) reject(err); else resolve();
    };
    const onAbort = (): void => finish(aborted(wait.signal!, what));
    const onState = (s: SessionState): void => {
      if (s === 'expired') finish(new SessionExpiredError());
      else if (s === 'closed') finish(new ClientClosedError());
      else if (s === 'reconnected') finish();
    };
    if (wait.signal?.aborted) return onAbort();
    if (zk.state === 'expired') return finish(new SessionExpiredError());
    if (zk.state === 'closed') return finish(new ClientClosedError());
    if (wait.deadline !== Infinity) {
      timer = setTimeout(() => finish(new TimeoutError(`${what}: timed out`)), Math.max(0, wait.deadline - performance.now()));
    }
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    zk.on('state', onState);
    arm(() => finish()).then((ready) => { if (ready) finish(); }, finish);
  });
}

/** Throws TimeoutError / AbortedError if the wait is already over. */
export function checkNotOver(wait: Wait, what: string): void {
  if (wait.signal?.aborted) throw aborted(wait.signal, what);
  if (performance.now() >= wait.deadline) throw new TimeoutError(`${what}: timed out`);
}

/**
 * After a ConnectionLossError: waits for the session to be usable again (or the wait to
 * end). A short pause first, so a link that keeps failing is not hammered.
 */
export async function untilConnected(zk: Client, wait: Wait, what: string): Promise<void> {
  await waitWake(zk, wait, what, async (wake) => {
    const t = setTimeout(wake, 10);
    t.unref?.();
    return false;
  });
  if (zk.state === 'suspended' || zk.state === 'connecting') {
    await waitWake(zk, wait, what, async () => zk.state !== 'suspended' && zk.state !== 'connecting');
  }
}

export function isConnectionLoss(err: unknown): boolean {
  return err instanceof ConnectionLossError;
}

/** Sleeps `ms`, ending early (with its error) on abort or session end. */
export function sleep(zk: Client, ms: number, wait: Wait, what: string): Promise<void> {
  return waitWake(zk, wait, what, async (wake) => {
    const t = setTimeout(wake, ms);
    t.unref?.();
    return false;
  }).catch((err) => {
    throw err;
  });
}

function aborted(signal: AbortSignal, what: string): AbortedError {
  return new AbortedError(`${what}: aborted`, { cause: signal.reason });
}
