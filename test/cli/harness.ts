import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ConnectTarget } from '../../core/index.js';
import { runCli } from '../../framework/cli/cli.js';
import { testNamespace } from '../namespace.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'corral.js');
export const REDIS = 'redis://127.0.0.1:6379';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const ns = (): string => testNamespace('ns');

/** Runs `corral …` inside this process against `target` (e.g. a shared memory store). */
export async function cliInProcess(
  args: string[],
  options: { target?: ConnectTarget; stdin?: string; env?: Record<string, string>; stop?: AbortSignal } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    args,
    {
      out: (t) => (stdout += typeof t === 'string' ? t : Buffer.from(t).toString('utf8')),
      err: (t) => (stderr += t),
      errIsTTY: false,
      env: options.env ?? {},
      stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
      cwd: ROOT,
    },
    { target: options.target, stop: options.stop },
  );
  return { code, stdout, stderr };
}

/** A spawned `node bin/corral.js …`: the real binary, as users run it. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr or stdout contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
}

export function spawnCli(args: string[], options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, CORRAL_REDIS_URL: '', CORRAL_NAMESPACE: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const check = () => waiters.forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), check()));
  child.stderr!.on('data', (d: Buffer) => ((err += d.toString()), check()));
  child.stdin!.end(options.stdin ?? '');
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: out, stderr: err })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text, timeoutMs = 15_000) {
      const has = () => (typeof text === 'string' ? (out + err).includes(text) : text.test(out + err));
      return new Promise<void>((resolve, reject) => {
        if (has()) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; stdout=${out} stderr=${err}`)), timeoutMs);
        const w = () => {
          if (has()) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(w);
        void exited.then(() => {
          if (!has()) {
            clearTimeout(timer);
            reject(new Error(`exited before ${String(text)}; stdout=${out} stderr=${err}`));
          }
        });
      });
    },
  };
}

/** Runs the real binary to completion. */
export function cli(args: string[], options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<CliResult> {
  return spawnCli(args, options).exited;
}
