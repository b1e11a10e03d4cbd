/**
 * Issue 7: a bounded soak of the whole master–worker system on Redis under random faults.
 *
 *   npx tsx bench/soak.ts                           # 60 s of faults (then the drain)
 *   npx tsx bench/soak.ts --seconds 600 --seed 42   # longer; the seed replays the same fault choices
 *   npx tsx bench/soak.ts --redis redis://127.0.0.1:6379   # an existing Redis instead of a private one
 *
 * Set-up: a private redis-server (test/faults startRedis, no persistence), so its
 * `used_memory` is this run's alone; 3 masters and 3 workers (concurrency 4, tasks sleep
 * 0–20 ms), each a child process (test/faults spawnTs) at a 1,500 ms session timeout and
 * each reaching Redis through its own TCP proxy (test/faults startProxy), so a network
 * fault hits exactly one process. The bench process submits continuously (1–40 tasks every
 * 100 ms with `submitMany`, on its own direct, unfaulted link; paused while more than 3,000
 * tasks are unfinished).
 *
 * Faults, one every 0.3–1.2 s on a random master (40%) or worker (60%) not already under
 * one: SIGKILL (replaced by a fresh process 0.1–1 s later); SIGSTOP then SIGCONT; the
 * connection cut (reset, refused until healed); a silent partition (the proxy holds every
 * byte). Timed faults last 50–900 ms (the session survives) or 1.65–3.75 s (it expires),
 * half each. Master 0 and worker 0 are never SIGKILLed (they still get every other fault):
 * they live through the whole run, and their RSS is the memory-growth figure. Besides, on
 * the private Redis, every 4–10 s Redis is full for 0.2–2.5 s (maxmemory set below what it
 * uses, policy noeviction): every process's writes are refused (StoreFullError), reads and
 * sessions go on.
 *
 * At the end: faults stop, everything heals, the run drains (every submitted task must
 * finish), then the tree and the workers' reports are checked for anomalies — tasks lost
 * (nowhere in the tree), tasks with more than one status record (two workers each recorded
 * an outcome, or the record was rewritten), tasks never finished (still queued/assigned
 * after the drain), status records for tasks never submitted, final states other than
 * succeeded, masters or workers that exited without being killed (noted with their stderr,
 * then replaced) — which must all be zero: otherwise the command exits non-zero. Then RSS of
 * the long-lived processes (sampled every second; first = after a warm-up) and Redis
 * `used_memory` before the run, after it, and after the namespace is removed.
 */
import { performance } from 'node:perf_hooks';
import { createTaskClient, paths, type StatusRecord } from '../framework/index.js';
import { NoNodeError, StoreFullError, type Client } from '../core/index.js';
import { startProxy, startRedis, spawnTs, type Proxy, type RedisServer, type TsProcess } from '../test/faults/index.js';
import { benchNamespace, corralConnect, dropRedisNamespace } from './lib/corral.js';
import { isMain, machineLine, runMain } from './lib/main.js';
import { fmtBytes, redisMemory, rssOf, type RedisMemory } from './lib/memory.js';
import { banner, fmtNum, table } from './lib/report.js';
import { median } from './lib/stats.js';
import { sleep } from './lib/wait.js';

const MASTERS = 3;
const WORKERS = 3;
const CONCURRENCY = 4;
const MAX_TASK_MS = 20;
const SESSION_MS = 1500;
const SUBMIT_EVERY_MS = 100;
const MAX_BATCH = 40;
const MAX_UNFINISHED = 3000;
const FAULT_GAP_MS: [number, number] = [300, 1200];
const SHORT_FAULT_MS: [number, number] = [50, SESSION_MS * 0.6];
const LONG_FAULT_MS: [number, number] = [SESSION_MS * 1.1, SESSION_MS * 2.5];
const RESPAWN_DELAY_MS: [number, number] = [100, 1000];
/** Redis full (its maxmemory set below what it uses, noeviction): every few seconds, for a while. */
const REDIS_FULL_GAP_MS: [number, number] = [4000, 10000];
const REDIS_FULL_MS: [number, number] = [200, 2500];
const DRAIN_MS = 120_000;
const SAMPLE_MS = 1000;

const MASTER_SCRIPT = 'bench/children/soak-master.ts';
const WORKER_SCRIPT = 'bench/children/soak-worker.ts';

export interface SoakOptions {
  /** Length of the faulty phase. Default 60. */
  seconds?: number;
  /** Seed of the fault choices (a random one is printed otherwise). */
  seed?: number;
  /** Use this Redis instead of a private one (its memory figures then include others' data). */
  redis?: string;
}

export type FaultKind = 'SIGKILL' | 'SIGSTOP+SIGCONT' | 'connection cut' | 'silent partition';
const FAULT_KINDS: FaultKind[] = ['SIGKILL', 'SIGSTOP+SIGCONT', 'connection cut', 'silent partition'];

export interface Anomalies {
  lost: string[];
  recordedTwice: string[];
  neverFinished: string[];
  unknownStatuses: string[];
  notSucceeded: string[];
  /** Masters or workers that exited without being killed: `<process> (<code or signal>): <stderr tail>`. */
  crashed: string[];
}

export interface MemoryRow {
  process: string;
  samples: number;
  /** After the warm-up, half-way through the faulty phase, at its end (medians of 3 samples). */
  first: number;
  mid: number;
  last: number;
  max: number;
}

export interface SoakResult {
  seconds: number;
  seed: number;
  submitted: number;
  done: number;
  executions: number;
  reExecuted: number;
  faults: Record<string, number>;
  faultsTotal: number;
  anomalies: Anomalies;
  anomalyCount: number;
  memory: MemoryRow[];
  redis: { before: RedisMemory; afterRun: RedisMemory; afterClean: RedisMemory; keysLeft: number | null; private: boolean };
}

interface Slot {
  role: 'master' | 'worker';
  index: number;
  /** Never SIGKILLed: its RSS over the whole run is a memory-growth figure. */
  longLived: boolean;
  proxy: Proxy;
  proc: TsProcess | null;
  generation: number;
  /** A fault (or a replacement) is in progress on it. */
  busy: boolean;
  /** RSS samples per generation (a long-lived process replaced after a crash starts a new series). */
  rss: Map<number, Array<{ t: number; bytes: number }>>;
}

/** mulberry32: a small seeded PRNG, so a seed replays the same fault choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads `--seconds N`, `--seed N`, `--redis URL` (and BENCH_SOAK_SECONDS). */
export function soakOptionsFrom(argv: string[]): SoakOptions {
  const o: SoakOptions = {};
  const env = Number(process.env.BENCH_SOAK_SECONDS);
  if (Number.isFinite(env) && env > 0) o.seconds = env;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--seconds') o.seconds = Number(value());
    else if (flag === '--seed') o.seed = Number(value());
    else if (flag === '--redis') o.redis = value();
  }
  if (o.seconds !== undefined && !(o.seconds > 0)) throw new TypeError(`Expected \`--seconds\` to be a number > 0, got ${o.seconds}`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new TypeError(`Expected \`--seed\` to be an integer, got ${o.seed}`);
  return o;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const seconds = options.seconds ?? 60;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rng = prng(seed);
  const between = ([lo, hi]: [number, number]) => lo + rng() * (hi - lo);
  banner(`soak (issue 7): ${seconds} s of random faults on ${MASTERS} masters + ${WORKERS} workers (child processes, session timeout ${SESSION_MS} ms), seed ${seed} — ${machineLine()}`);

  let redis: RedisServer | null = null;
  let redisUrl = options.redis;
  if (!redisUrl) {
    redis = await startRedis();
    redisUrl = redis.url;
  }
  const redisPort = Number(new URL(redisUrl).port || 6379);
  const namespace = benchNamespace('bench-soak');
  const before = await redisMemory(redisUrl);

  const slots: Slot[] = [];
  const procs: Array<{ role: string; proc: TsProcess }> = [];
  const pending = new Set<Promise<void>>();
  const background = (p: Promise<void>) => {
    const q = p.catch((err) => console.error('soak: a fault step failed:', err)).finally(() => pending.delete(q));
    pending.add(q);
  };
  let zk: Client | null = null;

  // What the children report.
  const runs = new Map<string, number>();
  const recorded = new Map<string, number>();
  const events = { elected: 0, deposed: 0, registered: 0, expired: 0, reclaimed: 0, rejected: 0, respawnFailures: 0 };
  const errors = new Map<string, number>();
  const logs = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const parse = (role: string, line: string) => {
    const [tag, a, b] = line.split(' ');
    switch (tag) {
      case 'RUN': bump(runs, a); break;
      case 'DONE': if (b !== 'retrying') bump(recorded, a); break;
      case 'REJECTED': events.rejected++; break;
      case 'REGISTERED': events.registered++; break;
      case 'EXPIRED': events.expired++; break;
      case 'ELECTED': events.elected++; break;
      case 'DEPOSED': events.deposed++; break;
      case 'RECLAIMED': events.reclaimed += Number(b) || 0; break;
      case 'ERROR': bump(errors, `${role}: ${line.slice(6, 120)}`); break;
      case 'LOG': bump(logs, `${role}: ${line.slice(4, 120)}`); break;
    }
  };
  const drainLines = () => {
    for (const { role, proc } of procs) for (const l of proc.lines.splice(0)) parse(role, l);
  };

  const spawn = async (slot: Slot): Promise<void> => {
    const label = `${slot.role}-${slot.index}.${slot.generation}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const p = slot.role === 'master'
          ? await spawnTs(MASTER_SCRIPT, [slot.proxy.url, namespace, String(SESSION_MS), label], { ready: 'READY', readyTimeoutMs: 60_000 })
          : await spawnTs(WORKER_SCRIPT, [slot.proxy.url, namespace, String(SESSION_MS), String(CONCURRENCY), String(MAX_TASK_MS), label],
            { ready: 'READY', readyTimeoutMs: 60_000 });
        procs.push({ role: slot.role, proc: p });
        slot.proc = p;
        return;
      } catch (err) {
        events.respawnFailures++;
        if (attempt >= 2) throw err;
      }
    }
  };

  const faults = new Map<string, number>();
  const crashed: string[] = [];
  /** A master or worker that exited on its own is a finding: noted, then replaced. */
  const checkCrashes = () => {
    for (const slot of slots) {
      const p = slot.proc;
      if (!p?.exit || slot.busy) continue;
      const tail = p.stderr.trim().split('\n').filter((l) => l.trim()).slice(-15).map((l) => `      ${l}`).join('\n');
      crashed.push(`${slot.role}-${slot.index}.${slot.generation} at ${now().toFixed(0)} s (exit ${p.exit.code ?? p.exit.signal}), stderr:\n${tail}`);
      slot.proc = null;
      slot.busy = true;
      background((async () => {
        slot.generation++;
        await spawn(slot);
      })().finally(() => {
        slot.busy = false;
      }));
    }
  };
  let pastTimeout = 0;
  const submitted: string[] = [];
  let submitErrors = 0;
  let submitRefused = 0;
  let finishedNow = 0;
  const harnessRss: Array<{ t: number; bytes: number }> = [];
  const redisRss: Array<{ t: number; bytes: number }> = [];
  const start = performance.now();
  const now = () => (performance.now() - start) / 1000;

  try {
    for (let i = 0; i < MASTERS + WORKERS; i++) {
      const role = i < MASTERS ? 'master' : 'worker';
      const index = role === 'master' ? i : i - MASTERS;
      slots.push({ role, index, longLived: index === 0, proxy: await startProxy({ targetPort: redisPort }), proc: null, generation: 0, busy: false, rss: new Map() });
    }
    await Promise.all(slots.map(spawn));
    zk = await corralConnect('redis', namespace, { sessionTimeoutMs: 10_000 }, redisUrl);
    const tasks = createTaskClient(zk);
    const count = async (path: string) => (await zk!.exists(path))?.numChildren ?? 0;

    // Sampler: RSS of every process, children's lines, progress.
    let sampling = true;
    let lastPrint = 0;
    const sampler = (async () => {
      while (sampling) {
        const t = now();
        for (const s of slots) {
          const bytes = s.longLived && s.proc && !s.proc.exit ? rssOf(s.proc.pid) : null;
          if (bytes !== null) {
            if (!s.rss.has(s.generation)) s.rss.set(s.generation, []);
            s.rss.get(s.generation)!.push({ t, bytes });
          }
        }
        harnessRss.push({ t, bytes: process.memoryUsage().rss });
        const rp = redis?.pid;
        const rb = rp ? rssOf(rp) : null;
        if (rb !== null) redisRss.push({ t, bytes: rb });
        drainLines();
        checkCrashes();
        finishedNow = await count(paths.STATUS).catch(() => finishedNow);
        if (t - lastPrint >= 10) {
          lastPrint = t;
          const total = [...faults.values()].reduce((a, b) => a + b, 0);
          console.log(`  t=${t.toFixed(0)}s submitted ${fmtNum(submitted.length)}, finished ${fmtNum(finishedNow)}, faults ${total} — ${machineLine()}`);
        }
        await sleep(SAMPLE_MS);
      }
    })();

    // Submitter: continuous, on its own direct link.
    let submitting = true;
    let seq = 0;
    const submitter = (async () => {
      while (submitting) {
        await sleep(SUBMIT_EVERY_MS);
        if (submitted.length - finishedNow > MAX_UNFINISHED) continue;
        const n = 1 + Math.floor(Math.random() * MAX_BATCH);
        try {
          submitted.push(...await tasks.submitMany(Array.from({ length: n }, () => ({ payload: { n: seq++ } }))));
        } catch (err) {
          // Refused by a full Redis: nothing stored, not ambiguous.
          if (err instanceof StoreFullError) {
            submitRefused++;
            continue;
          }
          submitErrors++;
          if (submitErrors <= 3) console.error('soak: submitMany failed (its tasks may or may not be stored):', err);
        }
      }
    })();

    // Faults.
    const faultEnd = start + seconds * 1000;
    // Redis full, on its own clock and its own random numbers (the seed still replays the rest).
    const memRng = prng(seed ^ 0x5bd1e995);
    const memBetween = ([lo, hi]: [number, number]) => lo + memRng() * (hi - lo);
    let fullMs = 0;
    const server = redis;
    const fullFaults = server ? (async () => {
      for (;;) {
        await sleep(memBetween(REDIS_FULL_GAP_MS));
        if (performance.now() >= faultEnd) return;
        const d = memBetween(REDIS_FULL_MS);
        bump(faults, 'Redis full');
        await server.command(['CONFIG', 'SET', 'maxmemory', '1mb']);
        await sleep(d);
        await server.command(['CONFIG', 'SET', 'maxmemory', '0']);
        fullMs += d;
      }
    })() : Promise.resolve();
    while (performance.now() < faultEnd) {
      await sleep(between(FAULT_GAP_MS));
      if (performance.now() >= faultEnd) break;
      const kind = FAULT_KINDS[Math.floor(rng() * FAULT_KINDS.length)];
      const role = rng() < 0.4 ? 'master' : 'worker';
      const candidates = slots.filter((s) => s.role === role && !s.busy && s.proc && !s.proc.exit && (kind !== 'SIGKILL' || !s.longLived));
      const pick = rng();
      const duration = rng() < 0.5 ? between(SHORT_FAULT_MS) : between(LONG_FAULT_MS);
      const respawnAfter = between(RESPAWN_DELAY_MS);
      if (candidates.length === 0) continue;
      const slot = candidates[Math.floor(pick * candidates.length)];
      const proc = slot.proc!;
      slot.busy = true;
      bump(faults, `${kind} ${role}`);
      if (kind !== 'SIGKILL' && duration > SESSION_MS) pastTimeout++;
      const release = () => {
        slot.busy = false;
      };
      if (kind === 'SIGKILL') {
        await proc.kill('SIGKILL');
        slot.proc = null;
        background((async () => {
          await sleep(respawnAfter);
          slot.generation++;
          await spawn(slot);
        })().finally(release));
      } else if (kind === 'SIGSTOP+SIGCONT') {
        await proc.kill('SIGSTOP');
        background(sleep(duration).then(() => proc.kill('SIGCONT')).finally(release));
      } else if (kind === 'connection cut') {
        slot.proxy.cut();
        background(sleep(duration).then(() => slot.proxy.heal()).finally(release));
      } else {
        slot.proxy.block();
        background(sleep(duration).then(() => slot.proxy.heal()).finally(release));
      }
    }

    // Heal: every timed fault ends and every killed process is replaced; then no more submits.
    await fullFaults;
    while (pending.size > 0) await Promise.all([...pending]);
    submitting = false;
    await submitter;
    const loadEnd = now();
    console.log(`  faults over at t=${loadEnd.toFixed(0)}s; draining ${fmtNum(submitted.length - finishedNow)} unfinished tasks`);
    const drainStart = performance.now();
    while (performance.now() - drainStart < DRAIN_MS && (await count(paths.STATUS)) < submitted.length) await sleep(200);
    const drainMs = performance.now() - drainStart;
    sampling = false;
    await sampler;
    drainLines();

    // Check the tree against what was submitted and what the workers reported.
    const ids = new Set(submitted);
    const statuses = await readStatuses(zk);
    const queued = new Set(await listAll(zk, paths.TASKS));
    const assigned = new Map<string, string>();
    for (const w of await listAll(zk, paths.ASSIGN)) for (const t of await listAll(zk, `${paths.ASSIGN}/${w}`)) assigned.set(t, w);
    const registered = new Set(await listAll(zk, paths.WORKERS));
    const anomalies: Anomalies = { lost: [], recordedTwice: [], neverFinished: [], unknownStatuses: [], notSucceeded: [], crashed };
    for (const id of ids) {
      if (statuses.has(id)) continue;
      if (queued.has(id)) anomalies.neverFinished.push(`${id} (queued)`);
      else if (assigned.has(id)) {
        const w = assigned.get(id)!;
        anomalies.neverFinished.push(`${id} (assigned to ${w}, ${registered.has(w) ? 'registered' : 'NOT registered'})`);
      }
      else anomalies.lost.push(id);
    }
    for (const [id, s] of statuses) {
      if (!ids.has(id)) anomalies.unknownStatuses.push(id);
      if ((recorded.get(id) ?? 0) > 1 || s.version > 0) anomalies.recordedTwice.push(id);
      if (s.record.state !== 'succeeded') anomalies.notSucceeded.push(id);
    }
    const anomalyCount = Object.values(anomalies).reduce((a, l) => a + l.length, 0);
    const done = [...statuses.keys()].filter((id) => ids.has(id)).length;

    // Memory: stop everything, then measure Redis before and after removing the namespace.
    const afterRun = await redisMemory(redisUrl);
    await Promise.all(procs.map((p) => p.proc.stop()));
    await sleep(100);
    drainLines();
    await zk.close();
    zk = null;
    await dropRedisNamespace(namespace, redisUrl);
    await sleep(1000); // UNLINK frees in the background
    const afterClean = await redisMemory(redisUrl);

    const warmup = Math.min(10, seconds * 0.2);
    const row = (name: string, series: Array<{ t: number; bytes: number }>): MemoryRow => {
      const s = series.filter((x) => x.t >= warmup && x.t <= loadEnd);
      const v = s.map((x) => x.bytes);
      return {
        process: name, samples: v.length,
        first: median(v.slice(0, 3)), mid: median(v.slice(Math.max(0, (v.length >> 1) - 1), (v.length >> 1) + 2)), last: median(v.slice(-3)),
        max: v.length ? Math.max(...v) : NaN,
      };
    };
    const memory = [
      ...slots.filter((s) => s.longLived).map((s) => {
        // The longest-lived of its processes (there is more than one only if one crashed).
        const [gen, series] = [...s.rss.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [0, []];
        const label = s.rss.size > 1 ? `${s.role}-${s.index}.${gen} (long-lived; longest of ${s.rss.size} after crashes)` : `${s.role}-${s.index} (long-lived child)`;
        return row(label, series);
      }),
      ...(redis ? [row('redis-server', redisRss)] : []),
      row('bench process (submitter; keeps every task id)', harnessRss),
    ];
    const faultsObj = Object.fromEntries([...faults.entries()].sort());
    const faultsTotal = [...faults.values()].reduce((a, b) => a + b, 0);
    const executions = [...runs.values()].reduce((a, b) => a + b, 0);
    const reExecuted = [...runs.values()].filter((n) => n > 1).length;
    const result: SoakResult = {
      seconds, seed, submitted: submitted.length, done, executions, reExecuted, faults: faultsObj, faultsTotal, anomalies, anomalyCount, memory,
      redis: { before, afterRun, afterClean, keysLeft: redis ? afterClean.keys : null, private: redis !== null },
    };

    // ---- report ----
    console.log(`\ntasks: ${fmtNum(submitted.length)} submitted, ${fmtNum(done)} finished (${fmtNum(statuses.size)} status records), `
      + `${fmtNum(executions)} handler runs (${fmtNum(reExecuted)} tasks ran more than once: at-least-once), drain ${(drainMs / 1000).toFixed(1)} s`
      + (submitErrors ? `, ${submitErrors} submitMany calls failed (ambiguous)` : '')
      + (submitRefused ? `, ${submitRefused} submitMany calls refused by a full Redis (nothing stored)` : ''));
    console.log(table(['fault', 'on masters', 'on workers', 'total'], FAULT_KINDS.map((k) => {
      const m = faults.get(`${k} master`) ?? 0;
      const w = faults.get(`${k} worker`) ?? 0;
      return [k, String(m), String(w), String(m + w)];
    }).concat([['all', '', '', String(faultsTotal)]])));
    console.log(`timed faults longer than the session timeout: ${pastTimeout}`);
    if (server) console.log(`Redis full (maxmemory below its use): ${faults.get('Redis full') ?? 0} times, ${(fullMs / 1000).toFixed(1)} s in all`);
    console.log(`system: ${events.elected} elections, ${events.deposed} masters deposed, ${events.registered} worker registrations, `
      + `${events.expired} worker sessions expired, ${events.reclaimed} tasks reclaimed from dead workers, ${events.rejected} late results rejected`
      + (events.respawnFailures ? `, ${events.respawnFailures} replacement starts failed` : ''));
    for (const [m, n] of errors) console.log(`  error event ×${n}: ${m}`);
    for (const [m, n] of logs) console.log(`  client error log ×${n}: ${m}`);
    console.log(table(['anomaly (must be 0)', 'count', 'examples'], [
      ['tasks lost', anomalies.lost],
      ['tasks with more than one status record', anomalies.recordedTwice],
      ['tasks never finished', anomalies.neverFinished.map((n) => n.split(' ')[0])],
      ['status records for unknown tasks', anomalies.unknownStatuses],
      ['final state other than succeeded', anomalies.notSucceeded],
      ['masters / workers that exited on their own', anomalies.crashed.map((c) => c.split(' ')[0])],
    ].map(([name, list]) => [name as string, String(list.length), (list as string[]).slice(0, 3).join(' ')])));
    for (const c of anomalies.crashed) console.log(`  !! ${c}`);
    if (anomalies.neverFinished.length > 0) {
      const where = new Map<string, number>();
      for (const n of anomalies.neverFinished) bump(where, n.slice(n.indexOf('(')));
      for (const [w, n] of where) console.log(`  !! ${n} unfinished task(s) ${w}`);
      console.log(`  master at the end: ${await tasks.master().catch(() => '?')}; workers registered: ${[...registered].join(' ') || 'none'}`);
    }
    const pct = (a: number, b: number) => `${fmtBytes(b - a)} (${(((b - a) / a) * 100).toFixed(0)}%)`;
    console.log(table(['RSS (sampled every 1 s)', 'samples', `first (from ${warmup.toFixed(0)} s)`, 'mid-run', 'at end', 'max', 'growth', 'of it in 2nd half'], memory.map((r) => [
      r.process, String(r.samples), fmtBytes(r.first), fmtBytes(r.mid), fmtBytes(r.last), fmtBytes(r.max), pct(r.first, r.last), pct(r.mid, r.last),
    ])));
    console.log('(growth that stops after the warm-up is the heap settling; growth that goes on in the 2nd half of a long run is a leak to look at)');
    const mem = (what: string, m: RedisMemory) => [what, fmtBytes(m.usedMemory), fmtBytes(m.usedMemory - before.usedMemory),
      fmtBytes(m.dataset), fmtBytes(m.lua), fmtNum(m.keys)];
    console.log(table(['Redis', 'used_memory', 'vs before', 'dataset', 'Lua VM + scripts', 'keys'], [
      mem('before the run', before),
      mem('after the run (finished results kept)', afterRun),
      mem('after removing the namespace', afterClean),
    ]));
    if (redis) console.log(`keys left in the private Redis after removing the namespace: ${afterClean.keys} (must be 0)`);
    else console.log('(a shared Redis: its memory figures include whatever else it holds)');
    return result;
  } finally {
    await Promise.all(procs.map((p) => p.proc.stop()));
    await zk?.close().catch(() => undefined);
    for (const s of slots) await s.proxy.close();
    if (redis) await redis.stop();
    else await dropRedisNamespace(namespace, redisUrl).catch(() => undefined);
  }
}

/** Every status record with its version (a record is written once: version 0). */
async function readStatuses(zk: Client): Promise<Map<string, { record: StatusRecord; version: number }>> {
  const out = new Map<string, { record: StatusRecord; version: number }>();
  const ids = await listAll(zk, paths.STATUS);
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(ids.slice(i, i + 500).map(async (id) => {
      const { data, stat } = await zk.getData(`${paths.STATUS}/${id}`);
      out.set(id, { record: JSON.parse(data.toString('utf8')) as StatusRecord, version: stat.version });
    }));
  }
  return out;
}

async function listAll(zk: Client, path: string): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    let page;
    try {
      page = await zk.getChildren(path, after === undefined ? { limit: 1000 } : { limit: 1000, after });
    } catch (err) {
      if (err instanceof NoNodeError) return out; // an /assign folder removed meanwhile
      throw err;
    }
    out.push(...page.children);
    if (page.next === undefined) return out;
    after = page.next;
  }
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const r = await runSoak(soakOptionsFrom(process.argv.slice(2)));
    if (r.anomalyCount > 0) throw new Error(`soak: ${r.anomalyCount} anomalies (see the table above)`);
    if (r.redis.keysLeft) throw new Error(`soak: ${r.redis.keysLeft} keys left in the private Redis after removing the namespace`);
  });
}
