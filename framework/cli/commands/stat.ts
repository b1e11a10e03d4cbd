import { defineCommand } from '../command.js';
import { formatStat } from '../format.js';
import { pathArg } from './args.js';

/** `corral stat PATH`: a znode's Stat (zkCli's `stat`); exit 1 if it does not exist. */
export const stat = defineCommand({
  command: 'stat <path>',
  describe: "Print a znode's Stat (zxids, versions, ephemeral owner…)",
  builder: (y) => y.positional('path', { type: 'string', demandOption: true }),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const { stat: s } = await ctx.withClient('stat', async (zk) => ({ stat: (await zk.getData(path)).stat }));
    ctx.print({ path, stat: s }, () => formatStat(s));
  },
});
