--[[
  Shared helpers of every write script (concatenated in place of `-- @include tree`).

  Every write script takes the same KEYS, built by core/redis/keys.ts:
    KEYS[1] zxid        string: the namespace's last zxid
    KEYS[2] sessions    sorted set: session id -> deadline (ms, Redis clock)
    KEYS[3] timeouts    hash: session id -> session timeout (ms)
    KEYS[4] ttl         sorted set: TTL znode path -> mtime + ttl (ms)
    KEYS[5] log         stream: the change log; an entry holds the events of one or more
                        consecutive zxids (one per script call of group-committed multis)
                        as fields `<zxid>` = its event lines, and its id is `<last zxid>-0`
    KEYS[6] recursive   sorted set: recursively watched path -> +inf (kept by the reads
                        script's registrations and dropWatches: a path is in it while some
                        session has a recursive watch on it)
    KEYS[7] sessionSeq  string: counter for session ids
  and ARGV[1] = the namespace prefix `corral:{ns}:` (per-znode keys: see keys.lua), from
  which two more keys are derived (same hash tag): <prefix>lifetime and <prefix>gaps (see
  "Zxids never go backwards" below).
  Channel: <prefix>s:<sid>, the events a session's watches want (registered in i:<path> by
  the reads script). A message is `<zxid> <events>`, <events> being `<code><path>` lines
  joined by '\n' (the change log's format; paths cannot hold control characters), code c
  created, d deleted, m dataChanged, h childrenChanged: one message per write and
  session, each event once. A write nobody watches publishes nothing.
]]
-- @include keys

-- Every local below that holds a call's state is set by beginTree() (end of this file),
-- which each write script's main() calls first: as a Redis function, this file's
-- definitions are built once and serve every call (core/redis/scripts.ts).
local K_ZXID, K_SESSIONS, K_TIMEOUTS, K_TTL, K_LOG, K_RECURSIVE, K_SESSION_SEQ
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

-- The call's Redis clock: TIME as Redis gives it, and in ms.
local T, NOW
-- How many recursive watches are registered: read by the first emit() that needs it (a
-- heartbeat or a reaper tick with nothing to do never does).
local RECURSIVE_COUNT

-- The root always exists (also after the store lost everything: FLUSHALL, an empty restart).
local function ensureRoot()
  if redis.call('EXISTS', nodeKey('/')) == 0 then
    redis.call('HSET', nodeKey('/'), 'd', '', 'm', 'persistent', 't', 0, 'cz', 0, 'mz', 0, 'pz', 0,
      'ct', 0, 'mt', 0, 'v', 0, 'cv', 0, 'o', '')
  end
end

-- The counter as this script last read or wrote it, nil until then: a call running many
-- multis (the client's group commit) reads it once.
local counter
local function currentZxid()
  if counter == nil then counter = tonumber(redis.call('GET', K_ZXID) or '0') end
  return counter
end

--[[
  Zxids never go backwards, whoever writes first.

  A store goes back in time only across a new Redis lifetime: a restart (from an older
  RDB/AOF, or from nothing) or a fail-over to a replica that had not received everything.
  A running master never un-applies its own writes. Redis itself names each such lifetime:
  a replication ID names one history of the data set (PSYNC must never take one history for
  another), and `master_replid` is new whenever a master starts (from whatever file) or a
  replica is promoted; also, harmlessly, when a master without a replication backlog gets
  its first replica (one jump more, never a step back). So the first zxid a script issues
  compares it with <prefix>lifetime, the lifetime that last issued one (replicated and
  persisted with the tree). When they
  differ, writes may have been lost and their zxids, unknown here, may have been handed out
  (as fencing tokens too): the counter first jumps to ZXID_FLOOR, 100 per millisecond of the
  Redis clock since 2025-01-01. That is above every zxid issued before as long as no
  lifetime issued more than 100 zxids per ms on average since its own jump (a write script
  takes Redis 25-40 µs: one core runs at most ~40 per ms; only a mass TTL expiry right after
  a jump comes near) and the new master's clock is not behind the old one's by more than
  the fail-over took. 100 per ms rather than more keeps zxids below 10^14 until 2056: 14
  digits, which older corral clients' scripts still write exactly (Lua's tostring), so a
  namespace can be upgraded client by client; 16 digits would have them store
  `1.7959038357997e+15` in Stats. (Exact in Lua and JavaScript far beyond: below 2^53.)

  The jump is recorded as a gap: <prefix>gaps holds `<from>:<to>` scored <to>, meaning no
  zxid strictly between the two was issued in this history. A zxid a client saw that falls
  in a gap belongs to a history the store lost (see history.lua): the client is told and
  resyncs, even after the counter has passed it. A catch-up across a gap needs no resync:
  a client that saw nothing lost gets the store's history after its position, exactly.

  Read per script, only when it issues its first zxid: `INFO replication` costs Redis ~2 µs
  (a write script 30-40 µs; the README gives the measured cost per write). The alternatives
  were worse: `run_id` (INFO server) costs twice as much and adds nothing the replid does
  not cover (it changes on every restart too); a lifetime read by the
  client at connect time and passed in goes stale when a Cluster slot moves to a new master
  under a live connection (ioredis follows MOVED by itself), exactly when it matters. If
  INFO is refused (an ACL without it) or says no replid (a Redis look-alike), every zxid is
  floored at the clock instead: zxids still never go back, but they jump with the clock and
  rollbacks are found through the change log only (history.lua), not through gaps.
]]
-- This script's Redis lifetime: nil until read, false when it is the one that last issued
-- a zxid, else the new lifetime's id ('' when unknown). One local, and no separate helper
-- functions: every local a closure captures makes each of the ~30 closures a write script
-- builds per run costlier (Lua 5.1 walks its list of open upvalues for each), which costs
-- more than the lines they would save.
local lifetime

--- Issues the next zxid: the counter + 1, or, in a new Redis lifetime, above the clock (and
--- above `atLeast`, a zxid a client saw when the store is behind it). Every caller appends
--- the zxid's change-log entry, so every zxid a client can hold has one (history.lua).
--- With `planOnly`, issues nothing and returns what it would issue and the counter now.
local function nextZxid(atLeast, planOnly)
  local last = currentZxid()
  if lifetime == nil then
    -- A plain search: a pattern match over INFO's text costs Redis a microsecond more.
    local info = redis.pcall('INFO', 'replication')
    local at = type(info) == 'string' and string.find(info, 'master_replid:', 1, true)
    if not at then lifetime = ''
    else
      lifetime = string.sub(info, at + 14, at + 53)
      if redis.call('GET', PREFIX .. 'lifetime') == lifetime then lifetime = false end
    end
  end
  local base = last
  if lifetime then
    local floor = (NOW - 1735689600000) * 100 -- ZXID_FLOOR (see above); 2025-01-01 in ms
    if floor > base then base = floor end
  end
  if atLeast and atLeast > base then base = atLeast end
  local zxid = base + 1
  if planOnly then return zxid, last end
  if zxid == last + 1 then
    counter = redis.call('INCR', K_ZXID)
  else
    -- Zxids go through %d (Lua 5.1 formats it from a C long, 64 bits on the 64-bit Redis
    -- create-session insists on): tostring and .. would write 10^14 and above as 1e+14,
    -- and %.0f costs Redis a microsecond per write more.
    redis.call('SET', K_ZXID, string.format('%d', zxid))
    counter = zxid
    -- Without a known lifetime the counter jumps at every write: no gap is worth keeping.
    if lifetime ~= '' then
      redis.call('ZADD', PREFIX .. 'gaps', zxid, string.format('%d:%d', last, zxid))
      -- One gap per lifetime change or raise (a few a year in most set-ups): keep 1000.
      redis.call('ZREMRANGEBYRANK', PREFIX .. 'gaps', 0, -1001)
    end
  end
  if lifetime then
    if lifetime ~= '' then redis.call('SET', PREFIX .. 'lifetime', lifetime) end
    lifetime = lifetime == '' and '' or false
  end
  return zxid, last
end

-- Writes recorded by a script that runs many (the multi script: group commit) go to the
-- change log and their watchers together at its end: publishEvents(), which such a script
-- must call before it returns. Off unless the script turns it on.
local DEFER_EVENTS
-- The session whose call made the writes being recorded (the multi script sets it): its
-- messages are marked own (`!<zxid> …`), and its `-others` registrations want none of them.
local WRITER
-- Change-log fields not yet written (DEFER_EVENTS): `<zxid>`, its lines, … in zxid order.
local logFields

--- Appends one change-log entry holding `fields` (see KEYS[5]), `id` its last zxid.
local function writeLog(id, fields)
  local ok = redis.pcall('XADD', K_LOG, 'MAXLEN', '~', LOG_MAXLEN, id .. '-0', unpack(fields))
  if type(ok) == 'table' and ok.err then
    -- The log is ahead of the counter: the store went back in time under it. Start afresh
    -- (older entries would be lies); clients that needed them fall back to a resync.
    redis.call('DEL', K_LOG)
    redis.call('XADD', K_LOG, 'MAXLEN', '~', LOG_MAXLEN, id .. '-0', unpack(fields))
  end
end

--- Records a zxid's change-log lines (`entry` = event lines, or `!` for "history lost
--- here"): one XADD per call of many multis rather than one per zxid (an XADD costs Redis
--- about as much as the rest of a setData). `z`: the zxid as text, when the caller has it.
local function appendLog(zxid, entry, z)
  z = z or string.format('%d', zxid)
  if DEFER_EVENTS then
    logFields[#logFields + 1] = z
    logFields[#logFields + 1] = entry
  else
    writeLog(z, { z, entry })
  end
end

-- Recursively watched paths, read into a table once per script on first use: an event
-- checks each of its ancestors, and a lookup here is far cheaper than a ZSCORE.
local recursiveSet
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
local coveringMemo
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
--- not at hand: only events that go to recursive watches need it), `data` the data the
--- write wrote to the znode (a create, a setData, or a delete's multi that set it first;
--- for watches that want it), nil if none.
local function addEvent(events, code, path, parent, data)
  local k = #events
  events[k + 1] = code
  events[k + 2] = path
  events[k + 3] = parent
  events[k + 4] = data or false
end

--- Adds `line` to the message of the recursive watch on `r` (see emit).
local function addBelow(byWatch, watches, r, line)
  local w = byWatch[r]
  if w == nil then
    w = {}
    byWatch[r] = w
    watches[#watches + 1] = r
  end
  w[#w + 1] = line
end

-- The most data an event carries (core/backend.ts EVENT_DATA_MAX, the same).
local EVENT_DATA_MAX = 65536

-- Per write recorded and not yet published: zxid, its event lines, and per recursive watch
-- its lines (byWatch, watches) or nil.
local outbox
-- Whether any watch is registered in the namespace at all (nil until read): a write
-- nobody can be watching only goes to the change log.
local watching
local function anyWatch()
  if watching == nil then watching = redis.call('EXISTS', K_WATCHED) == 1 or recursivelyWatched() end
  return watching
end

--- Who watches the event paths of `entries` and the recursively watched paths above
--- them: path -> {sid, kind bits, sid, kind bits…} for the watched ones. One HMGET of the
--- namespace's watched-path marks for all event paths (in slices: Lua's unpack is
--- bounded), then the registrations of the few that are watched.
local function watchersOf(entries)
  local paths, seen = {}, {}
  local who = {}
  for _, e in ipairs(entries) do
    for _, line in ipairs(e[2]) do
      local p = string.sub(line, 2)
      if not seen[p] then
        seen[p] = true
        paths[#paths + 1] = p
      end
    end
    -- Recursively watched paths are registered (that is how they got into K_RECURSIVE).
    local watches = e[4]
    if watches then
      for _, r in ipairs(watches) do
        if who[r] == nil then who[r] = redis.call('HGETALL', watchKey(r)) end
      end
    end
  end
  for from = 1, #paths, 1000 do
    local to = math.min(from + 999, #paths)
    local marks = redis.call('HMGET', K_WATCHED, unpack(paths, from, to))
    for i = 1, to - from + 1 do
      local p = paths[from + i - 1]
      if marks[i] and who[p] == nil then who[p] = redis.call('HGETALL', watchKey(p)) end
    end
  end
  return who
end

--- Publishes recorded writes in zxid order: to each session whose watches want some of a
--- write's events, one message with those events, each once (`<prefix>s:<sid>`). Records
--- per session the zxid of the last message it was sent (<prefix>lastev), which reads
--- return so the client can wait for it.
local function publishEntries(entries)
  local who = watchersOf(entries)
  if next(who) == nil then return end
  local last, order = nil, nil
  for _, e in ipairs(entries) do
    local z = string.format('%d', e[1])
    local bySession, sessions, given = nil, nil, nil
    -- The data the write wrote to its znodes, by event line (nil: none), and each such
    -- line as sent to the watches that want data, made when first needed. Data over
    -- EVENT_DATA_MAX is left out (the line goes as is: its reader reads the znode), so a
    -- multi of large znodes cannot make a message that overruns a subscriber's output buffer.
    local lineData, dataLines = e[5], nil
    --- `line` carrying its znode's data: the code in upper case, the data's length, ':',
    --- the path, a newline, then the data as is (binary: the length says where it ends).
    local function withData(line)
      dataLines = dataLines or {}
      local l = dataLines[line]
      if l == nil then
        local d = lineData[line]
        if #d > EVENT_DATA_MAX then l = line
        else l = string.upper(string.sub(line, 1, 1)) .. #d .. ':' .. string.sub(line, 2) .. '\n' .. d end
        dataLines[line] = l
      end
      return l
    end
    -- Each line's place in the write (its first), to keep a session's message in the
    -- write's order when its lines come from several watches (a path's own, then the
    -- recursive ones above it): made only for writes that recursive watches see.
    local pos = nil
    if e[4] then
      pos = {}
      for i, line in ipairs(e[2]) do
        if pos[line] == nil then pos[line] = i end
      end
    end
    -- Per session: its lines (each once, plain), which of them carry data, the place of
    -- the last line added, and whether one came out of order.
    local lastAt, unsorted = nil, nil
    -- Kind bits of a registration (see reads.lua): 1 node watch (created, deleted,
    -- dataChanged), 2 children watch (childrenChanged, deleted), 4 recursive (below); each
    -- × 8 for its `-others` twin (which wants no write of its own session), and each of
    -- those × 64 for the twin whose events carry the data their write wrote.
    --- Adds `line` (place `at` in the write) to the message of every session of
    --- registration `w` with a kind in `need`.
    local function give(w, need, line, at)
      local mine = bit.bor(need, need * 64)
      local fromOthers = bit.bor(mine, need * 8, need * 512)
      local dataKinds = lineData and lineData[line] and bit.bor(need * 64, need * 512) or 0
      for i = 1, #w, 2 do
        local s = w[i]
        local bits = bit.band(tonumber(w[i + 1]), s == WRITER and mine or fromOthers)
        if bits ~= 0 then
          if bySession == nil then bySession, sessions, given, lastAt, unsorted = {}, {}, {}, {}, {} end
          local ls = bySession[s]
          if ls == nil then
            ls = {}
            bySession[s] = ls
            given[s] = {}
            sessions[#sessions + 1] = s
            lastAt[s] = 0
          end
          -- given[s][line]: nil, or whether the line carries data.
          local data = bit.band(bits, dataKinds) ~= 0
          local had = given[s][line]
          if had == nil then
            ls[#ls + 1] = line
            given[s][line] = data
            if at < lastAt[s] then unsorted[s] = true else lastAt[s] = at end
          elseif data and not had then
            given[s][line] = true
          end
        end
      end
    end
    for i, line in ipairs(e[2]) do
      local w = who[string.sub(line, 2)]
      if w then
        local code = string.sub(line, 1, 1)
        give(w, code == 'h' and 2 or (code == 'd' and 3 or 1), line, i)
      end
    end
    -- Recursive watches: per watched path, the write's events at or below it (no childrenChanged).
    local watches = e[4]
    if watches then
      for _, r in ipairs(watches) do
        for _, line in ipairs(e[3][r]) do give(who[r], 4, line, pos[line]) end
      end
    end
    if sessions then
      last = last or {}
      order = order or {}
      for _, s in ipairs(sessions) do
        local ls, g = bySession[s], given[s]
        if unsorted[s] then table.sort(ls, function(a, b) return pos[a] < pos[b] end) end
        if lineData then
          for i, line in ipairs(ls) do
            if g[line] then ls[i] = withData(line) end
          end
        end
        redis.call('PUBLISH', PREFIX .. 's:' .. s, (s == WRITER and '!' or '') .. z .. ' ' .. table.concat(ls, '\n'))
        if last[s] == nil then order[#order + 1] = s end
        last[s] = z
      end
    end
  end
  if order then
    local args = {}
    for _, s in ipairs(order) do
      args[#args + 1] = s
      args[#args + 1] = last[s]
    end
    redis.call('HSET', K_LASTEV, unpack(args))
  end
end

--- Logs and publishes what DEFER_EVENTS held back (a watcher of these writes that
--- reconnects finds them in the log).
local function publishEvents()
  -- Fields are unpacked into XADD's arguments: entries of at most 1000 zxids keep far
  -- below Lua's limit (a call holds at most 64 multis, but each container a multi empties
  -- is deleted with a zxid of its own).
  for from = 1, #logFields, 2000 do
    local to = math.min(from + 1999, #logFields)
    writeLog(logFields[to - 1], { unpack(logFields, from, to) })
  end
  logFields = {}
  if #outbox == 0 then return end
  local entries = outbox
  outbox = {}
  publishEntries(entries)
end

--- Records one write's events: appended to the change log as one entry now, published to
--- the watchers now or, with DEFER_EVENTS, by publishEvents().
-- A write's repeated childrenChanged of one parent (64 creates under it) is sent once: a
-- write is one step of the total order, so a watcher told once of a change at this zxid
-- has been told all the repeats could say (the client dedups any other repeat the same
-- way). A session gets one message per write with the events its watches want (those
-- below its recursive watches included).
local function emit(zxid, events, z)
  local lines = {}
  -- Made when first needed: most writes have one childrenChanged and no recursive watch.
  local changedParents, byWatch, watches, lineData = nil, nil, nil, nil
  for i = 1, #events, 4 do
    local code, path = events[i], events[i + 1]
    local repeated = false
    if code == 'h' then
      changedParents = changedParents or {}
      repeated = changedParents[path] == true
      changedParents[path] = true
    end
    if not repeated then
      local line = code .. path
      lines[#lines + 1] = line
      -- A line repeated in one write (a znode set twice) carries the last data. Kept only
      -- where some watch might want it.
      local data = events[i + 3]
      if data and anyWatch() then
        lineData = lineData or {}
        lineData[line] = data
      end
      if code ~= 'h' and recursivelyWatched() then
        -- Recursive watches: per watched path, the lines below it.
        byWatch = byWatch or {}
        watches = watches or {}
        if isRecursive(path) then addBelow(byWatch, watches, path, line) end
        if path ~= '/' then
          local parent = events[i + 2]
          if parent == '' then parent = parentOf(path) end
          for _, r in ipairs(recursiveOf(parent)) do addBelow(byWatch, watches, r, line) end
        end
      end
    end
  end
  appendLog(zxid, #lines == 1 and lines[1] or table.concat(lines, '\n'), z)
  -- A write nobody can be watching only goes to the change log.
  if not anyWatch() then return end
  local entry = { zxid, lines, byWatch, watches, lineData }
  if DEFER_EVENTS then outbox[#outbox + 1] = entry else publishEntries({ entry }) end
end

--- Withdraws every watch registration of a session (it ended).
local function dropWatches(sid)
  local key = sessionWatchesKey(sid)
  for _, p in ipairs(redis.call('SMEMBERS', key)) do
    if setWatchBits(p, sid, tonumber(redis.call('HGET', watchKey(p), sid) or '0'), 0, K_RECURSIVE) then
      -- The registrations just changed: a later emit in this script must read them afresh.
      recursiveSet, coveringMemo, RECURSIVE_COUNT = nil, {}, nil
    end
  end
  redis.call('DEL', key)
  redis.call('HDEL', K_LASTEV, sid)
  watching = nil
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
  dropWatches(sid)
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
  -- Registrations of recursive watches are scored +inf; a finite score is a lease left by
  -- a corral before 0.2 (its clients renewed them): gone once it ran out.
  if redis.call('ZREMRANGEBYSCORE', K_RECURSIVE, '-inf', '(' .. NOW) > 0 then
    recursiveSet, coveringMemo, RECURSIVE_COUNT = nil, {}, nil
  end
end

--- True if the session exists and its deadline has not passed (Redis clock).
local function sessionLive(sid)
  local deadline = redis.call('ZSCORE', K_SESSIONS, sid)
  return deadline ~= false and tonumber(deadline) >= NOW
end

--- Starts a call: its keys and clock, and a fresh state (nothing of an earlier call's
--- survives into this one). Every write script's main() calls it first.
local function beginTree()
  beginKeys()
  K_ZXID, K_SESSIONS, K_TIMEOUTS, K_TTL, K_LOG, K_RECURSIVE, K_SESSION_SEQ =
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
  T = redis.call('TIME')
  NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)
  RECURSIVE_COUNT, counter, lifetime = nil, nil, nil
  DEFER_EVENTS, WRITER, logFields = false, nil, {}
  recursiveSet, coveringMemo, outbox, watching = nil, {}, {}, nil
end
