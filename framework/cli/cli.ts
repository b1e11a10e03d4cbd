import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { commands } from './commands/index.js';
import { Context, type GlobalOptions, type RunOptions } from './context.js';
import { describeError } from './describe-error.js';
import { EXIT, exitCodeOf, UsageError } from './exit-codes.js';
import type { Io } from './io.js';

const EPILOGUE = `Store: --redis URL or CORRAL_REDIS_URL (Redis shared by every process); without one, only
\`corral demo\` runs, on the embedded memory store.
Exit codes: 0 done · 1 failed (no such znode, bad version, a task failed…) · 2 bad usage
(unknown command or option, bad path, bad JSON, missing file) · 3 store unreachable or session lost
· 130 interrupted. lock/elect exit with their command's code.`;

/**
 * Runs one `corral …` command line and resolves with its exit code. Never throws and never
 * exits the process: failures become one line on stderr (a stack trace only with
 * `--verbose`) and a non-zero code.
 *
 * @example
 * const code = await runCli(['ls', '/', '--redis', 'redis://127.0.0.1:6379'], processIo());
 */
export async function runCli(args: string[], io: Io, run: RunOptions = {}): Promise<number> {
  let code: number = EXIT.ok;
  // Only `corral --version` alone prints the version: yargs' own global --version would
  // swallow `corral rm /x --version 3` (print the version, exit 0, delete nothing).
  if (args.length === 1 && args[0] === '--version') {
    io.out(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  let verbose = args.includes('--verbose');
  const parser = buildParser(args, io, run, (c) => (code = c), (v) => (verbose = v));
  try {
    await parser.parseAsync(args, {}, (_err: unknown, _argv: unknown, output: string) => {
      // Help and --version text arrives here instead of on the console.
      if (output) io.out(output.endsWith('\n') ? output : output + '\n');
    });
    return code;
  } catch (err) {
    io.err(`corral: ${describeError(err)}\n`);
    if (verbose && err instanceof Error && err.stack && !(err instanceof UsageError)) io.err(err.stack + '\n');
    return exitCodeOf(err);
  }
}

function buildParser(args: string[], io: Io, run: RunOptions, setCode: (c: number) => void, setVerbose: (v: boolean) => void): Argv<GlobalOptions> {
  const names = commands.map((c) => c.command.split(' ')[0]);
  let y = yargs(args)
    .scriptName('corral')
    .usage('corral <command> [options]\n\nA ZooKeeper-style coordination service and task framework. Start with: corral demo')
    .parserConfiguration({ 'populate--': true })
    .option('redis', { type: 'string', describe: 'Redis URL of the shared store (default: $CORRAL_REDIS_URL)', global: true })
    .option('namespace', {
      alias: 'n', type: 'string', global: true, default: io.env.CORRAL_NAMESPACE || 'corral',
      describe: 'Independent tree inside the store ($CORRAL_NAMESPACE)',
    })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable output (JSON, one document per line)' })
    .option('verbose', { type: 'boolean', default: false, global: true, describe: 'Debug logs and stack traces on stderr' })
    .option('session-timeout', { type: 'number', default: 10_000, global: true, describe: 'Session timeout in ms (ephemerals, locks, workers)' })
    .option('connect-timeout', { type: 'number', default: 5_000, global: true, describe: 'Give up reaching the store after this many ms' })
    .group(['redis', 'namespace', 'json', 'verbose', 'session-timeout', 'connect-timeout', 'help'], 'Global options:')
    .check((a) => {
      for (const k of ['sessionTimeout', 'connectTimeout'] as const) {
        const v = a[k];
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new UsageError(`--${k === 'sessionTimeout' ? 'session' : 'connect'}-timeout must be a positive integer (ms), got ${String(v)}`);
      }
      return true;
    }) as unknown as Argv<GlobalOptions>;
  for (const c of commands) {
    y = y.command(c.command, c.describe, c.builder as never, async (argv) => {
      const opts = argv as unknown as GlobalOptions & Record<string, unknown>;
      setVerbose(opts.verbose);
      const ctx = new Context(io, opts, run, args);
      const result = await c.run(ctx, opts);
      setCode(result ?? EXIT.ok);
    });
  }
  return y
    .demandCommand(1, 'name a command (run corral --help for the list)')
    .strict()
    .version(false)
    .help()
    .alias('h', 'help')
    .epilogue(EPILOGUE)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      // yargs calls a stray word "Unknown argument"; when no command was named, it is an unknown command.
      const stray = /^Unknown arguments?: ([^,]+)/.exec(msg ?? '')?.[1];
      if (stray !== undefined && !args.some((a) => names.includes(a)) && args.includes(stray)) {
        throw new UsageError(`unknown command "${stray}" (run corral --help for the list)`);
      }
      const named = args.find((a) => names.includes(a));
      if (named && /^Not enough non-option arguments/.test(msg ?? '')) {
        throw new UsageError(`missing argument: corral ${commands[names.indexOf(named)].command} (see corral ${named} --help)`);
      }
      throw new UsageError(`${msg ?? 'bad usage'}${named ? ` (see corral ${named} --help)` : ''}`);
    });
}

/** corral's version, from the package.json above this file (source checkout or dist/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'corral' && pkg.version) return pkg.version;
  }
  return 'unknown';
}
