import {
  BadVersionError, ConnectionLossError, NoNodeError, NodeExistsError, SessionExpiredError, type Client,
} from '../../core/index.js';
import { History, type Operation, type RegisterInput, type RegisterOutput } from '../faults/index.js';
import type { FaultyClient, Target } from './targets.js';

/** What a run did, for the figures each test states. */
export interface RunFigures {
  /** Operations issued (reads and writes). */
  ops: number;
  /** …that completed with a result (including definite errors like BadVersion). */
  completed: number;
  /** …whose outcome is unknown (ConnectionLoss/expiry while in flight). */
  unknown: number;
  /** Faults injected on client links. */
  faults: number;
  /** Sessions that expired (the client was replaced by a new one). */
  expirations: number;
  durationMs: number;
}

/** How faults are injected while a workload runs. */
export interface FaultPlan {
  /** Pause between faults, ms (uniform in [min, max]). */
  everyMs: [number, number];
  /** Length of each fault, ms (uniform in [min, max]); beyond the session timeout it expires. */
  lengthMs: [number, number];
  /** Which kinds to draw from. Default both. */
  kinds?: ('cut' | 'block')[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const between = ([a, b]: [number, number]): number => a + Math.random() * (b - a);

/**
 * Runs `clients` concurrent clients for `durationMs`, each calling `step` in a loop,
 * while faults hit random clients' links. A client whose session expires is replaced by
 * a new one (a process reconnecting with a new session); a client that lost its link
 * waits until it is back rather than issuing ops that would fail fast.
 */
export async function runClients(target: Target, options: {
  clients: number;
  durationMs: number;
  sessionTimeoutMs: number;
  faults?: FaultPlan;
  /** Pause between one client's ops, ms (uniform in [min, max]); keeps histories checkable. Default [1, 4]. */
  pauseMs?: [number, number];
  /** Runs alongside the clients (e.g. kills and restarts the server); gets the run's end time. */
  during?: (endsAt: number) => Promise<void>;
  /** Called with every client the run connects (the first ones and replacements). */
  onClient?: (zk: Client) => void;
  step: (zk: Client, client: number) => Promise<void>;
}): Promise<Pick<RunFigures, 'faults' | 'expirations' | 'durationMs'>> {
  const slots: FaultyClient[] = [];
  for (let i = 0; i < options.clients; i++) {
    slots.push(await target.connect({ sessionTimeoutMs: options.sessionTimeoutMs }));
    options.onClient?.(slots[i].zk);
  }
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  let faults = 0;
  let expirations = 0;
  const faulted = new Set<FaultyClient>();

  const loop = async (i: number): Promise<void> => {
    while (performance.now() < end) {
      const c = slots[i];
      const s = c.zk.state;
      if (s === 'expired') {
        expirations++;
        faulted.delete(c);
        await c.close();
        slots[i] = await connectRetrying(target, options.sessionTimeoutMs, end);
        options.onClient?.(slots[i].zk);
        continue;
      }
      if (s === 'suspended' || s === 'connecting') {
        await c.zk.whenConnected(options.sessionTimeoutMs * 2).catch(() => undefined);
        continue;
      }
      try {
        await options.step(c.zk, i);
      } catch (err) {
        if (!(err instanceof ConnectionLossError || err instanceof SessionExpiredError)) throw err;
      }
      await sleep(between(options.pauseMs ?? [1, 4]));
    }
  };

  const injector = async (): Promise<void> => {
    const plan = options.faults;
    if (!plan) return;
    const kinds = plan.kinds ?? ['cut', 'block'];
    while (performance.now() < end - plan.lengthMs[0]) {
      await sleep(between(plan.everyMs));
      const i = Math.floor(Math.random() * slots.length);
      const c = slots[i];
      if (faulted.has(c) || performance.now() >= end) continue;
      faulted.add(c);
      faults++;
      const kind = kinds[Math.floor(Math.random() * kinds.length)];
      if (kind === 'cut') c.cut(); else c.block();
      const length = Math.min(between(plan.lengthMs), Math.max(0, end - performance.now()));
      // Heal on its own timer so several clients can be partitioned at once.
      setTimeout(() => {
        c.heal();
        faulted.delete(c);
      }, length);
    }
  };

  await Promise.all([...slots.map((_, i) => loop(i)), injector(), options.during?.(end)]);
  for (const c of slots) c.heal();
  const durationMs = performance.now() - t0;
  for (const c of slots) await c.close();
  return { faults, expirations, durationMs };
}

async function connectRetrying(target: Target, sessionTimeoutMs: number, until: number): Promise<FaultyClient> {
  for (;;) {
    try {
      return await target.connect({ sessionTimeoutMs });
    } catch (err) {
      // The server may be down for a while (restart, fail-over): keep trying until the run ends.
      if (!(err instanceof ConnectionLossError) || performance.now() > until + 10_000) throw err;
      await sleep(50);
    }
  }
}

/**
 * Versioned read / compare-and-set writes on a few znodes, recorded for the
 * linearizability checker. Reads whose outcome is unknown are dropped (they change
 * nothing); writes whose outcome is unknown stay open forever in the history.
 */
export async function registerWorkload(target: Target, options: {
  clients: number;
  znodes: number;
  durationMs: number;
  sessionTimeoutMs: number;
  faults?: FaultPlan;
  during?: (endsAt: number) => Promise<void>;
  onClient?: (zk: Client) => void;
}): Promise<{ history: Operation<RegisterInput, RegisterOutput>[]; figures: RunFigures; paths: string[] }> {
  const setup = await target.connect({ sessionTimeoutMs: 5000 });
  const root = '/reg';
  await setup.zk.create(root);
  const paths: string[] = [];
  for (let i = 0; i < options.znodes; i++) paths.push(await setup.zk.create(`${root}/r${i}`, ''));
  await setup.close();

  const history = new History<RegisterInput, RegisterOutput>();
  const seenVersion = new Map<string, number>();
  let ops = 0;
  let counter = 0;
  const droppedReads = new Set<number>();

  const step = async (zk: Client, client: number): Promise<void> => {
    const path = paths[Math.floor(Math.random() * paths.length)];
    const key = `${client}:${path}`;
    ops++;
    if (Math.random() < 0.5) {
      const id = history.invoke(client, { path, op: 'read' });
      try {
        const { data, stat } = await zk.getData(path);
        history.ok(id, { value: data.toString(), version: stat.version });
        seenVersion.set(key, stat.version);
      } catch (err) {
        if (err instanceof NoNodeError) {
          history.ok(id, { error: 'NoNode' });
          return;
        }
        droppedReads.add(id);
        throw err;
      }
      return;
    }
    const value = `c${client}-${counter++}`;
    const expectedVersion = Math.random() < 0.1 ? -1 : (seenVersion.get(key) ?? 0);
    const id = history.invoke(client, { path, op: 'write', value, expectedVersion });
    try {
      const stat = await zk.setData(path, value, expectedVersion);
      history.ok(id, { ok: true, version: stat.version });
      seenVersion.set(key, stat.version);
    } catch (err) {
      if (err instanceof BadVersionError) {
        history.ok(id, { error: 'BadVersion' });
        seenVersion.delete(key);
        return;
      }
      if (err instanceof NoNodeError) {
        history.ok(id, { error: 'NoNode' });
        return;
      }
      history.unknown(id);
      throw err;
    }
  };

  const run = await runClients(target, { ...options, step });

  // One final read of each znode by a fresh client settles what the unknown writes did.
  const last = await target.connect({ sessionTimeoutMs: 5000 });
  for (const path of paths) {
    const id = history.invoke('final', { path, op: 'read' });
    const r = await last.zk.getData(path).catch((err: unknown) => {
      if (err instanceof NoNodeError) return null;
      throw err;
    });
    history.ok(id, r ? { value: r.data.toString(), version: r.stat.version } : { error: 'NoNode' });
  }
  await last.close();

  const all = history.operations().filter((_, i) => !droppedReads.has(i));
  const unknown = all.filter((o) => o.ret === Infinity).length;
  return { history: all, paths, figures: { ops, completed: all.length - unknown - paths.length, unknown, ...run } };
}

/**
 * Sequential creates under one parent by every client: the suffixes must be unique and
 * rise in real-time order (checked as tickets). Returns the names each create returned.
 */
export async function sequentialWorkload(target: Target, options: {
  clients: number;
  durationMs: number;
  sessionTimeoutMs: number;
  faults?: FaultPlan;
}): Promise<{ history: Operation<{ op: 'take' }, number>[]; figures: RunFigures; created: string[]; listed: string[] }> {
  const setup = await target.connect({ sessionTimeoutMs: 5000 });
  await setup.zk.create('/seq').catch((err) => { if (!(err instanceof NodeExistsError)) throw err; });
  await setup.close();
  const history = new History<{ op: 'take' }, number>();
  const created: string[] = [];
  let ops = 0;
  const step = async (zk: Client, client: number): Promise<void> => {
    ops++;
    await history.record(client, { op: 'take' }, async () => {
      const path = await zk.create('/seq/s-', `by ${client}`, { mode: 'persistent_sequential' });
      created.push(path);
      // The sequence number is the last 10 digits (DESIGN §1).
      return Number(path.slice(-10));
    });
  };
  const run = await runClients(target, { ...options, step });
  const check = await target.connect({ sessionTimeoutMs: 5000 });
  const listed: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await check.zk.getChildren('/seq', after === undefined ? { limit: 1000 } : { limit: 1000, after });
    listed.push(...page.children.map((c) => `/seq/${c}`));
    if (page.next === undefined) break;
    after = page.next;
  }
  await check.close();
  const all = history.operations();
  const unknown = all.filter((o) => o.ret === Infinity).length;
  return { history: all, created, listed, figures: { ops, completed: all.length - unknown, unknown, ...run } };
}

/** True for the errors a fault may cause; anything else is a finding. */
export function isFaultError(err: unknown): boolean {
  return err instanceof ConnectionLossError || err instanceof SessionExpiredError;
}

/** Formats figures as one line for the test log and the docs. */
export function figureLine(name: string, f: Record<string, number | string | boolean>): string {
  const parts = Object.entries(f).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(0) : v}`);
  return `FIGURES ${name}: ${parts.join(' ')}`;
}

