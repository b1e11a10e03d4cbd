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
    const lane = async (s: number, l: number) => {
      while (performance.now() < end) {
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
