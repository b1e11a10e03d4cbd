import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../faults/index.js';
import { cli, ns } from './harness.js';

// Each case spawns the real binary: what a user sees is one clear line on stderr, a
// non-zero exit code, and no stack trace unless --verbose.
describe('the corral binary reports bad input in one line with an exit code', () => {
  const oneLine = (stderr: string) => {
    expect(stderr.endsWith('\n')).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('unknown command: exit 2', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('corral: unknown command "frobnicate" (run corral --help for the list)\n');
    expect(r.stdout).toBe('');
  });

  it('no command at all: exit 2 and a hint', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('corral --help');
  });

  it('bad Redis URL: exit 2, the URL named, the password hidden', async () => {
    const r = await cli(['ls', '/', '--redis', 'http://user:secret@host:1']);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^corral: bad Redis URL .*scheme must be redis:\/\/ or rediss:\/\//);
    expect(r.stderr).not.toContain('secret');
    const env = await cli(['ls', '/'], { env: { CORRAL_REDIS_URL: 'not a url' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^corral: bad Redis URL "not a url"/);
  });

  it('a full Redis (out of memory): a write exits 3 saying so, a read still works', async () => {
    const redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    try {
      const at = ['--redis', redis.url, '-n', ns()];
      expect((await cli(['create', '/app', 'v', ...at])).code).toBe(0);
      for (let i = 0; i < 20; i++) await redis.command(['SET', `filler:${i}`, 'x'.repeat(100_000)]);
      await redis.command(['CONFIG', 'SET', 'maxmemory', '1mb']);
      const w = await cli(['set', '/app', 'w', ...at]);
      expect(w.code).toBe(3);
      oneLine(w.stderr);
      expect(w.stderr).toMatch(/^corral: Redis is out of memory .*nothing was written/);
      expect(await cli(['get', '/app', ...at])).toMatchObject({ code: 0, stdout: 'v\n' });
    } finally {
      await redis.stop();
    }
  });

  it('bad path: exit 2 with the rule it breaks', async () => {
    const r = await cli(['get', 'no-slash', '--redis', 'redis://127.0.0.1:6379', '-n', ns()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('corral: Invalid path (must start with /): no-slash\n');
  });

  it('a tree command without a shared store says how to give one', async () => {
    const r = await cli(['ls', '/']);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('--redis');
  });

  it('unknown option and bad option values: exit 2', async () => {
    const r = await cli(['ls', '/', '--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('corral: Unknown argument: colour (see corral ls --help)\n');
    const t = await cli(['ls', '/', '--session-timeout', '-5']);
    expect(t.code).toBe(2);
    oneLine(t.stderr);
  });

  it('unreachable store: exit 3 within the connect timeout, one line; --verbose adds the stack', async () => {
    // A port that accepts nothing: bind, note it, close.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const started = Date.now();
    const r = await cli(['ls', '/', '--redis', `redis://127.0.0.1:${port}`, '--connect-timeout', '1500']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/^corral: cannot reach Redis/);
    expect(r.code).toBe(3);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^corral: cannot reach Redis at redis://127.0.0.1:${port}`));
    const v = await cli(['ls', '/', '--redis', `redis://127.0.0.1:${port}`, '--connect-timeout', '1500', '--verbose']);
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/\n\s+at /);
  });

  it('--help of every command exits 0 and shows usage', async () => {
    const r = await cli(['create', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('corral create <path> [data]');
    expect(r.stdout).toContain('--mode');
  });
});
