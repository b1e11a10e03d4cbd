import { createMaster } from '../../index.js';
import { defineCommand } from '../command.js';
import { describeError } from '../describe-error.js';
import { untilStopped, event, sessionFactory } from './daemon.js';

/**
 * `corral master`: runs a master until Ctrl-C / SIGTERM. Start several: one is elected,
 * the others wait as backups and take over when it dies.
 */
export const master = defineCommand({
  command: 'master',
  describe: 'Run a master (start 2+ for fail-over; backups wait for election)',
  builder: (y) =>
    y
      .option('id', { type: 'string', describe: 'This master\'s id (default host-pid-random)' })
      .option('batch-size', { type: 'number', describe: 'Tasks assigned per multi (default 64)' })
      .example('corral master --redis redis://10.0.0.5:6379 -n jobs', ''),
  async run(ctx, a) {
    const factory = await sessionFactory(ctx, 'master');
    const m = createMaster({
      connect: factory,
      logger: ctx.logger,
      ...(a.id !== undefined ? { id: a.id } : {}),
      ...(a.batchSize !== undefined ? { batchSize: a.batchSize } : {}),
    });
    event(ctx, 'started', { id: m.id }, `master ${m.id} started; waiting to be elected`);
    m.on('elected', ({ id, token }) => event(ctx, 'elected', { id, token }, `master ${id} elected (fencing token ${token}): assigning tasks`));
    m.on('deposed', (err) => event(ctx, 'deposed', { id: m.id, error: describeError(err) }, `master ${m.id} lost leadership (${describeError(err)}); rejoining the election`));
    m.on('reclaimed', ({ worker, tasks }) => event(ctx, 'reclaimed', { worker, tasks }, `worker ${worker} is gone: ${tasks} task(s) back in the queue`));
    m.on('assigned', ({ count }) => ctx.logger.debug({ count }, 'assigned'));
    m.on('error', (err) => ctx.logger.warn({ err }, 'master error'));
    await untilStopped(ctx);
    event(ctx, 'stopping', { id: m.id }, `master ${m.id} stopping`);
    await m.close();
  },
});
