import { defineCommand } from '../command.js';
import { dataForJson, formatStat, isText } from '../format.js';
import { pathArg } from './args.js';

/** `corral get PATH`: a znode's data, raw on stdout (zkCli's `get`). */
export const get = defineCommand({
  command: 'get <path>',
  describe: "Print a znode's data",
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true })
      .option('stat', { alias: 's', type: 'boolean', default: false, describe: 'Also print the Stat' })
      .example('corral get /status/task-0000000007', ''),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const { data, stat } = await ctx.withClient('get', (zk) => zk.getData(path));
    if (ctx.opts.json) {
      ctx.print({ path, ...dataForJson(data), stat }, () => '');
      return;
    }
    // Bytes go out as they are (binary data stays binary); text gets its final newline.
    ctx.io.out(data);
    if (isText(data) && data.length > 0 && data[data.length - 1] !== 0x0a) ctx.io.out('\n');
    if (a.stat) ctx.io.out(formatStat(stat) + '\n');
  },
});
