import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '../../core/index.js';
import { createTaskClient, type StatusRecord, type TaskClient } from '../../framework/index.js';
import { listAll } from '../../framework/tree.js';
import { spawnTs, type TsProcess } from '../faults/index.js';
import { testNamespace } from '../namespace.js';

// The framework's guarantees with real OS processes on the Redis backend: masters and
// workers are tsx children that get SIGKILLed, SIGSTOPped and SIGCONTed.

const REDIS = 'redis://127.0.0.1:6379';
const TIMEOUT = 1000;
const WORKER = 'test/framework/fixtures/worker.ts';
const MASTER = 'test/framework/fixtures/master.ts';

const procs: TsProcess[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function setup(): Promise<{ ns: string; zk: Client; tasks: TaskClient }> {
  const ns = testNamespace('fw');
  const zk = await connect({ redis: REDIS }, { namespace: ns, sessionTimeoutMs: 5000 });
  clients.push(zk);
  return { ns, zk, tasks: createTaskClient(zk) };
}

async function spawnWorker(ns: string, concurrency: number, sleepMs: number, name = 'w'): Promise<TsProcess> {
  const p = await spawnTs(WORKER, [REDIS, ns, String(TIMEOUT), String(concurrency), String(sleepMs), name], { ready: 'READY' });
  procs.push(p);
  return p;
}

async function spawnMaster(ns: string, id: string): Promise<TsProcess> {
  const p = await spawnTs(MASTER, [REDIS, ns, String(TIMEOUT), id], { ready: 'READY' });
  procs.push(p);
  return p;
}

/** Tasks each process started (RUN lines), over every process of the test. */
function runs(ps: TsProcess[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of ps) for (const l of p.lines) if (l.startsWith('RUN ')) m.set(l.slice(4), (m.get(l.slice(4)) ?? 0) + 1);
  return m;
}

/** Every task finished once: one succeeded status each, nothing left queued or assigned. */
async function expectAllDoneOnce(zk: Client, ids: string[], all: StatusRecord[], ps: TsProcess[]): Promise<void> {
  expect(all.map((s) => s.id)).toEqual(ids);
  expect(all.filter((s) => s.state !== 'succeeded')).toEqual([]);
  const statuses = await listAll(zk, '/status');
  expect(statuses.sort()).toEqual([...ids].sort());
  expect(await listAll(zk, '/tasks')).toEqual([]);
  for (const w of await listAll(zk, '/assign')) expect(await listAll(zk, `/assign/${w}`)).toEqual([]);
  // At-least-once: every task ran somewhere (processes killed mid-task may have run some twice).
  const r = runs(ps);
  for (const id of ids) expect(r.get(id) ?? 0).toBeGreaterThanOrEqual(1);
}

/** A one-line picture of the task tree: queued tasks, assignments per worker (and whether it is registered), statuses. */
async function whereTasksAre(zk: Client): Promise<string> {
  const workers = new Set(await listAll(zk, '/workers'));
  const parts = [`tasks=${(await listAll(zk, '/tasks')).length}`, `status=${(await listAll(zk, '/status')).length}`];
  for (const w of await listAll(zk, '/assign')) {
    const n = (await listAll(zk, `/assign/${w}`)).length;
    if (n > 0) parts.push(`assign/${w}${workers.has(w) ? '' : '(gone)'}=${n}`);
  }
  const master = await zk.getData('/master').then((r) => r.data.toString(), () => 'none');
  return `${parts.join(' ')} master=${master}`;
}

async function statusCount(zk: Client): Promise<number> {
  return (await zk.exists('/status'))?.numChildren ?? 0;
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('framework fault tolerance with real processes on Redis', () => {
  it('SIGKILL of the master mid-run: a backup takes over and every task finishes once', async () => {
    const { ns, zk, tasks } = await setup();
    const [m1, m2] = await Promise.all([spawnMaster(ns, 'm1'), spawnMaster(ns, 'm2')]);
    const ws = await Promise.all([spawnWorker(ns, 4, 5), spawnWorker(ns, 4, 5)]);
    const ids = await tasks.submitMany(Array.from({ length: 400 }, (_, n) => ({ payload: n })));
    await until(async () => (await statusCount(zk)) >= 50, 20_000, '50 results');
    const leader = (await tasks.master()) === 'm1' ? m1 : m2;
    const backup = leader === m1 ? m2 : m1;
    await leader.kill('SIGKILL');
    await backup.waitFor(/^ELECTED/, 15_000, 0);
    const all = await tasks.waitAll(ids, { timeoutMs: 30_000 });
    await expectAllDoneOnce(zk, ids, all, ws);
    expect(await tasks.master()).toBe(backup === m1 ? 'm1' : 'm2');
  });

  it('SIGKILL of a worker holding tasks: they are reassigned and finish', async () => {
    const { ns, zk, tasks } = await setup();
    await spawnMaster(ns, 'm');
    const a = await spawnWorker(ns, 4, 400, 'a');
    const ids = await tasks.submitMany(Array.from({ length: 8 }, (_, n) => ({ payload: n })));
    await a.waitFor(/^RUN/, 15_000, 0);
    await until(() => a.lines.filter((l) => l.startsWith('RUN')).length === 4, 5000, 'a to run 4');
    const held = a.lines.filter((l) => l.startsWith('RUN ')).map((l) => l.slice(4));
    await a.kill('SIGKILL');
    const b = await spawnWorker(ns, 4, 10, 'b');
    const all = await tasks.waitAll(ids, { timeoutMs: 30_000 });
    await expectAllDoneOnce(zk, ids, all, [a, b]);
    // The tasks the dead worker held were run again and recorded by the live one.
    for (const id of held) expect(all.find((s) => s.id === id)?.worker).toMatch(/^b-/);
  });

  it('a worker paused past its session timeout cannot record its late result: the first result stays', async () => {
    const { ns, zk, tasks } = await setup();
    await spawnMaster(ns, 'm');
    const slow = await spawnWorker(ns, 2, 1500, 'slow');
    const ids = await tasks.submitMany([{ payload: 'x' }, { payload: 'y' }]);
    await until(() => slow.lines.filter((l) => l.startsWith('RUN')).length === 2, 15_000, 'slow to start both');
    await slow.kill('SIGSTOP');
    // Frozen with the tasks; its session expires, the master takes them back, another worker runs them.
    const fast = await spawnWorker(ns, 2, 0, 'fast');
    const first = await tasks.waitAll(ids, { timeoutMs: 30_000 });
    expect(first.every((s) => s.worker?.startsWith('fast-'))).toBe(true);
    const before = await Promise.all(ids.map((id) => zk.getData(`/status/${id}`)));
    await slow.kill('SIGCONT');
    // It wakes with its handler done (timers are overdue) and tries to record: refused.
    await slow.waitFor(/^(EXPIRED|REJECTED)/, 10_000, 0);
    await until(() => slow.lines.some((l) => l.startsWith('REGISTERED') && !l.includes(slow.lines.find((x) => x.startsWith('REGISTERED'))!.slice(11))), 10_000, 'slow to re-register with a new session');
    const after = await Promise.all(ids.map((id) => zk.getData(`/status/${id}`)));
    for (let i = 0; i < ids.length; i++) {
      expect(after[i].stat.mzxid).toBe(before[i].stat.mzxid);
      expect(after[i].data.equals(before[i].data)).toBe(true);
    }
    expect(slow.lines.filter((l) => l.startsWith('DONE'))).toEqual([]);
    await expectAllDoneOnce(zk, ids, first, [slow, fast]);
  });

  it('1,000 tasks with a random SIGKILL every few hundred ms: every task done, once', async () => {
    const { ns, zk, tasks } = await setup();
    const all: TsProcess[] = [];
    const masters: Array<TsProcess | null> = await Promise.all([spawnMaster(ns, 'm0'), spawnMaster(ns, 'm1')]);
    // Short tasks (40 ms, 12 slots: over 3 s of work) so the kills land mid-run.
    const workers: Array<TsProcess | null> = await Promise.all([0, 1, 2].map((i) => spawnWorker(ns, 4, 40, `w${i}`)));
    all.push(...(masters as TsProcess[]), ...(workers as TsProcess[]));
    const ids = await tasks.submitMany(Array.from({ length: 1000 }, (_, n) => ({ payload: n })));
    let kills = 0;
    let skipped = 0;
    let stop = false;
    const spawning: Array<Promise<void>> = [];
    const chaos = (async () => {
      let n = 0;
      while (!stop) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
        if (stop) break;
        // Alternate: a worker, a worker, then a master; each is replaced by a fresh process,
        // started in the background so that a slow start does not space out the kills. A kill
        // never takes the last live process of its kind (the other kind's turn comes instead):
        // on a loaded machine a replacement takes seconds to start, and kills faster than
        // that would measure how fast tsx starts, not how corral recovers.
        const liveOf = (pool: Array<TsProcess | null>) => pool.flatMap((p, i) => (p ? [i] : []));
        let kind: 'master' | 'worker' = n++ % 3 === 2 ? 'master' : 'worker';
        if (liveOf(kind === 'master' ? masters : workers).length < 2) kind = kind === 'master' ? 'worker' : 'master';
        const pool: Array<TsProcess | null> = kind === 'master' ? masters : workers;
        const live = liveOf(pool);
        if (live.length < 2) {
          skipped++;
          continue;
        }
        const i = live[Math.floor(Math.random() * live.length)];
        await pool[i]!.kill('SIGKILL');
        pool[i] = null;
        kills++;
        const name = `${kind[0]}${n}`;
        spawning.push((kind === 'master' ? spawnMaster(ns, name) : spawnWorker(ns, 4, 40, name)).then((fresh) => {
          pool[i] = fresh;
          all.push(fresh);
        }));
      }
    })();
    let done: StatusRecord[];
    try {
      done = await tasks.waitAll(ids, { timeoutMs: 60_000 });
    } catch (err) {
      // Where the unfinished tasks are: queued, assigned (to whom, alive or not), or nowhere.
      console.log(`stuck: ${await whereTasksAre(zk)}; processes: ${[...masters, ...workers].map((p) => p?.pid ?? 'respawning').join(' ')}`);
      throw err;
    } finally {
      stop = true;
      await chaos;
      await Promise.all(spawning);
    }
    console.log(`chaos: ${kills} SIGKILLs during the run of ${ids.length} tasks (${skipped} ticks without a kill: replacements still starting)`);
    expect(kills).toBeGreaterThanOrEqual(4);
    await expectAllDoneOnce(zk, ids, done, all);
  }, 90_000);
});
