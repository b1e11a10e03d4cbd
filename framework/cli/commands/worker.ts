import { createWorker, type TaskHandler } from '../../index.js';
import { defineCommand } from '../command.js';
import { describeError } from '../describe-error.js';
import { loadHandler } from '../handler-file.js';
import { intArg } from './args.js';
import { event, sessionFactory, untilStopped } from './daemon.js';

/**
 * `corral worker --handler FILE`: runs tasks with the handler the file exports until
 * Ctrl-C / SIGTERM, then drains (running tasks finish and are recorded).
 */
export const worker = defineCommand({
  command: 'worker',
  describe: 'Run a worker: corral worker --handler ./handler.js --concurrency 8',
  builder: (y) =>
    y
      .option('handler', { alias: 'H', type: 'string', demandOption: true, describe: 'Module exporting `default async (payload, ctx) => result`' })
      .option('concurrency', { alias: 'c', type: 'number', default: 1, describe: 'Tasks run at once' })
      .option('labels', { alias: 'l', type: 'string', array: true, describe: 'Labels this worker offers (tasks may require some): gpu,large' })
      .option('name', { type: 'string', describe: 'Worker id in /workers (default host-pid)' })
      .option('drain-timeout', { type: 'number', default: 30_000, describe: 'On stop, wait this long (ms) for running tasks' })
      .example('corral worker --handler ./examples/worker-handler.js -c 8 --labels gpu', ''),
  async run(ctx, a) {
    const concurrency = intArg(a.concurrency, 'concurrency', 1)!;
    const drainTimeoutMs = intArg(a.drainTimeout, 'drain-timeout', 0)!;
    const labels = (a.labels ?? []).flatMap((l) => String(l).split(',')).map((l) => l.trim()).filter((l) => l !== '');
    // The handler is checked before any connection, so a typo fails at once.
    const handler = (await loadHandler(a.handler, ctx.io.cwd)) as unknown as TaskHandler;
    const factory = await sessionFactory(ctx, 'worker');
    const w = createWorker({
      connect: factory, logger: ctx.logger, handler, concurrency, labels, drainTimeoutMs,
      ...(a.name !== undefined ? { name: a.name } : {}),
    });
    w.on('registered', (id) =>
      event(ctx, 'registered', { id, concurrency, labels }, `worker ${id} registered (concurrency ${concurrency}${labels.length ? `, labels ${labels.join(',')}` : ''})`),
    );
    w.on('completed', ({ id, state }) => {
      if (ctx.opts.json) event(ctx, 'completed', { task: id, state }, '');
      else ctx.logger.debug({ task: id, state }, 'task done');
    });
    w.on('rejected', ({ id, reason }) => event(ctx, 'rejected', { task: id, error: describeError(reason) }, `result of ${id} not recorded: ${describeError(reason)}`));
    w.on('expired', () => event(ctx, 'expired', {}, 'session expired: this worker\'s tasks go to others; registering again with a new session'));
    w.on('error', (err) => ctx.logger.warn({ err }, 'worker error'));
    await untilStopped(ctx);
    event(ctx, 'draining', { id: w.id, running: w.active }, `worker ${w.id} draining (${w.active} task(s) running)`);
    await w.close();
  },
});
