import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ns, REDIS, spawnCli } from './harness.js';

const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

// `corral lock` as separate OS processes on Redis, the way cron jobs on several machines use it.
describe('corral lock across processes (Redis)', () => {
  it('gives two shell commands mutual exclusion', async () => {
    const n = ns();
    const log = join(mkdtempSync(join(tmpdir(), 'corral-lock-')), 'log');
    const section = (who: string) => ['sh', '-c', `echo "$CORRAL_FENCING_TOKEN ${who} in" >> ${log}; sleep 0.4; echo "${who} out" >> ${log}`];
    const [a, b] = await Promise.all([
      cli(['lock', 'report', '--redis', REDIS, '-n', n, '--', ...section('a')]),
      cli(['lock', 'report', '--redis', REDIS, '-n', n, '--', ...section('b')]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const lines = read(log).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    // in/out pairs never interleave, and the second holder's token is higher.
    const first = lines[0].split(' ')[1];
    const second = first === 'a' ? 'b' : 'a';
    expect(lines.map((l) => l.replace(/^\d+ /, ''))).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(Number(lines[2].split(' ')[0])).toBeGreaterThan(Number(lines[0].split(' ')[0]));
  });

  it("returns the command's exit code", async () => {
    const r = await cli(['lock', 'x', '--redis', REDIS, '-n', ns(), '--', 'sh', '-c', 'exit 42']);
    expect(r.code).toBe(42);
  });

  it('a holder killed with SIGKILL frees the lock for the next one within the session timeout', async () => {
    const n = ns();
    const log = join(mkdtempSync(join(tmpdir(), 'corral-lock-')), 'log');
    const holder = spawnCli(['lock', 'job', '--redis', REDIS, '-n', n, '--session-timeout', '1000', '--', 'sh', '-c', `echo a >> ${log}; exec sleep 2`]);
    while (!read(log).includes('a')) await new Promise((r) => setTimeout(r, 20));
    const waiter = spawnCli(['lock', 'job', '--redis', REDIS, '-n', n, '--session-timeout', '1000', '--', 'sh', '-c', `echo b >> ${log}`]);
    await new Promise((r) => setTimeout(r, 800)); // the waiter is queued behind the holder
    expect(read(log)).toBe('a\n');
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    const r = await waiter.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(read(log)).toBe('a\nb\n');
    // Session timeout (1000 ms) plus reaping and process start-up on a busy machine.
    expect(Date.now() - killedAt).toBeLessThan(1000 + 2000);
  });
});
