import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { formatStat } from '../format.js';
import { intArg, pathArg } from './args.js';
import { dataArg } from './data-arg.js';

/** `corral set PATH DATA [-v VERSION]`: replaces a znode's data, optionally only at a version. */
export const set = defineCommand({
  command: 'set <path> [data]',
  describe: "Replace a znode's data (- reads stdin)",
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true })
      .positional('data', { type: 'string', describe: 'New data; - for stdin' })
      .option('file', { alias: 'f', type: 'string', describe: 'Read the data from this file' })
      .option('expected-version', { alias: ['v', 'version'], type: 'number', describe: 'Only if the znode is at this version (else exit 1)' })
      .option('stat', { alias: 's', type: 'boolean', default: false, describe: 'Print the new Stat' })
      .example('corral set /config/limit 42 -v 3', 'compare-and-set: fails unless /config/limit is at version 3'),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const version = intArg(a.expectedVersion, 'expected-version', -1) ?? -1;
    const data = await dataArg(ctx.io, ctx.raw, a.data, a.file);
    if (data === undefined) throw new UsageError('set needs the data: an argument, - for stdin, or --file');
    const s = await ctx.withClient('set', (zk) => zk.setData(path, data, version));
    ctx.print({ path, stat: s }, () => (a.stat ? formatStat(s) : ''));
  },
});
