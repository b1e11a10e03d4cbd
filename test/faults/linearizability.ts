/**
 * A linearizability checker for histories recorded by the reliability tests.
 *
 * Algorithm: Wing & Gong's backtracking search for a legal sequential order consistent
 * with real time (J. M. Wing and C. Gong, "Testing and verifying concurrent objects",
 * J. Parallel and Distributed Computing 17, 1993), with Lowe's memoisation of
 * (set of linearized ops, model state) pairs already explored (G. Lowe, "Testing for
 * linearizability", Concurrency and Computation: Practice and Experience 29(4), 2017).
 * This is the form Knossos and Porcupine use. Independent objects (one register per
 * znode) are checked separately when the model provides `partition`, which is sound
 * because linearizability is compositional (Herlihy & Wing 1990).
 *
 * An op whose outcome is unknown (a ConnectionLossError: the write may or may not have
 * been applied) gets `ret = Infinity`: it may be linearized anywhere after its call, and
 * linearizing it last is the same as it never having happened, so both cases are covered.
 */

/** One operation as a client saw it: when it was invoked, what it returned and when. */
export interface Operation<I, O> {
  /** The client (process) that ran it; ops of one client never overlap. */
  client: string | number;
  input: I;
  /** The result, or `undefined` when the outcome is unknown. */
  output: O | undefined;
  /** Invocation time (any monotonic clock shared by all clients of the history). */
  call: number;
  /** Completion time; `Infinity` when the outcome is unknown. */
  ret: number;
}

/** A sequential specification of the object under test. */
export interface Model<S, I, O> {
  /** The object's state before the (sub-)history `ops`. */
  init(ops: Operation<I, O>[]): S;
  /**
   * Applies `input` to `state`: whether `output` is what a sequential object would have
   * returned, and the state after. With `output === undefined` (unknown outcome) it must
   * accept and return the state the op would produce.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** A string that is equal for equal states (the memoisation key). */
  hash(state: S): string;
  /** Splits a history into independent sub-histories (e.g. by znode path). */
  partition?(ops: Operation<I, O>[]): Operation<I, O>[][];
  /** For messages. */
  describe?(op: Operation<I, O>): string;
}

export interface CheckResult<I, O> {
  /** `true` linearizable, `false` not, `'unknown'` when the search ran out of budget. */
  ok: boolean | 'unknown';
  /** Ops checked, partitions, and search steps taken (for the tests' figures). */
  ops: number;
  partitions: number;
  steps: number;
  /** For a failure: the partition that has no linearization, and the deepest prefix found. */
  failure?: { ops: Operation<I, O>[]; longestPrefix: Operation<I, O>[]; explanation: string };
}

/**
 * Checks whether a history is linearizable with respect to a model.
 *
 * @example
 * const r = checkLinearizable(history.operations(), registerModel);
 * expect(r.ok, r.failure?.explanation).toBe(true);
 */
export function checkLinearizable<S, I, O>(ops: Operation<I, O>[], model: Model<S, I, O>, options: { maxSteps?: number } = {}): CheckResult<I, O> {
  const parts = model.partition ? model.partition(ops) : [ops];
  const budget = options.maxSteps ?? 5_000_000;
  let steps = 0;
  let unknown = false;
  for (const part of parts) {
    const r = checkPartition(part, model, budget - steps);
    steps += r.steps;
    if (r.ok === false) {
      return { ok: false, ops: ops.length, partitions: parts.length, steps, failure: explain(part, r.longest, model) };
    }
    if (r.ok === 'unknown') unknown = true;
  }
  return { ok: unknown ? 'unknown' : true, ops: ops.length, partitions: parts.length, steps };
}

interface Entry {
  id: number;
  isCall: boolean;
  time: number;
  /** Call ↔ return of the same op. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

function checkPartition<S, I, O>(ops: Operation<I, O>[], model: Model<S, I, O>, budget: number): { ok: boolean | 'unknown'; steps: number; longest: number[] } {
  for (const op of ops) {
    if (!(op.ret >= op.call)) throw new Error(`operation returns before it is called: ${JSON.stringify(op)}`);
  }
  // Events in time order; at equal times calls go first, which counts touching ops as
  // concurrent (the lenient reading, as Porcupine does).
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    const call: Entry = { id, isCall: true, time: op.call, match: null, prev: null, next: null };
    const ret: Entry = { id, isCall: false, time: op.ret, match: call, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Entry = { id: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }

  // Take an op (its call and return) out of the list, and put it back.
  const lift = (call: Entry): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Entry): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const linearized = new Bits(ops.length);
  const cache = new Set<string>();
  const stack: { entry: Entry; state: S }[] = [];
  let state = model.init(ops);
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];

  while (head.next !== null) {
    if (++steps > budget) return { ok: 'unknown', steps, longest };
    if (entry!.isCall) {
      const op = ops[entry!.id];
      const r = model.step(state, op.input, op.output);
      if (r.ok) {
        linearized.set(entry!.id);
        const key = linearized.key() + '|' + model.hash(r.state);
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ entry: entry!, state });
          state = r.state;
          lift(entry!);
          if (stack.length > longest.length) longest = stack.map((s) => s.entry.id);
          entry = head.next;
          continue;
        }
        linearized.clear(entry!.id);
      }
      entry = entry!.next;
    } else {
      // A return whose call is not linearized yet: every choice so far is wrong, backtrack.
      const top = stack.pop();
      if (!top) return { ok: false, steps, longest };
      state = top.state;
      linearized.clear(top.entry.id);
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { ok: true, steps, longest };
}

function explain<S, I, O>(ops: Operation<I, O>[], longest: number[], model: Model<S, I, O>): { ops: Operation<I, O>[]; longestPrefix: Operation<I, O>[]; explanation: string } {
  const show = (op: Operation<I, O>): string => model.describe
    ? model.describe(op)
    : `client ${op.client}: ${JSON.stringify(op.input)} -> ${op.output === undefined ? '?' : JSON.stringify(op.output)}`;
  const at = (op: Operation<I, O>): string => `[${op.call.toFixed(1)}, ${op.ret === Infinity ? '∞' : op.ret.toFixed(1)}]`;
  const prefix = longest.map((i) => ops[i]);
  const done = new Set(longest);
  const rest = ops.map((op, i) => ({ op, i })).filter(({ i }) => !done.has(i)).sort((a, b) => a.op.call - b.op.call);
  const lines = [
    `not linearizable: ${ops.length} ops, the longest legal order covers ${prefix.length}:`,
    ...prefix.slice(-10).map((op) => `  ok  ${at(op)} ${show(op)}`),
    'none of these fits next:',
    ...rest.slice(0, 10).map(({ op }) => `  ✗   ${at(op)} ${show(op)}`),
  ];
  return { ops, longestPrefix: prefix, explanation: lines.join('\n') };
}

class Bits {
  private readonly words: Uint32Array;
  constructor(n: number) { this.words = new Uint32Array(Math.ceil(n / 32) || 1); }
  set(i: number): void { this.words[i >>> 5] |= 1 << (i & 31); }
  clear(i: number): void { this.words[i >>> 5] &= ~(1 << (i & 31)); }
  key(): string {
    let s = '';
    for (const w of this.words) s += w.toString(36) + ',';
    return s;
  }
}

// ---- recording ---------------------------------------------------------------------

/**
 * Records a history as clients run: `invoke` before the call, then `ok` with the result
 * or `unknown` when the call may or may not have taken effect.
 *
 * @example
 * const h = new History<RegisterInput, RegisterOutput>();
 * const out = await h.record('c1', { path, op: 'read' }, () => readRegister(zk, path));
 */
export class History<I, O> {
  private readonly ops: Operation<I, O>[] = [];
  private readonly clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.clock = clock;
  }

  invoke(client: string | number, input: I): number {
    this.ops.push({ client, input, output: undefined, call: this.clock(), ret: Infinity });
    return this.ops.length - 1;
  }

  ok(id: number, output: O): void {
    const op = this.ops[id];
    op.output = output;
    op.ret = this.clock();
  }

  /** The op may or may not have taken effect: it stays open forever. */
  unknown(id: number): void {
    this.ops[id].output = undefined;
    this.ops[id].ret = Infinity;
  }

  /** Ops that ended with neither `ok` nor `unknown` count as unknown. */
  operations(): Operation<I, O>[] {
    return this.ops.map((o) => ({ ...o }));
  }

  get size(): number {
    return this.ops.length;
  }

  /**
   * Runs `fn` between invoke and completion. `fn` returns the output, or `undefined` for
   * an unknown outcome (e.g. it caught a ConnectionLossError); a throw is recorded as
   * unknown and rethrown.
   */
  async record(client: string | number, input: I, fn: () => Promise<O | undefined>): Promise<O | undefined> {
    const id = this.invoke(client, input);
    try {
      const out = await fn();
      if (out === undefined) this.unknown(id);
      else this.ok(id, out);
      return out;
    } catch (err) {
      this.unknown(id);
      throw err;
    }
  }
}

// ---- models --------------------------------------------------------------------------

/** Ops on one znode seen as a versioned register (ZooKeeper's data + version). */
export type RegisterInput =
  | { path: string; op: 'read' }
  | { path: string; op: 'write'; value: string; expectedVersion: number }
  | { path: string; op: 'create'; value: string }
  | { path: string; op: 'delete'; expectedVersion: number };

export type RegisterOutput =
  | { value: string; version: number }
  | { ok: true; version: number }
  | { ok: true }
  | { error: 'NoNode' | 'NodeExists' | 'BadVersion' };

/** A znode's state: absent, or data with its version. */
export type RegisterState = { exists: false } | { exists: true; value: string; version: number };

/**
 * Versioned register per znode. `read` returns `{value, version}` or NoNode; `write` is
 * setData(value, expectedVersion) (−1 = any) → `{ok, version}` | BadVersion | NoNode;
 * `create` → `{ok, version: 0}` | NodeExists; `delete(expectedVersion)` → `{ok}` |
 * BadVersion | NoNode. `initial` is each register's state before the history.
 */
export function registerModel(initial: (path: string) => RegisterState = () => ({ exists: true, value: '', version: 0 })): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    init: (ops) => initial(ops[0]?.input.path ?? ''),
    partition(ops) {
      const byPath = new Map<string, Operation<RegisterInput, RegisterOutput>[]>();
      for (const op of ops) {
        let l = byPath.get(op.input.path);
        if (!l) byPath.set(op.input.path, (l = []));
        l.push(op);
      }
      return [...byPath.values()];
    },
    step(s, input, output) {
      const next = apply(s, input);
      if (output === undefined) return { ok: true, state: next.state };
      return { ok: sameOutput(next.output, output), state: next.state };
    },
    hash: (s) => (s.exists ? `${s.version}:${s.value}` : '-'),
    describe: (op) => {
      const i = op.input;
      const what = i.op === 'read' ? `read ${i.path}`
        : i.op === 'write' ? `write ${i.path} ${JSON.stringify(i.value)} @v${i.expectedVersion}`
        : i.op === 'create' ? `create ${i.path} ${JSON.stringify(i.value)}`
        : `delete ${i.path} @v${i.expectedVersion}`;
      return `client ${op.client}: ${what} -> ${op.output === undefined ? '? (unknown)' : JSON.stringify(op.output)}`;
    },
  };
}

function apply(s: RegisterState, i: RegisterInput): { state: RegisterState; output: RegisterOutput } {
  switch (i.op) {
    case 'read':
      return { state: s, output: s.exists ? { value: s.value, version: s.version } : { error: 'NoNode' } };
    case 'write':
      if (!s.exists) return { state: s, output: { error: 'NoNode' } };
      if (i.expectedVersion !== -1 && i.expectedVersion !== s.version) return { state: s, output: { error: 'BadVersion' } };
      return { state: { exists: true, value: i.value, version: s.version + 1 }, output: { ok: true, version: s.version + 1 } };
    case 'create':
      if (s.exists) return { state: s, output: { error: 'NodeExists' } };
      return { state: { exists: true, value: i.value, version: 0 }, output: { ok: true, version: 0 } };
    case 'delete':
      if (!s.exists) return { state: s, output: { error: 'NoNode' } };
      if (i.expectedVersion !== -1 && i.expectedVersion !== s.version) return { state: s, output: { error: 'BadVersion' } };
      return { state: { exists: false }, output: { ok: true } };
  }
}

function sameOutput(a: RegisterOutput, b: RegisterOutput): boolean {
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && a.error === b.error;
  if ('value' in a || 'value' in b) return 'value' in a && 'value' in b && a.value === b.value && a.version === b.version;
  return 'ok' in a && 'ok' in b && ('version' in a ? a.version : undefined) === ('version' in b ? b.version : undefined);
}

/**
 * Tickets that must rise in real-time order: sequential znode suffixes, fencing tokens.
 * Each op returns a number (`take`); known results must be strictly increasing in the
 * linearization order and unique. An unknown op may have used a number (gaps are fine).
 */
export const ticketModel: Model<number, { op: 'take'; key?: string }, number> = {
  init: () => -Infinity,
  step: (s, _i, out) => (out === undefined ? { ok: true, state: s } : { ok: out > s, state: Math.max(s, out) }),
  hash: (s) => String(s),
  partition(ops) {
    const by = new Map<string, Operation<{ op: 'take'; key?: string }, number>[]>();
    for (const op of ops) {
      const k = op.input.key ?? '';
      let l = by.get(k);
      if (!l) by.set(k, (l = []));
      l.push(op);
    }
    return [...by.values()];
  },
  describe: (op) => `client ${op.client}: take${op.input.key ? ' ' + op.input.key : ''} -> ${op.output ?? '? (unknown)'}`,
};
