import { createTaskClient, NoSuchTaskError, type TaskInfo } from '../../index.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { taskDetails } from '../task-format.js';
import { intArg } from './args.js';

/**
 * `corral status ID`: where a task is and, once finished, its outcome. With `--wait` it
 * waits for the end and exits 0 only if the task succeeded.
 */
export const status = defineCommand({
  command: 'status <id>',
  describe: "Show a task's state and result (--wait: until it finishes)",
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Task id, e.g. task-0000000042' })
      .option('wait', { alias: 'w', type: 'boolean', default: false, describe: 'Wait until it finishes; exit 0 only if it succeeded' })
      .option('timeout', { type: 'number', describe: 'With --wait: give up after this many ms' }),
  async run(ctx, a) {
    const timeoutMs = intArg(a.timeout, 'timeout', 1);
    const info = await ctx.withClient('status', async (zk): Promise<TaskInfo> => {
      const client = createTaskClient(zk);
      if (a.wait) {
        const s = await client.wait(a.id, { signal: ctx.stop, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
        return { id: a.id, state: s.state, attempts: s.attempts, worker: s.worker, status: s };
      }
      const found = await client.get(a.id);
      if (!found) throw new NoSuchTaskError(a.id);
      return found;
    });
    ctx.print(info, () => taskDetails(info));
    if (a.wait && info.state !== 'succeeded') return EXIT.failed;
    return EXIT.ok;
  },
});
