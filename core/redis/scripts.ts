import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Lua scripts, by the name of their file (`multi-7.lua` → `multi`, 7 keys). */
export const SCRIPT_NAMES = [
  'create-session', 'touch-session', 'close-session', 'reap', 'multi',
  'reads', 'changes-since',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export interface LoadedScript {
  /** ioredis command name: `corral_` + the file name with `_` for `-`. */
  command: string;
  numberOfKeys: number;
  lua: string;
}

let cache: Map<ScriptName, LoadedScript> | null = null;

/**
 * Reads every script once, with its `-- @include <name>` lines replaced by
 * `includes/<name>.lua` (each included at most once per script).
 */
export function loadScripts(): Map<ScriptName, LoadedScript> {
  if (cache) return cache;
  const dir = luaDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
  const out = new Map<ScriptName, LoadedScript>();
  for (const name of SCRIPT_NAMES) {
    const file = files.find((f) => f.startsWith(`${name}-`) && /^\d+$/.test(f.slice(name.length + 1, -4)));
    if (!file) throw new Error(`corral: Lua script ${name}-<keys>.lua missing from ${dir}`);
    const numberOfKeys = Number(file.slice(name.length + 1, -4));
    const lua = expand(readFileSync(join(dir, file), 'utf8'), dir, new Set());
    out.set(name, { command: `corral_${name.replace(/-/g, '_')}`, numberOfKeys, lua });
  }
  cache = out;
  return out;
}

function expand(src: string, dir: string, seen: Set<string>): string {
  return src.replace(/^-- @include (\S+)\s*$/gm, (_, inc: string) => {
    if (seen.has(inc)) return '';
    seen.add(inc);
    return expand(readFileSync(join(dir, 'includes', `${inc}.lua`), 'utf8'), dir, seen);
  });
}

/**
 * The folder holding the Lua files: `core/redis/lua` under the package root, found by
 * walking up from this module, so it works from source (tsx, vitest) and from
 * `dist/core/redis/*.js` (the package ships `core/redis/lua`).
 */
function luaDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'core', 'redis', 'lua');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('corral: cannot find core/redis/lua above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
