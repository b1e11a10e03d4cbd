import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './stats.js';

export interface LoadResult extends Summary {
  opsPerSec: number;
  errors: number;
  firstError?: unknown;
}

export interface LoadOptions {
  /** Sessions (clients), each with `inflight` operations outstanding at all times. */
  sessions: number;
  inflight: number;
  /** Measured phase length. */
  durationMs: number;
  /** Unmeasured warm-up first (JIT, connection pools, server caches). */
  warmupMs?: number;
}

/**
 * Closed-loop load: `sessions × inflight` lanes, each issuing its next operation as soon as the
 * previous one completes, for a fixed time. `op(session, lane)` runs one operation.
 * Errors are counted (a benchmark that errors is reported as such, not hidden).
 */
export async function closedLoop(options: LoadOptions, op: (session: number, lane: number) => Promise<unknown>): Promise<LoadResult> {
  if (options.warmupMs) await phase(options.warmupMs, false);
  return phase(options.durationMs, true);

  async function phase(ms: number, record: boolean): Promise<LoadResult> {
    const latencies: number[] = [];
    let errors = 0;
    let firstError: unknown;
    const start = performance.now();
    const end = start + ms;
    let completed = 0;
    const breather = yielder();
    const lane = async (s: number, l: number) => {
      while (performance.now() < end) {
        await breather();
        const t0 = performance.now();
        try {
          await op(s, l);
          completed++;
          if (record) latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err;
          if (errors > 1000) throw err;
        }
      }
    };
    const lanes: Promise<void>[] = [];
    for (let s = 0; s < options.sessions; s++) for (let l = 0; l < options.inflight; l++) lanes.push(lane(s, l));
    await Promise.all(lanes);
    const elapsed = performance.now() - start;
    return { ...summarize(latencies), opsPerSec: (completed * 1000) / elapsed, errors, firstError };
  }
}

/**
 * Returns a function to await between operations: it yields to the event loop's macrotask
 * queue once at least `everyMs` have passed since the last yield, and is a no-op otherwise.
 * Operations on the embedded memory backend complete in microtasks, so a closed loop over
 * them would never let a timer run — the clients' heartbeats included, and their sessions
 * expire at the timeout (a product issue, reported). A real application yields to I/O;
 * this keeps the loop honest at a cost of one setImmediate per 50 ms.
 */
export function yielder(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise((r) => setImmediate(r));
    last = performance.now();
  };
}
