import { deleteRecursive, NoNodeError } from '../../../core/index.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { intArg, pathArg } from './args.js';

/** `corral rm PATH… [-r] [-v VERSION]`: deletes znodes (zkCli's `delete` / `deleteall`). */
export const rm = defineCommand({
  command: 'rm <paths..>',
  describe: 'Delete znodes (-r: with everything below them)',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, demandOption: true })
      .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'Delete the whole subtree' })
      .option('expected-version', { alias: ['v', 'version'], type: 'number', describe: 'Only if the znode is at this version (else exit 1)' })
      .example('corral rm -r /status', '')
      .example('corral rm /config/old -v 2', ''),
  async run(ctx, a) {
    const paths = a.paths.map(pathArg);
    const version = intArg(a.expectedVersion, 'expected-version', -1);
    if (a.recursive && version !== undefined) throw new UsageError('-r and --expected-version cannot be combined');
    if (paths.includes('/')) throw new UsageError('the root znode cannot be removed (remove its children instead)');
    await ctx.withClient('rm', async (zk) => {
      for (const p of paths) {
        if (a.recursive) {
          if (!(await zk.exists(p))) throw new NoNodeError(p);
          await deleteRecursive(zk, p);
        }
        else await zk.delete(p, version ?? -1);
      }
    });
    ctx.print({ deleted: paths }, () => '');
  },
});
