import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** Resident set size of a process in bytes (from /proc), or null once it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface RedisMemory {
  /** `used_memory`: everything the server allocated. */
  usedMemory: number;
  /** `used_memory_dataset`: the keys and values (used_memory less the server's overhead). */
  dataset: number;
  /** Lua VM and cached scripts (`used_memory_vm_eval` + `used_memory_scripts_eval`): grows once per script loaded, not per key. */
  lua: number;
  keys: number;
}

/** Memory figures and the key count of a Redis server. */
export async function redisMemory(url: string): Promise<RedisMemory> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const info = await r.info('memory');
    const field = (name: string) => {
      const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
      return m ? Number(m[1]) : NaN;
    };
    return {
      usedMemory: field('used_memory'), dataset: field('used_memory_dataset'),
      lua: field('used_memory_vm_eval') + field('used_memory_scripts_eval'), keys: await r.dbsize(),
    };
  } finally {
    r.disconnect();
  }
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a < 1024) return `${sign}${a} B`;
  if (a < 1024 ** 2) return `${sign}${(a / 1024).toFixed(1)} KiB`;
  return `${sign}${(a / 1024 ** 2).toFixed(1)} MiB`;
}
