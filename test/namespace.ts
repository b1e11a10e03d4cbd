import { randomUUID } from 'node:crypto';

/**
 * A fresh namespace for one test (tests run in parallel on one Redis and never flush it).
 * It carries this run's id (CORRAL_TEST_RUN, set by test/global-setup.ts), so the run's
 * global teardown can remove every namespace it made, and nothing of another run.
 */
export function testNamespace(prefix = 'ns'): string {
  return `${prefix}-${process.env.CORRAL_TEST_RUN ?? 'solo'}-${randomUUID()}`;
}
