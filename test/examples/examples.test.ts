import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../../core/index.js';
import { ns, REDIS, ROOT, spawnCli } from '../cli/harness.js';

/** Runs an example with tsx, as its header says to, collecting its output. */
function example(file: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', file), ...args], {
    cwd: ROOT,
    env: { ...process.env, CORRAL_REDIS_URL: REDIS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = async (re: RegExp, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    while (!re.test(out)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${re} in output: ${out} ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return re.exec(out)!;
  };
  return { child, exited, waitFor, out: () => out, err: () => err };
}

describe('examples/ run as documented (Redis)', () => {
  it('worker-handler.js + submit-tasks.ts: a master and a worker process run every submitted task', async () => {
    const n = ns();
    const env = { CORRAL_REDIS_URL: REDIS, CORRAL_NAMESPACE: n };
    const master = spawnCli(['master', '--session-timeout', '2000'], { env });
    const worker = spawnCli(['worker', '--handler', 'examples/worker-handler.js', '-c', '4', '--session-timeout', '2000'], { env });
    try {
      await Promise.all([master.waitFor('elected'), worker.waitFor('registered')]);
      const sub = example('submit-tasks.ts', ['20'], { CORRAL_NAMESPACE: n });
      expect(await sub.exited, sub.err()).toBe(0);
      expect(sub.out()).toMatch(/^submitted 20 tasks/);
      expect(sub.out()).toContain('20/20 succeeded');
      expect(sub.out().match(/^task-\d{10} [0-9a-f]{16}… by \S+$/gm)).toHaveLength(20);
    } finally {
      master.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      await Promise.all([master.exited, worker.exited]);
    }
  });

  it('http-lock.ts: two service instances sell exactly the stock, never more', async () => {
    const n = ns();
    const stockFile = join(mkdtempSync(join(tmpdir(), 'corral-stock-')), 'stock.json');
    writeFileSync(stockFile, JSON.stringify({ stock: 30, token: 0 }));
    const services = [0, 1].map(() => example('http-lock.ts', [], { CORRAL_NAMESPACE: n, STOCK_FILE: stockFile, PORT: '0' }));
    try {
      const ports = await Promise.all(services.map(async (s) => Number((await s.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1])));
      // 40 buyers at once, spread over both instances.
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => fetch(`http://127.0.0.1:${ports[i % 2]}/buy`, { method: 'POST' }).then(async (r) => ({ status: r.status, body: (await r.json()) as { token: number } }))),
      );
      expect(replies.filter((r) => r.status === 200)).toHaveLength(30);
      expect(replies.filter((r) => r.status === 409)).toHaveLength(10);
      const final = JSON.parse(readFileSync(stockFile, 'utf8')) as { stock: number; token: number };
      expect(final.stock).toBe(0);
      // Every sale held its own grant: 30 distinct fencing tokens.
      expect(new Set(replies.filter((r) => r.status === 200).map((r) => r.body.token)).size).toBe(30);
    } finally {
      for (const s of services) s.child.kill('SIGTERM');
      await Promise.all(services.map((s) => s.exited));
    }
  });

  it('leader-cron.ts: one process runs the job at a time; SIGKILL the leader and the other takes over', async () => {
    const n = ns();
    const env = { CORRAL_NAMESPACE: n, CRON_EVERY_MS: '100', CRON_SESSION_MS: '1000' };
    const a = example('leader-cron.ts', [], { ...env, CRON_ID: 'a' });
    await a.waitFor(/a: ran the job/);
    const b = example('leader-cron.ts', [], { ...env, CRON_ID: 'b' });
    try {
      await b.waitFor(/b: candidate/);
      await new Promise((r) => setTimeout(r, 500));
      expect(b.out()).not.toMatch(/b: ran the job/);
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      await b.waitFor(/b: elected leader/);
      const tookOver = Date.now() - killedAt;
      await b.waitFor(/(b: ran the job[^\n]*\n[^]*){3}/);
      expect(tookOver).toBeLessThan(1000 + 2000);

      // The run history: a's runs, then b's, never interleaved; b's token is higher.
      const zk = await connect({ redis: REDIS }, { namespace: n });
      try {
        const { children } = await zk.getChildren('/cron/runs');
        const runs = await Promise.all(children.map(async (c) => JSON.parse((await zk.getData(`/cron/runs/${c}`)).data.toString()) as { id: string; token: number }));
        const ids = runs.map((r) => r.id).join('');
        expect(ids).toMatch(/^a+b+$/);
        const tokenA = runs.find((r) => r.id === 'a')!.token;
        const tokenB = runs.find((r) => r.id === 'b')!.token;
        expect(tokenB).toBeGreaterThan(tokenA);
        expect(new Set(runs.filter((r) => r.id === 'a').map((r) => r.token)).size).toBe(1);
      } finally {
        await zk.close();
      }
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    }
  });
});
