/**
 * Group commit: the multis one connection is asked for while it is busy go to Redis as one
 * call of the multi script, which runs them one after the other, each exactly as if alone
 * (its own zxid, events, change-log entry, success or failure: see multi-7.lua).
 *
 * Why: a multi of one op costs Redis ~30 µs of which most is per call (script lookup,
 * TIME, the session and lifetime checks, building the helpers) and the client a command of
 * its own (arguments, a timer, a reply to parse). Sixteen setData in flight on one session
 * pay that once instead of sixteen times. ZooKeeper's leader batches its commits the same way.
 *
 * Order is the client's FIFO order (ZooKeeper's guarantee): writes queue in call order and
 * are sent in that order on one connection; before anything else is sent on it (a read, a
 * heartbeat), {@link flush} sends what is queued, so nothing overtakes an earlier write.
 *
 * When: a queued write waits only for the end of the current turn of the event loop
 * (setImmediate), so an idle client pays a few microseconds and a busy one gathers every
 * write its callbacks issued in that turn, typically those released by one burst of replies.
 */

/** The multi script's arguments for one multi: its number of ops and the packed ops. */
export type PackedMulti = [number, Buffer];

/** Sends one session's multis as one script call; resolves with one reply per multi. */
export type SendMultis = (sessionId: string, multis: PackedMulti[]) => Promise<unknown[]>;

interface Queued {
  sessionId: string;
  multi: PackedMulti;
  resolve(reply: unknown[]): void;
  reject(err: unknown): void;
}

/** At most this many multis, and about this many bytes of packed ops, per call. */
const MAX_MULTIS = 64;
const MAX_BYTES = 256 * 1024;

export class WriteBatch {
  private queue: Queued[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly send: SendMultis) {}

  /** Queues one multi; resolves with its reply once its call returns. */
  add(sessionId: string, multi: PackedMulti): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sessionId, multi, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends everything queued now, in order (one call per run of one session's multis). */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    let start = 0;
    while (start < queue.length) {
      const sessionId = queue[start].sessionId;
      let end = start + 1;
      let bytes = queue[start].multi[1].length;
      while (end < queue.length && end - start < MAX_MULTIS && queue[end].sessionId === sessionId) {
        bytes += queue[end].multi[1].length;
        if (bytes > MAX_BYTES) break;
        end++;
      }
      this.sendRun(queue.slice(start, end));
      start = end;
    }
  }

  private sendRun(run: Queued[]): void {
    let sent: Promise<unknown[]>;
    try {
      sent = this.send(run[0].sessionId, run.map((q) => q.multi));
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
