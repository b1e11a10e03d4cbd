/**
 * Every Redis key and channel name of a namespace, built in this one place.
 *
 * All carry the hash tag `{ns}`, so every key a script touches maps to one Redis Cluster
 * slot (scripts must not cross slots) and different namespaces spread over the shards.
 * The Lua scripts derive per-znode keys from {@link NamespaceKeys.prefix} the same way
 * (core/redis/lua/includes/keys.lua); keep the two in step.
 *
 * Layout (prefix `corral:{ns}:`):
 * - `zxid`        string: last zxid of the namespace
 * - `sessions`    sorted set: session id → deadline (ms, Redis clock)
 * - `timeouts`    hash: session id → session timeout (ms)
 * - `ttl`         sorted set: TTL znode path → mtime + ttl
 * - `log`         stream: the change log; an entry holds consecutive zxids as fields
 *                 (`<zxid>` → its event lines), its id `<last zxid>-0`
 * - `recursive`   sorted set: recursively watched path → +inf (while some session watches it)
 * - `sid`         string: session id counter
 * - `lifetime`    string: the Redis lifetime (`master_replid`) that last issued a zxid
 * - `gaps`        sorted set: `<from>:<to>` scored `<to>`: no zxid strictly between was
 *                 issued (the counter jumped to the clock in a new Redis lifetime)
 * - `n:<path>`    hash: one znode (data, mode, ttl, zxids, times, versions, owner)
 * - `c:<path>`    sorted set: the znode's child names (score 0, lexical order)
 * - `e:<session>` set: the session's ephemeral paths
 * - `i:<path>`    hash: session id → kind bits of its watches on the path (1 node, 2 children)
 * - `si:<session>` set: the paths the session has watches on
 * - `watched`     hash: path → 1 for every path with watches (one HMGET per write finds them)
 * - `lastev`      hash: session id → zxid of the last event message sent to the session
 * Channel: `s:<session>`, the events a session's watches want.
 */
export interface NamespaceKeys {
  readonly prefix: string;
  readonly zxid: string;
  readonly sessions: string;
  readonly timeouts: string;
  readonly ttl: string;
  readonly log: string;
  readonly recursive: string;
  readonly sessionSeq: string;
  /** Derived by the scripts from the prefix (not in their KEYS): see includes/tree.lua. */
  readonly lifetime: string;
  readonly gaps: string;
  /** The KEYS every write script takes, in the order its header names them. */
  readonly writeKeys: readonly string[];
  node(path: string): string;
  children(path: string): string;
  ephemerals(sessionId: string): string;
  /** Who watches `path` (session id → kind bits: 1 node, 2 children, 4 recursive). */
  watchers(path: string): string;
  /** The paths a session watches. */
  sessionWatches(sessionId: string): string;
  readonly watched: string;
  readonly lastEvents: string;
  /** Channel of the events a session's watches want. */
  sessionChannel(sessionId: string): string;
}

/** The keys of one namespace. */
export function namespaceKeys(namespace: string): NamespaceKeys {
  const prefix = `corral:{${namespace}}:`;
  const k = (s: string) => prefix + s;
  const keys = {
    prefix,
    zxid: k('zxid'),
    sessions: k('sessions'),
    timeouts: k('timeouts'),
    ttl: k('ttl'),
    log: k('log'),
    recursive: k('recursive'),
    sessionSeq: k('sid'),
    lifetime: k('lifetime'),
    gaps: k('gaps'),
    watched: k('watched'),
    lastEvents: k('lastev'),
  };
  return {
    ...keys,
    writeKeys: [keys.zxid, keys.sessions, keys.timeouts, keys.ttl, keys.log, keys.recursive, keys.sessionSeq],
    node: (path) => k(`n:${path}`),
    children: (path) => k(`c:${path}`),
    ephemerals: (sessionId) => k(`e:${sessionId}`),
    watchers: (path) => k(`i:${path}`),
    sessionWatches: (sessionId) => k(`si:${sessionId}`),
    sessionChannel: (sessionId) => k(`s:${sessionId}`),
  };
}

/**
 * The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as Redis
 * computes it. Every key of a namespace gives the same slot.
 *
 * @example keySlot(namespaceKeys('app').zxid) === keySlot(namespaceKeys('app').node('/x'))
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
