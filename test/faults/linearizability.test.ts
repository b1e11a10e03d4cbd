import { describe, expect, it } from 'vitest';
import {
  checkLinearizable, History, registerModel, ticketModel,
  type Model, type Operation, type RegisterInput, type RegisterOutput, type RegisterState,
} from './linearizability.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const P = '/r';
const model = registerModel(() => ({ exists: true, value: 'a', version: 0 }));

const read = (client: number, call: number, ret: number, value: string, version: number): Op =>
  ({ client, input: { path: P, op: 'read' }, output: { value, version }, call, ret });
const write = (client: number, call: number, ret: number, value: string, expectedVersion: number, out: RegisterOutput | undefined): Op =>
  ({ client, input: { path: P, op: 'write', value, expectedVersion }, output: out, call, ret: out === undefined ? Infinity : ret });
const ok = (version: number): RegisterOutput => ({ ok: true, version });
const BAD: RegisterOutput = { error: 'BadVersion' };

describe('linearizability checker: versioned register', () => {
  it('accepts a sequential history', () => {
    const r = checkLinearizable([
      read(1, 0, 1, 'a', 0),
      write(1, 2, 3, 'b', 0, ok(1)),
      read(2, 4, 5, 'b', 1),
      write(2, 6, 7, 'c', 0, BAD),
      write(2, 8, 9, 'c', -1, ok(2)),
      read(1, 10, 11, 'c', 2),
    ], model);
    expect(r.ok).toBe(true);
  });

  it('accepts a read overlapping a write that sees either value', () => {
    expect(checkLinearizable([write(1, 0, 10, 'b', 0, ok(1)), read(2, 2, 5, 'a', 0)], model).ok).toBe(true);
    expect(checkLinearizable([write(1, 0, 10, 'b', 0, ok(1)), read(2, 2, 5, 'b', 1)], model).ok).toBe(true);
  });

  it('rejects a stale read after the write completed', () => {
    const r = checkLinearizable([write(1, 0, 2, 'b', 0, ok(1)), read(2, 3, 4, 'a', 0)], model);
    expect(r.ok).toBe(false);
    expect(r.failure!.explanation).toMatch(/not linearizable/);
    expect(r.failure!.explanation).toMatch(/read \/r/);
  });

  it('rejects two reads that see a concurrent write happen and then un-happen', () => {
    // r1 sees b, then (strictly later) r2 sees a: the write cannot be both before and after.
    const r = checkLinearizable([
      write(1, 0, 100, 'b', 0, ok(1)),
      read(2, 10, 20, 'b', 1),
      read(3, 30, 40, 'a', 0),
    ], model);
    expect(r.ok).toBe(false);
  });

  it('rejects a lost update: two conditional writes on the same version both succeed', () => {
    const r = checkLinearizable([
      write(1, 0, 10, 'b', 0, ok(1)),
      write(2, 1, 11, 'c', 0, ok(1)),
    ], model);
    expect(r.ok).toBe(false);
  });

  it('rejects a BadVersion when the version did match and nothing ran concurrently', () => {
    expect(checkLinearizable([write(1, 0, 1, 'b', 0, BAD)], model).ok).toBe(false);
    // …but accepts it when a concurrent write can have bumped the version first.
    expect(checkLinearizable([write(1, 0, 10, 'b', 0, BAD), write(2, 1, 5, 'c', -1, ok(1))], model).ok).toBe(true);
  });

  it('rejects a version that does not match the number of writes', () => {
    expect(checkLinearizable([write(1, 0, 1, 'b', -1, ok(2))], model).ok).toBe(false);
    expect(checkLinearizable([write(1, 0, 1, 'b', -1, ok(1)), read(1, 2, 3, 'b', 5)], model).ok).toBe(false);
  });

  it('lets an unknown write take effect at any time after its call, or never', () => {
    // Never observed: fine.
    expect(checkLinearizable([write(1, 0, 0, 'b', 0, undefined), read(2, 5, 6, 'a', 0)], model).ok).toBe(true);
    // Observed long after the client gave up on it: fine (a delayed apply).
    expect(checkLinearizable([
      write(1, 0, 0, 'b', 0, undefined),
      read(2, 5, 6, 'a', 0),
      read(2, 50, 60, 'b', 1),
    ], model).ok).toBe(true);
    // Observed, then gone again: not linearizable.
    expect(checkLinearizable([
      write(1, 0, 0, 'b', 0, undefined),
      read(2, 5, 6, 'b', 1),
      read(2, 50, 60, 'a', 0),
    ], model).ok).toBe(false);
    // Observed before it was even called: not linearizable.
    expect(checkLinearizable([
      read(2, 0, 1, 'b', 1),
      write(1, 5, 0, 'b', 0, undefined),
    ], model).ok).toBe(false);
  });

  it('models create and delete with NoNode / NodeExists', () => {
    const m = registerModel(() => ({ exists: false }));
    const c = (client: number, call: number, ret: number, out: RegisterOutput): Op => ({ client, input: { path: P, op: 'create', value: 'x' }, output: out, call, ret });
    const d = (client: number, call: number, ret: number, v: number, out: RegisterOutput): Op => ({ client, input: { path: P, op: 'delete', expectedVersion: v }, output: out, call, ret });
    const rNo = (call: number, ret: number): Op => ({ client: 9, input: { path: P, op: 'read' }, output: { error: 'NoNode' }, call, ret });
    expect(checkLinearizable([rNo(0, 1), c(1, 2, 3, ok(0)), c(2, 4, 5, { error: 'NodeExists' }), d(1, 6, 7, 0, { ok: true }), rNo(8, 9)], m).ok).toBe(true);
    expect(checkLinearizable([c(1, 0, 1, ok(0)), c(2, 2, 3, ok(0))], m).ok).toBe(false);
    expect(checkLinearizable([c(1, 0, 1, ok(0)), rNo(2, 3)], m).ok).toBe(false);
    expect(checkLinearizable([c(1, 0, 1, ok(0)), d(2, 2, 3, 3, { ok: true })], m).ok).toBe(false);
  });

  it('checks each znode on its own, and finds the one that is wrong', () => {
    const q = (o: Op, path: string): Op => ({ ...o, input: { ...o.input, path } });
    const r = checkLinearizable([
      q(write(1, 0, 2, 'b', 0, ok(1)), '/x'),
      q(read(2, 3, 4, 'b', 1), '/x'),
      q(write(1, 0, 2, 'b', 0, ok(1)), '/y'),
      q(read(2, 3, 4, 'a', 0), '/y'),
    ], model);
    expect(r.ok).toBe(false);
    expect(r.partitions).toBe(2);
    expect(r.failure!.ops.every((o) => o.input.path === '/y')).toBe(true);
  });

  it("reports 'unknown' rather than a verdict when the search budget runs out", () => {
    const ops: Op[] = [];
    for (let i = 0; i < 12; i++) ops.push(write(i, 0, 100, `v${i}`, -1, ok(i + 1)));
    ops.push(read(99, 200, 201, 'nope', 99));
    expect(checkLinearizable(ops, model, { maxSteps: 50 }).ok).toBe('unknown');
  });

  it('agrees with a brute-force search on 3000 random small histories', () => {
    let rng = 12345;
    const rand = (n: number): number => {
      rng = (rng * 1103515245 + 12345) & 0x7fffffff;
      return rng % n;
    };
    let accepted = 0;
    let rejected = 0;
    for (let t = 0; t < 3000; t++) {
      const ops = randomHistory(rand);
      const expected = bruteForce(ops, model);
      const got = checkLinearizable(ops, model).ok;
      expect(got, JSON.stringify(ops)).toBe(expected);
      if (expected) accepted++; else rejected++;
    }
    // The generator must produce both kinds, or this test proves nothing.
    expect(accepted).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThan(200);
  });

  it('checks a 3000-op history of 6 clients with unknown outcomes quickly', () => {
    const ops = simulate(6, 3000, 0.02);
    const t0 = performance.now();
    const r = checkLinearizable(ops, model);
    expect(r.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
    // Breaking one read (a stale value) must be caught.
    const i = ops.findIndex((o, k) => k > 1000 && o.input.op === 'read' && (o.output as { version: number }).version > 2);
    const bad = ops.map((o) => ({ ...o }));
    bad[i].output = { value: 'stale', version: (bad[i].output as { version: number }).version - 1 };
    expect(checkLinearizable(bad, model).ok).toBe(false);
  });
});

describe('linearizability checker: tickets (sequential names, fencing tokens)', () => {
  const take = (client: number, call: number, ret: number, n: number | undefined, key?: string): Operation<{ op: 'take'; key?: string }, number> =>
    ({ client, input: { op: 'take', key }, output: n, call, ret: n === undefined ? Infinity : ret });

  it('accepts rising tickets and concurrent ones in any order', () => {
    expect(checkLinearizable([take(1, 0, 1, 1), take(2, 2, 3, 2), take(1, 4, 10, 5), take(2, 5, 9, 4)], ticketModel).ok).toBe(true);
    expect(checkLinearizable([take(1, 0, 0, undefined), take(2, 2, 3, 7), take(2, 4, 5, 8)], ticketModel).ok).toBe(true);
  });

  it('rejects a ticket lower than one handed out before it was asked for', () => {
    expect(checkLinearizable([take(1, 0, 1, 5), take(2, 2, 3, 4)], ticketModel).ok).toBe(false);
  });

  it('rejects a duplicate ticket, even between concurrent takers', () => {
    expect(checkLinearizable([take(1, 0, 10, 3), take(2, 1, 9, 3)], ticketModel).ok).toBe(false);
  });

  it('keeps independent keys apart', () => {
    expect(checkLinearizable([take(1, 0, 1, 5, 'a'), take(2, 2, 3, 1, 'b')], ticketModel).ok).toBe(true);
  });
});

describe('History recorder', () => {
  it('records outputs, unknown outcomes and throws', async () => {
    let t = 0;
    const h = new History<RegisterInput, RegisterOutput>(() => t++);
    await h.record(1, { path: P, op: 'read' }, async () => ({ value: 'a', version: 0 }));
    await h.record(2, { path: P, op: 'write', value: 'b', expectedVersion: 0 }, async () => undefined);
    await expect(h.record(3, { path: P, op: 'read' }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    const ops = h.operations();
    expect(ops.map((o) => o.ret)).toEqual([1, Infinity, Infinity]);
    expect(ops[0]).toMatchObject({ client: 1, call: 0, output: { value: 'a', version: 0 } });
    expect(h.size).toBe(3);
  });
});

// ---- helpers --------------------------------------------------------------------------

/**
 * Tiny histories (2-5 ops, 3 clients): a true run of a register with random overlaps,
 * then, half the time, one output replaced by a random one near the truth.
 */
function randomHistory(rand: (n: number) => number): Op[] {
  const n = 2 + rand(4);
  const state = { value: 'a', version: 0 };
  const ops: Op[] = [];
  const clientFree = [0, 0, 0];
  let point = 0;
  for (let i = 0; i < n; i++) {
    const client = rand(3);
    const call = Math.max(clientFree[client], point - rand(4));
    point = Math.max(point, call) + 1 + rand(2);
    const ret = point + rand(4);
    clientFree[client] = ret + 1;
    if (rand(2) === 0) {
      ops.push(read(client, call, ret, state.value, state.version));
    } else {
      const value = ['b', 'c'][rand(2)];
      const expected = rand(3) - 1;
      const applies = expected === -1 || expected === state.version;
      if (applies) {
        state.value = value;
        state.version++;
      }
      ops.push(write(client, call, ret, value, expected, rand(8) === 0 ? undefined : applies ? ok(state.version) : BAD));
    }
  }
  if (rand(2) === 0) {
    const i = rand(n);
    ops[i] = ops[i].input.op === 'read'
      ? { ...ops[i], output: { value: ['a', 'b', 'c'][rand(3)], version: rand(3) } }
      : { ...ops[i], output: rand(3) === 0 ? BAD : ok(1 + rand(3)), ret: ops[i].ret === Infinity ? ops[i].call + 3 : ops[i].ret };
  }
  return ops;
}

/** Tries every order consistent with real time; unknown ops may also be left out. */
function bruteForce<S>(ops: Op[], m: Model<S, RegisterInput, RegisterOutput>): boolean {
  const n = ops.length;
  const search = (done: boolean[], state: S): boolean => {
    const pending = ops.map((_, i) => i).filter((i) => !done[i]);
    // Ops that must still happen: all known ones.
    if (pending.every((i) => ops[i].output === undefined)) return true;
    for (const i of pending) {
      // i may go next only if no other pending op returned before i was called.
      if (pending.some((j) => j !== i && ops[j].ret < ops[i].call)) continue;
      const r = m.step(state, ops[i].input, ops[i].output);
      if (!r.ok) continue;
      done[i] = true;
      if (search(done, r.state)) return true;
      done[i] = false;
    }
    return false;
  };
  return search(new Array<boolean>(n).fill(false), m.init(ops));
}

/** A real register run by `clients` concurrent clients with random timing: always linearizable. */
function simulate(clients: number, count: number, unknownRate: number): Op[] {
  let rng = 99;
  const rand = (n: number): number => {
    rng = (rng * 1103515245 + 12345) & 0x7fffffff;
    return rng % n;
  };
  const state: RegisterState = { exists: true, value: 'a', version: 0 };
  const ops: Op[] = [];
  const busyUntil = new Array<number>(clients).fill(0);
  let now = 0;
  for (let k = 0; k < count; k++) {
    now += 1;
    const c = rand(clients);
    const call = Math.max(now, busyUntil[c]);
    const at = call + rand(5); // linearization point
    const ret = at + rand(5);
    busyUntil[c] = ret + 1;
    // Apply in linearization-point order: generate events sorted by `at` by construction
    // (each new op's point is after the previous one's).
    now = at;
    if (state.exists && rand(2) === 0) {
      ops.push(read(c, call, ret, state.value, state.version));
    } else if (state.exists) {
      const expected = rand(3) === 0 ? -1 : state.version - rand(2);
      const value = `v${k}`;
      const applies = expected === -1 || expected === state.version;
      if (applies) {
        state.value = value;
        state.version++;
      }
      const unknown = rand(1000) < unknownRate * 1000;
      ops.push(write(c, call, ret, value, expected, unknown ? undefined : applies ? ok(state.version) : BAD));
    }
  }
  return ops;
}
