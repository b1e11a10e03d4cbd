import type { Redis } from 'ioredis';

/**
 * A reference point for the lock bench, not a product and not a peer the issue names: the
 * cheapest FIFO, fenced mutex one can write straight on Redis, to show what a fair
 * hand-off costs on this machine before any of what corral's Mutex is made of (sessions
 * that expire, ephemeral znodes, watches, one total order of writes, a change log) is
 * paid for. It is not safe: a holder or waiter that dies leaves its entry in the queue and
 * the lock stuck forever (no session, no expiry), and a lost reply is not retried.
 *
 * acquire: one script appends our id to the queue and, when we are first, pushes a grant
 * (the fencing counter's next value) into our own list; it is pipelined with a BLPOP on
 * that list, so both leave in one socket write and the BLPOP returns when we are granted.
 * release: one script pops us off the queue and pushes a grant into the next waiter's
 * list. Two socket writes per acquisition, no herd (only the next waiter is woken).
 */
const ACQUIRE = `
local q = KEYS[1]
redis.call('RPUSH', q, ARGV[1])
if redis.call('LINDEX', q, 0) == ARGV[1] then redis.call('RPUSH', KEYS[2], redis.call('INCR', KEYS[3])) end
return 1`;
const RELEASE = `
local q = KEYS[1]
redis.call('LPOP', q)
local next = redis.call('LINDEX', q, 0)
if next then redis.call('RPUSH', ARGV[1] .. next, redis.call('INCR', KEYS[2])) end
return 1`;

interface FloorCommands {
  floorAcquire(queue: string, box: string, fence: string, id: string): Promise<unknown>;
  floorRelease(queue: string, fence: string, boxPrefix: string): Promise<unknown>;
}

export class RedisFifoFloorMutex {
  private readonly queue: string;
  private readonly fence: string;
  private readonly boxPrefix: string;

  /** `key` names the lock (all its keys share its hash tag); `id` is unique per contender. */
  constructor(private readonly redis: Redis, key: string, private readonly id: string) {
    this.queue = `{${key}}:queue`;
    this.fence = `{${key}}:fence`;
    this.boxPrefix = `{${key}}:grant:`;
    if (!('floorAcquire' in redis)) {
      redis.defineCommand('floorAcquire', { numberOfKeys: 3, lua: ACQUIRE });
      redis.defineCommand('floorRelease', { numberOfKeys: 2, lua: RELEASE });
    }
  }

  /** Resolves with the fencing token once granted. */
  async acquire(): Promise<number> {
    const box = this.boxPrefix + this.id;
    const p = this.redis.pipeline() as unknown as FloorCommands & { blpop(key: string, timeout: number): void; exec(): Promise<Array<[Error | null, unknown]>> };
    p.floorAcquire(this.queue, box, this.fence, this.id);
    p.blpop(box, 0);
    const replies = await p.exec();
    for (const [err] of replies) if (err) throw err;
    return Number((replies[1][1] as [string, string])[1]);
  }

  async release(): Promise<void> {
    await (this.redis as unknown as FloorCommands).floorRelease(this.queue, this.fence, this.boxPrefix);
  }

  /** Every key this lock may have left. */
  keys(ids: readonly string[]): string[] {
    return [this.queue, this.fence, ...ids.map((i) => this.boxPrefix + i)];
  }
}
