import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('closing', () => {
  it('a program that closed its master, worker and client exits at once (no timer keeps it alive)', async () => {
    const t0 = performance.now();
    const { stdout, stderr } = await promisify(execFile)(`${root}node_modules/.bin/tsx`, ['test/framework/fixtures/close-and-exit.ts'], {
      cwd: root, timeout: 25_000, env: { ...process.env, CORRAL_LOG_LEVEL: 'warn' },
    });
    const ms = performance.now() - t0;
    expect(stderr).toBe('');
    expect(stdout).toBe('RESULT 42\n');
    // tsx start-up takes 1–3 s here; the worker's drain timer alone used to hold 30 s.
    expect(ms).toBeLessThan(10_000);
  }, 30_000);
});
