import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './cleanup.js';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** An ACL user of a private redis-server. */
export interface RedisUser {
  name: string;
  password: string;
  /** ACL rules. Default `~* &* +@all` (everything). */
  rules?: string;
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Append-only file: off (default), or on with this fsync policy. */
  aof?: false | 'everysec' | 'always';
  /** ACL users, written to a generated aclfile. */
  users?: RedisUser[];
  /** With `users`: whether the `default` user (no password) stays enabled. Default false. */
  defaultUser?: boolean;
  /** Makes this server a replica of another one. */
  replicaOf?: { host?: string; port: number; password?: string };
  /** Extra `--name value` arguments. */
  args?: string[];
  /** How long to wait for the server to accept commands. Default 10 s. */
  readyTimeoutMs?: number;
}

/** A private redis-server process with its own port and data dir. */
export interface RedisServer {
  readonly host: string;
  /** Stays the same across {@link restart}. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  /** Temp folder holding the AOF/RDB files; survives restarts, removed by {@link stop}. */
  readonly dir: string;
  /** pid of the current process (changes on restart); undefined while not running. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /**
   * Sends a signal. SIGKILL/SIGTERM resolve once the process has exited; SIGSTOP freezes
   * it with its sockets open (clients see a silent server), SIGCONT wakes it.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again on the same port and dir, so AOF state survives. If it is running it
   * is first stopped with `signal` (default SIGTERM: a clean shutdown that fsyncs the AOF;
   * pass SIGKILL for a crash, or call `kill('SIGKILL')` yourself first).
   */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Runs one command on a fresh connection (authenticating as `auth` if given). */
  command(args: (string | number)[], auth?: { user?: string; password: string }): Promise<RespValue>;
  /** Kills the server and removes its dir. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A private Redis Sentinel. */
export interface Sentinel {
  readonly port: number;
  readonly masterName: string;
  /** The address Sentinel currently gives for the master. */
  masterAddress(): Promise<{ host: string; port: number }>;
  /** Resolves once Sentinel names a master other than `port` (a fail-over happened). */
  waitForFailover(fromPort: number, timeoutMs?: number): Promise<{ host: string; port: number }>;
  command(args: (string | number)[]): Promise<RespValue>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export type RespValue = string | number | null | RespValue[] | Error;

/**
 * Starts a private `redis-server` on a free port with its data in a temp dir. Always stop
 * it (`await using`, or `afterEach(() => redis.stop())`); a process-exit hook kills any
 * that are left.
 *
 * @example
 * await using redis = await startRedis({ aof: 'always' });
 * const zk = await connect({ redis: redis.url }, { namespace });
 * await redis.kill('SIGKILL');
 * await redis.restart();    // same port, same dir: the AOF brings the data back
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-redis-'));
  const host = '127.0.0.1';
  const args = ['--bind', host, '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no',
    '--logfile', join(dir, 'redis.log')];
  if (options.aof) args.push('--appendonly', 'yes', '--appendfsync', options.aof);
  else args.push('--appendonly', 'no');
  if (options.users?.length) {
    const acl = join(dir, 'users.acl');
    const lines = [options.defaultUser ? 'user default on nopass ~* &* +@all' : 'user default off nopass -@all'];
    for (const u of options.users) {
      if (!/^[A-Za-z0-9_-]+$/.test(u.name) || /\s/.test(u.password)) {
        throw new TypeError(`ACL user names must be [A-Za-z0-9_-] and passwords must have no spaces, got ${u.name}`);
      }
      lines.push(`user ${u.name} on >${u.password} ${u.rules ?? '~* &* +@all'}`);
    }
    writeFileSync(acl, lines.join('\n') + '\n');
    args.push('--aclfile', acl);
  }
  if (options.replicaOf) {
    args.push('--replicaof', options.replicaOf.host ?? host, String(options.replicaOf.port));
    if (options.replicaOf.password) args.push('--masterauth', options.replicaOf.password);
  }
  if (options.args) args.push(...options.args);

  const auth = options.users?.length && !options.defaultUser
    ? { user: options.users[0].name, password: options.users[0].password }
    : undefined;
  const proc = new ServerProcess(REDIS_SERVER, args, host, options.readyTimeoutMs ?? 10_000, auth);
  const untrack = track(() => {
    proc.killSync();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await proc.start();
  } catch (err) {
    untrack();
    proc.killSync();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      untrack();
      await proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  return {
    host,
    port: proc.port,
    url: `redis://${host}:${proc.port}`,
    dir,
    get pid() { return proc.pid; },
    get running() { return proc.running; },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    restart: async (signal = 'SIGTERM') => {
      if (stopped) throw new Error('redis-server was stopped; start a new one');
      await proc.kill(signal);
      await proc.start();
    },
    command: (cmd, a) => respCommand(host, proc.port, cmd, a ?? auth),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Starts a Redis Sentinel (`redis-server <conf> --sentinel`) monitoring the master on
 * `masterPort`. A short `downAfterMs` makes fail-overs fast enough for tests.
 *
 * @example
 * const master = await startRedis();
 * const replica = await startRedis({ replicaOf: { port: master.port } });
 * const sentinel = await startSentinel({ masterPort: master.port, quorum: 1 });
 * await master.kill('SIGKILL');
 * const now = await sentinel.waitForFailover(master.port);   // → replica.port
 */
export async function startSentinel(options: {
  masterPort: number;
  masterHost?: string;
  quorum?: number;
  masterName?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  readyTimeoutMs?: number;
}): Promise<Sentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-sentinel-'));
  const host = '127.0.0.1';
  const masterName = options.masterName ?? 'corral';
  const conf = join(dir, 'sentinel.conf');
  const port = await freePort();
  writeFileSync(conf, [
    `port ${port}`,
    `bind ${host}`,
    `dir ${dir}`,
    `logfile ${join(dir, 'sentinel.log')}`,
    'protected-mode no',
    `sentinel monitor ${masterName} ${options.masterHost ?? host} ${options.masterPort} ${options.quorum ?? 1}`,
    `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
    `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5000}`,
    `sentinel parallel-syncs ${masterName} 1`,
    '',
  ].join('\n'));
  const proc = new ServerProcess(REDIS_SERVER, [conf, '--sentinel'], host, options.readyTimeoutMs ?? 10_000, undefined, port);
  const untrack = track(() => {
    proc.killSync();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await proc.start();
  } catch (err) {
    untrack();
    proc.killSync();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      untrack();
      await proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const masterAddress = async (): Promise<{ host: string; port: number }> => {
    const r = await respCommand(host, port, ['SENTINEL', 'get-master-addr-by-name', masterName]);
    if (!Array.isArray(r) || r.length < 2) throw new Error(`Sentinel knows no master ${masterName}: ${String(r)}`);
    return { host: String(r[0]), port: Number(r[1]) };
  };
  return {
    port,
    masterName,
    masterAddress,
    async waitForFailover(fromPort, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const a = await masterAddress().catch(() => null);
        if (a && a.port !== fromPort) return a;
        if (Date.now() > deadline) throw new Error(`No fail-over away from port ${fromPort} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    command: (cmd) => respCommand(host, port, cmd),
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Resolves once `replicas` replicas have acknowledged every write the master has taken so
 * far (Redis `WAIT`), retrying while they are still doing their first sync.
 * @example await waitForReplication(master, 1)
 */
export async function waitForReplication(master: RedisServer, replicas = 1, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await master.command(['WAIT', replicas, 200]);
    if (typeof n === 'number' && n >= replicas) return;
    if (Date.now() > deadline) throw new Error(`only ${String(n)} of ${replicas} replicas in sync after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** One redis-server process that can be killed and started again on the same port. */
class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  port = 0;

  constructor(
    private readonly bin: string,
    private readonly args: string[],
    private readonly host: string,
    private readonly readyTimeoutMs: number,
    private readonly auth: { user?: string; password: string } | undefined,
    fixedPort?: number,
  ) {
    if (fixedPort) this.port = fixedPort;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    // A port picked by freePort() can be taken before redis binds it: try a few.
    for (let attempt = 0; ; attempt++) {
      if (this.port === 0) this.port = await freePort();
      const fixed = this.args[0]?.endsWith('.conf');
      const child = spawn(this.bin, fixed ? this.args : ['--port', String(this.port), ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-4000); });
      child.stderr!.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-4000); });
      this.child = child;
      // A binary that cannot be started (ENOENT) emits 'error' and never 'exit': fail fast.
      let spawnError: Error | null = null;
      this.exited = new Promise((resolve) => {
        const gone = () => {
          if (this.child === child) this.child = null;
          resolve();
        };
        child.once('exit', gone);
        child.once('error', (err) => {
          spawnError = err;
          gone();
        });
      });
      try {
        await this.waitReady(child, () => spawnError);
        return;
      } catch (err) {
        await this.kill('SIGKILL');
        if (attempt >= 2 || fixed) throw new Error(`redis-server did not start on port ${this.port}: ${(err as Error).message}\n${out}`);
        this.port = 0;
      }
    }
  }

  private async waitReady(child: ChildProcess, spawnError: () => Error | null): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const failed = spawnError();
      if (failed) throw new Error(`cannot start ${this.bin}: ${failed.message}`);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('process exited');
      const r = await respCommand(this.host, this.port, ['PING'], this.auth, 500).catch((e: Error) => e);
      // LOADING means the AOF is still being replayed: not ready yet.
      if (r === 'PONG' || (r instanceof Error && /^(NOAUTH|WRONGPASS|NOPERM)/.test(r.message))) return;
      if (Date.now() > deadline) throw new Error(`not ready within ${this.readyTimeoutMs} ms (last reply: ${String(r)})`);
      await sleep(30);
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
      // A SIGSTOP'd process cannot act on SIGTERM until it is continued.
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
      await this.exited;
    }
  }

  killSync(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Sends one command over a fresh TCP connection and parses the RESP reply. Enough RESP2
 * for test plumbing (PING, INFO, SENTINEL, DEBUG…); clients under test use ioredis.
 */
export function respCommand(host: string, port: number, args: (string | number)[],
  auth?: { user?: string; password: string }, timeoutMs = 5000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const cmds: (string | number)[][] = [];
    if (auth) cmds.push(auth.user ? ['AUTH', auth.user, auth.password] : ['AUTH', auth.password]);
    cmds.push(args);
    let buf = Buffer.alloc(0);
    let replies = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (v: RespValue | Error, isErr = false): void => {
      clearTimeout(timer);
      sock.destroy();
      if (isErr) reject(v as Error);
      else resolve(v);
    };
    sock.on('error', (e) => done(e, true));
    sock.on('connect', () => {
      for (const c of cmds) {
        sock.write(`*${c.length}\r\n` + c.map((a) => {
          const s = String(a);
          return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
        }).join(''));
      }
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const parsed = parseResp(buf, 0);
        if (!parsed) return;
        buf = buf.subarray(parsed.end);
        replies++;
        if (replies < cmds.length) {
          if (parsed.value instanceof Error) return done(parsed.value, true);
          continue;
        }
        return parsed.value instanceof Error ? done(parsed.value, true) : done(parsed.value);
      }
    });
  });
}

function parseResp(buf: Buffer, at: number): { value: RespValue; end: number } | null {
  const nl = buf.indexOf('\r\n', at);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, nl);
  const next = nl + 2;
  switch (type) {
    case '+': return { value: line, end: next };
    case '-': return { value: new Error(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseResp(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return { value: new Error(`unexpected RESP type ${type}`), end: buf.length };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
