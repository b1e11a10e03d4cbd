import { afterEach, describe, expect, it } from 'vitest';
import { CorralError, type Client } from '../../core/index.js';
import { Mutex } from '../../recipes/index.js';
import { checkLinearizable, History, ticketModel } from '../faults/index.js';
import { memoryTarget, redisSelected, redisTarget, type Target } from './targets.js';
import { figureLine, runClients } from './workloads.js';

const targets: Target[] = [];
afterEach(async () => {
  while (targets.length) await targets.pop()!.close().catch(() => undefined);
});

const withRedis = redisSelected();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const backends: Array<['memory' | 'redis', () => Promise<Target>]> = [
  ['memory', async () => memoryTarget()],
  ...(withRedis ? [['redis', () => redisTarget()] as ['redis', () => Promise<Target>]] : []),
];

/**
 * The guarded resource of the fencing-token pattern: it remembers the highest token it
 * accepted and refuses lower ones. Every attempt is recorded, with its time and token,
 * before the fence decides: what a holder *tried* to do is what mutual exclusion is
 * judged on, since the fence would hide a second holder's writes.
 */
class FencedLog {
  highest = -Infinity;
  readonly attempts: { token: number; client: number; at: number; accepted: boolean }[] = [];
  write(token: number, client: number): boolean {
    const attempt = { token, client, at: performance.now(), accepted: false };
    this.attempts.push(attempt);
    if (token < this.highest) return false;
    this.highest = token;
    attempt.accepted = true;
    return true;
  }
  get accepted(): { token: number; client: number; at: number }[] {
    return this.attempts.filter((a) => a.accepted);
  }
  get rejected(): number {
    return this.attempts.length - this.accepted.length;
  }
}

/** Guarded sections (first to last write attempt of one grant) that overlap an earlier one in wall-clock time. */
function overlapping(sections: { token: number; from: number; to: number }[]): Array<[number, number]> {
  const sorted = [...sections].sort((a, b) => a.from - b.from);
  const out: Array<[number, number]> = [];
  let reach = sorted[0];
  for (const s of sorted.slice(1)) {
    if (s.from <= reach.to) out.push([reach.token, s.token]);
    if (s.to > reach.to) reach = s;
  }
  return out;
}

describe.each(backends)('mutex under link faults (%s)', (name) => {
  it('grants get rising fencing tokens and guarded sections never overlap', async () => {
    const target = await backends.find(([n]) => n === name)![1]();
    targets.push(target);
    const setup = await target.connect();
    await setup.zk.create('/locks');
    await setup.close();

    const log = new FencedLog();
    const grants = new History<{ op: 'take' }, number>();
    let grantsCount = 0;
    let lost = 0;
    let stoppedInDoubt = 0;

    const step = async (zk: Client, client: number): Promise<void> => {
      const mutex = new Mutex(zk, '/locks/m');
      const id = grants.invoke(client, { op: 'take' });
      let lease;
      try {
        lease = await mutex.acquire({ timeoutMs: 2000 });
      } catch (err) {
        grants.unknown(id);
        if (err instanceof CorralError) return; // timed out, connection loss, expiry: try again
        throw err;
      }
      grants.ok(id, lease.token);
      grantsCount++;
      try {
        for (let i = 0; i < 6; i++) {
          // An honest holder writes only while it knows it holds the lock: not after the
          // signal, and not while the session is in doubt (it may have expired already).
          if (lease.signal.aborted) { lost++; break; }
          if (lease.inDoubt) { stoppedInDoubt++; break; }
          log.write(lease.token, client);
          await sleep(3 + Math.random() * 5);
        }
      } finally {
        await lease.release().catch(() => undefined);
      }
    };

    const run = await runClients(target, {
      clients: 4,
      // Long enough that a run whose fault draws keep the lock blocked (expiries) still does real work.
      durationMs: 7000,
      sessionTimeoutMs: 900,
      pauseMs: [0, 3],
      faults: { everyMs: [300, 600], lengthMs: [100, 1500] },
      step,
    });

    const tokens = checkLinearizable(grants.operations(), ticketModel);
    // One section per grant: from its holder's first write attempt to its last, accepted or not.
    const sections = new Map<number, { token: number; from: number; to: number }>();
    for (const a of log.attempts) {
      const s = sections.get(a.token);
      if (s) s.to = a.at;
      else sections.set(a.token, { token: a.token, from: a.at, to: a.at });
    }
    const overlaps = overlapping([...sections.values()]);
    console.log(figureLine(`mutex/${name}`, {
      grants: grantsCount, writeAttempts: log.attempts.length, faults: run.faults, expirations: run.expirations,
      leasesLost: lost, stoppedInDoubt, fenceRejections: log.rejected, overlaps: overlaps.length, tokensRising: tokens.ok,
    }));
    expect(tokens.ok, tokens.failure?.explanation).toBe(true);
    expect(overlaps, `guarded sections [token, token] overlapping in time: ${JSON.stringify(overlaps.slice(0, 3))}`).toEqual([]);
    // Holders that stop when in doubt never need the fence: it refuses none of their writes.
    expect(log.rejected).toBe(0);
    // Within one grant a holder wrote with one token; across grants the log's tokens rise.
    const accepted = log.accepted;
    for (let i = 1; i < accepted.length; i++) expect(accepted[i].token).toBeGreaterThanOrEqual(accepted[i - 1].token);
    expect(grantsCount).toBeGreaterThan(25);
    expect(run.faults).toBeGreaterThan(5);
  }, 40_000);

  it('a holder paused past its session expiry is refused by the fence when it wakes', async () => {
    const target = await backends.find(([n]) => n === name)![1]();
    targets.push(target);
    const a = await target.connect({ sessionTimeoutMs: 600 });
    const b = await target.connect({ sessionTimeoutMs: 600 });
    await a.zk.create('/locks');
    const log = new FencedLog();
    const leaseA = await new Mutex(a.zk, '/locks/m').acquire();
    expect(log.write(leaseA.token, 1)).toBe(true);

    // A stalls (a long GC pause, a frozen VM) and its link is gone meanwhile: it checks
    // nothing, so it does not see its lease go.
    a.block();
    const t0 = performance.now();
    const leaseB = await new Mutex(b.zk, '/locks/m').acquire({ timeoutMs: 5000 });
    const waitedMs = performance.now() - t0;
    expect(leaseB.token).toBeGreaterThan(leaseA.token);
    expect(log.write(leaseB.token, 2)).toBe(true);

    // A wakes up and carries on as if it still held the lock: the fence refuses it.
    a.heal();
    expect(log.write(leaseA.token, 1)).toBe(false);
    // Its lease tells it so too, soon after.
    await new Promise<void>((resolve) => (leaseA.signal.aborted ? resolve() : leaseA.signal.addEventListener('abort', () => resolve())));
    expect(leaseA.held).toBe(false);
    expect(log.rejected).toBeGreaterThanOrEqual(1);
    expect(log.accepted.map((e) => e.client)).toEqual([1, 2]);
    expect(log.attempts.map((e) => e.client)).toEqual([1, 2, 1]);
    console.log(figureLine(`mutex-paused-holder/${name}`, {
      sessionTimeoutMs: 600, secondGrantAfterMs: waitedMs, staleWritesRefused: log.rejected, tokenA: leaseA.token, tokenB: leaseB.token,
    }));
    await leaseB.release();
  }, 20_000);
});
