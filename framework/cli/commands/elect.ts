import { LeaderLatch } from '../../../recipes/index.js';
import { runChild, signalOf } from '../child-command.js';
import { defineCommand } from '../command.js';
import { describeError } from '../describe-error.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { commandAfterDashes, recipePath } from './recipe-name.js';
import { hostname } from 'node:os';

/**
 * `corral elect NAME -- cmd args…`: waits to be elected leader among every process running
 * the same election, then runs the command while leader. When the command exits, the
 * process resigns and the next candidate takes over. Leadership lost while it runs stops
 * the command (exit 3).
 */
export const elect = defineCommand({
  command: 'elect <name>',
  describe: 'Run a command while elected leader: corral elect NAME -- cmd args…',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'Election name (under /elections) or absolute path' })
      .option('id', { type: 'string', describe: 'This candidate\'s id, shown to others (default: host:pid)' })
      .example('corral elect scheduler -- node scheduler.js', 'run on three machines: one scheduler at a time, the others stand by'),
  async run(ctx, a) {
    const path = recipePath(a.name, 'elections');
    const argv = commandAfterDashes(a, 'corral elect scheduler -- node scheduler.js');
    const zk = await ctx.connect('elect');
    const latch = new LeaderLatch(zk, path, { id: a.id ?? `${hostname()}:${process.pid}` });
    try {
      await latch.start();
      if (!latch.isLeader) {
        const leader = await latch.getLeader();
        ctx.note(`waiting to lead ${path}${leader ? ` (leader now: ${leader.id})` : ''}`);
      }
      const leadership = await latch.elected({ signal: ctx.stop });
      ctx.note(`elected leader of ${path} (fencing token ${leadership.token})`);
      latch.on('suspended', () => ctx.io.err(`corral: connection lost; leadership of ${path} is in doubt until it comes back\n`));
      const child = await runChild(argv, { CORRAL_ELECTION_PATH: path, CORRAL_FENCING_TOKEN: String(leadership.token) });
      let lost: unknown = null;
      const onLost = () => {
        if (!ctx.stop.aborted) lost = leadership.signal.reason;
        child.stop();
      };
      leadership.signal.addEventListener('abort', onLost);
      const onStop = () => child.stop(signalOf(ctx.stop.reason));
      ctx.stop.addEventListener('abort', onStop);
      const code = await child.exited;
      leadership.signal.removeEventListener('abort', onLost);
      ctx.stop.removeEventListener('abort', onStop);
      if (lost) throw new ExitError(`leadership of ${path} lost while the command ran (${describeError(lost)}); the command was stopped`, EXIT.unavailable);
      return code;
    } finally {
      await latch.close().catch(() => undefined);
      await zk.close().catch(() => undefined);
    }
  },
});
