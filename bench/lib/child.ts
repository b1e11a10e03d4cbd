import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { track } from '../../test/faults/cleanup.js';

const PROFILING = Boolean(process.env.BENCH_CPU_PROF);
let profiled = 0;

/**
 * A TypeScript child process (run with tsx) that reports by printing lines such as
 * `READY` and `ELECTED <epoch ms>`. `line(prefix)` waits for the next such line.
 * A child still running when the bench exits (even on a crash or Ctrl-C) is SIGKILLed.
 */
export class ChildScript {
  readonly proc: ChildProcess;
  private readonly lines: string[] = [];
  private readonly waiters: Array<{ prefix: string; resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  private exited = false;
  private stderr = '';

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    const file = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
    // BENCH_CPU_PROF=<dir>: each child writes V8 CPU profiles there when it exits normally.
    const prof = PROFILING
      // A folder per child: its tsx loader thread writes a profile too (the larger file is the main thread's).
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${script.replace(/\.ts$/, '')}-${++profiled}`,
        '--import', 'tsx', '--import', fileURLToPath(new URL('./exit-on-term.ts', import.meta.url))]
      : ['--import', 'tsx'];
    this.proc = spawn(process.execPath, [...prof, file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.onLine(l));
    this.proc.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-2000)));
    const untrack = track(() => {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    });
    this.proc.once('exit', () => {
      untrack();
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${script} exited before "${w.prefix}": ${this.stderr}`));
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Whether it has exited, and the last 2,000 characters of its stderr: for a bench's error messages. */
  describe(): string {
    const state = this.exited ? `exited (${this.proc.exitCode ?? this.proc.signalCode})` : 'running';
    return this.stderr ? `${state}, stderr: ${this.stderr.trim()}` : state;
  }

  /** The next line starting with `prefix` (already printed or still to come). */
  line(prefix: string, timeoutMs = 30_000): Promise<string> {
    const i = this.lines.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) return Promise.resolve(this.lines.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`child exited before "${prefix}": ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no "${prefix}" from child within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ prefix, resolve: (l) => { clearTimeout(t); resolve(l); }, reject: (e) => { clearTimeout(t); reject(e); } });
    });
  }

  /** Stops the child: SIGKILL unless told, or SIGTERM while profiling (see the constructor). */
  kill(signal: NodeJS.Signals = PROFILING ? 'SIGTERM' : 'SIGKILL'): Promise<void> {
    if (this.exited) return Promise.resolve();
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill(signal);
    return gone;
  }

  private onLine(l: string): void {
    const w = this.waiters.findIndex((x) => l.startsWith(x.prefix));
    if (w >= 0) this.waiters.splice(w, 1)[0].resolve(l);
    else this.lines.push(l);
  }
}
