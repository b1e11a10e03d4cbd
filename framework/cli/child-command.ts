import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError } from './exit-codes.js';

/** A command run by `lock` / `elect`, and how to stop it when the lock or leadership is lost. */
export interface ChildRun {
  /** Resolves with the exit code the CLI should return: the child's, or 128 + signal number. */
  exited: Promise<number>;
  /** Asks the child to stop (SIGTERM), then kills it (SIGKILL) after `graceMs`. */
  stop(graceMs?: number): void;
}

/**
 * Runs `argv` with the terminal inherited (like `flock cmd`), plus `env`. A missing
 * program is reported as a usage error, as the shell would (exit 127 is its convention,
 * but one clear line matters more here).
 */
export function runChild(argv: string[], env: Record<string, string>): Promise<ChildRun> {
  if (argv.length === 0) throw new UsageError('no command given: put it after --, e.g. corral lock db -- ./migrate.sh');
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`cannot run ${argv[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`));
    });
    child.once('spawn', () => {
      const exited = new Promise<number>((res) =>
        child.once('exit', (code, signal) => res(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0))),
      );
      let killer: NodeJS.Timeout | undefined;
      void exited.then(() => clearTimeout(killer));
      resolve({
        exited,
        stop(graceMs = 5000) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          killer.unref();
        },
      });
    });
  });
}
