import type { Cluster, Redis } from 'ioredis';
import { interestsWant, type Backend, type BackendEvent, type ChildrenPage, type HistoryLost, type InterestKind, type MultiReply } from '../backend.js';
import {
  BadArgumentsError, ConnectionLossError, CorralError, errorFromCode, NoNodeError, SessionExpiredError, StoreFullError, StoreRolledBackError, SystemError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { CreateMode, Op, OpResult, ReadOp, ReadResult, Stat } from '../types.js';
import { Batch, type PackedMulti } from './batch.js';
import { checkEvictionPolicy } from './eviction.js';
import { EventFence } from './event-fence.js';
import { childrenReply, dataReply, eventsFromLog, eventsFromMessage, FRESH, freshStat, packOps, STAT_FIELDS, statFrom } from './codec.js';
import type { RedisLinks } from './connection.js';
import { keySlot, namespaceKeys, type NamespaceKeys } from './keys.js';
import { isFunctionMissing, ScriptRunner } from './script-runner.js';
import type { ScriptName } from './scripts.js';

/** The page size of a paged getChildren given `after` but no `limit`: all the rest. */
const MAX_PAGE = 2 ** 31 - 1;
/** How often each client runs the reaper (expired sessions, TTL znodes). */
const REAPER_TICK_MS = 100;
/** Registration bits of each kind of interest (see reads-3.lua). */
/**
 * Registration bits per kind (see includes/tree.lua `give`): an `-others` kind is its base
 * kind's bit shifted left by 3, so Redis sends such a watch no events of its own session's writes.
 */
const KIND_BITS: Record<InterestKind, number> = {
  node: 1, children: 2, recursive: 4, 'node-others': 8, 'children-others': 16, 'recursive-others': 32,
  'node+data': 64, 'children+data': 128, 'recursive+data': 256, 'node-others+data': 512, 'recursive-others+data': 2048,
};

/** Redis replies that mean "this server cannot serve you right now": retryable, like a lost link. */
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|UNBLOCKED)\b/;

/**
 * One client's connection to a namespace stored in Redis: every write is one Lua script
 * (atomic, one round trip; a function of corral's library, or EVALSHA: see ScriptRunner),
 * reads are scripts that return the last zxid with the data, and watch events arrive over
 * pub/sub on a second connection.
 *
 * Watches cost in proportion to interest, as on a ZooKeeper server: a session's watches
 * (node, children, recursive) are registered in Redis (`i:<path>`, by the reads script, in
 * the same call as the read that arms them: no round trip of their own), and a write
 * publishes only to the sessions whose watches want its events: one message per write and
 * session, each event once, on the session's channel (`s:<sid>`), to which this
 * connection subscribes once. A write nobody watches publishes nothing. Registrations go
 * with the session (closed or expired). Withdrawals ride with the next reads call or the
 * heartbeat: until then the client ignores what still comes. Write scripts find recursive
 * watches above an event's path in one sorted set (read once per script): a registry
 * rather than PSUBSCRIBE patterns, because every pattern is matched against every message
 * server-side, and znode paths would need glob escaping.
 *
 * Events before reads: see EventFence.
 */
export class RedisBackend implements Backend {
  readonly kind = 'redis';
  readonly keys: NamespaceKeys;
  /** KEYS of the reads script. */
  private readonly readsKeys: string[];
  private readonly cmd: Redis | Cluster;
  /** The events connection (built in open() on Cluster, where it depends on the slot map). */
  private sub!: Redis;
  /** Kinds of interest per path, as registered (or being registered) in Redis. */
  private readonly interests = new Map<string, Set<InterestKind>>();
  /** The session's events channel, once subscribed (resubscribed after a reconnect). */
  private sessionChannel: string | null = null;
  /** This connection's session ('' until createSession): watch registrations are its. */
  private sessionId = '';
  /** Reads wait here for the events Redis sent the session before them. */
  private readonly fence = new EventFence();
  /** Runs the scripts on the commands connection (functions or EVALSHA). */
  private readonly scripts: ScriptRunner;
  /**
   * True while the scripts can run on the commands connection as it is now: false from a
   * disconnect, or a call that found the library gone, until it is loaded again.
   */
  private scriptsReady = false;
  private eventListener: (ev: BackendEvent) => void = () => undefined;
  private linkListener: (up: boolean) => void = () => undefined;
  private linkUp = false;
  private subReady = false;
  private opened = false;
  private closed = false;
  /** How long a call may wait for Redis before the link counts as dead (set from the session timeout). */
  private callTimeoutMs = 5_000;
  private reaper: NodeJS.Timeout | null = null;
  private readonly detachers: Array<() => void> = [];
  /** Multis and reads waiting to go to Redis together (group commit). */
  private readonly batch = new Batch({
    multis: (sessionId, multis, reads) => (reads.length === 0
      ? this.write('multi', sessionId, multis.length, ...multis.flat()) as Promise<unknown[]>
      : this.writeThenRead(sessionId, multis, reads.flat())),
    // Buffer replies keep getData's data binary-safe (the decoders take Buffers elsewhere).
    reads: (reads) => this.reads(reads.flat()),
    cork: () => {
      // A Cluster has no one socket: its calls go out as they come.
      const socket = (this.cmd as { stream?: { cork?(): void; uncork(): void } }).stream;
      if (typeof socket?.cork !== 'function') return () => undefined;
      socket.cork();
      return () => socket.uncork();
    },
  });

  constructor(private readonly links: RedisLinks, namespace: string, private readonly logger: Logger) {
    this.keys = namespaceKeys(namespace);
    this.readsKeys = [this.keys.zxid, this.keys.sessions, this.keys.recursive];
    this.cmd = links.commands;
    if (links.subscriber) this.sub = links.subscriber;
    // The probe: the reads script with no reads and no session.
    this.scripts = new ScriptRunner(this.cmd, links.cluster, logger, () => [...this.readsKeys, this.keys.prefix, '']);
  }

  /** True while both links (commands and events) are up. */
  get isConnected(): boolean {
    return this.linkUp;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const down = () => {
      this.scriptsReady = false;
      this.updateLink();
    };
    this.listen(this.cmd, 'close', down);
    this.listen(this.cmd, 'end', down);
    // Back from a disconnect: the library may be gone (a restart without persistence).
    this.listen(this.cmd, 'ready', () => void this.prepareScripts());
    let lastError: Error | undefined;
    const onError = (what: string) => (err: Error) => {
      lastError = err;
      this.logger.debug({ err }, `redis ${what} error`);
    };
    if (this.links.ownsCommands) this.listen(this.cmd, 'error', onError('connection'));
    try {
      await ready(this.cmd);
      await checkEvictionPolicy(this.cmd, this.links.cluster, this.logger);
      await this.scripts.prepare();
      this.scriptsReady = true;
      this.sub ??= this.links.subscriberFor!(keySlot(this.keys.zxid));
      this.listen(this.sub, 'close', () => {
        this.subReady = false;
        this.fence.fail('Events connection to Redis closed');
        this.updateLink();
      });
      this.listen(this.sub, 'ready', () => void this.resubscribe());
      // As bytes: an event of a `+data` watch carries the znode's data, which may be binary.
      this.listen(this.sub, 'messageBuffer', (channel: Buffer, msg: Buffer) => this.onMessage(channel, msg));
      this.listen(this.sub, 'error', onError('subscriber connection'));
      await ready(this.sub);
    } catch (err) {
      await this.close();
      if (err instanceof SystemError) throw err;
      const cause = lastError ?? (err as Error);
      if (/^(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|AUTH <password> called without any password/i.test(cause.message)) {
        throw new SystemError(`Redis refused the credentials (${cause.message}); check the user and password in the URL (redis://user:password@host:port) or the \`username\`/\`password\` options`, { cause });
      }
      throw new ConnectionLossError(`Cannot connect to Redis: ${cause.message}`, undefined, { cause });
    }
    this.subReady = true;
    this.updateLink();
    this.reaper = setInterval(() => void this.reap(), REAPER_TICK_MS);
    this.reaper.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reaper) clearInterval(this.reaper);
    for (const d of this.detachers) d();
    this.linkUp = false;
    this.fence.fail('Redis backend is closed');
    this.sub?.disconnect();
    // A connection the user passed in is theirs to close.
    if (this.links.ownsCommands) this.cmd.disconnect();
  }

  // ---- sessions -----------------------------------------------------------------------

  async createSession(timeoutMs: number): Promise<{ sessionId: string; zxid: number }> {
    // A silent link (partition, frozen server) must be noticed well within the session
    // timeout, or the client could neither suspend nor expire in time.
    this.callTimeoutMs = Math.max(Math.floor((timeoutMs * 2) / 3), 250);
    const r = (await this.write('create-session', timeoutMs)) as [string, number];
    this.sessionId = String(r[0]);
    // Before any watch can be registered: its events come on this channel.
    const channel = this.keys.sessionChannel(this.sessionId);
    await this.call(() => this.sub.subscribe(channel));
    this.sessionChannel = channel;
    return { sessionId: this.sessionId, zxid: Number(r[1]) };
  }

  async touchSession(sessionId: string, seenZxid = 0): Promise<{ zxid: number; rolledBackAt?: number }> {
    // Withdrawn watches waiting for a call to ride with go now, before the heartbeat.
    this.batch.flush(true);
    const [code, zxid, shared] = (await this.write('touch-session', sessionId, seenZxid)) as [number, number, number];
    // -1: `seenZxid` is in the store's history; else the last zxid both histories share.
    const lost = shared >= 0;
    if (code !== 0) {
      const err = new SessionExpiredError();
      if (lost) {
        this.logger.error({ sessionId, seenZxid, serverZxid: zxid, rolledBackAt: shared }, 'STORE ROLLED BACK: Redis lost acknowledged writes (and this session with them)');
        // Why the session is gone: the client reports it before it expires.
        err.cause = new StoreRolledBackError(seenZxid, zxid);
      }
      throw err;
    }
    return lost ? { zxid, rolledBackAt: shared } : { zxid };
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.write('close-session', sessionId);
  }

  // ---- writes ---------------------------------------------------------------------------

  async create(sessionId: string, path: string, data: Uint8Array, mode: CreateMode, ttlMs?: number): Promise<{ path: string; stat: Stat; zxid: number }> {
    const reply = await this.multi(sessionId, [ttlMs === undefined ? { type: 'create', path, data, mode } : { type: 'create', path, data, mode, ttlMs }]);
    if (!reply.ok) throw reply.error;
    const r = reply.results[0] as Extract<OpResult, { type: 'create' }>;
    return { path: r.path, stat: r.stat, zxid: reply.zxid };
  }

  async delete(sessionId: string, path: string, version: number): Promise<{ zxid: number }> {
    const reply = await this.multi(sessionId, [{ type: 'delete', path, version }]);
    if (!reply.ok) throw reply.error;
    return { zxid: reply.zxid };
  }

  async setData(sessionId: string, path: string, data: Uint8Array, version: number): Promise<{ stat: Stat; zxid: number }> {
    const reply = await this.multi(sessionId, [{ type: 'setData', path, data, version }]);
    if (!reply.ok) throw reply.error;
    const r = reply.results[0] as Extract<OpResult, { type: 'setData' }>;
    return { stat: r.stat, zxid: reply.zxid };
  }

  async multi(sessionId: string, ops: Op[]): Promise<MultiReply> {
    const r = await this.batch.multi(sessionId, [ops.length, packOps(ops)]);
    const code = Number(r[0]);
    if (code !== 0) return { ok: false, failedIndex: Number(r[1]), error: errorOf(code, String(r[2])) };
    const zxid = Number(r[1]);
    const now = Number(r[2]);
    const results: OpResult[] = [];
    let at = 3;
    for (const op of ops) {
      if (op.type === 'create') {
        const path = String(r[at]);
        if (r[at + 1] === FRESH) {
          results.push({ type: 'create', path, stat: freshStat(zxid, now, op, sessionId) });
          at += 2;
        } else {
          results.push({ type: 'create', path, stat: statFrom(r, at + 1) });
          at += 1 + STAT_FIELDS;
        }
      } else if (op.type === 'setData') {
        results.push({ type: 'setData', path: op.path, stat: statFrom(r, at) });
        at += STAT_FIELDS;
      } else {
        results.push({ type: op.type, path: op.path });
      }
    }
    return { ok: true, results, zxid };
  }

  // ---- reads ----------------------------------------------------------------------------

  async exists(path: string): Promise<{ stat: Stat | null; zxid: number }> {
    const r = await this.batch.read(['e', path]);
    return { stat: r.length > 1 ? statFrom(r, 1) : null, zxid: Number(r[0]) };
  }

  async getData(path: string): Promise<{ data: Buffer; stat: Stat; zxid: number }> {
    const r = await this.batch.read(['d', path]);
    const node = dataReply(r);
    if (!node) throw new NoNodeError(path);
    return { data: node.data, stat: node.stat, zxid: Number(r[0]) };
  }

  async getChildren(path: string, page?: ChildrenPage): Promise<{ children: string[]; stat: Stat; next?: string; zxid: number }> {
    const r = page === undefined
      ? await this.batch.read(['c', path])
      : await this.batch.read(['p', path, page.after === undefined ? '' : `>${page.after}`, String(page.limit ?? MAX_PAGE)]);
    const list = childrenReply(r);
    if (!list) throw new NoNodeError(path);
    const { children, stat } = list;
    const zxid = Number(r[0]);
    return list.more ? { children, stat, next: children[children.length - 1], zxid } : { children, stat, zxid };
  }

  async multiRead(ops: ReadOp[]): Promise<{ results: ReadResult[]; zxid: number }> {
    if (ops.length === 0) return { results: [], zxid: (await this.sync('/')).zxid };
    // The reads script, called directly: the batch could split a long list over two calls,
    // and a multiRead is one point of the total order. Buffer replies keep data binary-safe.
    const args: string[] = [];
    for (const op of ops) args.push(op.type === 'getData' ? 'd' : 'c', op.path);
    const replies = (await this.reads(args)) as unknown[][];
    const results = ops.map((op, i): ReadResult => {
      if (op.type === 'getData') {
        const node = dataReply(replies[i]);
        return node ? { type: 'getData', path: op.path, data: node.data, stat: node.stat } : { type: 'error', path: op.path, error: new NoNodeError(op.path) };
      }
      const list = childrenReply(replies[i]);
      return list ? { type: 'getChildren', path: op.path, children: list.children, stat: list.stat } : { type: 'error', path: op.path, error: new NoNodeError(op.path) };
    });
    return { results, zxid: Number(replies[0][0]) };
  }

  async sync(_path: string): Promise<{ zxid: number }> {
    // One Redis primary orders everything: a reply comes after every write it acknowledged
    // before. The reads script with no reads: it also says what the session was sent.
    await this.reads([]);
    return { zxid: this.fence.readZxid };
  }

  // ---- watches --------------------------------------------------------------------------

  async setInterest(path: string, kind: InterestKind, on: boolean): Promise<void> {
    let kinds = this.interests.get(path);
    const op = `${on ? '+' : '-'}${KIND_BITS[kind]}` as const;
    if (on) {
      if (!kinds) this.interests.set(path, (kinds = new Set()));
      kinds.add(kind);
      // Registered with the read queued right after (the one that arms the watch, or a
      // watch stream's sync), in the same call: nothing to wait for here.
      this.batch.read([op, path]).catch((err: unknown) => this.logger.debug({ err, path }, 'watch registration failed'));
    } else if (kinds?.delete(kind)) {
      if (kinds.size === 0) this.interests.delete(path);
      this.batch.later([op, path], (err: unknown) => this.logger.debug({ err, path }, 'watch withdrawal failed'));
    }
  }

  onEvent(listener: (ev: BackendEvent) => void): void {
    this.eventListener = listener;
  }

  flushEvents(_zxid: number): Promise<void> {
    // Every read goes through the reads script, whose reply (taken by the fence before the
    // read's zxid reaches the client) says what the session was sent by then.
    return this.fence.wait(this.callTimeoutMs, () => this.relink());
  }

  async changesSince(zxid: number, seenZxid = 0): Promise<BackendEvent[] | null | HistoryLost> {
    const r = (await this.read('changes-since', [zxid, seenZxid], { keys: [this.keys.zxid, this.keys.log] })) as unknown;
    if (!Array.isArray(r)) return null;
    // Events come as (zxid, lines) pairs, zxids positive: -1 first is the history-lost reply.
    if (r.length === 3 && Number(r[0]) === -1) return { rolledBackAt: Number(r[1]), zxid: Number(r[2]) };
    const out: BackendEvent[] = [];
    for (let i = 0; i < r.length; i += 2) {
      for (const ev of eventsFromLog(Number(r[i]), String(r[i + 1]))) if (this.wants(ev)) out.push(ev);
    }
    return out;
  }

  onLink(listener: (up: boolean) => void): void {
    this.linkListener = listener;
  }

  // ---- internals ------------------------------------------------------------------------

  private write(name: ScriptName, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const fn = this.scripts.fn(name, false);
    return this.call(() => fn(...this.keys.writeKeys, this.keys.prefix, ...args));
  }

  /**
   * One call of the multi script with reads behind its multis (see batch.ts): Buffer
   * replies, for the reads' data; the fence takes what the reads' reply says.
   */
  private writeThenRead(sessionId: string, multis: PackedMulti[], reads: string[]): Promise<unknown[]> {
    const fn = this.scripts.fn('multi', true);
    return this.call(async () => {
      const r = (await fn(...this.keys.writeKeys, this.keys.prefix, sessionId, multis.length, ...multis.flat(), ...reads)) as unknown[];
      this.fence.takeFrom(r[multis.length] as unknown[]);
      return r;
    });
  }

  /** A script that writes no znode: KEYS is the zxid key unless given, ARGV the prefix then `args`. */
  private read(name: ScriptName, args: Array<string | number | Buffer>, options: { buffers?: boolean; keys?: string[] } = {}): Promise<unknown> {
    const fn = this.scripts.fn(name, options.buffers ?? false);
    const keys = options.keys ?? [this.keys.zxid];
    return this.call(() => fn(...keys, this.keys.prefix, ...args));
  }

  /**
   * A call of the reads script (reads-3.lua) for this session: one reply per op in `args`
   * (see PackedRead). The fence takes what the reply says of the events sent to the session.
   */
  private async reads(args: string[]): Promise<unknown[]> {
    return this.call(() => this.sendReads(args));
  }

  /** The reads script's call itself, outside call() (resubscribe runs it while the link is not up yet). */
  private async sendReads(args: string[]): Promise<unknown[]> {
    // Buffer replies keep getData's data binary-safe (the decoders take Buffers elsewhere).
    const r = (await this.scripts.fn('reads', true)(...this.readsKeys, this.keys.prefix, this.sessionId, ...args)) as unknown[];
    this.fence.takeFrom(r);
    return r;
  }

  /**
   * Makes the scripts runnable on the commands connection (again), then lets the link count
   * as up. On a lost link it waits for the next 'ready'.
   */
  private async prepareScripts(): Promise<void> {
    // open() prepares the first time; after a close nothing is needed.
    if (this.scripts.mode === null || this.closed || this.scriptsReady) return;
    try {
      await this.scripts.prepare();
    } catch (err) {
      this.logger.debug({ err }, 'redis: preparing scripts failed; trying again');
      // On a link that stays up, retry; a link that went down retries on its next 'ready'.
      if (this.cmd.status === 'ready') setTimeout(() => void this.prepareScripts(), 100).unref();
      return;
    }
    this.scriptsReady = true;
    this.updateLink();
  }

  /**
   * A call found the library gone while connected (FUNCTION FLUSH, a Cluster slot moved to
   * a master without it): the link counts as down until it is loaded again, so the client
   * suspends and catches up, as after any blip. (Calls sent meanwhile may have run or not:
   * they fail as a lost link does.)
   */
  private functionMissing(): void {
    if (!this.scriptsReady) return;
    this.scriptsReady = false;
    this.updateLink();
    void this.prepareScripts();
  }

  /** Runs a Redis call; fails fast while the link is down and turns failures into typed errors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    // Whatever this connection sends next goes after the calls queued before it.
    this.batch.flush();
    if (this.closed) throw new ConnectionLossError('Redis backend is closed');
    if (!this.linkUp) throw new ConnectionLossError('Connection to Redis is down');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ConnectionLossError(`Redis did not answer within ${this.callTimeoutMs} ms`));
        this.relink();
      }, this.callTimeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      if (isFunctionMissing(err)) {
        this.functionMissing();
        throw new ConnectionLossError(`Redis: ${(err as Error).message}; loading corral's functions again`, undefined, { cause: err });
      }
      throw toCorralError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A call timed out: the link is presumably dead without TCP having noticed (a silent
   * partition, a frozen server). Drop both connections and let ioredis reconnect, so the
   * client suspends now and catches up through the change log once the link is back.
   */
  private relink(): void {
    if (this.closed || !this.linkUp) return;
    this.logger.warn({ timeoutMs: this.callTimeoutMs }, 'Redis did not answer in time; reconnecting');
    this.subReady = false;
    this.updateLink();
    this.sub.disconnect(true);
    // A connection the user passed in is theirs: it is left to its own settings.
    if (this.links.ownsCommands) this.cmd.disconnect(true);
  }

  private async reap(): Promise<void> {
    if (!this.linkUp) return;
    try {
      await this.write('reap');
    } catch (err) {
      this.logger.debug({ err }, 'reaper tick failed');
    }
  }

  /** After the subscriber reconnects: subscribe again, then report the link up (so catch-up misses nothing). */
  private async resubscribe(): Promise<void> {
    if (!this.opened || this.closed || this.subReady) return;
    try {
      if (this.sessionChannel) await this.sub.subscribe(this.sessionChannel);
      // The store may have lost the registrations (restart without persistence, fail-over):
      // registered again in one call (idempotent). Its reply says which message Redis last
      // sent the session: whatever came before it while the link was down is lost, and the
      // client's catch-up (change log) covers it, so no read waits for it.
      if (this.sessionId !== '') {
        const ops: string[] = [];
        for (const [p, kinds] of this.interests) {
          let bits = 0;
          for (const k of kinds) bits |= KIND_BITS[k];
          ops.push(`+${bits}`, p);
        }
        await this.sendReads(ops);
        this.fence.skipTo(this.fence.sent);
      }
      this.subReady = true;
      this.updateLink();
    } catch (err) {
      this.logger.debug({ err }, 'resubscribe failed; retrying on the next reconnect');
      if (!this.closed && this.sub.status === 'ready') setTimeout(() => void this.resubscribe(), 100).unref();
    }
  }

  private updateLink(): void {
    const up = !this.closed && this.cmd.status === 'ready' && this.scriptsReady && this.subReady && this.sub.status === 'ready';
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.logger.debug({ up }, 'redis link');
    this.linkListener(up);
  }

  private onMessage(_channel: Buffer, msg: Buffer): void {
    const events = eventsFromMessage(msg);
    if (events.length === 0) return;
    // Only the session's channel: one message per write, in zxid order, each event once.
    this.fence.arrived(events[0].zxid);
    // A withdrawn watch's events come until the withdrawal reaches Redis.
    for (const ev of events) if (this.wants(ev)) this.eventListener(ev);
  }

  private wants(e: BackendEvent): boolean {
    return interestsWant(this.interests, e);
  }

  private listen(emitter: Redis | Cluster, event: string, fn: (...args: never[]) => void): void {
    const f = fn as (...args: unknown[]) => void;
    emitter.on(event, f);
    this.detachers.push(() => emitter.off(event, f));
  }
}

/** Resolves once a connection is ready, connecting it first if it is lazy. */
async function ready(conn: Redis | Cluster): Promise<void> {
  if (conn.status === 'ready') return;
  if (conn.status === 'wait') {
    await conn.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('not ready within 10 s')), 10_000);
    const onReady = () => done();
    const onEnd = () => done(new Error('connection ended'));
    const done = (err?: Error) => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      conn.off('end', onEnd);
      if (err) reject(err); else resolve();
    };
    conn.on('ready', onReady);
    conn.on('end', onEnd);
  });
}

function errorOf(code: number, path: string): CorralError {
  if (code === -112) return new SessionExpiredError();
  if (code === -8) return new BadArgumentsError('The root znode cannot be deleted', path);
  return errorFromCode(code, path);
}

function toCorralError(err: unknown): CorralError {
  if (err instanceof CorralError) return err;
  const e = err as Error;
  if (e?.name === 'ReplyError') {
    if (TRANSIENT_REPLY.test(e.message)) return new ConnectionLossError(`Redis: ${e.message}`, undefined, { cause: err });
    if (/^OOM\b/.test(e.message)) {
      return new StoreFullError(`Redis is out of memory (used memory over maxmemory) and refused the write before it ran: nothing was written. Reads, watches and sessions go on; writes work again once memory is freed or maxmemory raised (${e.message})`, { cause: err });
    }
    return new SystemError(`Redis: ${e.message}`, { cause: err });
  }
  return new ConnectionLossError(`Redis link: ${e?.message ?? String(err)}`, undefined, { cause: err });
}

