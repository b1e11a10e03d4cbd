import { expect } from 'vitest';
import { connect, ConnectionLossError, MemoryBackend, memoryStore, type Backend, type Client, type ConnectOptions } from '../../core/index.js';
import type { Lease } from '../../recipes/index.js';
import { RedisBackend } from '../../core/redis/index.js';
import { startProxy, type Proxy } from '../faults/index.js';
import { selectedBackends } from '../reliability/targets.js';
import { testNamespace } from '../namespace.js';

export type BackendKind = 'memory' | 'redis';
export const REDIS_URL = process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Fails the test file loudly (rather than skipping its Redis half) when Redis does not answer. */
async function requireRedis(): Promise<void> {
  let zk: Client;
  try {
    zk = await connect({ redis: REDIS_URL }, { namespace: testNamespace('probe'), sessionTimeoutMs: 1000 });
  } catch (err) {
    throw new Error(
      `The recipe tests run on Redis too, and no Redis answered at ${REDIS_URL} (${(err as Error).message}). ` +
      'Start one (CI does: .ci/run), point CORRAL_REDIS_URL at one, or set CORRAL_BACKENDS=memory to run the memory half only.',
      { cause: err },
    );
  }
  await zk.close();
}

export const BACKENDS: BackendKind[] = selectedBackends();
if (BACKENDS.includes('redis')) await requireRedis();

export function newNamespace(): string {
  return testNamespace('ns');
}

/** A client on the given backend. */
export function client(kind: BackendKind, namespace: string, options: ConnectOptions = {}): Promise<Client> {
  const o = { sessionTimeoutMs: 1000, ...options, namespace };
  return kind === 'memory' ? connect({ backend: 'memory' }, o) : connect({ redis: REDIS_URL }, o);
}

/** A fresh backend connection of the given kind, for tests that wrap its calls. */
async function rawBackend(kind: BackendKind, namespace: string): Promise<Backend> {
  if (kind === 'memory') return new MemoryBackend(memoryStore(namespace));
  const { createRedisBackend } = await import('../../core/redis/index.js');
  const { defaultLogger } = await import('../../core/logger.js');
  return createRedisBackend({ redis: REDIS_URL }, namespace, defaultLogger());
}

/**
 * A client whose backend counts every watch event it hands to the client: how the
 * herd-effect tests see who was woken.
 */
export async function countingClient(kind: BackendKind, namespace: string, options: ConnectOptions = {}): Promise<{ zk: Client; events: () => number }> {
  let n = 0;
  const backend = await rawBackend(kind, namespace);
  const onEvent = backend.onEvent.bind(backend);
  backend.onEvent = (listener) => onEvent((ev) => {
    n++;
    listener(ev);
  });
  const zk = await connect({ backend }, { sessionTimeoutMs: 1000, ...options, namespace });
  return { zk, events: () => n };
}

/**
 * A client whose backend hands it each watch event `delayMs` late (in order): events that
 * trail the replies of the calls that caused them, as on a busy link.
 */
export async function laggingEventsClient(kind: BackendKind, namespace: string, delayMs: number, options: ConnectOptions = {}): Promise<Client> {
  const backend = await rawBackend(kind, namespace);
  const onEvent = backend.onEvent.bind(backend);
  backend.onEvent = (listener) => onEvent((ev) => {
    setTimeout(() => listener(ev), delayMs);
  });
  return connect({ backend }, { sessionTimeoutMs: 1000, ...options, namespace });
}

/**
 * A client whose next create (or multi) is applied by the backend but whose reply is lost:
 * the client gets ConnectionLossError, as when the link drops mid-call, and is suspended
 * until its next heartbeat gets through. `creates()` / `multis()` count the calls the
 * backend applied. Only multis of two or more ops count as multis here: on Redis a single
 * create or delete is itself a one-op multi inside the backend.
 */
export async function lossyClient(kind: BackendKind, namespace: string, options: ConnectOptions = {}): Promise<{
  zk: Client; loseNextCreateReply: () => void; loseNextMultiReply: () => void; creates: () => number; multis: () => number;
}> {
  const lose = { create: false, multi: false };
  const applied = { create: 0, multi: 0 };
  const backend = await rawBackend(kind, namespace);
  const lossy = <A extends unknown[], R>(op: 'create' | 'multi', call: (...args: A) => Promise<R>, counts: (...args: A) => boolean) =>
    async (...args: A): Promise<R> => {
      const r = await call(...args);
      if (!counts(...args)) return r;
      applied[op]++;
      if (lose[op]) {
        lose[op] = false;
        throw new ConnectionLossError('reply lost (test)');
      }
      return r;
    };
  backend.create = lossy('create', backend.create.bind(backend), (..._args) => true);
  backend.multi = lossy('multi', backend.multi.bind(backend), (_session, ops) => ops.length > 1);
  const zk = await connect({ backend }, { sessionTimeoutMs: 1000, ...options, namespace });
  return {
    zk,
    loseNextCreateReply: () => { lose.create = true; },
    loseNextMultiReply: () => { lose.multi = true; },
    creates: () => applied.create,
    multis: () => applied.multi,
  };
}

/** Proxies in front of Redis, per client made by {@link faultyClient}. */
const links = new Map<Client, Proxy>();

/**
 * A client whose link {@link cut} and {@link heal} can break for real: on memory the
 * backend's simulated partition, on Redis a TCP proxy of its own between the client and
 * Redis (test/faults/proxy.ts), so a cut hits its command and pub/sub links alike.
 */
export async function faultyClient(kind: BackendKind, namespace: string, options: ConnectOptions = {}): Promise<Client> {
  if (kind === 'memory') return client(kind, namespace, options);
  const target = new URL(REDIS_URL);
  const proxy = await startProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  const via = new URL(REDIS_URL);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  let zk: Client;
  try {
    zk = await connect({ redis: via.toString() }, { sessionTimeoutMs: 1000, ...options, namespace });
  } catch (err) {
    await proxy.close();
    throw err;
  }
  links.set(zk, proxy);
  zk.on('state', (s) => {
    if (s !== 'closed') return;
    links.delete(zk);
    void proxy.close();
  });
  return zk;
}

/** Cuts a client's link (a partition): ops fail with ConnectionLossError, the session is suspended. */
export function cut(zk: Client): void {
  const proxy = links.get(zk);
  if (proxy) proxy.cut();
  else if (zk.backend instanceof MemoryBackend) zk.backend.cut();
  else throw new Error('cut() needs a memory client or a Redis client from faultyClient()');
}

/** Ends a {@link cut}; resolves once the client's link is up again (its session may have expired meanwhile). */
export async function heal(zk: Client): Promise<void> {
  const proxy = links.get(zk);
  if (!proxy) {
    if (!(zk.backend instanceof MemoryBackend)) throw new Error('heal() needs a memory client or a Redis client from faultyClient()');
    zk.backend.heal();
    return;
  }
  proxy.heal();
  // ioredis reconnects by itself, within its retry delay (≤ 250 ms).
  const be = zk.backend;
  const deadline = Date.now() + 5000;
  while (be instanceof RedisBackend && !be.isConnected && zk.state !== 'closed' && Date.now() < deadline) await sleep(10);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves when `pred` is true, polling; rejects after `ms`. */
export async function until(pred: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  // A predicate that throws (e.g. NoNodeError before a znode exists) counts as false.
  while (!(await Promise.resolve().then(pred).catch(() => false))) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The two kinds of client a recipe test makes on one backend, each kept in `open` so the
 * test file's afterEach closes it: `zk` a plain client, `faulty` one whose link cut()/heal()
 * break for real (on Redis, through its own TCP proxy).
 */
export function clientMakers(kind: BackendKind, open: Client[]): {
  zk: (ns: string, sessionTimeoutMs?: number) => Promise<Client>;
  faulty: (ns: string, sessionTimeoutMs?: number) => Promise<Client>;
} {
  const keep = (c: Client): Client => {
    open.push(c);
    return c;
  };
  return {
    zk: async (ns, sessionTimeoutMs = 1000) => keep(await client(kind, ns, { sessionTimeoutMs })),
    faulty: async (ns, sessionTimeoutMs = 1000) => keep(await faultyClient(kind, ns, { sessionTimeoutMs })),
  };
}

/** Counts a client's reads of `dir`'s child list (a contender list). */
export function countListReads(c: Client, dir: string): () => number {
  let n = 0;
  const calls = c as unknown as Record<'getChildren', (...args: unknown[]) => Promise<unknown>>;
  const list = calls.getChildren.bind(c);
  calls.getChildren = (...args: unknown[]) => {
    if (args[0] === dir) n++;
    return list(...args);
  };
  return () => n;
}

/**
 * Asserts a waiter is still held back (`granted()` false), then that `holder`'s release
 * grants it, with a higher fencing token; gives that lease back too.
 */
export async function grantedOnlyAfter(holder: Lease, waiting: Promise<Lease>, granted: () => boolean): Promise<void> {
  expect(granted()).toBe(false);
  await holder.release();
  const lease = await waiting;
  expect(lease.token).toBeGreaterThan(holder.token);
  await lease.release();
}
