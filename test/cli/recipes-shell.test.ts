import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, memoryStore, type ConnectTarget } from '../../core/index.js';
import { cliInProcess, ns } from './harness.js';

// `lock` and `elect` run real shell commands; several CLI runs share one embedded store
// here (in one process), so only the recipe keeps their commands apart.
describe('recipes from the shell (in-process, shared memory store)', () => {
  const setup = () => {
    const namespace = ns();
    const target: ConnectTarget = { backend: 'memory', store: memoryStore(namespace) };
    const log = join(mkdtempSync(join(tmpdir(), 'corral-cli-')), 'log');
    return { namespace, target, log };
  };

  // Each command appends "start <token>", sleeps, appends "end": overlap would interleave.
  const critical = (log: string, ms: number) => ['sh', '-c', `echo "start $CORRAL_FENCING_TOKEN" >> ${log}; sleep ${ms / 1000}; echo end >> ${log}`];
  const expectNoOverlap = (log: string, runs: number) => {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(runs * 2);
    const tokens: number[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^start \d+$/);
      expect(lines[i + 1]).toBe('end');
      tokens.push(Number(lines[i].slice(6)));
    }
    // Fencing tokens grow with each grant.
    expect([...tokens].sort((a, b) => a - b)).toEqual(tokens);
    expect(new Set(tokens).size).toBe(runs);
  };

  it('lock runs one command at a time across holders, passes exit codes and the fencing token', async () => {
    const { namespace, target, log } = setup();
    const run = (code: number) =>
      cliInProcess(['lock', 'db', '-n', namespace, '--', 'sh', '-c', `${critical(log, 150)[2]}; exit ${code}`], { target });
    const results = await Promise.all([run(0), run(7), run(0), run(0)]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 0, 0, 7]);
    expectNoOverlap(log, 4);
  });

  it('lock --timeout 0 gives up at once (exit 1) while another holds the lock', async () => {
    const { namespace, target, log } = setup();
    const holder = cliInProcess(['lock', 'db', '-n', namespace, '--', 'sh', '-c', `echo held >> ${log}; sleep 1`], { target });
    while (!readFileSafe(log).includes('held')) await new Promise((r) => setTimeout(r, 20));
    const r = await cliInProcess(['lock', 'db', '-n', namespace, '-w', '0', '--', 'sh', '-c', `echo second >> ${log}`], { target });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('corral: lock /locks/db is held elsewhere: not acquired within 0 ms (--timeout)\n');
    expect((await holder).code).toBe(0);
    expect(readFileSafe(log)).toBe('held\n');
  });

  it('lock stops the command and exits 3 when the lock is lost while it runs', async () => {
    const { namespace, target, log } = setup();
    const zk = await connect(target, { namespace });
    try {
      const running = cliInProcess(['lock', 'db', '-n', namespace, '--', 'sh', '-c', `echo up >> ${log}; sleep 20; echo not-stopped >> ${log}`], { target });
      while (!readFileSafe(log).includes('up')) await new Promise((r) => setTimeout(r, 20));
      const [node] = (await zk.getChildren('/locks/db')).children;
      await zk.delete(`/locks/db/${node}`);
      const r = await running;
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/corral: lock \/locks\/db lost while the command ran \(.+\); the command was stopped\n$/);
      await new Promise((res) => setTimeout(res, 100));
      expect(readFileSafe(log)).toBe('up\n'); // the whole command (sh and its sleep) was stopped
    } finally {
      await zk.close();
    }
  });

  it('elect runs one command at a time across candidates and returns each exit code', async () => {
    const { namespace, target, log } = setup();
    const run = (code: number) =>
      cliInProcess(['elect', 'job', '-n', namespace, '--session-timeout', '1000', '--', 'sh', '-c', `${critical(log, 200)[2]}; exit ${code}`], { target });
    const results = await Promise.all([run(0), run(3), run(0)]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 0, 3]);
    expectNoOverlap(log, 3);
    expect(results.some((r) => r.stderr.includes('waiting to lead /elections/job'))).toBe(true);
    expect(results.every((r) => /elected leader of \/elections\/job \(fencing token \d+\)/.test(r.stderr))).toBe(true);
  });

  it('elect: a missing command is a usage error; an unknown program is reported in one line', async () => {
    const { namespace, target } = setup();
    expect(await cliInProcess(['elect', 'job', '-n', namespace], { target })).toMatchObject({ code: 2 });
    const r = await cliInProcess(['elect', 'job', '-n', namespace, '--', 'no-such-program-xyz'], { target });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('corral: cannot run no-such-program-xyz: command not found\n');
    expect((await cliInProcess(['elect', 'a/b', '-n', namespace, '--', 'true'], { target })).code).toBe(2);
  });

  it('elect stops the command and exits 3 when leadership is lost while it runs', async () => {
    const { namespace, target, log } = setup();
    const zk = await connect(target, { namespace });
    try {
      const started = Date.now();
      const running = cliInProcess(['elect', 'job', '-n', namespace, '--', 'sh', '-c', `echo up >> ${log}; sleep 20`], { target });
      // Wait for the command to run, then take the leader's znode away, as an operator could.
      while (!readFileSafe(log).includes('up')) await new Promise((r) => setTimeout(r, 20));
      const [node] = (await zk.getChildren('/elections/job')).children;
      await zk.delete(`/elections/job/${node}`);
      const r = await running;
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/corral: leadership of \/elections\/job lost while the command ran \(.+\); the command was stopped\n$/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await zk.close();
    }
  });
});

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
