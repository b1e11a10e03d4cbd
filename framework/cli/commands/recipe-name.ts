import { validatePath } from '../../../core/index.js';
import { UsageError } from '../exit-codes.js';

/**
 * Where a named lock or election lives: a bare name goes under `/<folder>/`, an absolute
 * path is used as it is (for trees laid out by hand).
 * @example recipePath('db', 'locks') // '/locks/db'
 */
export function recipePath(name: string, folder: string): string {
  if (name.startsWith('/')) {
    validatePath(name);
    if (name === '/') throw new UsageError('the root "/" cannot be a lock or election path');
    return name;
  }
  if (name === '' || name.includes('/')) throw new UsageError(`bad name ${JSON.stringify(name)}: use a plain name like "db" or an absolute path like /locks/db`);
  const path = `/${folder}/${name}`;
  validatePath(path);
  return path;
}

/** The command after `--`, or a usage error showing how to give it. */
export function commandAfterDashes(args: Record<string, unknown>, example: string): string[] {
  const rest = (args['--'] as unknown[] | undefined) ?? [];
  const cmd = [...((args._ as unknown[]).slice(1)), ...rest].map(String);
  if (cmd.length === 0) throw new UsageError(`no command given: put it after --, e.g. ${example}`);
  return cmd;
}
