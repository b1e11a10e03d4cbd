import { afterEach, describe, expect, it } from 'vitest';
import { checkLinearizable, registerModel, ticketModel } from '../faults/index.js';
import { memoryTarget, redisSelected, redisTarget, type Target } from './targets.js';
import { figureLine, registerWorkload, sequentialWorkload } from './workloads.js';

const targets: Target[] = [];
afterEach(async () => {
  while (targets.length) await targets.pop()!.close().catch(() => undefined);
});

const withRedis = redisSelected();
const backends: Array<['memory' | 'redis', () => Promise<Target>]> = [
  ['memory', async () => memoryTarget()],
  ...(withRedis ? [['redis', () => redisTarget()] as ['redis', () => Promise<Target>]] : []),
];

describe.each(backends)('linearizability under link faults (%s)', (name, make) => {
  it('versioned setData/getData on 3 znodes by 5 clients stays linearizable', async () => {
    const target = await make();
    targets.push(target);
    const { history, figures } = await registerWorkload(target, {
      clients: 5,
      znodes: 3,
      durationMs: 6000,
      sessionTimeoutMs: 600,
      faults: { everyMs: [100, 300], lengthMs: [50, 900] },
    });
    const r = checkLinearizable(history, registerModel());
    console.log(figureLine(`register/${name}`, { ...figures, checkSteps: r.steps, linearizable: r.ok }));
    expect(r.ok, r.failure?.explanation).toBe(true);
    // The run must have done real work under real faults, or it proves nothing.
    expect(figures.completed).toBeGreaterThan(200);
    expect(figures.faults).toBeGreaterThan(5);
    expect(figures.expirations).toBeGreaterThan(0);
  }, 40_000);

  it('sequential creates get unique names rising in real-time order', async () => {
    const target = await make();
    targets.push(target);
    const { history, figures, created, listed } = await sequentialWorkload(target, {
      clients: 4,
      durationMs: 4000,
      sessionTimeoutMs: 600,
      faults: { everyMs: [100, 300], lengthMs: [50, 900] },
    });
    const r = checkLinearizable(history, ticketModel);
    console.log(figureLine(`sequential/${name}`, { ...figures, listed: listed.length, checkSteps: r.steps, linearizable: r.ok }));
    expect(r.ok, r.failure?.explanation).toBe(true);
    expect(new Set(created).size).toBe(created.length);
    // Every acknowledged create is there; at most the unknown ones were added besides.
    const onServer = new Set(listed);
    expect(created.filter((p) => !onServer.has(p))).toEqual([]);
    expect(listed.length).toBeGreaterThanOrEqual(created.length);
    expect(listed.length).toBeLessThanOrEqual(created.length + figures.unknown);
    expect(figures.completed).toBeGreaterThan(200);
    expect(figures.faults).toBeGreaterThan(3);
  }, 40_000);
});
