import { EventEmitter } from 'node:events';
import {
  BadArgumentsError, NodeExistsError, NoNodeError, joinPath, type Client, type Data,
} from '../core/index.js';
import { checkClient, checkName, checkOpts, checkRecipePath, checkWait, type WaitOptions } from './internal/args.js';
import { waitChange } from './internal/contend.js';
import { deleteOwn, ensureDir } from './internal/protected.js';
import { isConnectionLoss, untilConnected } from './internal/wait.js';
import { Lease } from './lease.js';
import { ChildrenCache } from './tree-cache.js';

export interface GroupMemberEvents {
  /** A member joined (also reported for every member present at `join()`). */
  joined: [{ id: string; data: Buffer }];
  /** A member's data changed. */
  updated: [{ id: string; data: Buffer }];
  /** A member left (or its session expired). */
  left: [{ id: string }];
  /** Our own membership is in doubt (session suspended). */
  suspended: [];
  /** Our membership was verified after a reconnect. */
  reconnected: [];
  /** Our own membership is gone (session expired, znode deleted). */
  lost: [Error];
}

/**
 * Group membership (Curator's GroupMember): each member is an ephemeral znode
 * `<path>/<id>` holding its data; the group is watched through one ChildrenCache.
 * A crashed member leaves when its session expires.
 *
 * If `<path>/<id>` is still held by another session (our own previous incarnation that
 * crashed and has not expired yet), `join()` waits for it to go rather than adopting it:
 * adopting another session's ephemeral would see it deleted under us when that session
 * expires. `timeoutMs` bounds that wait.
 *
 * @example
 * const me = new GroupMember(zk, '/app/members', 'worker-1', { data: JSON.stringify({ host }) });
 * me.on('joined', (m) => console.log('joined', m.id));
 * me.on('left', (m) => console.log('left', m.id));
 * await me.join();
 * me.members();   // Map { 'worker-1' => Buffer, … }
 * await me.leave();
 */
export class GroupMember extends EventEmitter<GroupMemberEvents> {
  readonly path: string;
  readonly id: string;
  private readonly zk: Client;
  private data: Data;
  private cache: ChildrenCache | null = null;
  private lease: Lease | null = null;

  constructor(zk: Client, path: string, id: string, options?: { data?: Data }) {
    super();
    this.zk = checkClient(zk, 'GroupMember');
    this.path = checkRecipePath(path, 'group');
    this.id = checkName(id, 'id');
    this.data = checkOpts<{ data: Data }>(options, 'GroupMember').data ?? '';
  }

  /** The membership lease: token, signal (aborted when our membership is lost), inDoubt. */
  get membership(): Lease | null {
    return this.lease;
  }

  /** Joins: creates our ephemeral member znode and starts watching the group. */
  async join(options?: WaitOptions): Promise<void> {
    const wait = checkWait(options, 'GroupMember.join');
    if (this.lease) throw new BadArgumentsError(`GroupMember ${this.id} has already joined ${this.path}`);
    const path = joinPath(this.path, this.id);
    await ensureDir(this.zk, this.path);
    for (;;) {
      try {
        const r = await this.zk.createWithStat(path, this.data, { mode: 'ephemeral' });
        this.hold(path, r.stat.czxid);
        break;
      } catch (err) {
        if (err instanceof NodeExistsError) {
          const stat = await this.zk.exists(path).catch(() => null);
          if (stat && stat.ephemeralOwner === this.zk.sessionId) {
            this.hold(path, stat.czxid); // our own create whose reply was lost
            break;
          }
          await waitChange(this.zk, [path], wait, `GroupMember ${path} join`);
          continue;
        }
        if (!isConnectionLoss(err)) throw err;
        await untilConnected(this.zk, wait, 'GroupMember.join');
      }
    }
    const cache = new ChildrenCache(this.zk, this.path);
    cache.on('added', (p, n) => p !== this.path && this.emit('joined', { id: p.slice(p.lastIndexOf('/') + 1), data: n.data }));
    cache.on('updated', (p, n) => p !== this.path && this.emit('updated', { id: p.slice(p.lastIndexOf('/') + 1), data: n.data }));
    cache.on('removed', (p) => p !== this.path && this.emit('left', { id: p.slice(p.lastIndexOf('/') + 1) }));
    this.cache = cache;
    await cache.start();
  }

  /** The group's members as this member sees them: id → data. */
  members(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [id, n] of this.cache?.children() ?? []) out.set(id, n.data);
    return out;
  }

  /** Replaces our member data. */
  async setData(data: Data): Promise<void> {
    this.data = data;
    if (this.lease) await this.zk.setData(this.lease.path, data);
  }

  /** Leaves the group (deletes our znode) and stops watching. Idempotent. */
  async leave(): Promise<void> {
    await this.cache?.close();
    this.cache = null;
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.leave();
  }

  /** The members of the group at `path` (a one-off read, no watch). */
  static async members(zk: Client, path: string): Promise<Map<string, Buffer>> {
    checkRecipePath(path, 'group');
    const out = new Map<string, Buffer>();
    let after: string | undefined;
    try {
      for (;;) {
        const page = await zk.getChildren(path, after === undefined ? { limit: 1000 } : { limit: 1000, after });
        for (const c of page.children) {
          try {
            out.set(c, (await zk.getData(joinPath(path, c))).data);
          } catch (err) {
            if (!(err instanceof NoNodeError)) throw err;
          }
        }
        if (page.next === undefined) break;
        after = page.next;
      }
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    return out;
  }

  private hold(path: string, token: number): void {
    const lease = new Lease(this.zk, { path, token }, () => deleteOwn(this.zk, path));
    lease.on('suspended', () => this.emit('suspended'));
    lease.on('reconnected', () => this.emit('reconnected'));
    lease.on('lost', (err) => this.emit('lost', err));
    this.lease = lease;
  }
}
