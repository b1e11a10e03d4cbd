import { readdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect, CorralError, deleteRecursive, ensurePath, memoryStore, op, validatePath, type Client,
} from '../../core/index.js';
import * as recipes from '../../recipes/index.js';
import { createMaster, createTaskClient, createWorker } from '../../framework/index.js';
import { runCli } from '../../framework/cli/cli.js';
import { checkTreeInvariants } from '../conformance/invariants.js';
import { anything, booby, createOptions, data, path, readOptions, seeded, version, type Rng } from './hostile-values.js';
import { keepingLogger, memoryTarget, redisSelected, redisTarget, type Target } from './targets.js';
import { figureLine } from './workloads.js';
import { testNamespace } from '../namespace.js';

const withRedis = redisSelected();
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** Shows a value in a finding without touching booby-trapped objects. */
function show(v: unknown): string {
  try {
    if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + `…(${v.length})` : v);
    if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return String(v);
    if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.slice(0, 60);
  } catch {
    return '[an object that throws when touched]';
  }
}

/**
 * How a failed call ended. `typed`: a CorralError. `propagated`: the caller's own
 * exception (a getter of a hostile argument threw) passed through unchanged, which is
 * right. `clear`: a TypeError with a precise "Expected `x` to be …" message, the
 * convention STYLE.md takes from p-queue for a callback that is not a function.
 * Anything else is a finding.
 */
function classify(err: unknown, strict: boolean): 'typed' | 'propagated' | 'clear' | 'finding' {
  if (err instanceof CorralError) return 'typed';
  if (err instanceof Error && err.message.startsWith('booby-trapped')) return 'propagated';
  if (!strict && err instanceof TypeError && /^Expected `\w+` to be/.test(err.message)) return 'clear';
  return 'finding';
}

/** Methods a class declares private or protected (not part of its public API). */
const hiddenMethods = new Set<string>();
for (const f of readdirSync(new URL('../../recipes/', import.meta.url))) {
  if (!f.endsWith('.ts')) continue;
  const src = readFileSync(new URL(`../../recipes/${f}`, import.meta.url), 'utf8');
  for (const m of src.matchAll(/\b(?:private|protected)\s+(?:static\s+)?(?:async\s+)?(?:get\s+|set\s+)?(\w+)\s*[<(]/g)) hiddenMethods.add(m[1]);
}

/** Races a call against a deadline; returns 'pending' if it did not settle. */
async function settle(p: unknown, ms: number): Promise<{ ok: true; value: unknown } | { err: unknown } | 'pending'> {
  return Promise.race([
    Promise.resolve(p).then((value) => ({ ok: true as const, value }), (err: unknown) => ({ err })),
    sleep(ms).then(() => 'pending' as const),
  ]);
}

interface Call {
  name: string;
  /** All-or-nothing single writes: on a typed error the store must be unchanged. */
  atomic: boolean;
  run(zk: Client, r: Rng): { args: unknown[]; result: unknown };
}

function randomOp(r: Rng): unknown {
  switch (r.int(6)) {
    case 0: return op.create(path(r) as string, data(r) as string, (createOptions(r) ?? {}) as object);
    case 1: return op.delete(path(r) as string, version(r) as number);
    case 2: return op.setData(path(r) as string, data(r) as string, version(r) as number);
    case 3: return op.check(path(r) as string, version(r) as number);
    case 4: return r.pick([null, undefined, 'create', {}, { type: 'nope', path: '/f' }, { type: 'create' }, booby, [op.check('/f')]]);
    default: return { type: r.pick(['create', 'delete', 'setData', 'check']), path: path(r), data: data(r), version: version(r), mode: 'persistent' };
  }
}

const CORE_CALLS: Call[] = [
  { name: 'create', atomic: true, run: (zk, r) => { const a = [path(r), data(r), createOptions(r)]; return { args: a, result: zk.create(...(a as Parameters<Client['create']>)) }; } },
  { name: 'createWithStat', atomic: true, run: (zk, r) => { const a = [path(r), data(r), createOptions(r)]; return { args: a, result: zk.createWithStat(...(a as Parameters<Client['create']>)) }; } },
  { name: 'setData', atomic: true, run: (zk, r) => { const a = [path(r), data(r), version(r)]; return { args: a, result: zk.setData(...(a as Parameters<Client['setData']>)) }; } },
  { name: 'delete', atomic: true, run: (zk, r) => { const a = [path(r), version(r)]; return { args: a, result: zk.delete(...(a as Parameters<Client['delete']>)) }; } },
  { name: 'exists', atomic: false, run: (zk, r) => { const a = [path(r), readOptions(r)]; return { args: a, result: zk.exists(...(a as Parameters<Client['exists']>)) }; } },
  { name: 'getData', atomic: false, run: (zk, r) => { const a = [path(r), readOptions(r)]; return { args: a, result: zk.getData(...(a as Parameters<Client['getData']>)) }; } },
  { name: 'getChildren', atomic: false, run: (zk, r) => { const a = [path(r), readOptions(r)]; return { args: a, result: zk.getChildren(...(a as Parameters<Client['getChildren']>)) }; } },
  { name: 'sync', atomic: false, run: (zk, r) => { const a = [path(r)]; return { args: a, result: zk.sync(...(a as [string])) }; } },
  {
    name: 'multi', atomic: true, run: (zk, r) => {
      const ops = r.chance(0.1) ? r.pick([null, undefined, 'ops', {}, booby, 5]) : Array.from({ length: r.int(5) }, () => randomOp(r));
      return { args: [ops], result: zk.multi(ops as never) };
    },
  },
  {
    name: 'multiRead', atomic: false, run: (zk, r) => {
      const read = (): unknown => r.pick([
        () => op.getData(path(r) as string), () => op.getChildren(path(r) as string),
        () => r.pick([null, undefined, 'getData', {}, booby, { type: 'getData' }, { type: 'setData', path: '/f' }, { type: 'getChildren', path: 5 }]),
      ])();
      const reads = r.chance(0.1) ? r.pick([null, undefined, 'reads', {}, booby, 5]) : Array.from({ length: r.int(6) }, read);
      return { args: [reads], result: zk.multiRead(reads as never) };
    },
  },
  {
    name: 'watch', atomic: false, run: (zk, r) => {
      const a = [path(r), readOptions(r)];
      const s = zk.watch(...(a as Parameters<Client['watch']>));
      return { args: a, result: s.ready.finally(() => s.close()) };
    },
  },
  { name: 'ensurePath', atomic: false, run: (zk, r) => { const a = [path(r)]; return { args: a, result: ensurePath(zk, a[0] as string) }; } },
  {
    name: 'deleteRecursive', atomic: false, run: (zk, r) => {
      // Only below the scratch root, or the fuzzer would mostly be creating under nothing.
      const p = path(r);
      const a = [typeof p === 'string' && p.startsWith('/f/') ? p : r.pick([p, '/f/zz', '/nope'])];
      return { args: a, result: deleteRecursive(zk, a[0] as string) };
    },
  },
  { name: 'validatePath', atomic: false, run: (_zk, r) => { const a = [path(r)]; return { args: a, result: (() => validatePath(a[0]))() }; } },
];

/** Runs `n` random core calls; returns findings (empty = good) and counts. */
async function fuzzCore(target: Target, seed: number, n: number): Promise<{ findings: string[]; ok: number; typed: number; propagated: number; zk: Client }> {
  const r = seeded(seed);
  const c = await target.connect({ sessionTimeoutMs: 10_000 });
  const zk = c.zk;
  await zk.create('/f');
  const findings: string[] = [];
  let ok = 0;
  let typed = 0;
  let propagated = 0;
  const zxid = async (): Promise<number> => (await zk.backend.sync('/')).zxid;
  for (let i = 0; i < n && findings.length < 20; i++) {
    if (i % 50 === 0) await ensurePath(zk, '/f');
    const call = r.pick(CORE_CALLS);
    const before = call.atomic ? await zxid() : 0;
    let args: unknown[] = [];
    let outcome: Awaited<ReturnType<typeof settle>>;
    try {
      const x = call.run(zk, r);
      args = x.args;
      outcome = await settle(x.result, 10_000);
    } catch (err) {
      outcome = { err }; // thrown synchronously: still must be typed
    }
    const where = `${call.name}(${args.map(show).join(', ')})`;
    if (outcome === 'pending') findings.push(`${where} did not settle within 10 s`);
    else if ('ok' in outcome) ok++;
    else if (classify(outcome.err, true) === 'propagated') propagated++;
    else if (outcome.err instanceof CorralError) {
      typed++;
      if (call.atomic) {
        const after = await zxid();
        if (after !== before) findings.push(`${where} failed with ${outcome.err.name} but the store changed (zxid ${before} → ${after})`);
      }
    } else {
      const e = outcome.err as Error;
      findings.push(`${where} threw ${e?.constructor?.name ?? typeof e}: ${e?.message ?? String(e)}`);
    }
  }
  return { findings, ok, typed, propagated, zk };
}

const backends: Array<['memory' | 'redis', () => Promise<Target>]> = [
  ['memory', async () => memoryTarget()],
  ...(withRedis ? [['redis', () => redisTarget()] as ['redis', () => Promise<Target>]] : []),
];

describe.each(backends)('fuzz: core client API (%s)', (name, make) => {
  it(`random and hostile arguments end in success or a CorralError, store unchanged on error, tree sound (seed ${SEED})`, async () => {
    const target = await make();
    cleanups.push(() => target.close());
    const n = name === 'memory' ? 3000 : 1200;
    const { findings, ok, typed, propagated, zk } = await fuzzCore(target, SEED, n);
    await checkTreeInvariants(zk, () => target.liveSessions());
    console.log(figureLine(`fuzz-core/${name}`, { seed: SEED, calls: n, succeeded: ok, typedErrors: typed, callerErrorsPassedOn: propagated, findings: findings.length }));
    expect(findings).toEqual([]);
    expect(ok).toBeGreaterThan(n / 20);
    expect(typed).toBeGreaterThan(n / 4);
  }, 60_000);
});

describe('fuzz: connect()', () => {
  it(`hostile targets and options end in a client or a CorralError (seed ${SEED})`, async () => {
    const r = seeded(SEED + 1);
    const findings: string[] = [];
    let ok = 0;
    let typed = 0;
    const loggers = [undefined, {}, 5, booby, keepingLogger(), { debug: 1, info: 1, warn: 1, error: 1 }];
    for (let i = 0; i < 150; i++) {
      const t = r.pick<unknown>([
        undefined, null, 'memory', 5, [], booby, { backend: 'nope' }, { backend: 'memory' }, { backend: {} }, { backend: null },
        { redis: 5 }, { redis: 'http://127.0.0.1:6379' }, { redis: 'redis://127.0.0.1:1' }, { redis: { cluster: [] } },
        { redis: { sentinels: [{ host: '127.0.0.1', port: 1 }] } },
      ]);
      const o = r.pick<unknown>([
        undefined, null, 'opts', 7, booby,
        { namespace: r.pick(['', 'a b', '{x}', 'ns/x', 'x'.repeat(101), 5, null, testNamespace('ns')]) },
        { namespace: testNamespace('ns'), sessionTimeoutMs: r.pick([0, -1, 1.5, NaN, 99, 100, 2 ** 53, '1000', Infinity]) },
        { namespace: testNamespace('ns'), maxDataBytes: r.pick([0, -5, 1, 0.5, '1', 2 ** 40]) },
        { namespace: testNamespace('ns'), logger: r.pick(loggers) },
      ]);
      const outcome = await settle((async () => {
        const zk = await connect(t as never, o as never);
        try {
          // Use it a little, so a broken logger or option shows up now rather than later.
          await zk.create('/probe', 'x').catch((e: unknown) => { if (!(e instanceof CorralError)) throw e; });
          await zk.getData('/nope').catch((e: unknown) => { if (!(e instanceof CorralError)) throw e; });
        } finally {
          await zk.close();
        }
      })(), 8000);
      const where = `connect(${show(t)}, ${show(o)})`;
      if (outcome === 'pending') findings.push(`${where} did not settle within 8 s`);
      else if ('ok' in outcome) ok++;
      else if (classify(outcome.err, true) !== 'finding') typed++;
      else findings.push(`${where} threw ${(outcome.err as Error)?.constructor?.name}: ${(outcome.err as Error)?.message}`);
    }
    console.log(figureLine('fuzz-connect', { seed: SEED, calls: 150, succeeded: ok, typedErrors: typed, findings: findings.length }));
    expect(findings).toEqual([]);
    expect(ok).toBeGreaterThan(5);
  }, 60_000);
});

describe('fuzz: recipes', () => {
  it(`every recipe class and helper, hostile arguments: success or CorralError, nothing hangs past close (seed ${SEED})`, async () => {
    const r = seeded(SEED + 2);
    const target = memoryTarget();
    cleanups.push(() => target.close());
    const c = await target.connect({ sessionTimeoutMs: 5000 });
    const zk = c.zk;
    await zk.create('/f');
    const findings: string[] = [];
    const pending: Array<{ where: string; p: Promise<unknown> }> = [];
    let ok = 0;
    let typed = 0;
    let clear = 0;
    const record = async (where: string, fn: () => unknown): Promise<unknown> => {
      let value: unknown;
      let outcome: Awaited<ReturnType<typeof settle>>;
      try {
        const res = fn();
        const p = Promise.resolve(res).then((v) => { value = v; return v; });
        p.catch(() => undefined);
        outcome = await settle(p, 150);
        if (outcome === 'pending') pending.push({ where, p });
      } catch (err) {
        outcome = { err };
      }
      if (outcome === 'pending') return undefined;
      if ('ok' in outcome) ok++;
      else if (classify(outcome.err, false) === 'clear') clear++;
      else if (classify(outcome.err, false) !== 'finding') typed++;
      else findings.push(`${where} threw ${(outcome.err as Error)?.constructor?.name}: ${(outcome.err as Error)?.message}`);
      return value;
    };
    const exported = Object.entries(recipes as Record<string, unknown>)
      .filter(([, v]) => typeof v === 'function') as Array<[string, (...a: unknown[]) => unknown]>;
    const classes = exported.filter(([k, v]) => /^[A-Z]/.test(k) && !(v.prototype instanceof Error) && k !== 'Lease');
    const helpers = exported.filter(([k]) => /^[a-z]/.test(k));
    const waitArg = (): unknown => r.pick([{ timeoutMs: 50 }, { timeoutMs: -1 }, { timeoutMs: NaN }, { timeoutMs: '5' }, { signal: 'no' }, booby, 5, null, undefined, { timeoutMs: 0 }]);
    for (let i = 0; i < 300; i++) {
      if (r.chance(0.2) && helpers.length > 0) {
        const [name, fn] = r.pick(helpers);
        const args = [r.chance(0.9) ? zk : anything(r), path(r), r.chance(0.5) ? async () => 1 : anything(r), waitArg()];
        await record(`${name}(${args.slice(1).map(show).join(', ')})`, () => fn(...args));
        continue;
      }
      const [name, Cls] = r.pick(classes);
      const args = [r.chance(0.9) ? zk : anything(r), r.chance(0.7) ? `/f/${name}-${r.int(3)}` : path(r), r.pick([1, 2, 0, -1, 1.5, undefined, 'x', {}]), r.pick([undefined, {}, booby, { id: 'x' }, 5])];
      const where = `new ${name}(${args.slice(1).map(show).join(', ')})`;
      let obj: Record<string, unknown> | undefined;
      await record(where, () => { obj = new (Cls as unknown as new (...a: unknown[]) => Record<string, unknown>)(...args); });
      if (!obj) continue;
      const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(obj))
        .filter((m) => m !== 'constructor' && !hiddenMethods.has(m) && typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(obj), m)?.value === 'function');
      for (let k = 0; k < 3 && methods.length > 0; k++) {
        const m = r.pick(methods);
        const margs = [r.chance(0.6) ? waitArg() : anything(r), anything(r)];
        const got = await record(`${where}.${m}(${margs.map(show).join(', ')})`, () => (obj![m] as (...a: unknown[]) => unknown)(...margs));
        // Leases and the like: give them back, also through hostile calls.
        if (got && typeof got === 'object' && typeof (got as { release?: unknown }).release === 'function') {
          await record(`${where}.${m}(…).release()`, () => (got as { release(): Promise<void> }).release());
        }
      }
    }
    // Whatever was still waiting must end once the session closes: typed, not hanging.
    await zk.close();
    for (const { where, p } of pending) {
      const o = await settle(p, 3000);
      if (o === 'pending') findings.push(`${where} still pending 3 s after close()`);
      else if ('err' in o && classify(o.err, false) === 'finding') findings.push(`${where} ended with ${(o.err as Error)?.constructor?.name}: ${(o.err as Error)?.message}`);
    }
    const check = await target.connect();
    await checkTreeInvariants(check.zk, () => target.liveSessions());
    console.log(figureLine('fuzz-recipes', { seed: SEED, classes: classes.length, helpers: helpers.length, succeeded: ok, typedErrors: typed, clearTypeErrors: clear, pendingUntilClose: pending.length, findings: findings.length }));
    expect(findings).toEqual([]);
    expect(ok + typed).toBeGreaterThan(300);
  }, 60_000);
});

describe('fuzz: framework', () => {
  it(`malformed tasks in /tasks and hostile submits: every task ends with one status, nothing crashes (seed ${SEED})`, async () => {
    const r = seeded(SEED + 3);
    const namespace = testNamespace('ns');
    const opts = { connect: { backend: 'memory' as const }, namespace, sessionTimeoutMs: 3000, logger: keepingLogger() };
    const master = createMaster(opts);
    const worker = createWorker({ ...opts, concurrency: 4, handler: async (p: unknown) => ({ echo: p }) });
    cleanups.push(() => master.close(), () => worker.close());
    const zk = await connect({ backend: 'memory' }, { namespace, logger: keepingLogger() });
    cleanups.push(() => zk.close());
    const tasks = createTaskClient(zk);
    const findings: string[] = [];
    const good: string[] = [];
    let typed = 0;
    for (let i = 0; i < 60; i++) {
      const payload = r.pick<unknown>([{ n: i }, 'text', 0, null, [1, 2], undefined, 1n, () => 1, Symbol('s'), booby, { deep: { deeper: [i] } }, 'é'.repeat(600_000), NaN, { toJSON() { throw new Error('toJSON throws'); } }]);
      const options = r.pick<unknown>([undefined, null, {}, 5, booby, { attempts: 0 }, { attempts: -1 }, { priority: 'high' }, { timeoutMs: NaN }, { delayMs: -5 }, { labels: 'x' }, { key: '' }, { key: 'k/../x' }, { attempts: 2 }]);
      try {
        good.push(await tasks.submit(payload, options as never));
      } catch (err) {
        if (classify(err, true) !== 'finding') typed++;
        else findings.push(`submit(${show(payload)}, ${show(options)}) threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
      }
    }
    // Hand-written garbage, as `corral set` or a buggy producer could leave it.
    const garbage = ['{not json', '', 'null', '[]', '42', '{"payload":1}', JSON.stringify({ payload: 1, opts: null }), '\u0000\u0001', '{"payload":1,"opts":{},"attempts":"x"}'];
    const bad: string[] = [];
    await ensurePath(zk, '/tasks');
    for (const g of garbage) bad.push((await zk.create('/tasks/task-', g, { mode: 'persistent_sequential' })).slice('/tasks/'.length));
    const all = [...good, ...bad];
    const deadline = performance.now() + 20_000;
    const states = new Map<string, string>();
    while (performance.now() < deadline && states.size < all.length) {
      for (const id of all) {
        if (states.has(id)) continue;
        const s = await zk.getData(`/status/${id}`).catch(() => null);
        if (s) states.set(id, (JSON.parse(s.data.toString()) as { state: string }).state);
      }
      await sleep(100);
    }
    const missing = all.filter((id) => !states.has(id));
    const badStates = bad.map((id) => states.get(id));
    // Nothing may be left in /tasks or /assign either.
    const leftTasks = (await zk.getChildren('/tasks')).children.length;
    console.log(figureLine('fuzz-framework', {
      seed: SEED, submitted: good.length, rejectedTyped: typed, malformed: bad.length, statuses: states.size, missing: missing.length, leftInTasks: leftTasks,
      malformedFailed: badStates.filter((s) => s === 'failed').length, findings: findings.length,
    }));
    expect(findings).toEqual([]);
    expect(missing).toEqual([]);
    expect(badStates.every((s) => s === 'failed')).toBe(true);
    expect(leftTasks).toBe(0);
    expect(master.isLeader).toBe(true);
  }, 60_000);
});

describe('fuzz: CLI', () => {
  it(`random command lines return an exit code, never throw (seed ${SEED})`, async () => {
    const r = seeded(SEED + 4);
    const namespace = testNamespace('ns');
    const store = memoryStore(namespace);
    const cmds = ['ls', 'get', 'set', 'create', 'rm', 'stat', 'tree', 'tasks', 'workers', 'status', 'cancel', 'submit', 'nope', '', '--help', '--version'];
    const flags = ['--json', '--verbose', '--session-timeout', '-1', '--session-timeout', 'abc', '--connect-timeout', '0', '--namespace', namespace, '-n', '', '--redis', 'http://x', '--', '-', '--mode', 'bogus', '--version', '-v', '--recursive', '--limit', '-3'];
    const findings: string[] = [];
    const codes = new Map<number, number>();
    for (let i = 0; i < 120; i++) {
      const argv: string[] = [r.pick(cmds)];
      const extra = r.int(5);
      for (let k = 0; k < extra; k++) {
        const p = path(r, '/c');
        argv.push(r.chance(0.5) && typeof p === 'string' ? p : r.pick(flags));
      }
      const d = data(r);
      if (r.chance(0.3) && typeof d === 'string') argv.push(d.slice(0, 2000));
      if (!argv.includes('--namespace')) argv.push('--namespace', namespace);
      const stop = new AbortController();
      const stdin = new PassThrough();
      stdin.end('{"payload":1}\n');
      let out = 0;
      const io = { out: (t: string | Uint8Array) => { out += t.length; }, err: () => undefined, errIsTTY: false, env: {}, stdin, cwd: process.cwd() };
      const res = await settle(runCli(argv, io, { target: { backend: 'memory', store }, stop: stop.signal }), 5000);
      stop.abort();
      const where = `corral ${argv.map(show).join(' ')}`;
      if (res === 'pending') findings.push(`${where} still running after 5 s`);
      else if ('err' in res) findings.push(`${where} threw ${(res.err as Error)?.constructor?.name}: ${(res.err as Error)?.message}`);
      else {
        const code = res.value as number;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (![0, 1, 2, 3].includes(code)) findings.push(`${where} exited ${code}`);
      }
    }
    console.log(figureLine('fuzz-cli', { seed: SEED, commandLines: 120, ...Object.fromEntries([...codes].map(([c, n]) => [`exit${c}`, n])), findings: findings.length }));
    expect(findings).toEqual([]);
  }, 60_000);
});
