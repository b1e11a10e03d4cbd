import type { BackendEvent } from '../backend.js';
import { CREATE_MODES, isEphemeralMode, type CreateOp, type Op, type Stat, type WatchEventType } from '../types.js';

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

/**
 * A znode's data and Stat from its hash fields as a read script sends them (HGETALL's
 * field, value, … as Buffers; see keys.lua for the fields and their defaults) and its
 * child count.
 */
export function nodeFrom(h: readonly Buffer[], numChildren: number): { data: Buffer; stat: Stat } {
  let data: Buffer = EMPTY;
  let cz = 0, mz = -1, pz = -1, ct = 0, mt = -1, version = 0, cversion = 0;
  let owner: string | null = null;
  for (let i = 0; i < h.length; i += 2) {
    const k = h[i];
    const v = h[i + 1];
    // Field names are 1-2 ASCII letters: tell them apart by their bytes.
    const a = k[0];
    const b = k.length > 1 ? k[1] : 0;
    if (a === 100 /* d */) data = v;
    else if (b === 122 /* z */) {
      if (a === 99 /* cz */) cz = int(v); else if (a === 109 /* mz */) mz = int(v); else if (a === 112 /* pz */) pz = int(v);
    } else if (b === 116 /* t */) {
      if (a === 99 /* ct */) ct = int(v); else if (a === 109 /* mt */) mt = int(v);
    } else if (a === 118 /* v */) version = int(v);
    else if (a === 99 && b === 118 /* cv */) cversion = int(v);
    else if (a === 111 /* o */) owner = v.length === 0 ? null : v.toString('utf8');
  }
  return {
    data,
    stat: {
      czxid: cz, mzxid: mz < 0 ? cz : mz, pzxid: pz < 0 ? cz : pz, ctime: ct, mtime: mt < 0 ? ct : mt,
      version, cversion, aversion: 0, ephemeralOwner: owner, dataLength: data.length, numChildren,
    },
  };
}

/** A getData reply of the reads script ({zxid} or {zxid, hash, numChildren}); null: no such znode. */
export function dataReply(r: readonly unknown[]): { data: Buffer; stat: Stat } | null {
  return r.length === 1 ? null : nodeFrom(r[1] as Buffer[], Number(r[2]));
}

/**
 * A getChildren reply of the reads script ({zxid} or {zxid, 10 stat fields,
 * more, names...}); null: no such znode. `more`: a page cut short.
 */
export function childrenReply(r: readonly unknown[]): { children: string[]; stat: Stat; more: boolean } | null {
  if (r.length === 1) return null;
  const start = 2 + STAT_FIELDS;
  const children: string[] = new Array(r.length - start);
  for (let j = start; j < r.length; j++) children[j - start] = String(r[j]);
  return { children, stat: statFrom(r, 1), more: Number(r[1 + STAT_FIELDS]) === 1 };
}

/** A non-negative decimal integer from its ASCII bytes. */
function int(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 10 + (b[i] - 48);
  return n;
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

/** Event types by the byte of their code; upper case: the line carries data (see below). */
const TYPE_OF_BYTE: Array<WatchEventType | undefined> = [];
TYPE_OF_BYTE[99 /* c */] = TYPE_OF_BYTE[67 /* C */] = 'created';
TYPE_OF_BYTE[100 /* d */] = TYPE_OF_BYTE[68 /* D */] = 'deleted';
TYPE_OF_BYTE[109 /* m */] = TYPE_OF_BYTE[77 /* M */] = 'dataChanged';
TYPE_OF_BYTE[104 /* h */] = 'childrenChanged';

/**
 * Decodes a pub/sub message on a session's channel: `<zxid> <events>`, the events of one
 * write the session's watches want, as change-log lines (see {@link eventsFromLog}),
 * newline-separated; `!<zxid> <events>` when the session itself made the write (they come
 * marked `own`). For a watch that wants data (`+data` interests), the line of an event
 * whose write wrote data to its znode is `C`, `M` or `D`, the data's length in bytes, `:`,
 * the path, a newline and the data as is (tree.lua publishEntries). [] if it is not such a
 * message.
 */
export function eventsFromMessage(msg: Buffer): BackendEvent[] {
  // `!<zxid> …`: the receiving session's own write.
  const own = msg[0] === 33;
  const a = msg.indexOf(32);
  const out: BackendEvent[] = [];
  if (a <= (own ? 1 : 0)) return out;
  let zxid = 0;
  for (let i = own ? 1 : 0; i < a; i++) {
    const d = msg[i] - 48;
    if (d < 0 || d > 9) return out;
    zxid = zxid * 10 + d;
  }
  if (!Number.isSafeInteger(zxid)) return out;
  for (let at = a + 1; at < msg.length;) {
    const code = msg[at];
    const type = TYPE_OF_BYTE[code];
    let pathAt = at + 1;
    let length = -1;
    if (code === 67 || code === 77 || code === 68) {
      length = 0;
      while (pathAt < msg.length && msg[pathAt] !== 58 /* : */) length = length * 10 + (msg[pathAt++] - 48);
      pathAt++;
    }
    let end = msg.indexOf(10, pathAt);
    if (end === -1) end = msg.length;
    const path = msg.toString('utf8', pathAt, end);
    let next = end + 1;
    let data: Buffer | undefined;
    if (length >= 0) {
      // A copy: the message's buffer is not ours to hand out in pieces.
      data = Buffer.from(msg.subarray(end + 1, end + 1 + length));
      next = end + 1 + length + 1;
    }
    if (type) {
      const ev: BackendEvent = { type, path, zxid };
      if (own) ev.own = true;
      if (data) ev.data = data;
      out.push(ev);
    }
    at = next;
  }
  return out;
}

/** Decodes one change-log entry's events: `<code><path>` lines. */
export function eventsFromLog(zxid: number, lines: string): BackendEvent[] {
  if (lines === '') return [];
  return lines.split('\n').map((l) => ({ type: TYPE_OF_CODE[l.charAt(0)], path: l.slice(1), zxid }));
}

const OP_CODE = { create: 'c', delete: 'd', setData: 's', check: 'k' } as const;

/**
 * The ops of a multi as the multi script's one packed argument: per op, as Lua's struct
 * format '>c1BdIIc0Ic0', the type code, the create mode (its index in CREATE_MODES), a
 * number (ttl ms for create, expected version for the others), the byte offset of the
 * path's last '/' (its parent, found here rather than by a Lua pattern match), the path
 * and the data. One argument instead of five per op: for a multi of 128 ops, formatting
 * and parsing 640 arguments cost ioredis and Redis more than the ops themselves.
 */
export function packOps(ops: readonly Op[]): Buffer {
  let size = 0;
  for (const op of ops) size += 22 + Buffer.byteLength(op.path) + (op.type === 'create' || op.type === 'setData' ? op.data.byteLength : 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const op of ops) {
    out[at] = OP_CODE[op.type].charCodeAt(0);
    out[at + 1] = op.type === 'create' ? CREATE_MODES.indexOf(op.mode) : 0;
    out.writeDoubleBE(op.type === 'create' ? op.ttlMs ?? 0 : op.version, at + 2);
    const start = at + 18;
    const len = out.write(op.path, start, 'utf8');
    let cut = len - 1;
    while (cut > 0 && out[start + cut] !== 47 /* / */) cut--;
    out.writeUInt32BE(cut, at + 10);
    out.writeUInt32BE(len, at + 14);
    at = start + len;
    const data = op.type === 'create' || op.type === 'setData' ? bytes(op.data) : EMPTY;
    out.writeUInt32BE(data.length, at);
    at += 4 + data.copy(out, at + 4);
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

/** A Buffer view of the bytes, without copying. */
export function bytes(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
