import type { WatchEvent } from '../../../core/index.js';
import { defineCommand } from '../command.js';
import { intArg, pathArg } from './args.js';

/**
 * `corral watch PATH [-r]`: streams every change until Ctrl-C (a persistent watch, recursive
 * with -r). One line per event: `<zxid> <type> <path>`; with --json one object per line.
 */
export const watch = defineCommand({
  command: 'watch <path>',
  describe: 'Stream changes to a znode (-r: its whole subtree) until Ctrl-C',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true })
      .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'Every znode below the path too' })
      .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many events' })
      .example('corral watch -r /status', 'one line per task finished'),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const count = intArg(a.count, 'count', 1) ?? Infinity;
    const zk = await ctx.connect('watch');
    zk.on('state', (s) => {
      if (s === 'suspended') ctx.note('corral: connection lost; events missed meanwhile will be reported when it comes back');
      if (s === 'reconnected') ctx.note('corral: reconnected');
    });
    const stream = zk.watch(path, { recursive: a.recursive });
    const stop = () => stream.close();
    ctx.stop.addEventListener('abort', stop);
    try {
      await stream.ready;
      ctx.note(`watching ${path}${a.recursive ? ' and below' : ''} (Ctrl-C to stop)`);
      let seen = 0;
      for await (const ev of stream) {
        ctx.print(ev, () => line(ev));
        if (++seen >= count) break;
      }
    } finally {
      ctx.stop.removeEventListener('abort', stop);
      stream.close();
      await zk.close().catch(() => undefined);
    }
  },
});

function line(ev: WatchEvent): string {
  return `${ev.zxid} ${ev.type} ${ev.path}${ev.resync ? ' (resync: changes may have been missed while disconnected)' : ''}`;
}
