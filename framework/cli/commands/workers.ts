import { createTaskClient } from '../../index.js';
import { defineCommand } from '../command.js';
import { table } from '../format.js';

/** `corral workers`: the current master and the registered workers with their load. */
export const workers = defineCommand({
  command: 'workers',
  describe: 'List live workers (load, capacity, labels) and the current master',
  builder: (y) => y,
  async run(ctx) {
    const { master, list } = await ctx.withClient('workers', async (zk) => {
      const client = createTaskClient(zk);
      return { master: await client.master(), list: await client.workers() };
    });
    ctx.print({ master, workers: list }, () => {
      const head = `master: ${master ?? '(none elected)'}`;
      if (list.length === 0) return `${head}\n(no workers)`;
      const rows = list.map((w) => [w.id, w.host ?? '', w.pid === undefined ? '' : String(w.pid), `${w.load}/${w.capacity}`, w.labels.join(','), w.draining ? 'draining' : '']);
      return `${head}\n\n${table(['WORKER', 'HOST', 'PID', 'LOAD', 'LABELS', ''], rows)}`;
    });
  },
});
