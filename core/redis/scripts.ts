import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Lua scripts, by the name of their file (`multi-7.lua` → `multi`, 7 keys). */
export const SCRIPT_NAMES = [
  'create-session', 'touch-session', 'close-session', 'reap', 'multi',
  'reads', 'changes-since',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/**
 * The functions Redis runs even while it is over `maxmemory` (flag `allow-oom`): reads and
 * watch registrations, catch-up, opening, heartbeats and closing sessions, the reaper. So
 * when Redis fills up, readers keep reading (new ones too: a CLI command, an operator
 * looking at what fills it), watches keep firing and sessions stay alive, and what frees
 * memory (expiry, close) still runs; what they write is small (a registration, a session's
 * deadline). The one function without the flag (multi: every znode write) is refused by
 * Redis before it starts, so a refused write leaves nothing half done.
 * (Scripts run with EVALSHA, where functions are unavailable, keep Redis's older rule: a
 * script is refused at its first write, registrations and heartbeats included.)
 */
const ALLOW_OOM: ReadonlySet<ScriptName> = new Set<ScriptName>(['reads', 'changes-since', 'create-session', 'touch-session', 'reap', 'close-session']);

export interface LoadedScript {
  /** ioredis command name: `corral_` + the file name with `_` for `-`. */
  command: string;
  numberOfKeys: number;
  /** The script for EVAL / EVALSHA: its includes, its definitions, then `return main()`. */
  lua: string;
  /** Its function in the library (see {@link loadLibrary}): `corral_<name>_<hash>`. */
  fn: string;
}

/**
 * Every script as one Redis function library (Redis 7+): `FUNCTION LOAD code`, then
 * `FCALL <script's fn> numkeys keys… args…`.
 *
 * Why: EVAL runs a script's whole text each call, so the ~100 helpers the includes define
 * are built anew every time (closures, constant tables): ~9 µs of a 1-op setData's 30 µs
 * on Redis, measured. A library's definitions are built once, when it is loaded; a call
 * runs only its main(). It also has a Lua state of its own, so other applications' cached
 * EVAL scripts (BullMQ's forty) do not slow its garbage collection down.
 *
 * The name carries a hash of the code: clients of different corral versions sharing a
 * Redis each find their own library, and a library is all there or not at all (one
 * FUNCTION LOAD), so no call can find one script and miss another.
 */
export interface FunctionLibrary {
  name: string;
  code: string;
}

let cache: { scripts: Map<ScriptName, LoadedScript>; library: FunctionLibrary } | null = null;

/**
 * Reads every script once. A script file defines `local function main()`, which runs one
 * call; its `-- @include <name>` lines stand for `includes/<name>.lua` (each included once).
 * Definitions read nothing of a call: per-call state is set by main() (beginKeys,
 * beginTree), so the same text runs as an EVAL script or as a library's function.
 */
export function loadScripts(): Map<ScriptName, LoadedScript> {
  return build().scripts;
}

/** The function library of every script (see {@link FunctionLibrary}). */
export function loadLibrary(): FunctionLibrary {
  return build().library;
}

function build(): NonNullable<typeof cache> {
  if (cache) return cache;
  const dir = luaDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
  const sources: Array<{ name: ScriptName; numberOfKeys: number; src: string }> = [];
  for (const name of SCRIPT_NAMES) {
    const file = files.find((f) => f.startsWith(`${name}-`) && /^\d+$/.test(f.slice(name.length + 1, -4)));
    if (!file) throw new Error(`corral: Lua script ${name}-<keys>.lua missing from ${dir}`);
    const src = readFileSync(join(dir, file), 'utf8');
    if (!/^local function main\(\)$/m.test(src)) throw new Error(`corral: Lua script ${file} defines no main()`);
    sources.push({ name, numberOfKeys: Number(file.slice(name.length + 1, -4)), src });
  }

  // The library: each include once at its top, then each script's own code in a block of
  // its own (its locals, main() among them, are its alone) registering its function.
  const seen = new Set<string>();
  let includes = '';
  const blocks: Array<{ name: ScriptName; body: string }> = [];
  for (const s of sources) {
    for (const m of s.src.matchAll(INCLUDE)) includes += expand(m[0], dir, seen);
    blocks.push({ name: s.name, body: s.src.replace(INCLUDE, '') });
  }
  const flagsOf = (name: ScriptName) => (ALLOW_OOM.has(name) ? "{ 'allow-oom' }" : '{}');
  const hash = createHash('sha1').update(includes).update(blocks.map((b) => `${b.body}\0${flagsOf(b.name)}`).join('\0')).digest('hex').slice(0, 12);
  const fnOf = (name: ScriptName) => `corral_${name.replace(/-/g, '_')}_${hash}`;
  const library: FunctionLibrary = {
    name: `corral_${hash}`,
    code: [
      `#!lua name=corral_${hash}`,
      // Set at each call from the function's arguments: the scripts read KEYS and ARGV.
      'local KEYS, ARGV',
      includes,
      ...blocks.map((b) => `do\n${b.body}\nredis.register_function{ function_name = '${fnOf(b.name)}', flags = ${flagsOf(b.name)}, callback = function(keys, args)\n  KEYS, ARGV = keys, args\n  return main()\nend }\nend`),
    ].join('\n'),
  };

  const scripts = new Map<ScriptName, LoadedScript>();
  for (const s of sources) {
    const lua = `local KEYS, ARGV = KEYS, ARGV\n${expand(s.src, dir, new Set())}\nreturn main()\n`;
    scripts.set(s.name, { command: `corral_${s.name.replace(/-/g, '_')}`, numberOfKeys: s.numberOfKeys, lua, fn: fnOf(s.name) });
  }
  cache = { scripts, library };
  return cache;
}

const INCLUDE = /^-- @include (\S+)\s*$/gm;

function expand(src: string, dir: string, seen: Set<string>): string {
  return src.replace(INCLUDE, (_, inc: string) => {
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
