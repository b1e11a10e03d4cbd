import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError } from './exit-codes.js';

/** A command run by `lock` / `elect`, and how to stop it when the lock or leadership is lost. */
export interface ChildRun {
  /** Resolves with the exit code the CLI should return: the child's, or 128 + signal number. */
  exited: Promise<number>;
  /** Sends `signal` (default SIGTERM) to the command and everything it started, then SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): void;
}

/**
 * Runs `argv` with the terminal's streams inherited (like `flock cmd`), plus `env`.
 *
 * Off a terminal the command gets its own process group, so stopping it (the lock was
 * lost) stops everything it started — `sh -c 'a; b'` included — not just its first
 * process. On an interactive terminal it stays in ours, so it can still read the
 * keyboard and Ctrl-C reaches it directly.
 */
export function runChild(argv: string[], env: Record<string, string>): Promise<ChildRun> {
  if (argv.length === 0) throw new UsageError('no command given: put it after --, e.g. corral lock db -- ./migrate.sh');
  const ownGroup = process.stdin.isTTY !== true;
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env }, detached: ownGroup });
  return new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`cannot run ${argv[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`));
    });
    child.once('spawn', () => {
      let done = false;
      const exited = new Promise<number>((res) =>
        child.once('exit', (code, signal) => {
          done = true;
          res(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
        }),
      );
      const send = (signal: NodeJS.Signals) => {
        try {
          if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          // Already gone.
        }
      };
      let killer: NodeJS.Timeout | undefined;
      void exited.then(() => {
        clearTimeout(killer);
        // Whatever the command left running in its group goes with it.
        if (ownGroup) send('SIGKILL');
      });
      resolve({
        exited,
        stop(signal = 'SIGTERM', graceMs = 5000) {
          if (done) return;
          send(signal);
          killer ??= setTimeout(() => send('SIGKILL'), graceMs);
          killer.unref();
        },
      });
    });
  });
}

/** The signal that stopped corral, passed on to the command (SIGINT stays SIGINT). */
export function signalOf(reason: unknown): NodeJS.Signals {
  return reason === 'SIGINT' || reason === 'SIGTERM' || reason === 'SIGHUP' ? reason : 'SIGTERM';
}
