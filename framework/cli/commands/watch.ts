import type { WatchEvent } from '../../../core/index.js';
import { defineCommand } from '../command.js';
import { dataForJson, preview } from '../format.js';
import { intArg, pathArg } from './args.js';

/**
 * `corral watch PATH [-r] [-d]`: streams every change until Ctrl-C (a persistent watch,
 * recursive with -r). One line per event: `<zxid> <type> <path>`, with -d the data a create
 * or setData wrote after it (sent with the event: no read); with --json one object per line.
 */
export const watch = defineCommand({
  command: 'watch <path>',
  describe: 'Stream changes to a znode (-r: its whole subtree) until Ctrl-C',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true })
      .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'Every znode below the path too' })
      .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many events' })
      .option('data', { alias: 'd', type: 'boolean', default: false, describe: 'Show the data each create and setData wrote (sent with its event)' })
      .example('corral watch -r /status', 'one line per task finished')
      .example('corral watch -r -d /config', 'every change, with the new data'),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const count = intArg(a.count, 'count', 1) ?? Infinity;
    const zk = await ctx.connect('watch');
    zk.on('state', (s) => {
      if (s === 'suspended') ctx.note('corral: connection lost; events missed meanwhile will be reported when it comes back');
      if (s === 'reconnected') ctx.note('corral: reconnected');
    });
    const stream = zk.watch(path, { recursive: a.recursive, includeData: a.data });
    const stop = () => stream.close();
    ctx.stop.addEventListener('abort', stop);
    try {
      await stream.ready;
      ctx.note(`watching ${path}${a.recursive ? ' and below' : ''} (Ctrl-C to stop)`);
      let seen = 0;
      for await (const ev of stream) {
        ctx.print(ev.data ? { ...ev, ...dataForJson(ev.data) } : ev, () => line(ev));
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
  const data = ev.data ? ` ${preview(ev.data, 200)}` : '';
  return `${ev.zxid} ${ev.type} ${ev.path}${data}${ev.resync ? ' (resync: changes may have been missed while disconnected)' : ''}`;
}
