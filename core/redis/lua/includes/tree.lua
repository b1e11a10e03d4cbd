--[[
  Shared helpers of every write script (concatenated in place of `-- @include tree`).

  Every write script takes the same KEYS, built by core/redis/keys.ts:
    KEYS[1] zxid        string: the namespace's last zxid
    KEYS[2] sessions    sorted set: session id -> deadline (ms, Redis clock)
    KEYS[3] timeouts    hash: session id -> session timeout (ms)
    KEYS[4] ttl         sorted set: TTL znode path -> mtime + ttl (ms)
    KEYS[5] log         stream: one entry per zxid (id `<zxid>-0`), the change log
    KEYS[6] recursive   sorted set: path under a recursive watch -> interest deadline (ms)
    KEYS[7] sessionSeq  string: counter for session ids
  and ARGV[1] = the namespace prefix `corral:{ns}:` (per-znode keys: see keys.lua).
  Channels: <prefix>w:<path> (events of that path), <prefix>r:<path> (events below a
  recursively watched path). A message is `<zxid> <events>`, <events> being `<code><path>`
  lines joined by '\n' (the change log's format; paths cannot hold control characters),
  code c created, d deleted, m dataChanged, h childrenChanged: one event per message on a
  `w:` channel, all of a write's events below the watched path on an `r:` channel.
]]
-- @include keys

local K_ZXID, K_SESSIONS, K_TIMEOUTS, K_TTL, K_LOG, K_RECURSIVE, K_SESSION_SEQ =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
-- Change-log length: enough for a client cut off for a few seconds under load; older
-- catch-ups fall back to re-reading the watched znodes (the client's resync).
local LOG_MAXLEN = 10000

local E_NONODE, E_NODEEXISTS, E_BADVERSION, E_NOTEMPTY = -101, -110, -103, -111
local E_NOCHILDRENFOREPHEMERALS, E_SESSIONEXPIRED, E_BADARGUMENTS = -108, -112, -8

-- Byte order (= UTF-16 order for valid znode paths, which exclude surrogates): Lua's own
-- string `<` uses strcoll, which depends on the server's locale.
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local T = redis.call('TIME')
local NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)
-- How many recursive watches are registered: read by the first emit() that needs it (a
-- heartbeat or a reaper tick with nothing to do never does).
local RECURSIVE_COUNT = nil

-- The root always exists (also after the store lost everything: FLUSHALL, an empty restart).
local function ensureRoot()
  if redis.call('EXISTS', nodeKey('/')) == 0 then
    redis.call('HSET', nodeKey('/'), 'd', '', 'm', 'persistent', 't', 0, 'cz', 0, 'mz', 0, 'pz', 0,
      'ct', 0, 'mt', 0, 'v', 0, 'cv', 0, 'o', '')
  end
end

local function nextZxid() return redis.call('INCR', K_ZXID) end

local function currentZxid() return tonumber(redis.call('GET', K_ZXID) or '0') end

--- Appends one change-log entry (`entry` = event lines, or `!` for "history lost here").
local function appendLog(zxid, entry)
  local id = zxid .. '-0'
  local ok = redis.pcall('XADD', K_LOG, 'MAXLEN', '~', LOG_MAXLEN, id, 'e', entry)
  if type(ok) == 'table' and ok.err then
    -- The log is ahead of the counter: the store went back in time under it. Start afresh
    -- (older entries would be lies); clients that needed them fall back to a resync.
    redis.call('DEL', K_LOG)
    redis.call('XADD', K_LOG, 'MAXLEN', '~', LOG_MAXLEN, id, 'e', entry)
  end
end

-- Recursively watched paths, read into a table once per script on first use: an event
-- checks each of its ancestors, and a lookup here is far cheaper than a ZSCORE.
local recursiveSet = nil
-- Above this many registrations a ZSCORE per ancestor is cheaper than reading them all.
local RECURSIVE_SET_READ_MAX = 256

--- True if `path` is registered as recursively watched.
local function isRecursive(path)
  if recursiveSet == nil then
    recursiveSet = false
    RECURSIVE_COUNT = RECURSIVE_COUNT or redis.call('ZCARD', K_RECURSIVE)
    if RECURSIVE_COUNT <= RECURSIVE_SET_READ_MAX then
      recursiveSet = {}
      for _, p in ipairs(redis.call('ZRANGE', K_RECURSIVE, 0, -1)) do recursiveSet[p] = true end
    end
  end
  if recursiveSet then return recursiveSet[path] == true end
  return redis.call('ZSCORE', K_RECURSIVE, path) ~= false
end

--- True if any recursive watch is registered at all.
local function recursivelyWatched()
  if RECURSIVE_COUNT == nil then RECURSIVE_COUNT = redis.call('ZCARD', K_RECURSIVE) end
  return RECURSIVE_COUNT > 0
end

-- Per path, the recursively watched paths at or above it; memoised, as one write's
-- events share their parents.
local coveringMemo = {}
local function recursiveOf(path)
  local c = coveringMemo[path]
  if c == nil then
    local up = path == '/' and {} or recursiveOf(parentOf(path))
    c = up
    if isRecursive(path) then
      c = { path }
      for _, r in ipairs(up) do c[#c + 1] = r end
    end
    coveringMemo[path] = c
  end
  return c
end

--- Records an event: `code` as in event messages, `parent` the path's parent ('' when
--- not at hand: only events that go to recursive watches need it).
local function addEvent(events, code, path, parent)
  local k = #events
  events[k + 1] = code
  events[k + 2] = path
  events[k + 3] = parent
end

--- Publishes one write's events and appends them to the change log as one entry.
-- A write's repeated childrenChanged of one parent (64 creates under it) is sent once: a
-- write is one step of the total order, so a watcher told once of a change at this zxid
-- has been told all the repeats could say (the client dedups any other repeat the same
-- way). Each event goes to its path's channel at once; each recursive watch's channel
-- gets one message per write with all the events below it.
local function emit(zxid, events)
  local head = zxid .. ' '
  local lines, changedParents = {}, {}
  -- r:<path> channels of recursive watches: per watched path, the lines below it.
  local byWatch, watches = {}, {}
  local function below(r, line)
    local w = byWatch[r]
    if w == nil then
      w = {}
      byWatch[r] = w
      watches[#watches + 1] = r
    end
    w[#w + 1] = line
  end
  for i = 1, #events, 3 do
    local code, path = events[i], events[i + 1]
    if code ~= 'h' or not changedParents[path] then
      if code == 'h' then changedParents[path] = true end
      local line = code .. path
      lines[#lines + 1] = line
      -- Publishing to a channel nobody listens to costs one dictionary lookup.
      redis.call('PUBLISH', PREFIX .. 'w:' .. path, head .. line)
      if code ~= 'h' and recursivelyWatched() then
        if isRecursive(path) then below(path, line) end
        if path ~= '/' then
          local parent = events[i + 2]
          if parent == '' then parent = parentOf(path) end
          for _, r in ipairs(recursiveOf(parent)) do below(r, line) end
        end
      end
    end
  end
  for _, r in ipairs(watches) do redis.call('PUBLISH', PREFIX .. 'r:' .. r, head .. table.concat(byWatch[r], '\n')) end
  appendLog(zxid, table.concat(lines, '\n'))
end

--- Removes a childless znode and updates its parent; records events and container candidates.
local function removeNode(path, zxid, events, containers)
  local owner = redis.call('HGET', nodeKey(path), 'o')
  local parent = parentOf(path)
  redis.call('DEL', nodeKey(path), childKey(path))
  redis.call('ZREM', childKey(parent), nameOf(path))
  redis.call('HINCRBY', nodeKey(parent), 'cv', 1)
  redis.call('HSET', nodeKey(parent), 'pz', zxid)
  if owner and owner ~= '' then redis.call('SREM', ephKey(owner), path) end
  redis.call('ZREM', K_TTL, path)
  addEvent(events, 'd', path, parent)
  addEvent(events, 'h', parent, '')
  if redis.call('HGET', nodeKey(parent), 'm') == 'container' then
    for _, c in ipairs(containers) do if c == parent then return end end
    containers[#containers + 1] = parent
  end
end

--- Deletes containers left without children (having had some), each as its own write.
--- Returns the set of paths it deleted.
local function cascadeContainers(containers)
  local removed = {}
  local i = 1
  while i <= #containers do
    local path = containers[i]
    local f = redis.call('HMGET', nodeKey(path), 'm', 'cv')
    if f[1] == 'container' and tonumber(f[2] or '0') > 0 and redis.call('EXISTS', childKey(path)) == 0 then
      local zxid = nextZxid()
      local events = {}
      removeNode(path, zxid, events, containers)
      emit(zxid, events)
      removed[path] = true
    end
    i = i + 1
  end
  return removed
end

--- Ends a session: its ephemerals go in one write (one zxid, path order), none if it had none.
local function closeSession(sid)
  redis.call('ZREM', K_SESSIONS, sid)
  redis.call('HDEL', K_TIMEOUTS, sid)
  local paths = redis.call('SMEMBERS', ephKey(sid))
  redis.call('DEL', ephKey(sid))
  if #paths == 0 then return end
  table.sort(paths, bytesLess)
  local zxid = nextZxid()
  local events, containers = {}, {}
  for _, p in ipairs(paths) do
    if redis.call('EXISTS', nodeKey(p)) == 1 then removeNode(p, zxid, events, containers) end
  end
  emit(zxid, events)
  cascadeContainers(containers)
end

--- Expires overdue sessions, then childless TTL znodes past mtime + ttl (one zxid each, path order).
local function reap()
  local due = redis.call('ZRANGEBYSCORE', K_SESSIONS, '-inf', '(' .. NOW)
  for _, sid in ipairs(due) do closeSession(sid) end
  local ttl = redis.call('ZRANGEBYSCORE', K_TTL, '-inf', '(' .. NOW)
  if #ttl > 0 then
    local expired = {}
    for _, p in ipairs(ttl) do
      if redis.call('EXISTS', childKey(p)) == 0 then expired[#expired + 1] = p end
    end
    table.sort(expired, bytesLess)
    for _, p in ipairs(expired) do
      if redis.call('EXISTS', nodeKey(p)) == 1 then
        local zxid = nextZxid()
        local events, containers = {}, {}
        removeNode(p, zxid, events, containers)
        emit(zxid, events)
        cascadeContainers(containers)
      else
        redis.call('ZREM', K_TTL, p)
      end
    end
  end
  redis.call('ZREMRANGEBYSCORE', K_RECURSIVE, '-inf', '(' .. NOW)
  -- The registrations just changed: a later emit in this script must read them afresh.
  recursiveSet, coveringMemo, RECURSIVE_COUNT = nil, {}, nil
end

--- True if the session exists and its deadline has not passed (Redis clock).
local function sessionLive(sid)
  local deadline = redis.call('ZSCORE', K_SESSIONS, sid)
  return deadline ~= false and tonumber(deadline) >= NOW
end

