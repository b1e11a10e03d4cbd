import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, memoryStore, type Client, type ConnectTarget } from '../../core/index.js';
import { cliInProcess, ns } from './harness.js';

// The tree commands run in-process against one embedded store the test also holds, so
// every command's effect is checked through an independent client.
describe('tree commands (ls, tree, get, stat, set, create, rm, watch)', () => {
  let namespace: string;
  let target: ConnectTarget;
  let zk: Client;
  const run = (args: string[], stdin?: string) => cliInProcess([...args, '-n', namespace, '--session-timeout', '1000'], { target, stdin });

  beforeEach(async () => {
    namespace = ns();
    target = { backend: 'memory', store: memoryStore(namespace) };
    zk = await connect(target, { namespace, sessionTimeoutMs: 1000 });
  });
  afterEach(async () => zk.close());

  it('create makes znodes in each mode and prints the path created', async () => {
    expect(await run(['create', '/app', 'hello'])).toMatchObject({ code: 0, stdout: '/app\n' });
    expect((await zk.getData('/app')).data.toString()).toBe('hello');

    const seq = await run(['create', '/app/job-', 'x', '-s']);
    expect(seq).toMatchObject({ code: 0, stdout: '/app/job-0000000000\n' });

    const eph = await run(['create', '/app/e', '-e']);
    expect(eph.code).toBe(0);
    expect(eph.stderr).toContain('ephemeral');
    expect(await zk.exists('/app/e')).toBeNull(); // gone with the command's session

    expect((await run(['create', '/deep/er/node', 'v', '-p'])).code).toBe(0);
    expect((await zk.getData('/deep/er/node')).data.toString()).toBe('v');

    expect((await run(['create', '/t', '--ttl', '60000'])).code).toBe(0);
    expect((await run(['create', '/c', '-m', 'container'])).code).toBe(0);

    const json = await run(['create', '/j', 'data', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ path: '/j', stat: { version: 0, dataLength: 4 } });
  });

  it('create reports an existing znode, a missing parent and a bad mode with exit codes 1 and 2', async () => {
    await zk.create('/x', 'orig');
    const exists = await run(['create', '/x', 'new']);
    expect(exists).toMatchObject({ code: 1, stdout: '' });
    expect(exists.stderr).toBe('corral: Node exists: /x\n');
    expect((await zk.getData('/x')).data.toString()).toBe('orig');

    expect(await run(['create', '/no/parent'])).toMatchObject({ code: 1, stderr: 'corral: No node: /no/parent\n' });
    const badMode = await run(['create', '/y', '-m', 'forever']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/^corral: Invalid values: .*mode.*forever/);
    expect((await run(['create', '/y', '-m', 'persistent_with_ttl'])).code).toBe(2);
    expect(await zk.exists('/y')).toBeNull();
  });

  it('bad paths get a one-line InvalidPathError and exit 2, touching nothing', async () => {
    for (const args of [['ls', 'relative'], ['get', '/a/'], ['create', '/a//b'], ['rm', '/a/..'], ['set', '/a/./b', 'x'], ['tree', 'x']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^corral: Invalid path \(.+\)(: .*)?\n$/);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
    expect((await zk.getChildren('/')).children).toEqual([]);
  });

  it('ls lists children sorted, pages past 1000, and --limit cuts', async () => {
    await zk.create('/q');
    await zk.multi(Array.from({ length: 1203 }, (_, i) => ({ type: 'create' as const, path: `/q/i${String(i).padStart(5, '0')}`, data: new Uint8Array(0), mode: 'persistent' as const, ttlMs: undefined })));
    const r = await run(['ls', '/q']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1203);
    expect(lines[0]).toBe('i00000');
    expect(lines[1202]).toBe('i01202');
    expect((await run(['ls', '/q', '--limit', '3'])).stdout).toBe('i00000\ni00001\ni00002\n');
    const json = JSON.parse((await run(['ls', '/q', '--limit', '2', '--json'])).stdout);
    expect(json).toEqual({ path: '/q', children: ['i00000', 'i00001'] });
    expect(await run(['ls', '/missing'])).toMatchObject({ code: 1, stderr: 'corral: No node: /missing\n' });
    expect((await run(['ls', '/q', '--limit', '0'])).code).toBe(2);
  });

  it('get prints data raw, --json keeps binary data as base64, stat prints the Stat', async () => {
    await zk.create('/t', 'line');
    await zk.create('/b', Buffer.from([0, 1, 2, 255]));
    expect(await run(['get', '/t'])).toMatchObject({ code: 0, stdout: 'line\n' });
    expect(JSON.parse((await run(['get', '/b', '--json'])).stdout)).toMatchObject({ path: '/b', data: 'AAEC/w==', encoding: 'base64' });
    expect(JSON.parse((await run(['get', '/t', '--json'])).stdout)).toMatchObject({ data: 'line', encoding: 'utf8', stat: { version: 0 } });
    const st = await run(['stat', '/t']);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^czxid\s+= \d+\n/);
    expect(st.stdout).toContain('dataLength     = 4');
    expect(st.stdout).toContain('ephemeralOwner = none');
    expect(await run(['stat', '/nope'])).toMatchObject({ code: 1, stderr: 'corral: No node: /nope\n' });
  });

  it('set replaces data, honours -v as compare-and-set, and reads stdin with -', async () => {
    await zk.create('/cfg', 'v0');
    expect((await run(['set', '/cfg', 'v1', '-v', '0'])).code).toBe(0);
    const stale = await run(['set', '/cfg', 'v2', '-v', '0']);
    expect(stale).toMatchObject({ code: 1, stderr: 'corral: Bad version: /cfg\n' });
    expect((await zk.getData('/cfg')).data.toString()).toBe('v1');
    expect((await run(['set', '/cfg', '-'], 'from stdin')).code).toBe(0);
    expect((await zk.getData('/cfg')).data.toString()).toBe('from stdin');
    expect((await run(['set', '/cfg'])).code).toBe(2);
    expect(JSON.parse((await run(['set', '/cfg', 'v3', '--json'])).stdout).stat.version).toBe(3);
  });

  it('rm deletes, refuses non-empty znodes without -r, honours versions', async () => {
    await zk.create('/a');
    await zk.create('/a/b', 'x');
    await zk.create('/a/b/c');
    expect(await run(['rm', '/a'])).toMatchObject({ code: 1, stderr: 'corral: Node not empty: /a\n' });
    expect(await run(['rm', '/a/b/c', '-v', '5'])).toMatchObject({ code: 1, stderr: 'corral: Bad version: /a/b/c\n' });
    expect((await run(['rm', '/a/b/c', '-v', '0'])).code).toBe(0);
    expect(await zk.exists('/a/b/c')).toBeNull();
    expect((await run(['rm', '-r', '/a'])).code).toBe(0);
    expect(await zk.exists('/a')).toBeNull();
    expect((await run(['rm', '-r', '/a'])).code).toBe(1);
    expect((await run(['rm', '-r', '/'])).code).toBe(2);
    expect((await run(['rm', '-r', '/x', '-v', '1'])).code).toBe(2);
  });

  it('--version after a command is the expected version (as -v), not the program version', async () => {
    await zk.create('/v', 'x');
    expect(await run(['rm', '/v', '--version', '1'])).toMatchObject({ code: 1, stderr: 'corral: Bad version: /v\n' });
    expect(await run(['set', '/v', 'y', '--version', '1'])).toMatchObject({ code: 1, stderr: 'corral: Bad version: /v\n' });
    expect((await zk.getData('/v')).data.toString()).toBe('x');
    expect((await run(['rm', '/v', '--version', '0'])).code).toBe(0);
    expect(await zk.exists('/v')).toBeNull();
    const version = await cliInProcess(['--version'], { target });
    expect(version).toMatchObject({ code: 0, stdout: `${(await import('../../package.json', { with: { type: 'json' } })).default.version}\n` });
  });

  it('tree draws the hierarchy with ├── and └──, marks ephemerals, and cuts at --depth', async () => {
    await zk.create('/app', 'root data');
    await zk.create('/app/config', '{"a":1}');
    await zk.create('/app/workers');
    await zk.create('/app/workers/w1', 'host', { mode: 'ephemeral' });
    await zk.create('/app/workers/w2', 'host', { mode: 'ephemeral' });
    await zk.create('/app/zeta');
    const r = await run(['tree', '/app']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      ['/app', '├── config', '├── workers', '│   ├── w1 (ephemeral)', '│   └── w2 (ephemeral)', '└── zeta', ''].join('\n'),
    );
    const shallow = await run(['tree', '/app', '--depth', '1', '--data']);
    expect(shallow.stdout).toBe(['/app  = root data', '├── config  = {"a":1}', '├── workers  [+2]', '└── zeta', ''].join('\n'));
    const json = JSON.parse((await run(['tree', '/app', '--json'])).stdout);
    expect(json.children.map((c: { path: string }) => c.path)).toEqual(['/app/config', '/app/workers', '/app/zeta']);
    expect(json.children[1].children[0]).toMatchObject({ path: '/app/workers/w1', ephemeral: true });
    expect((await run(['tree'])).stdout.startsWith('/\n└── app\n')).toBe(true);
  });

  it('watch streams each change as a line until --count or stop', async () => {
    await zk.create('/w');
    const stop = new AbortController();
    const watching = cliInProcess(['watch', '/w', '-r', '-n', namespace, '--count', '3'], { target, stop: stop.signal });
    await new Promise((r) => setTimeout(r, 50));
    await zk.create('/w/a', '1');
    await zk.setData('/w/a', '2');
    await zk.delete('/w/a');
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => l.replace(/^\d+ /, ''))).toEqual(['created /w/a', 'dataChanged /w/a', 'deleted /w/a']);

    const endless = cliInProcess(['watch', '/w', '-n', namespace, '--json'], { target, stop: stop.signal });
    await new Promise((r) => setTimeout(r, 50));
    await zk.setData('/w', 'x');
    await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    const e = await endless;
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout.trim())).toMatchObject({ type: 'dataChanged', path: '/w' });
    expect(JSON.parse(e.stdout.trim())).not.toHaveProperty('data');
  });

  it('watch --data shows what each create and setData wrote, from the event', async () => {
    await zk.create('/wd');
    const watching = cliInProcess(['watch', '/wd', '-r', '-d', '-n', namespace, '--count', '3'], { target });
    await new Promise((r) => setTimeout(r, 50));
    await zk.create('/wd/a', 'hello world');
    await zk.setData('/wd/a', Buffer.from([0, 1, 2]));
    await zk.delete('/wd/a');
    const r = await watching;
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => l.replace(/^\d+ /, ''))).toEqual(['created /wd/a hello world', 'dataChanged /wd/a <3 bytes binary>', 'deleted /wd/a']);
    const json = cliInProcess(['watch', '/wd', '-d', '-n', namespace, '--json', '--count', '1'], { target });
    await new Promise((r) => setTimeout(r, 50));
    await zk.setData('/wd', Buffer.from([255]));
    expect(JSON.parse((await json).stdout.trim())).toMatchObject({ type: 'dataChanged', path: '/wd', data: '/w==', encoding: 'base64' });
  });

  it('unknown commands and options are usage errors (exit 2), on one line', async () => {
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, stderr: 'corral: unknown command "frobnicate" (run corral --help for the list)\n' });
    expect((await run(['ls', '/', '--bogus'])).stderr).toBe('corral: Unknown argument: bogus (see corral ls --help)\n');
    expect((await run(['ls'])).code).toBe(2);
    expect((await cliInProcess([])).code).toBe(2);
    const help = await cliInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('corral tree [path]');
  });
});
