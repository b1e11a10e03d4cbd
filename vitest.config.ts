import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A run id for the tests' namespaces, and the removal of this run's keys afterwards.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Tests that start redis-server, SIGKILL processes or cut TCP links need wall-clock
    // time more than CPU; a few more workers than cores keeps the run short.
    maxWorkers: 4,
  },
});
