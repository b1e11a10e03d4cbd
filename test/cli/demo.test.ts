import { describe, expect, it } from 'vitest';
import { cli } from './harness.js';

// `npx corral demo` is the README's first command: it must work with no set-up, survive
// the kills it stages, finish well under a minute, and exit 0 only if every task was done.
describe('corral demo', () => {
  it('runs every task to success through a master kill and a worker kill, and exits 0', async () => {
    const started = Date.now();
    const r = await cli(['demo']);
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    expect(took).toBeLessThan(30_000);
    expect(r.stdout).toContain('Every task done.');
    expect(r.stdout).toMatch(/tasks\s+240\/240 succeeded\n/);
    expect(r.stdout).toMatch(/retried\s+[1-9]\d* /);
    expect(r.stdout).toMatch(/reassigned\s+[1-9]\d* \(taken back from the killed worker/);
    expect(r.stdout).toMatch(/fail-over\s+backup master elected \d+ ms after the kill/);
    expect(r.stderr).toMatch(/killed the active master master-1/);
    expect(r.stderr).toMatch(/master-2 took over/);
    expect(r.stderr).toMatch(/killed worker-\d-[0-9a-f]{8} while it held \d+ task\(s\)/);
    expect(r.stderr).toMatch(/\[█{24}\] 100% 240\/240 tasks/);
  });

  it('--json prints the events and a summary a script can check', async () => {
    const r = await cli(['demo', '--json', '--tasks', '80', '--workers', '3']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = lines[lines.length - 1] as { ok: boolean; summary: { tasks: number; succeeded: number; reassigned: number } };
    expect(last.ok).toBe(true);
    expect(last.summary).toMatchObject({ tasks: 80, succeeded: 80 });
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(['elected', 'submitted', 'masterKilled', 'workerKilled']));
  });

  it('exits 1 and says so when a task fails for good', async () => {
    const r = await cli(['demo', '--tasks', '60', '--poison', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NOT every task succeeded.');
    expect(r.stdout).toMatch(/tasks\s+58\/60 succeeded, 2 failed\n/);
  });

  it('rejects bad knobs with a usage error', async () => {
    expect((await cli(['demo', '--workers', '1'])).code).toBe(2);
    expect((await cli(['demo', '--flaky', '2'])).stderr).toBe('corral: --flaky must be between 0 and 1, got 2\n');
  });
});
