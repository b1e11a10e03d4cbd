import { createTaskClient } from '../../index.js';
import { defineCommand } from '../command.js';
import { EXIT } from '../exit-codes.js';

/** `corral cancel ID`: cancels a queued task, or signals a running one's handler to stop. */
export const cancel = defineCommand({
  command: 'cancel <id>',
  describe: 'Cancel a task (a running one gets its AbortSignal fired); exit 1 if it already finished',
  builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
  async run(ctx, a) {
    const done = await ctx.withClient('cancel', (zk) => createTaskClient(zk).cancel(a.id));
    ctx.print({ id: a.id, cancelled: done }, () => (done ? `${a.id}: cancelled` : `${a.id}: already finished, nothing to cancel`));
    return done ? EXIT.ok : EXIT.failed;
  },
});
