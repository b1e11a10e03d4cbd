import { createTaskClient, type TaskInfo, type TaskState } from '../../index.js';
import { defineCommand } from '../command.js';
import { tasksTable } from '../task-format.js';
import { intArg } from './args.js';

const STATES: TaskState[] = ['queued', 'delayed', 'assigned', 'succeeded', 'failed', 'cancelled'];

/** `corral tasks`: counts by state and a table of tasks (all states, or one with --state). */
export const tasks = defineCommand({
  command: 'tasks',
  describe: 'List tasks by state, with counts',
  builder: (y) =>
    y
      .option('state', { alias: 's', type: 'string', choices: ['all', ...STATES], default: 'all', describe: 'Only tasks in this state' })
      .option('limit', { type: 'number', default: 50, describe: 'At most this many per state' })
      .example('corral tasks --state failed', ''),
  async run(ctx, a) {
    const limit = intArg(a.limit, 'limit', 1)!;
    const { counts, list } = await ctx.withClient('tasks', async (zk) => {
      const client = createTaskClient(zk);
      const counts = await client.counts();
      const states = a.state === 'all' ? STATES.filter((s) => s !== 'delayed') : [a.state as TaskState];
      const list: TaskInfo[] = [];
      for (const s of states) list.push(...(await client.list(s, { limit: Math.min(limit, 1000) })).tasks);
      return { counts, list };
    });
    ctx.print({ counts, tasks: list }, () => {
      const head = `queued ${counts.queued} · assigned ${counts.assigned} · finished ${counts.finished}`;
      return list.length === 0 ? `${head}\n(no tasks)` : `${head}\n\n${tasksTable(list)}`;
    });
  },
});
