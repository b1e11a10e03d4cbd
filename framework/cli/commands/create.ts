import { CREATE_MODES, ensurePath, isEphemeralMode, parentOf, validatePath, type CreateMode } from '../../../core/index.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { intArg } from './args.js';
import { dataArg } from './data-arg.js';

/** `corral create PATH [DATA]`: creates a znode in any mode; prints the path created. */
export const create = defineCommand({
  command: 'create <path> [data]',
  describe: 'Create a znode (persistent, ephemeral, sequential, container, TTL)',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'For sequential modes the 10-digit suffix is appended' })
      .positional('data', { type: 'string', describe: 'Initial data; - for stdin' })
      .option('file', { alias: 'f', type: 'string', describe: 'Read the data from this file' })
      .option('mode', { alias: 'm', type: 'string', choices: CREATE_MODES as unknown as string[], describe: 'Create mode (default persistent)' })
      .option('ephemeral', { alias: 'e', type: 'boolean', default: false, describe: 'Shorthand for an ephemeral mode (gone when this command exits)' })
      .option('sequential', { alias: 's', type: 'boolean', default: false, describe: 'Shorthand for a sequential mode' })
      .option('ttl', { type: 'number', describe: 'TTL in ms (mode persistent_with_ttl)' })
      .option('parents', { alias: 'p', type: 'boolean', default: false, describe: 'Create missing parents (persistent), like mkdir -p' })
      .example('corral create /jobs/job- hello -s', 'prints e.g. /jobs/job-0000000003'),
  async run(ctx, a) {
    const mode = modeOf(a.mode, a.ephemeral, a.sequential, a.ttl);
    validatePath(a.path, mode === 'persistent_sequential' || mode === 'ephemeral_sequential');
    const ttlMs = intArg(a.ttl, 'ttl', 1);
    const data = await dataArg(ctx.io, ctx.raw, a.data, a.file);
    const { path, stat } = await ctx.withClient('create', async (zk) => {
      if (a.parents && parentOf(a.path) !== '/') await ensurePath(zk, parentOf(a.path));
      return zk.createWithStat(a.path, data, { mode, ...(ttlMs !== undefined ? { ttlMs } : {}) });
    });
    if (isEphemeralMode(mode)) ctx.note(`note: ${path} is ephemeral: it was removed when this command's session ended`);
    ctx.print({ path, stat }, () => path);
  },
});

function modeOf(mode: string | undefined, ephemeral: boolean, sequential: boolean, ttl: number | undefined): CreateMode {
  if (mode !== undefined) {
    if (ephemeral || sequential) throw new UsageError('give either --mode or -e/-s, not both');
    if (ttl !== undefined && mode !== 'persistent_with_ttl') throw new UsageError(`--ttl needs mode persistent_with_ttl, not ${mode}`);
    if (ttl === undefined && mode === 'persistent_with_ttl') throw new UsageError('mode persistent_with_ttl needs --ttl <ms>');
    return mode as CreateMode;
  }
  if (ttl !== undefined) {
    if (ephemeral || sequential) throw new UsageError('--ttl cannot be combined with -e or -s');
    return 'persistent_with_ttl';
  }
  if (ephemeral) return sequential ? 'ephemeral_sequential' : 'ephemeral';
  return sequential ? 'persistent_sequential' : 'persistent';
}
