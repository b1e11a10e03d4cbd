import { TimeoutError } from '../../../core/index.js';
import { Mutex } from '../../../recipes/index.js';
import { runChild, signalOf } from '../child-command.js';
import { defineCommand } from '../command.js';
import { describeError } from '../describe-error.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { intArg } from './args.js';
import { commandAfterDashes, recipePath } from './recipe-name.js';

/**
 * `corral lock NAME -- cmd args…`: runs a command while holding a distributed mutex, like
 * flock(1) across machines. The command's exit code is returned. If the lock is lost while
 * it runs (the session expired), the command is stopped and corral exits 3.
 */
export const lock = defineCommand({
  command: 'lock <name>',
  describe: 'Run a command while holding a lock (like flock): corral lock NAME -- cmd args…',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'Lock name (under /locks) or absolute path' })
      .option('timeout', { alias: 'w', type: 'number', describe: 'Give up (exit 1) if not acquired within this many ms; 0 = only if free now' })
      .example('corral lock nightly-report -- ./report.sh --full', 'at most one report runs at a time, on any machine')
      .example('corral lock db -w 0 -- ./migrate.sh', 'skip (exit 1) if someone holds the lock'),
  async run(ctx, a) {
    const path = recipePath(a.name, 'locks');
    const argv = commandAfterDashes(a, 'corral lock db -- ./migrate.sh');
    const timeoutMs = intArg(a.timeout, 'timeout', 0);
    const zk = await ctx.connect('lock');
    try {
      const mutex = new Mutex(zk, path);
      const lease = await mutex.acquire({ signal: ctx.stop, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }).catch((err: unknown) => {
        if (err instanceof TimeoutError) throw new ExitError(`lock ${path} is held elsewhere: not acquired within ${timeoutMs} ms (--timeout)`, EXIT.failed);
        throw err;
      });
      ctx.logger.debug({ path, token: lease.token }, 'lock acquired');
      lease.on('suspended', () => ctx.io.err(`corral: connection lost; lock ${path} is in doubt until it comes back\n`));
      let lost: Error | null = null;
      try {
        const child = await runChild(argv, { CORRAL_LOCK_PATH: path, CORRAL_FENCING_TOKEN: String(lease.token) });
        const onLost = () => {
          if (!lease.held && !ctx.stop.aborted) lost = lease.signal.reason as Error;
          child.stop();
        };
        lease.signal.addEventListener('abort', onLost);
        const onStop = () => child.stop(signalOf(ctx.stop.reason));
        ctx.stop.addEventListener('abort', onStop);
        const code = await child.exited;
        lease.signal.removeEventListener('abort', onLost);
        ctx.stop.removeEventListener('abort', onStop);
        if (lost) throw new ExitError(`lock ${path} lost while the command ran (${describeError(lost)}); the command was stopped`, EXIT.unavailable);
        return code;
      } finally {
        await lease.release().catch(() => undefined);
      }
    } finally {
      await zk.close().catch(() => undefined);
    }
  },
});
