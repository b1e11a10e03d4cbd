import { randomUUID } from 'node:crypto';
import { connect, ConnectionLossError, MemoryBackend, memoryStore, type Backend, type Client, type ConnectOptions } from '../../core/index.js';

export type BackendKind = 'memory' | 'redis';
export const REDIS_URL = process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Backends to run each recipe test on: memory always, Redis once core/redis is built. */
async function available(): Promise<BackendKind[]> {
  const out: BackendKind[] = ['memory'];
  try {
    const zk = await connect({ redis: REDIS_URL }, { namespace: `probe-${randomUUID()}`, sessionTimeoutMs: 1000 });
    await zk.close();
    out.push('redis');
  } catch {
    // core/redis is still a placeholder (or Redis is down): memory only.
  }
  return out;
}

export const BACKENDS: BackendKind[] = await available();

export function newNamespace(): string {
  return `ns-${randomUUID()}`;
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
 * A client whose next create is applied by the backend but whose reply is lost (the
 * client gets ConnectionLossError, as when the link drops mid-call).
 */
export async function lossyClient(kind: BackendKind, namespace: string, options: ConnectOptions = {}): Promise<{ zk: Client; loseNextCreateReply: () => void; creates: () => number }> {
  let lose = false;
  let n = 0;
  const backend = await rawBackend(kind, namespace);
  const create = backend.create.bind(backend);
  backend.create = async (...args) => {
    const r = await create(...args);
    n++;
    if (lose) {
      lose = false;
      throw new ConnectionLossError('reply lost (test)');
    }
    return r;
  };
  const zk = await connect({ backend }, { sessionTimeoutMs: 1000, ...options, namespace });
  return { zk, loseNextCreateReply: () => { lose = true; }, creates: () => n };
}

/** Cuts / heals a memory client's link (a simulated partition). */
export function cut(zk: Client): void {
  (zk.backend as MemoryBackend).cut();
}
export function heal(zk: Client): void {
  (zk.backend as MemoryBackend).heal();
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
