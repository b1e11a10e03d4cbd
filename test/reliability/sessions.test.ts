import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLossError, SessionExpiredError, type SessionState, type WatchEvent } from '../../core/index.js';
import { memoryTarget, redisSelected, redisTarget, type FaultyClient, type Target } from './targets.js';
import { figureLine } from './workloads.js';

const targets: Target[] = [];
afterEach(async () => {
  while (targets.length) await targets.pop()!.close().catch(() => undefined);
});

const withRedis = redisSelected();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TIMEOUT = 900;

/** Resolves when `zk` reaches `state`, with the time it took. */
function reaches(c: FaultyClient, state: SessionState, withinMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    if (c.zk.state === state) return resolve(0);
    const timer = setTimeout(() => {
      c.zk.off('state', on);
      reject(new Error(`client did not become ${state} within ${withinMs} ms (is ${c.zk.state})`));
    }, withinMs);
    const on = (s: SessionState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      c.zk.off('state', on);
      resolve(performance.now() - t0);
    };
    c.zk.on('state', on);
  });
}

/** Runs a raw backend call, retrying while its link is still coming back after a heal. */
async function onceLinked<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConnectionLossError) || i > 100) throw err;
      await sleep(20);
    }
  }
}

type Make = () => Promise<Target>;
const backends: Array<[string, Make, 'cut' | 'block']> = [
  ['memory', async () => memoryTarget(), 'cut'],
  ...(withRedis ? [
    ['redis, connection reset', () => redisTarget(), 'cut'] as [string, Make, 'cut'],
    ['redis, silent partition', () => redisTarget(), 'block'] as [string, Make, 'block'],
  ] : []),
];

describe.each(backends)('sessions across a partition (%s)', (name, make, fault) => {
  it('shorter than the session timeout: same session, ephemerals kept, watches caught up', async () => {
    const target = await make();
    targets.push(target);
    const a = await target.connect({ sessionTimeoutMs: TIMEOUT });
    const b = await target.connect({ sessionTimeoutMs: TIMEOUT });
    const session = a.zk.sessionId;
    await a.zk.create('/eph', 'a', { mode: 'ephemeral' });
    await a.zk.create('/w', 'v0');
    const states: SessionState[] = [];
    a.zk.on('state', (s) => states.push(s));
    const fired: WatchEvent[] = [];
    await a.zk.getData('/w', { watch: (ev) => fired.push(ev) });
    const stream = a.zk.watch('/w');
    await stream.ready;

    fault === 'cut' ? a.cut() : a.block();
    const suspendedAfter = await reaches(a, 'suspended', TIMEOUT);
    await b.zk.setData('/w', 'changed during the partition');
    await sleep(Math.max(0, TIMEOUT * 0.6 - suspendedAfter));
    a.heal();
    const reconnectedAfter = await reaches(a, 'reconnected', TIMEOUT * 2);

    expect(a.zk.sessionId).toBe(session);
    expect(states).toEqual(['suspended', 'reconnected']);
    // The one-shot watch fired for the change it missed, before any read shows the change.
    const { data } = await a.zk.getData('/w');
    expect(data.toString()).toBe('changed during the partition');
    expect(fired.map((e) => e.type)).toEqual(['dataChanged']);
    const it = stream[Symbol.asyncIterator]();
    const ev = await Promise.race([it.next(), sleep(2000).then(() => null)]);
    expect(ev && !ev.done ? ev.value.type : 'nothing').toBe('dataChanged');
    stream.close();
    // The ephemeral is still ours.
    const eph = await b.zk.exists('/eph');
    expect(eph?.ephemeralOwner).toBe(session);
    await a.zk.setData('/w', 'a writes again');
    console.log(figureLine(`short-partition/${name}`, {
      sessionTimeoutMs: TIMEOUT, suspendedAfterMs: suspendedAfter, reconnectedAfterHealMs: reconnectedAfter,
      sameSession: a.zk.sessionId === session, watchEventsCaughtUp: fired.length, ephemeralsKept: 1,
    }));
  }, 20_000);

  it('longer than the session timeout: expired, ephemerals gone, late writes rejected', async () => {
    const target = await make();
    targets.push(target);
    const a = await target.connect({ sessionTimeoutMs: TIMEOUT });
    const b = await target.connect({ sessionTimeoutMs: TIMEOUT });
    const session = a.zk.sessionId;
    await a.zk.create('/eph', 'a', { mode: 'ephemeral' });
    await a.zk.create('/fenced', 'before');
    const gone = new Promise<number>((resolve) => {
      const t0 = performance.now();
      void b.zk.exists('/eph', { watch: (ev) => ev.type === 'deleted' && resolve(performance.now() - t0) });
    });

    const t0 = performance.now();
    fault === 'cut' ? a.cut() : a.block();
    // The store expires the session on its own clock, so the rest of the world sees the
    // ephemeral go without any help from the partitioned client…
    const goneAfter = await Promise.race([gone, sleep(TIMEOUT * 4).then(() => -1)]);
    expect(goneAfter, 'ephemeral of the partitioned session was not removed').toBeGreaterThan(0);
    expect(goneAfter).toBeGreaterThanOrEqual(TIMEOUT * 0.9);
    // …and the partitioned client learns it lost its session, even before the link heals.
    const expiredAfter = await reaches(a, 'expired', TIMEOUT * 3);
    const expiredAt = performance.now() - t0;
    // The client counts its timeout from when it sent its last answered heartbeat, so it
    // never believes in a session the store has already expired (timer slack aside).
    expect(expiredAt).toBeLessThanOrEqual(goneAfter + 25);
    a.heal();
    await sleep(100);

    // The client refuses every op of the dead session.
    await expect(a.zk.setData('/fenced', 'late write')).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(a.zk.create('/late', 'x')).rejects.toBeInstanceOf(SessionExpiredError);
    // And the store itself rejects a write carrying the dead session (a stalled process
    // whose client has not noticed yet): fencing does not depend on the client.
    await expect(onceLinked(() => a.zk.backend.setData(session, '/fenced', Buffer.from('stale'), -1))).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(onceLinked(() => a.zk.backend.create(session, '/late-eph', Buffer.from('x'), 'ephemeral'))).rejects.toBeInstanceOf(SessionExpiredError);
    expect((await b.zk.getData('/fenced')).data.toString()).toBe('before');
    expect(await b.zk.exists('/late')).toBeNull();
    expect(await b.zk.exists('/late-eph')).toBeNull();
    console.log(figureLine(`long-partition/${name}`, {
      sessionTimeoutMs: TIMEOUT, ephemeralGoneAfterMs: goneAfter, clientExpiredAfterMs: expiredAt,
      lateWritesRejected: 4, lateWritesApplied: 0,
    }));
  }, 20_000);

  it('ops in flight or issued during the partition end with ConnectionLoss, never hang', async () => {
    const target = await make();
    targets.push(target);
    const a = await target.connect({ sessionTimeoutMs: TIMEOUT });
    await a.zk.create('/x', 'v');
    fault === 'cut' ? a.cut() : a.block();
    const t0 = performance.now();
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => e.constructor.name).then((r) => ({ r, ms: performance.now() - t0 }));
    // Issued right as the link goes: may be applied or not, but must not wait for the heal.
    const inFlight = [outcome(a.zk.getData('/x')), outcome(a.zk.setData('/x', 'w'))];
    await sleep(TIMEOUT / 2);
    const during = outcome(a.zk.exists('/x'));
    const results = await Promise.race([Promise.all([...inFlight, during]), sleep(TIMEOUT * 3).then(() => null)]);
    a.heal();
    expect(results, 'ops still pending long after the session timeout').not.toBeNull();
    for (const { r, ms } of results!) {
      expect(['ok', 'ConnectionLossError', 'SessionExpiredError']).toContain(r);
      expect(ms).toBeLessThan(TIMEOUT * 1.5);
    }
    console.log(figureLine(`ops-during-partition/${name}`, Object.fromEntries(results!.map((x, i) => [`op${i}`, `${x.r}@${Math.round(x.ms)}ms`]))));
  }, 20_000);
});
