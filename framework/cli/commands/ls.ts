import { defineCommand } from '../command.js';
import { formatStat } from '../format.js';
import { intArg, pathArg } from './args.js';
import { allChildren } from './paths.js';

/** `corral ls PATH`: a znode's children, one per line (zkCli's `ls`). */
export const ls = defineCommand({
  command: 'ls <path>',
  describe: "List a znode's children",
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'Absolute znode path, e.g. /tasks' })
      .option('stat', { alias: 's', type: 'boolean', default: false, describe: "Also print the znode's Stat" })
      .option('limit', { type: 'number', describe: 'Print at most this many children' })
      .example('corral ls /workers --redis redis://127.0.0.1:6379', ''),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const limit = intArg(a.limit, 'limit', 1) ?? Infinity;
    const { children, stat } = await ctx.withClient('ls', (zk) => allChildren(zk, path, limit));
    ctx.print(a.stat ? { path, children, stat } : { path, children }, () =>
      [...children, ...(a.stat ? [formatStat(stat)] : [])].join('\n'),
    );
  },
});
