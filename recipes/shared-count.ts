import { EventEmitter } from 'node:events';
import {
  BadArgumentsError, BadVersionError, NodeExistsError, NoNodeError, parentOf,
  type Client, type WatchEvent,
} from '../core/index.js';
import { checkClient, checkRecipePath, show } from './internal/args.js';
import { ensureDir } from './internal/protected.js';

/** A counter value with the znode version it was read at (for compare-and-set). */
export interface VersionedValue {
  value: number;
  version: number;
}

/**
 * A shared integer counter (Curator's SharedCount / DistributedAtomicLong), stored as
 * decimal text in one znode. Every change is a compare-and-set on the znode's version,
 * so concurrent updates never get lost.
 *
 * @example
 * const hits = new SharedCount(zk, '/stats/hits', 0);
 * await hits.increment();                 // retries on conflict
 * const { value, version } = await hits.get();
 * const won = await hits.trySet(value + 10, version);   // false if someone got there first
 */
export class SharedCount extends EventEmitter<{ changed: [VersionedValue] }> {
  readonly path: string;
  private readonly zk: Client;
  private readonly seed: number;
  private watching = false;
  private readonly onEvent = (ev: WatchEvent): void => {
    this.watching = false;
    if (ev.type === 'deleted' || this.listenerCount('changed') === 0) return;
    void this.get().catch(() => undefined);
  };

  constructor(zk: Client, path: string, seed = 0) {
    super();
    this.zk = checkClient(zk, 'SharedCount');
    this.path = checkRecipePath(path, 'SharedCount');
    this.seed = checkInt(seed, 'seed');
  }

  /** The current value and version (creating the znode with the seed if missing). */
  async get(): Promise<VersionedValue> {
    for (;;) {
      try {
        const watch = this.listenerCount('changed') > 0 && !this.watching;
        const r = await this.zk.getData(this.path, watch ? { watch: this.onEvent } : undefined);
        if (watch) this.watching = true;
        const v = { value: parse(r.data, this.path), version: r.stat.version };
        if (watch) this.emit('changed', v);
        return v;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        await this.create();
      }
    }
  }

  /** Sets the value if the znode is still at `expectedVersion`; false if it moved on. */
  async trySet(value: number, expectedVersion: number): Promise<boolean> {
    checkInt(value, 'value');
    try {
      await this.zk.setData(this.path, String(value), expectedVersion);
      return true;
    } catch (err) {
      if (err instanceof BadVersionError) return false;
      if (err instanceof NoNodeError) {
        await this.create();
        return false;
      }
      throw err;
    }
  }

  /** Adds `delta` (default 1) atomically; returns the new value. */
  async increment(delta = 1): Promise<number> {
    checkInt(delta, 'delta');
    for (;;) {
      const { value, version } = await this.get();
      if (await this.trySet(value + delta, version)) return value + delta;
    }
  }

  /** Sets the value unconditionally. */
  async set(value: number): Promise<void> {
    checkInt(value, 'value');
    for (;;) {
      try {
        await this.zk.setData(this.path, String(value));
        return;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        await this.create();
      }
    }
  }

  private async create(): Promise<void> {
    await ensureDir(this.zk, parentOf(this.path));
    try {
      await this.zk.create(this.path, String(this.seed));
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }
}

function checkInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new BadArgumentsError(`Expected \`${what}\` to be a safe integer, got ${show(v)}`);
  return v;
}

function parse(data: Buffer, path: string): number {
  const n = Number(data.toString('utf8'));
  if (!Number.isSafeInteger(n)) throw new BadArgumentsError(`Znode does not hold an integer counter: ${JSON.stringify(data.toString('utf8').slice(0, 40))}`, path);
  return n;
}
