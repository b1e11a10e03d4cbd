--[[
  multi: every znode write (create, delete, setData, and multi of those plus check) as one
  atomic step with one zxid. Every op is checked first, against a view that includes the
  effects of the ops before it; only when all pass is anything written, so a failing op
  leaves the store exactly as it was.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session id, ARGV[3] number of ops n, then 5 per op:
    type (c create, d delete, s setData, k check), path, data, mode, number
    (number = ttl ms for create, expected version for the others; -1 = any version)
  Returns:
    {0, zxid, results...}  results per op: create -> path + 10 stat fields,
                           setData -> 10 stat fields, delete/check -> nothing
    {code, opIndex, path}  code: -112 session expired, -101 no node, -110 node exists,
                           -103 bad version, -111 not empty, -108 no children for
                           ephemerals, -8 bad arguments (deleting the root)
]]
-- @include tree

local sid = ARGV[2]
local n = tonumber(ARGV[3])

-- The caller's session first: a session past its deadline cannot write, even before a
-- reaper tick (touch-session, reap) has removed it and its ephemerals.
if not sessionLive(sid) then return { E_SESSIONEXPIRED, 0, '' } end
if n == 0 then return { 0, currentZxid() } end

local function isSequential(mode) return mode == 'persistent_sequential' or mode == 'ephemeral_sequential' end
local function isEphemeral(mode) return mode == 'ephemeral' or mode == 'ephemeral_sequential' end

-- Check pass: `view` holds each touched znode as the ops before the current one left it.
local view = {}
local function look(path)
  local v = view[path]
  if v == nil then
    local f = redis.call('HMGET', nodeKey(path), 'v', 'cv', 'o', 'm')
    if not f[1] and path == '/' then
      -- The root exists even when the store lost everything (FLUSHALL, an empty restart).
      ensureRoot()
      f = redis.call('HMGET', nodeKey(path), 'v', 'cv', 'o', 'm')
    end
    if f[1] then
      v = { exists = true, v = tonumber(f[1]), cv = tonumber(f[2]), o = f[3], m = f[4],
            nc = redis.call('ZCARD', childKey(path)) }
    else
      v = { exists = false }
    end
    view[path] = v
  end
  return v
end

local actual = {}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local t, path, mode, num = ARGV[b + 1], ARGV[b + 2], ARGV[b + 4], tonumber(ARGV[b + 5])
  if t == 'c' then
    if path == '/' then return { E_NODEEXISTS, i - 1, '/' } end
    local parent = look(parentOf(path))
    if not parent.exists then return { E_NONODE, i - 1, path } end
    if parent.o ~= '' then return { E_NOCHILDRENFOREPHEMERALS, i - 1, path } end
    local p = path
    if isSequential(mode) then p = path .. string.format('%010d', parent.cv) end
    -- Existence is all a create needs to know of its target (EXISTS is cheaper than a read).
    if view[p] == nil then
      if redis.call('EXISTS', nodeKey(p)) == 1 then return { E_NODEEXISTS, i - 1, p } end
    elseif view[p].exists then
      return { E_NODEEXISTS, i - 1, p }
    end
    view[p] = { exists = true, v = 0, cv = 0, o = isEphemeral(mode) and sid or '', m = mode, nc = 0 }
    parent.nc = parent.nc + 1
    parent.cv = parent.cv + 1
    actual[i] = p
  elseif t == 'd' then
    if path == '/' then return { E_BADARGUMENTS, i - 1, '/' } end
    local node = look(path)
    if not node.exists then return { E_NONODE, i - 1, path } end
    if num ~= -1 and num ~= node.v then return { E_BADVERSION, i - 1, path } end
    if node.nc > 0 then return { E_NOTEMPTY, i - 1, path } end
    view[path] = { exists = false }
    local parent = look(parentOf(path))
    parent.nc = parent.nc - 1
    parent.cv = parent.cv + 1
  else -- setData, check
    local node = look(path)
    if not node.exists then return { E_NONODE, i - 1, path } end
    if num ~= -1 and num ~= node.v then return { E_BADVERSION, i - 1, path } end
    if t == 's' then node.v = node.v + 1 end
  end
end

-- Apply pass: nothing below can fail on a valid op list.
local zxid = nextZxid()
local events, containers = {}, {}
local snapshots = {}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local t, path, data, mode, num = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], tonumber(ARGV[b + 5])
  if t == 'c' then
    local p = actual[i]
    local parent = parentOf(p)
    local owner = isEphemeral(mode) and sid or ''
    redis.call('HSET', nodeKey(p), 'd', data, 'm', mode, 't', num, 'cz', zxid, 'mz', zxid, 'pz', zxid,
      'ct', NOW, 'mt', NOW, 'v', 0, 'cv', 0, 'o', owner)
    redis.call('ZADD', childKey(parent), 0, nameOf(p))
    redis.call('HINCRBY', nodeKey(parent), 'cv', 1)
    redis.call('HSET', nodeKey(parent), 'pz', zxid)
    if owner ~= '' then redis.call('SADD', ephKey(owner), p) end
    if mode == 'persistent_with_ttl' then redis.call('ZADD', K_TTL, NOW + num, p) end
    events[#events + 1] = 'c'; events[#events + 1] = p
    events[#events + 1] = 'h'; events[#events + 1] = parent
    snapshots[i] = { zxid, zxid, zxid, NOW, NOW, 0, 0, owner, #data, 0 }
  elseif t == 'd' then
    removeNode(path, zxid, events, containers)
  elseif t == 's' then
    local key = nodeKey(path)
    redis.call('HSET', key, 'd', data, 'mz', zxid, 'mt', NOW)
    redis.call('HINCRBY', key, 'v', 1)
    local f = redis.call('HMGET', key, 'm', 't')
    if f[1] == 'persistent_with_ttl' then redis.call('ZADD', K_TTL, NOW + tonumber(f[2]), path) end
    events[#events + 1] = 'm'; events[#events + 1] = path
    if n > 1 then snapshots[i] = statOf(path) end
  end
end
emit(zxid, events)
cascadeContainers(containers)

-- Each create/setData result carries its znode's Stat as of the end of the multi, or as
-- its op left it if a later op deleted it.
local reply = { 0, zxid }
for i = 1, n do
  local t = ARGV[3 + (i - 1) * 5 + 1]
  if t == 'c' or t == 's' then
    local p = actual[i] or ARGV[3 + (i - 1) * 5 + 2]
    local stat
    if n == 1 and t == 'c' then stat = snapshots[i]
    elseif redis.call('EXISTS', nodeKey(p)) == 1 then stat = statOf(p)
    else stat = snapshots[i] end
    if t == 'c' then reply[#reply + 1] = p end
    for _, x in ipairs(stat) do reply[#reply + 1] = x end
  end
end
return reply
