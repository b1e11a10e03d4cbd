import type { Argv, ArgumentsCamelCase } from 'yargs';
import type { Context, GlobalOptions } from './context.js';

/**
 * One `corral` subcommand: its yargs signature, what `--help` says, and what it does.
 * `run` returns the exit code (default 0); it throws for failures, which the CLI turns
 * into a one-line message and the matching exit code (see exit-codes.ts).
 */
export interface Command {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalOptions>) => Argv<unknown>;
  run: (ctx: Context, args: Record<string, unknown>) => Promise<number | void>;
}

/** Declares a command with its arguments typed by its own builder. */
export function defineCommand<A>(spec: {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalOptions>) => Argv<A>;
  run: (ctx: Context, args: ArgumentsCamelCase<A>) => Promise<number | void>;
}): Command {
  return spec as unknown as Command;
}
