import { pino } from 'pino';
import { connect, CorralError, type Client, type ConnectTarget, type Logger } from '../../core/index.js';
import { UnavailableError, UsageError } from './exit-codes.js';
import type { Io } from './io.js';

/** The options every command accepts (see `globalOptions` in cli.ts). */
export interface GlobalOptions {
  redis?: string;
  namespace: string;
  json: boolean;
  verbose: boolean;
  sessionTimeout: number;
  connectTimeout: number;
}

/** What an embedding program (the demo, in-process tests) may hand the CLI instead of flags. */
export interface RunOptions {
  /** Use this store instead of `--redis` / the embedded default (e.g. a shared memory store). */
  target?: ConnectTarget;
  /** Aborted when the run should stop (SIGINT/SIGTERM in the real binary). */
  stop?: AbortSignal;
}


/**
 * One CLI invocation: its parsed global options, where it writes, its logger and how to
 * reach the store. Commands get one and never look at `process` themselves.
 */
export class Context {
  readonly logger: Logger;
  readonly stop: AbortSignal;

  constructor(readonly io: Io, readonly opts: GlobalOptions, private readonly run: RunOptions = {},
    /** The command line as typed (yargs turns a lone `-` into an empty string). */
    readonly raw: readonly string[] = []) {
    // pino, to stderr (through io so in-process runs capture it); debug only when asked.
    this.logger = pino({ name: 'corral', level: opts.verbose ? 'debug' : 'warn' }, { write: (s: string) => io.err(s) });
    this.stop = run.stop ?? new AbortController().signal;
  }

  /** True when the store is shared between processes (Redis, or one handed in by an embedder). */
  get hasSharedStore(): boolean {
    return this.run.target !== undefined || this.redisUrl !== undefined;
  }

  /** The Redis URL from `--redis` or CORRAL_REDIS_URL, checked. */
  get redisUrl(): string | undefined {
    const url = this.opts.redis ?? this.io.env.CORRAL_REDIS_URL;
    if (url === undefined || url === '') return undefined;
    return checkRedisUrl(url);
  }

  /**
   * Where this run's znodes live. `requireShared` commands (tree commands, submit, …) make
   * no sense on a store that dies with this process, so they ask for Redis plainly.
   */
  target(command: string, requireShared: boolean): ConnectTarget {
    if (this.run.target) return this.run.target;
    const url = this.redisUrl;
    if (url) return { redis: url };
    if (requireShared) {
      throw new UsageError(
        `\`corral ${command}\` needs a shared store: pass --redis redis://host:6379 or set CORRAL_REDIS_URL ` +
          '(the embedded memory store lives only inside one process)',
      );
    }
    return { backend: 'memory' };
  }

  /** Opens a session, failing with a one-line UnavailableError if the store cannot be reached in time. */
  async connect(command: string, requireShared = true): Promise<Client> {
    const target = this.target(command, requireShared);
    const where = 'redis' in target ? `Redis at ${redact(String(target.redis))}` : 'the store';
    let timer: NodeJS.Timeout | undefined;
    const attempt = connect(target, { namespace: this.opts.namespace, sessionTimeoutMs: this.opts.sessionTimeout, logger: this.logger });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UnavailableError(`cannot reach ${where} within ${this.opts.connectTimeout} ms (--connect-timeout)`)),
        this.opts.connectTimeout,
      );
    });
    try {
      return await Promise.race([attempt, timeout]);
    } catch (err) {
      // A late success must not leave a session behind.
      attempt.then((zk) => zk.close(), () => undefined);
      if (err instanceof UnavailableError) throw err;
      if (err instanceof CorralError && !err.retryable && err.code !== -1) throw err;
      throw new UnavailableError(`cannot reach ${where}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `fn` with a fresh session and always closes it. */
  async withClient<T>(command: string, fn: (zk: Client) => Promise<T>): Promise<T> {
    const zk = await this.connect(command);
    try {
      return await fn(zk);
    } finally {
      await zk.close().catch(() => undefined);
    }
  }

  /** Prints a result: JSON (one line) with `--json`, else the human text. */
  print(json: unknown, human: () => string): void {
    if (this.opts.json) this.io.out(JSON.stringify(json) + '\n');
    else {
      const text = human();
      if (text !== '') this.io.out(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** A message for the person at the terminal (stderr), silent with `--json`. */
  note(text: string): void {
    if (!this.opts.json) this.io.err(text + '\n');
  }
}

/** Accepts redis:// and rediss:// URLs only: anything else would make ioredis guess. */
export function checkRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`bad Redis URL ${JSON.stringify(url)}: expected redis://[user:password@]host[:port][/db] or rediss://… for TLS`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`bad Redis URL ${JSON.stringify(redact(url))}: the scheme must be redis:// or rediss://, not ${u.protocol}//`);
  }
  if (u.hostname === '') throw new UsageError(`bad Redis URL ${JSON.stringify(redact(url))}: no host`);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) {
    throw new UsageError(`bad Redis URL ${JSON.stringify(redact(url))}: the path must be a database number like /0`);
  }
  return url;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
