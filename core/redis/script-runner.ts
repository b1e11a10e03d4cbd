import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { loadLibrary, loadScripts, type ScriptName } from './scripts.js';

export type ScriptFn = (...args: Array<string | number | Buffer>) => Promise<unknown>;

/** How a connection runs corral's scripts: as functions of the loaded library, or with EVALSHA. */
export type ScriptMode = 'functions' | 'eval';

/**
 * Runs corral's Lua scripts on one commands connection: as functions of corral's library
 * (FCALL; see scripts.ts for why) where Redis has them (7.0 and later) and lets this user
 * load and call them, else as EVALSHA scripts (Redis 6, an ACL without FUNCTION or FCALL):
 * the same Lua either way.
 *
 * The library is loaded on first use, and again whenever the connection comes back (a
 * Redis restarted without persistence has none; a fail-over's new master has it through
 * replication). The mode follows what Redis says when asked: a refusal of FCALL or
 * FUNCTION themselves (an unknown command, an ACL's NOPERM) means EVALSHA; any other error
 * reply (a loading or read-only server, one out of memory) and a lost link decide nothing.
 */
export class ScriptRunner {
  /** null until prepare() has decided. */
  mode: ScriptMode | null = null;
  private readonly fns = new Map<string, ScriptFn>();

  constructor(
    private readonly cmd: Redis | Cluster,
    private readonly cluster: boolean,
    private readonly logger: Logger,
    /** Keys and arguments of a harmless call of the reads script (reads nothing): the probe. */
    private readonly probeArgs: () => Array<string | number>,
  ) {
    for (const s of loadScripts().values()) {
      if (typeof (cmd as unknown as Record<string, unknown>)[s.command] !== 'function') {
        cmd.defineCommand(s.command, { numberOfKeys: s.numberOfKeys, lua: s.lua });
      }
    }
  }

  /** The command of a script (built once per name: it runs on every call); `buffers` for Buffer replies. */
  fn(name: ScriptName, buffers: boolean): ScriptFn {
    const key = buffers ? `${name}+` : name;
    let fn = this.fns.get(key);
    if (!fn) {
      const s = loadScripts().get(name)!;
      const cmd = this.cmd as unknown as Record<string, ScriptFn>;
      const evalsha = cmd[buffers ? `${s.command}Buffer` : s.command].bind(this.cmd);
      const call = (buffers ? this.cmd.callBuffer : this.cmd.call).bind(this.cmd) as ScriptFn;
      const numberOfKeys = s.numberOfKeys;
      fn = (...args) => (this.mode === 'functions' ? call('FCALL', s.fn, numberOfKeys, ...args) : evalsha(...args));
      this.fns.set(key, fn);
    }
    return fn;
  }

  /**
   * Decides the mode and makes the library present: one FCALL when it is there already,
   * else FUNCTION LOAD (on every master of a Cluster) and the FCALL again. Rejects only when
   * the link fails (nothing decided then).
   */
  async prepare(): Promise<void> {
    try {
      await this.loadIfMissing();
      if (this.mode !== 'functions') this.logger.debug({ library: loadLibrary().name }, 'redis: scripts run as functions');
      this.mode = 'functions';
    } catch (err) {
      // Only a Redis without functions (unknown command) or an ACL that denies them means
      // EVALSHA; any other refusal (loading, read-only replica, out of memory) says nothing
      // about functions and fails this attempt like a lost link.
      if (!functionsUnavailable(err)) throw err;
      if (this.mode !== 'eval') this.logger.debug({ reason: (err as Error).message }, 'redis: functions unavailable here (Redis < 7, or an ACL without FUNCTION/FCALL); scripts run with EVALSHA');
      this.mode = 'eval';
    }
  }

  private async loadIfMissing(): Promise<void> {
    const probe = () => this.cmd.call('FCALL', loadScripts().get('reads')!.fn, 3, ...this.probeArgs());
    try {
      await probe();
      return;
    } catch (err) {
      if (!isFunctionMissing(err)) throw err;
    }
    const { code } = loadLibrary();
    const targets = this.cluster ? (this.cmd as Cluster).nodes('master') : [this.cmd as Redis];
    await Promise.all(targets.map(async (node) => {
      try {
        await node.call('FUNCTION', 'LOAD', code);
      } catch (err) {
        // Another client loaded it first: the same code (the name is its hash).
        if (!/already exists/i.test((err as Error)?.message ?? '')) throw err;
      }
    }));
    await probe();
  }
}

/** True for Redis's refusal of FCALL or FUNCTION itself: Redis < 7 (unknown command), or an ACL. */
function functionsUnavailable(err: unknown): boolean {
  const e = err as Error | undefined;
  return e?.name === 'ReplyError' && /^(ERR unknown command|NOPERM)\b/i.test(e.message);
}

/** True for Redis's reply to an FCALL of a function it does not have (flushed, or a fresh server). */
export function isFunctionMissing(err: unknown): boolean {
  const e = err as Error | undefined;
  return e?.name === 'ReplyError' && /^ERR Function not found/i.test(e.message);
}
