import { NodeExistsError, NoNodeError, AbortedError, type Client } from '../core/index.js';
import { LeaderLatch, type Leadership } from '../recipes/index.js';
import { ELECTION, MASTER } from './paths.js';

/**
 * Becomes master: wins the leader-election recipe at `/election` (backups wait there,
 * each watching only its predecessor), then writes `/master` as its own ephemeral so
 * anyone can read who the master is. `/master` of a previous master is never adopted:
 * it goes with that master's session, and the winner waits for that.
 */
export async function electMaster(zk: Client, id: string, signal: AbortSignal): Promise<{ latch: LeaderLatch; leadership: Leadership }> {
  const latch = new LeaderLatch(zk, ELECTION, { id });
  try {
    await latch.start();
    const leadership = await latch.elected({ signal });
    await claimMaster(zk, id, AbortSignal.any([signal, leadership.signal]));
    return { latch, leadership };
  } catch (err) {
    await latch.close().catch(() => undefined);
    throw err;
  }
}

async function claimMaster(zk: Client, id: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw new AbortedError('Master election aborted');
    try {
      await zk.create(MASTER, id, { mode: 'ephemeral' });
      return;
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
    // Held by the previous master's session (or our own from before a lost reply).
    let gone!: () => void;
    const deleted = new Promise<void>((resolve) => (gone = resolve));
    const stat = await zk.exists(MASTER, { watch: () => gone() });
    if (stat?.ephemeralOwner === zk.sessionId) return;
    if (stat === null) continue;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      signal.addEventListener('abort', done, { once: true });
      void deleted.then(done);
    });
  }
}

/** Who is master now (the id in `/master`), or null. */
export async function currentMaster(zk: Client): Promise<string | null> {
  try {
    return (await zk.getData(MASTER)).data.toString('utf8');
  } catch (err) {
    if (err instanceof NoNodeError) return null;
    throw err;
  }
}
