import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Client, SessionState, WatchEvent } from '../../core/index.js';
import type { BackendHarness } from './harness.js';
import { checkTreeInvariants, TreeHistory, type TreeSnapshot } from './invariants.js';

/** What a conformance case works with: clients on the case's own namespace, and the checker. */
export interface CaseContext {
  readonly harness: BackendHarness;
  /** A new client (own session) on this case's namespace; closed after the case. */
  client(opts?: { sessionTimeoutMs?: number; maxDataBytes?: number }): Promise<Client>;
  /** Runs the tree-invariant checker now (it also runs after every case). */
  check(): Promise<TreeSnapshot>;
}

/**
 * Wires a harness into the current `describe`: fresh namespace per case, every client
 * closed after it, and the tree-invariant checker run after each case, once while the
 * case's clients are still open and once after they closed (their ephemerals gone).
 */
export function useHarness(harness: BackendHarness): CaseContext {
  let clients: Client[] = [];
  let history = new TreeHistory();
  let inspector: Client | null = null;

  const inspect = async (): Promise<Client> => (inspector ??= await harness.connect({ sessionTimeoutMs: 10_000 }));
  const ctx: CaseContext = {
    harness,
    async client(opts) {
      const zk = await harness.connect(opts);
      clients.push(zk);
      return zk;
    },
    async check() {
      return checkTreeInvariants(await inspect(), () => harness.liveSessions(), history);
    },
  };

  beforeAll(() => harness.setup());
  afterAll(() => harness.teardown());
  beforeEach(() => {
    harness.newCase();
    clients = [];
    history = new TreeHistory();
    inspector = null;
  });
  afterEach(async () => {
    try {
      await ctx.check();
      for (const zk of clients) if (zk.state !== 'closed') await harness.heal(zk);
      await Promise.all(clients.map((zk) => zk.close()));
      await ctx.check();
    } finally {
      await Promise.all(clients.map((zk) => zk.close().catch(() => undefined)));
      await inspector?.close();
    }
  });
  return ctx;
}

/** Resolves with the next event a `watch` option function receives (or rejects after `ms`). */
export function recorder(): { watcher: (ev: WatchEvent) => void; events: WatchEvent[]; next(ms?: number): Promise<WatchEvent> } {
  const events: WatchEvent[] = [];
  const waiting: Array<(ev: WatchEvent) => void> = [];
  let taken = 0;
  return {
    events,
    watcher(ev) {
      events.push(ev);
      const w = waiting.shift();
      if (w) {
        taken++;
        w(ev);
      }
    },
    next(ms = 2000) {
      if (taken < events.length) return Promise.resolve(events[taken++]);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no watch event within ${ms} ms`)), ms);
        waiting.push((ev) => {
          clearTimeout(t);
          resolve(ev);
        });
      });
    },
  };
}

/** Resolves when the client reaches `state` (or rejects after `ms`). */
export function nextState(zk: Client, state: SessionState, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      zk.off('state', on);
      reject(new Error(`state ${state} not reached within ${ms} ms (now ${zk.state})`));
    }, ms);
    const on = (s: SessionState) => {
      if (s !== state) return;
      clearTimeout(t);
      zk.off('state', on);
      resolve();
    };
    zk.on('state', on);
  });
}

/** Polls until `fn` returns true (or throws after `ms`): for effects with no event to wait on. */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (performance.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
