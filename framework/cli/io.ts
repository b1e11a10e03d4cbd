/**
 * Where a CLI run reads and writes. The real binary uses the process's streams; tests
 * run commands in-process with their own Io to capture output.
 */
export interface Io {
  /** Writes to standard output (results: what scripts read). */
  out(text: string | Uint8Array): void;
  /** Writes to standard error (messages, progress, logs). */
  err(text: string): void;
  /** Whether stderr is a terminal: progress bars redraw in place only there. */
  readonly errIsTTY: boolean;
  /** Environment variables (CORRAL_REDIS_URL, CORRAL_NAMESPACE, …). */
  readonly env: Record<string, string | undefined>;
  /** Standard input, for `set -`, `submit -` and friends. */
  readonly stdin: NodeJS.ReadableStream;
  /** The working directory, to resolve relative files (handlers, task files). */
  readonly cwd: string;
}

/** The Io of this process. */
export function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    errIsTTY: process.stderr.isTTY === true,
    env: process.env,
    stdin: process.stdin,
    cwd: process.cwd(),
  };
}
