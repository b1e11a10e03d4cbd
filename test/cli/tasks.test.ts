import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ns, REDIS, spawnCli, type Running } from './harness.js';

// The task commands as a deployment uses them: a master and a worker as real processes
// on Redis, and short-lived `corral submit / tasks / workers / status / cancel` runs.
describe('task commands against a running master and worker (Redis, real processes)', () => {
  const n = ns();
  const env = { CORRAL_REDIS_URL: REDIS, CORRAL_NAMESPACE: n };
  const run = (args: string[], stdin?: string) => cli(args, { env, stdin });
  let master: Running;
  let worker: Running;

  beforeAll(async () => {
    master = spawnCli(['master', '--session-timeout', '2000'], { env });
    worker = spawnCli(['worker', '--handler', 'examples/worker-handler.js', '--concurrency', '4', '--session-timeout', '2000'], { env });
    await Promise.all([master.waitFor(/elected \(fencing token \d+\)/), worker.waitFor(/worker \S+ registered \(concurrency 4\)/)]);
  });

  afterAll(async () => {
    master?.child.kill('SIGTERM');
    worker?.child.kill('SIGTERM');
    const [m, w] = await Promise.all([master?.exited, worker?.exited]);
    // Both stop gracefully on SIGTERM.
    expect(m?.code).toBe(0);
    expect(w?.code).toBe(0);
    expect(w?.stderr).toMatch(/draining/);
  });

  it('submit --wait runs one task and prints its result', async () => {
    const r = await run(['submit', '{"text":"hi","rounds":50}', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task-\d{10}  succeeded  \{"digest":"[0-9a-f]{16}/);
    expect(r.stderr).toMatch(/\[█{24}\] 100% 1\/1 tasks/);
    expect(r.stderr).toMatch(/1 task\(s\): 1 succeeded/);
  });

  it('submit - reads JSON lines from stdin; the exit code says whether all succeeded', async () => {
    const ok = await run(['submit', '-', '--wait', '--json'], '{"text":"a"}\n{"text":"b"}\n\n{"text":"c"}\n');
    expect(ok.code, ok.stderr).toBe(0);
    const records = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string });
    expect(records.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const bad = await run(['submit', '-', '--wait', '--attempts', '2'], '{"text":"fine"}\n{"no-text":true}\n');
    expect(bad.code).toBe(1);
    const lines = bad.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/succeeded/);
    expect(lines[1]).toMatch(/failed\s+expected a payload like .*\(2 attempts\)$/);
  });

  it('submit without --wait prints the ids; tasks and status find them', async () => {
    const r = await run(['submit', '{"text":"later"}', '--delay', '60000', '--priority', '5']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^task-\d{10}$/);
    const listed = await run(['tasks', '--state', 'delayed', '--json']);
    expect(JSON.parse(listed.stdout).tasks.map((t: { id: string }) => t.id)).toContain(id);
    const st = await run(['status', id]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^id\s+task-\d{10}\nstate\s+delayed\n/);

    // Cancel it: the first cancel wins, a second finds it finished.
    expect(await run(['cancel', id])).toMatchObject({ code: 0, stdout: `${id}: cancelled\n` });
    expect(await run(['cancel', id])).toMatchObject({ code: 1, stdout: `${id}: already finished, nothing to cancel\n` });
    expect((await run(['status', id])).stdout).toMatch(/state\s+cancelled/);
    expect((await run(['status', id, '--wait'])).code).toBe(1);
  });

  it('submit --idempotency-key answers a resubmit with the first id; --idempotency-ttl lets the key go', async () => {
    const first = await run(['submit', '{"text":"once"}', '--idempotency-key', 'cli-once', '--delay', '60000']);
    expect(first.code, first.stderr).toBe(0);
    const again = await run(['submit', '{"text":"once"}', '--idempotency-key', 'cli-once', '--delay', '60000']);
    expect(again.stdout).toBe(first.stdout);
    const short = await run(['submit', '{"text":"short"}', '--idempotency-key', 'cli-short', '--idempotency-ttl', '200', '--delay', '60000']);
    expect(short.code, short.stderr).toBe(0);
    // Until the key expires a resubmit gets the same id (and stores nothing); then a new one.
    let later = short;
    for (const end = Date.now() + 10_000; later.stdout === short.stdout && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 150));
      later = await run(['submit', '{"text":"short"}', '--idempotency-key', 'cli-short', '--delay', '60000']);
      expect(later.code, later.stderr).toBe(0);
    }
    expect(later.stdout).toMatch(/^task-\d{10}\n$/);
    expect(later.stdout).not.toBe(short.stdout);
    const badTtl = await run(['submit', '{"text":"x"}', '--idempotency-ttl', '200']);
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toMatch(/^corral: `idempotencyTtlMs` needs an `idempotencyKey`\n$/);
    for (const out of [first, short, later]) await run(['cancel', out.stdout.trim()]);
  });

  it('bad task JSON and bad task options are usage errors and store nothing', async () => {
    const before = JSON.parse((await run(['tasks', '--json'])).stdout).counts;
    const badJson = await run(['submit', '-'], '{"text":"ok"}\n{"text": nope}\n');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^corral: bad task JSON in stdin line 2: .+\n$/);
    const badArg = await run(['submit', '{text}']);
    expect(badArg.code).toBe(2);
    expect(badArg.stderr).toMatch(/^corral: bad task JSON in the task argument/);
    const badOpt = await run(['submit', '{"text":"x"}', '--priority', '5000000']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toMatch(/^corral: Expected `priority` to be an integer from -1000000 to 1000000, got 5000000\n$/);
    expect(await run(['submit'])).toMatchObject({ code: 2 });
    expect(JSON.parse((await run(['tasks', '--json'])).stdout).counts).toEqual(before);
  });

  it('workers lists the live worker and the master; status of an unknown task exits 1', async () => {
    const w = await run(['workers', '--json']);
    const { master: m, workers } = JSON.parse(w.stdout) as { master: string; workers: Array<{ capacity: number }> };
    expect(m).toMatch(/\S+/);
    expect(workers).toHaveLength(1);
    expect(workers[0].capacity).toBe(4);
    expect((await run(['workers'])).stdout).toMatch(/^master: \S+\n\nWORKER\s+HOST\s+PID\s+LOAD\s+LABELS/);
    const unknown = await run(['status', 'task-9999999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^corral: No such task .*task-9999999999\n$/);
    expect((await run(['status', 'nonsense'])).code).toBe(2);
  });
});

describe('corral worker refuses a bad handler before connecting', () => {
  it('missing handler file: exit 2, one line naming it', async () => {
    const r = await cli(['worker', '--handler', './no/such-handler.js', '--redis', REDIS, '-n', ns()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^corral: handler file not found: \.\/no\/such-handler\.js \(looked for .+\)\n$/);
  });

  it('a module without a function export: exit 2', async () => {
    const r = await cli(['worker', '--handler', 'test/cli/fixtures/not-a-handler.js', '--redis', REDIS, '-n', ns()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^corral: handler test\/cli\/fixtures\/not-a-handler\.js must export a function/);
  });

  it('no --handler at all: exit 2', async () => {
    const r = await cli(['worker', '--redis', REDIS]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Missing required argument: handler/);
  });
});
