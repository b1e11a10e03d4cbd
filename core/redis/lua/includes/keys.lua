--[[
  Key helpers shared by every script (reads and writes). ARGV[1] is the namespace prefix
  `corral:{ns}:` from core/redis/keys.ts; per-znode keys are derived from it:
    <prefix>n:<path>   hash: d data, cz czxid, ct ctime, and only where they differ from
                       their defaults: mz mzxid and pz pzxid (default cz), mt mtime
                       (default ct), v version and cv cversion (default 0), o owner
                       (default '' = none), m mode (default persistent), t ttl (default 0).
                       Writing a new znode's 3 fields instead of all 11 halves its cost.
    <prefix>c:<path>   sorted set of child names, all score 0 (lexical order)
    <prefix>e:<sid>    set of the session's ephemeral paths
    <prefix>i:<path>   hash: session id -> kind bits (1 node, 2 children, 4 recursive)
                       of the watches that session has on the path
    <prefix>si:<sid>   set of the paths the session has watches on (dropped with it)
    <prefix>watched    hash: path -> 1 for every path with an i: hash, so a write looks up
                       all its event paths with one HMGET
    <prefix>lastev     hash: session id -> zxid of the last event message sent to it
  They carry the same `{ns}` hash tag as the declared KEYS, so one Redis Cluster slot.
]]
-- Per call, set by beginKeys(): a script's definitions are built once when Redis runs it
-- as a function (core/redis/scripts.ts), so nothing a call passes in is read here.
local PREFIX, K_WATCHED, K_LASTEV

--- Reads the call's namespace prefix (ARGV[1]): every script's main() starts here.
local function beginKeys()
  PREFIX = ARGV[1]
  K_WATCHED = PREFIX .. 'watched'
  K_LASTEV = PREFIX .. 'lastev'
end

local function nodeKey(path) return PREFIX .. 'n:' .. path end
local function childKey(path) return PREFIX .. 'c:' .. path end
local function ephKey(sid) return PREFIX .. 'e:' .. sid end
local function watchKey(path) return PREFIX .. 'i:' .. path end
local function sessionWatchesKey(sid) return PREFIX .. 'si:' .. sid end

-- Registration bits of recursive watches: 4; × 8 (32) for one that ignores its session's
-- own writes; × 64 (256, 2048) for those that want the data their events' writes wrote.
local RECURSIVE_BITS = 4 + 32 + 256 + 2048

--- True if some session still has a recursive watch in registration hash `key`.
local function recursiveLeft(key)
  for _, b in ipairs(redis.call('HVALS', key)) do
    if bit.band(tonumber(b), RECURSIVE_BITS) ~= 0 then return true end
  end
  return false
end

--- Sets session `sid`'s watch kind bits on `path` from `had` to `now` (both read by the
--- caller): the registration, the session's index of its paths, the namespace's marks of
--- watched paths and, for recursive watches (RECURSIVE_BITS), the set of recursively watched paths
--- (`recursiveKey`). Returns true if that set changed.
local function setWatchBits(path, sid, had, now, recursiveKey)
  if now == had then return false end
  local key = watchKey(path)
  if now == 0 then
    redis.call('HDEL', key, sid)
    redis.call('SREM', sessionWatchesKey(sid), path)
    if redis.call('EXISTS', key) == 0 then redis.call('HDEL', K_WATCHED, path) end
  else
    redis.call('HSET', key, sid, now)
    if had == 0 then
      redis.call('SADD', sessionWatchesKey(sid), path)
      redis.call('HSET', K_WATCHED, path, 1)
    end
  end
  if bit.band(now, RECURSIVE_BITS) ~= 0 then
    if bit.band(had, RECURSIVE_BITS) ~= 0 then return false end
    redis.call('ZADD', recursiveKey, 'inf', path)
    return true
  end
  if bit.band(had, RECURSIVE_BITS) == 0 or recursiveLeft(key) then return false end
  redis.call('ZREM', recursiveKey, path)
  return true
end

local function parentOf(path)
  local i = string.match(path, '^.*()/')
  if i == nil or i <= 1 then return '/' end
  return string.sub(path, 1, i - 1)
end
local function nameOf(path) return string.match(path, '([^/]*)$') end

--- A znode's child count; `cv` its cversion (a znode that never had a child has none).
local function numChildrenOf(path, cv)
  if cv == 0 then return 0 end
  return redis.call('ZCARD', childKey(path))
end

--- A znode's Stat as the client's 10-field reply: cz mz pz ct mt v cv owner dataLength
--- numChildren; nil when there is no such znode (every znode's hash has cz, so the HMGET
--- answers that too: an EXISTS first would be one more command per read).
local function statOf(path)
  local f = redis.call('HMGET', nodeKey(path), 'cz', 'mz', 'pz', 'ct', 'mt', 'v', 'cv', 'o')
  if not f[1] then return nil end
  local cz, ct, cv = tonumber(f[1]), tonumber(f[4]), tonumber(f[7]) or 0
  return { cz, tonumber(f[2]) or cz, tonumber(f[3]) or cz, ct, tonumber(f[5]) or ct,
    tonumber(f[6]) or 0, cv, f[8] or '', redis.call('HSTRLEN', nodeKey(path), 'd'), numChildrenOf(path, cv) }
end

--- The root's Stat before anything was ever written (the root is created lazily by writes).
local function rootStatDefault()
  return { 0, 0, 0, 0, 0, 0, 0, '', 0, redis.call('ZCARD', childKey('/')) }
end

--- A znode's hash as HGETALL gives it (field, value, …: data and stat fields, defaults
--- left out; the client works out the Stat, see codec.ts nodeFrom) and its child count;
--- nil when it does not exist. Sent as is: a read costs Redis no parsing, no number
--- formatting and no table per field (a fresh znode's hash is 3 fields).
local ROOT_DEFAULT = { 'd', '', 'cz', '0', 'ct', '0' }
local function readNode(path)
  local h = redis.call('HGETALL', nodeKey(path))
  if #h == 0 then
    if path == '/' then return ROOT_DEFAULT, redis.call('ZCARD', childKey('/')) end
    return nil
  end
  local nc = 0
  if #h > 6 then
    -- Not a fresh znode: it may have had children (cversion > 0).
    for i = 1, #h, 2 do
      if h[i] == 'cv' then nc = numChildrenOf(path, tonumber(h[i + 1])) break end
    end
  end
  return h, nc
end
