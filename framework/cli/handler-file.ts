import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './exit-codes.js';

/** What a handler module must export: `default` (or `handler`), a function of (payload, ctx). */
export type LoadedHandler = (payload: unknown, ctx: never) => unknown;

/**
 * Loads a worker's handler module (`corral worker --handler ./file.js`). Every way it can
 * go wrong gets one line naming the file: not found, fails to load, exports no function.
 *
 * @example
 * // my-handler.js
 * export default async function (payload, ctx) { await ctx.progress(50); return payload.n * 2; }
 */
export async function loadHandler(file: string, cwd: string): Promise<LoadedHandler> {
  const full = resolve(cwd, file);
  try {
    await access(full);
  } catch {
    throw new UsageError(`handler file not found: ${file} (looked for ${full})`);
  }
  if (/\.[mc]?ts$/.test(full)) await enableTypeScript(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new UsageError(`cannot load handler ${file}: ${msg}`);
  }
  const fn = typeof mod.default === 'function' ? mod.default : mod.handler;
  if (typeof fn !== 'function') {
    throw new UsageError(`handler ${file} must export a function: \`export default async function (payload, ctx) { … }\` (or a named \`handler\`)`);
  }
  return fn as LoadedHandler;
}

let tsx: Promise<void> | null = null;

/** TypeScript handlers load through tsx (a dev dependency); without it, say how to proceed. */
function enableTypeScript(file: string): Promise<void> {
  tsx ??= import('tsx/esm/api').then(
    (m) => void m.register(),
    () => {
      tsx = null;
      throw new UsageError(`handler ${file} is TypeScript: install tsx (npm i -D tsx) or compile it to .js`);
    },
  );
  return tsx;
}
