import type { BackendEvent } from '../backend.js';
import { isEphemeralMode, type CreateOp, type Op, type Stat, type WatchEventType } from '../types.js';

/** Reply fields of one Stat, as the scripts return them (see includes/keys.lua `statOf`). */
export const STAT_FIELDS = 10;

/** Decodes the 10 stat fields starting at `at` (owner may come as a Buffer in Buffer replies). */
export function statFrom(r: readonly unknown[], at: number): Stat {
  const owner = String(r[at + 7]);
  return {
    czxid: Number(r[at]),
    mzxid: Number(r[at + 1]),
    pzxid: Number(r[at + 2]),
    ctime: Number(r[at + 3]),
    mtime: Number(r[at + 4]),
    version: Number(r[at + 5]),
    cversion: Number(r[at + 6]),
    aversion: 0,
    ephemeralOwner: owner === '' ? null : owner,
    dataLength: Number(r[at + 8]),
    numChildren: Number(r[at + 9]),
  };
}

/** In a multi reply, in place of a create's Stat: the znode as that create left it. */
export const FRESH = -1;

/** The Stat of a znode as `op` created it at `zxid` and `now` (see {@link FRESH}). */
export function freshStat(zxid: number, now: number, op: CreateOp, sessionId: string): Stat {
  return {
    czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: isEphemeralMode(op.mode) ? sessionId : null, dataLength: op.data.byteLength, numChildren: 0,
  };
}

const TYPE_OF_CODE: Record<string, WatchEventType> = { c: 'created', d: 'deleted', m: 'dataChanged', h: 'childrenChanged' };

/**
 * Decodes a pub/sub message: `<zxid> <events>`, the events of one write for one channel
 * as change-log lines (see {@link eventsFromLog}). [] if it is not one.
 */
export function eventsFromMessage(msg: string): BackendEvent[] {
  const a = msg.indexOf(' ');
  const zxid = a > 0 ? Number(msg.slice(0, a)) : NaN;
  const out: BackendEvent[] = [];
  if (!Number.isSafeInteger(zxid)) return out;
  for (let at = a + 1; at < msg.length;) {
    let end = msg.indexOf('\n', at);
    if (end === -1) end = msg.length;
    const type = TYPE_OF_CODE[msg.charAt(at)];
    if (type) out.push({ type, path: msg.slice(at + 1, end), zxid });
    at = end + 1;
  }
  return out;
}

/** Decodes one change-log entry's events: `<code><path>` lines. */
export function eventsFromLog(zxid: number, lines: string): BackendEvent[] {
  if (lines === '') return [];
  return lines.split('\n').map((l) => ({ type: TYPE_OF_CODE[l.charAt(0)], path: l.slice(1), zxid }));
}

const OP_CODE = { create: 'c', delete: 'd', setData: 's', check: 'k' } as const;

/** ARGV of the multi script for `ops` (5 per op: type, path, data, mode, number). */
export function opArgs(ops: readonly Op[]): Array<string | number | Buffer> {
  const args: Array<string | number | Buffer> = [ops.length];
  for (const op of ops) {
    switch (op.type) {
      case 'create':
        args.push(OP_CODE.create, op.path, bytes(op.data), op.mode, op.ttlMs ?? 0);
        break;
      case 'setData':
        args.push(OP_CODE.setData, op.path, bytes(op.data), '', op.version);
        break;
      default:
        args.push(OP_CODE[op.type], op.path, '', '', op.version);
    }
  }
  return args;
}

/** A Buffer view of the bytes, without copying. */
export function bytes(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
