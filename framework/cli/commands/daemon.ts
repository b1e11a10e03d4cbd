import type { Client } from '../../../core/index.js';
import type { Context } from '../context.js';

/** Resolves when the run is asked to stop (Ctrl-C, SIGTERM). */
export function untilStopped(ctx: Context): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.stop.aborted) return resolve();
    ctx.stop.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A session factory for a long-running master or worker. The first session is opened
 * right away so an unreachable store fails the command at start (exit 3) instead of
 * retrying silently; later calls (after a session expired) open fresh ones.
 */
export async function sessionFactory(ctx: Context, command: string): Promise<() => Promise<Client>> {
  let first: Client | null = await ctx.connect(command);
  return async () => {
    const zk = first;
    first = null;
    return zk && zk.state !== 'expired' && zk.state !== 'closed' ? zk : ctx.connect(command);
  };
}

/** Prints a daemon's event: a JSON line on stdout with --json, else a line on stderr. */
export function event(ctx: Context, name: string, fields: Record<string, unknown>, human: string): void {
  if (ctx.opts.json) ctx.io.out(JSON.stringify({ event: name, time: new Date().toISOString(), ...fields }) + '\n');
  else ctx.io.err(`${new Date().toISOString().slice(11, 23)} ${human}\n`);
}
