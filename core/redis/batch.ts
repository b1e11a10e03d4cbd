/**
 * Group commit: the calls one connection is asked for while it is busy go to Redis
 * together. Writes: one call of the multi script runs many multis one after the other,
 * each exactly as if alone (its own zxid, events, change-log entry, success or failure:
 * see multi-7.lua). Reads (exists, getData, getChildren, whole or a page) and the watch
 * registrations they carry: one call of the reads script answers them all at one point of
 * the total order.
 *
 * Why: a multi of one op costs Redis ~30 µs of which most is per call (script lookup,
 * TIME, the session and lifetime checks, building the helpers), and every call costs the
 * client a command of its own (arguments, a timer, a reply to parse). Sixteen setData in
 * flight on one session pay that once instead of sixteen times. ZooKeeper's leader batches
 * its commits the same way.
 *
 * Reads queued right behind writes ride in the writes' call: the multi script runs them
 * after the writes, as the reads script would right after it (a lock's create and the list
 * of contenders read with it: one script call, not two).
 *
 * Order is the client's FIFO order (ZooKeeper's guarantee): calls queue in call order and
 * go out in that order on one connection, per script call a run of reads, or of one
 * session's writes and the reads behind them; before anything else is sent on the connection (a heartbeat, a catch-up),
 * {@link Batch.flush} sends what is queued, so nothing overtakes an earlier call.
 *
 * When: a queued call waits only until the code running now and the promise callbacks it
 * set off are done (process.nextTick), so an idle client pays well under a microsecond and
 * a busy one gathers every call issued in that cascade, typically all those released by
 * one burst of replies (one socket read resolves them all at once). setImmediate, which
 * waits for the rest of the event-loop turn, gathered no more under load and lengthened
 * the tail of watch latency (p99 1.4 → 1.8 ms on the core bench's watch round trip).
 */

/** The multi script's arguments for one multi: its number of ops and the packed ops. */
export type PackedMulti = [number, Buffer];

/**
 * The reads script's arguments for one op: its type, its path, and for a page of children
 * (`p`) where it starts and its size. Types: e exists, d getData, c getChildren, p a page
 * of getChildren; `+<bits>` / `-<bits>` register / withdraw watches (see reads-3.lua).
 */
export type PackedRead =
  | readonly ['e' | 'd' | 'c' | `+${number}` | `-${number}`, string]
  | readonly ['p', string, string, string];

/** Sends one session's multis, or reads, as one script call; resolves with one reply per call batched. */
export interface BatchSender {
  /**
   * One reply per multi; with `reads` (queued behind them, run after them in the same
   * call), one more: the reads' replies, one per read, as {@link reads} gives them.
   */
  multis(sessionId: string, multis: PackedMulti[], reads: PackedRead[]): Promise<unknown[]>;
  reads(reads: PackedRead[]): Promise<unknown[]>;
  /**
   * Holds the connection's writes until the returned function is called, so the script
   * calls of one flush leave in one socket write (one system call on each side).
   */
  cork?(): () => void;
}

type Queued = {
  resolve(reply: unknown[]): void;
  reject(err: unknown): void;
} & ({ sessionId: string; multi: PackedMulti; read?: undefined } | { sessionId?: undefined; read: PackedRead; multi?: undefined });

/** At most this many calls, and about this many bytes of packed ops, per script call. */
const MAX_CALLS = 64;
const MAX_BYTES = 256 * 1024;

export class Batch {
  private queue: Queued[] = [];
  /** Withdrawn watches not sent yet (see later). */
  private lazy: Queued[] = [];
  private scheduled = false;

  constructor(private readonly sender: BatchSender) {}

  /** Queues one multi; resolves with its reply (as the multi script gives it for one multi). */
  multi(sessionId: string, multi: PackedMulti): Promise<unknown[]> {
    return new Promise((resolve, reject) => this.push({ sessionId, multi, resolve, reject }));
  }

  /** Queues one read; resolves with its reply (see reads-3.lua). */
  read(read: PackedRead): Promise<unknown[]> {
    return new Promise((resolve, reject) => this.push({ read, resolve, reject }));
  }

  /**
   * Queues a read-script op that nothing waits for and that may be late (a withdrawn
   * watch: until it reaches Redis, the client ignores the events it still gets). It costs
   * no call of its own: it goes first in the next call of the reads script, which keeps
   * it before any later registration of the same watch, or with {@link flush}(true) (the
   * heartbeat's), or once MAX_CALLS of them wait.
   */
  later(read: PackedRead, onError: (err: unknown) => void): void {
    const q: Queued = { read, resolve: () => undefined, reject: onError };
    // Queued after an op on its path not sent yet (its registration): it must stay behind it.
    if (this.queue.some((x) => x.read?.[1] === read[1])) this.push(q);
    else this.lazy.push(q);
    if (this.lazy.length >= MAX_CALLS) for (const l of this.lazy.splice(0)) this.push(l);
  }

  private push(q: Queued): void {
    this.queue.push(q);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** Sends everything queued now, in order; the late ops too with `all` or when reads go. */
  flush(all = false): void {
    this.scheduled = false;
    let queue = this.queue;
    if (this.lazy.length > 0) {
      // Before the first read: ahead of every registration queued after them.
      const at = queue.findIndex((q) => q.read);
      if (at >= 0 || all) {
        queue = at < 0 ? [...queue, ...this.lazy] : [...queue.slice(0, at), ...this.lazy, ...queue.slice(at)];
        this.lazy = [];
      }
    }
    if (queue.length === 0) return;
    this.queue = [];
    const runs: Queued[][] = [];
    let start = 0;
    while (start < queue.length) {
      const first = queue[start];
      let end = start + 1;
      let bytes = first.multi ? first.multi[1].length : first.read[1].length;
      let reading = !first.multi;
      // ('p' reads' extra arguments are short: a child name and a number.)
      while (end < queue.length && end - start < MAX_CALLS) {
        const q = queue[end];
        // A run is reads only, or one session's multis then reads.
        if (q.multi ? reading || q.sessionId !== first.sessionId : false) break;
        if (q.read) reading = true;
        bytes += q.multi ? q.multi[1].length : q.read[1].length;
        if (bytes > MAX_BYTES) break;
        end++;
      }
      runs.push(queue.slice(start, end));
      start = end;
    }
    // Several script calls (reads, then a write queued behind them; a batch split by size): one socket write.
    const uncork = runs.length > 1 ? this.sender.cork?.() : undefined;
    for (const run of runs) this.send(run);
    uncork?.();
  }

  private send(run: Queued[]): void {
    let sent: Promise<unknown[]>;
    try {
      const first = run[0];
      if (first.multi) {
        const multis = run.filter((q) => q.multi).map((q) => q.multi!);
        const reads = run.slice(multis.length).map((q) => q.read!);
        // The reads' replies come as one more reply, after the multis': spread over the run.
        sent = this.sender.multis(first.sessionId, multis, reads)
          .then((r) => (reads.length === 0 ? r : [...r.slice(0, multis.length), ...(r[multis.length] as unknown[])]));
      } else {
        sent = this.sender.reads(run.map((q) => q.read!));
      }
    } catch (err) {
      for (const q of run) q.reject(err);
      return;
    }
    sent.then(
      (replies) => {
        for (let i = 0; i < run.length; i++) run[i].resolve(replies[i] as unknown[]);
      },
      (err: unknown) => {
        for (const q of run) q.reject(err);
      },
    );
  }
}
