import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

/** The repository root: children run from here so `--import tsx` and relative imports resolve. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Options of {@link spawnTs}. */
export interface SpawnOptions {
  /** Extra environment variables (merged over this process's). */
  env?: Record<string, string | undefined>;
  /** Working directory. Default: the repository root. */
  cwd?: string;
  /** Wait for a stdout line matching this before resolving (e.g. `'READY'`). */
  ready?: string | RegExp;
  /** How long to wait for `ready`. Default 20 s (tsx's first compile is slow on a busy box). */
  readyTimeoutMs?: number;
  /** Copy the child's stdout/stderr to this process's stderr, prefixed — for debugging. */
  echo?: boolean;
}

/** A running TypeScript child process. */
export interface TsProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** All stderr so far (kept to the last 64 KiB). */
  readonly stderr: string;
  /** Null while it runs; its exit code or signal once it has exited. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Resolves on exit. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Resolves with the first stdout line (from `fromLine` on, default: the next one not yet
   * seen by a previous waitFor) matching `pattern`; rejects on timeout or exit.
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number, fromLine?: number): Promise<string>;
  /** Writes a line to the child's stdin. */
  send(line: string): void;
  /**
   * Sends a signal. SIGKILL and SIGTERM resolve once it has exited; SIGSTOP freezes it
   * (its sockets stay open and silent, like a GC pause or a stalled VM), SIGCONT resumes.
   */
  kill(signal?: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM' | 'SIGINT'): Promise<void>;
  /** SIGKILLs it if still running. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Spawns `node --import tsx <file> ...args` and optionally waits for a ready line. The
 * child is SIGKILLed when this process exits, even if the test forgot or failed.
 *
 * @example
 * await using worker = await spawnTs('test/reliability/fixtures/worker.ts', [redis.url], { ready: 'READY' });
 * await worker.kill('SIGSTOP');   // frozen: its session will expire
 * await worker.kill('SIGCONT');
 * await worker.waitFor(/expired/);
 */
export async function spawnTs(file: string, args: string[] = [], options: SpawnOptions = {}): Promise<TsProcess> {
  const cwd = options.cwd ?? REPO_ROOT;
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let cursor = 0;
  const waiters = new Set<() => void>();
  const notify = (): void => { for (const w of [...waiters]) w(); };
  const tag = `[${file.split('/').pop()} ${child.pid}]`;

  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (options.echo) process.stderr.write(`${tag} ${l}\n`);
    }
    notify();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-65536);
    if (options.echo) process.stderr.write(`${tag}! ${c.toString()}`);
  });
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      if (partial) lines.push(partial);
      partial = '';
      exit = { code, signal };
      untrack();
      notify();
      resolveExit(exit);
    });
  });
  const untrack = track(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  });
  if (child.pid === undefined) {
    await exited;
    throw new Error(`could not spawn ${file}: ${stderr}`);
  }

  const waitFor = (pattern: string | RegExp, timeoutMs = 20_000, fromLine?: number): Promise<string> => {
    const matches = (l: string): boolean => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
    let i = fromLine ?? cursor;
    return new Promise((resolveLine, reject) => {
      const check = (): void => {
        for (; i < lines.length; i++) {
          if (matches(lines[i])) {
            cursor = Math.max(cursor, i + 1);
            finish();
            resolveLine(lines[i]);
            return;
          }
        }
        if (exit) {
          finish();
          reject(new Error(`${file} exited (${exit.code ?? exit.signal}) before printing ${String(pattern)}\nstdout: ${lines.slice(-20).join('\n')}\nstderr: ${stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${file} did not print ${String(pattern)} within ${timeoutMs} ms\nstdout: ${lines.slice(-20).join('\n')}\nstderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  };

  const kill = async (signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM' | 'SIGINT' = 'SIGKILL'): Promise<void> => {
    if (exit) return;
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
      await exited;
    }
  };
  const stop = (): Promise<void> => kill('SIGKILL');

  const proc: TsProcess = {
    pid: child.pid,
    child,
    lines,
    get stderr() { return stderr; },
    get exit() { return exit; },
    exited,
    waitFor,
    send(line: string) { child.stdin!.write(line + '\n'); },
    kill,
    stop,
    [Symbol.asyncDispose]: stop,
  };
  if (options.ready !== undefined) {
    try {
      await waitFor(options.ready, options.readyTimeoutMs ?? 20_000);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return proc;
}
