import { afterEach } from 'vitest';

/**
 * Per test file: `later(x, stop)` returns `x` and has `stop(x)` run after the current test,
 * last registered first, whatever the test's outcome (servers, clients, connections).
 */
export function useCleanups(): <T>(x: T, stop: (x: T) => Promise<unknown>) => T {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });
  return (x, stop) => {
    cleanups.push(() => stop(x));
    return x;
  };
}
