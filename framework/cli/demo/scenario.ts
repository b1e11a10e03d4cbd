import { randomUUID } from 'node:crypto';
import { connect, MemoryBackend, memoryStore, type Client, type ConnectTarget, type Logger } from '../../../core/index.js';
import { createMaster, createTaskClient, createWorker, paths, type Master, type StatusRecord, type TaskContext, type Worker } from '../../index.js';
import { followTasks } from '../task-follow.js';

/** The demo's knobs (`corral demo --tasks … --workers …`). */
export interface DemoOptions {
  tasks: number;
  workers: number;
  concurrency: number;
  /** Share of tasks that fail their first attempt (and succeed when retried). */
  flakyRate: number;
  /** Tasks whose handler always throws: they fail for good after their attempts. */
  poison: number;
  /** Session timeout of every role: how long a crashed process lingers before it is declared dead. */
  sessionTimeoutMs: number;
  logger: Logger;
}

/** What the demo narrates as it goes. */
export type DemoEvent =
  | { type: 'elected'; master: string; afterMs?: number }
  | { type: 'masterKilled'; master: string }
  | { type: 'workerKilled'; worker: string; holding: number }
  | { type: 'reclaimed'; master: string; worker: string; tasks: number }
  | { type: 'submitted'; count: number }
  | { type: 'finished'; id: string; status: StatusRecord | null; done: number };

export interface DemoSummary {
  tasks: number;
  succeeded: number;
  failed: number;
  /** Tasks that needed more than one attempt. */
  retried: number;
  /** Tasks the masters took back from the killed worker and handed to others. */
  reassigned: number;
  /** How long from killing the active master to the backup's election. */
  failoverMs: number | null;
  elapsedMs: number;
}

/**
 * The `corral demo` run, on the embedded memory store: two masters and several workers in
 * this process, tasks submitted, then the active master is killed part-way (its link cut
 * and the process's part of it stopped, so its session lingers until it times out, as a
 * crashed process's would) and later a worker holding tasks is killed the same way.
 * Nothing is patched up by hand: the backup wins the election and the tasks of the dead
 * worker are reassigned by the framework itself.
 */
export async function runDemo(o: DemoOptions, onEvent: (ev: DemoEvent) => void, stop: AbortSignal): Promise<DemoSummary> {
  const namespace = `demo-${randomUUID().slice(0, 8)}`;
  const target: ConnectTarget = { backend: 'memory', store: memoryStore(namespace) };
  const sessions = new Map<string, Client>();
  // Each role's sessions come from here, so the demo can cut the link of the one it kills.
  const factory = (role: string) => async () => {
    const zk = await connect(target, { namespace, sessionTimeoutMs: o.sessionTimeoutMs, logger: o.logger });
    sessions.set(role, zk);
    return zk;
  };
  const crash = (role: string) => {
    const b = sessions.get(role)?.backend;
    if (b instanceof MemoryBackend) b.cut();
  };

  const started = performance.now();
  const masters: Master[] = [];
  const workers: Worker[] = [];
  const stopping: Promise<void>[] = [];
  const producer = await connect(target, { namespace, sessionTimeoutMs: o.sessionTimeoutMs, logger: o.logger });
  try {
    let killedAt = 0;
    const reclaimed = new Map<string, number>();
    let failoverMs: number | null = null;
    const electedOnce = new Promise<void>((resolve) => {
      for (const id of ['master-1', 'master-2']) {
        const m = createMaster({ connect: factory(id), id, logger: o.logger });
        m.on('elected', () => {
          if (killedAt > 0 && failoverMs === null) failoverMs = performance.now() - killedAt;
          onEvent({ type: 'elected', master: id, ...(killedAt > 0 ? { afterMs: performance.now() - killedAt } : {}) });
          resolve();
        });
        m.on('reclaimed', ({ worker, tasks }) => {
          reclaimed.set(worker, (reclaimed.get(worker) ?? 0) + tasks);
          onEvent({ type: 'reclaimed', master: id, worker, tasks });
        });
        masters.push(m);
      }
    });
    await electedOnce;

    const handler = async (payload: { n: number; ms: number; flaky: boolean; poison?: boolean }, ctx: TaskContext) => {
      await sleep(payload.ms, ctx.signal);
      if (payload.poison) throw new Error('poison: this task always fails');
      if (payload.flaky && ctx.attempt === 1) throw new Error('flaky: transient failure on the first attempt');
      return payload.n * payload.n;
    };
    for (let i = 1; i <= o.workers; i++) {
      const name = `worker-${i}`;
      workers.push(createWorker({ connect: factory(name), name, handler, concurrency: o.concurrency, drainTimeoutMs: 200, logger: o.logger }));
    }
    await Promise.all(workers.map((w) => w.ready));

    const tasks = createTaskClient(producer);
    const ids = await tasks.submitMany(
      Array.from({ length: o.tasks }, (_, n) => ({
        payload: { n, ms: 60 + Math.floor(Math.random() * 180), flaky: Math.random() < o.flakyRate, ...(n < o.poison ? { poison: true } : {}) },
        options: { attempts: 3, backoff: 50 },
      })),
    );
    onEvent({ type: 'submitted', count: ids.length });

    let done = 0;
    let masterKilled = false;
    let workerKilled = false;
    let deadWorker = '';
    const statuses = new Map<string, StatusRecord | null>();
    const killMaster = async () => {
      const active = await tasks.master();
      const i = masters.findIndex((m) => m.id === active);
      if (i < 0) return;
      killedAt = performance.now();
      crash(masters[i].id);
      onEvent({ type: 'masterKilled', master: masters[i].id });
      stopping.push(masters[i].close());
    };
    const killWorker = async () => {
      // The worker holding the most tasks right now, so there is something to reassign.
      let best: { w: Worker; held: string[] } | null = null;
      for (const w of workers) {
        const held = (await producer.getChildren(paths.assignDir(w.id)).catch(() => ({ children: [] as string[] }))).children;
        if (!best || held.length > best.held.length) best = { w, held };
      }
      if (!best) return;
      deadWorker = best.w.id;
      crash(deadWorker.replace(/-[0-9a-f]{8}$/, ''));
      onEvent({ type: 'workerKilled', worker: deadWorker, holding: best.held.length });
      stopping.push(best.w.close());
    };
    const kills: Promise<void>[] = [];
    await followTasks(producer, ids, {
      signal: stop,
      onStatus: (id, s) => {
        statuses.set(id, s);
        done++;
        onEvent({ type: 'finished', id, status: s, done });
        if (!masterKilled && done >= o.tasks * 0.25) {
          masterKilled = true;
          kills.push(killMaster());
        }
        if (!workerKilled && done >= o.tasks * 0.5) {
          workerKilled = true;
          kills.push(killWorker());
        }
      },
    });
    await Promise.all(kills);

    const records = [...statuses.values()];
    return {
      tasks: ids.length,
      succeeded: records.filter((s) => s?.state === 'succeeded').length,
      failed: records.filter((s) => s?.state !== 'succeeded').length,
      retried: records.filter((s) => s && s.attempts > 1).length,
      reassigned: reclaimed.get(deadWorker) ?? 0,
      failoverMs,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await Promise.all([...workers.map((w) => w.close()), ...masters.map((m) => m.close()), ...stopping].map((p) => p.catch(() => undefined)));
    await producer.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}
