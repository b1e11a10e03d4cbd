import { describe, expect, it } from 'vitest';
import { cli, ns, REDIS, spawnCli } from './harness.js';

// The tree commands across real processes: each `corral` run is its own process and
// session, so only a shared store (Redis) connects them.
describe('tree commands across processes on Redis', () => {
  it('create, set, get, ls, tree and rm see each other from separate processes', async () => {
    const n = ns();
    const run = (...args: string[]) => cli([...args, '--redis', REDIS, '-n', n]);
    expect(await run('create', '/app', 'v0')).toMatchObject({ code: 0, stdout: '/app\n' });
    expect(await run('create', '/app/job-', '{"n":1}', '-s')).toMatchObject({ code: 0, stdout: '/app/job-0000000000\n' });
    expect((await run('set', '/app', 'v1', '-v', '0')).code).toBe(0);
    expect(await run('set', '/app', 'v2', '-v', '0')).toMatchObject({ code: 1, stderr: 'corral: Bad version: /app\n' });
    expect(await run('get', '/app')).toMatchObject({ code: 0, stdout: 'v1\n' });
    expect(await run('ls', '/app')).toMatchObject({ code: 0, stdout: 'job-0000000000\n' });
    expect(await run('tree', '/')).toMatchObject({ code: 0, stdout: '/\n└── app\n    └── job-0000000000\n' });
    expect((await run('rm', '-r', '/app')).code).toBe(0);
    expect(await run('ls', '/')).toMatchObject({ code: 0, stdout: '' });
  });

  it('namespaces are separate trees', async () => {
    const a = ns();
    const b = ns();
    expect((await cli(['create', '/only-in-a', '--redis', REDIS, '-n', a])).code).toBe(0);
    expect((await cli(['ls', '/', '--redis', REDIS, '-n', b])).stdout).toBe('');
    expect((await cli(['ls', '/'], { env: { CORRAL_REDIS_URL: REDIS, CORRAL_NAMESPACE: a } })).stdout).toBe('only-in-a\n');
  });

  it('watch in one process streams the writes made by others until it is stopped', async () => {
    const n = ns();
    expect((await cli(['create', '/cfg', 'a', '--redis', REDIS, '-n', n])).code).toBe(0);
    const w = spawnCli(['watch', '/cfg', '-r', '--redis', REDIS, '-n', n]);
    await w.waitFor('watching /cfg');
    expect((await cli(['set', '/cfg', 'b', '--redis', REDIS, '-n', n])).code).toBe(0);
    expect((await cli(['create', '/cfg/x', '--redis', REDIS, '-n', n])).code).toBe(0);
    await w.waitFor('created /cfg/x');
    w.child.kill('SIGINT');
    const r = await w.exited;
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => l.replace(/^\d+ /, ''))).toEqual(['dataChanged /cfg', 'created /cfg/x']);
  });
});
