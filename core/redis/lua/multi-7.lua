--[[
  multi: every znode write (create, delete, setData, and multi of those plus check) as one
  atomic step with one zxid. Every op is checked first, against a view that includes the
  effects of the ops before it; only when all pass is anything written, so a failing op
  leaves the store exactly as it was.

  The check pass works out each touched znode's final state (and each result's Stat) in
  the view; the write pass then writes every znode once, whatever number of ops touched it
  (64 creates under /tasks update /tasks's cversion and pzxid once, add the 64 names with
  one ZADD), and reads nothing back.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session id, ARGV[3] number of multis k, then per multi its
    number of ops n and the ops, packed
    one after the other as struct '>c1BdIIc0Ic0' (core/redis/codec.ts packOps): type
    (c create, d delete, s setData, k check), mode (index in CREATE_MODES), number (ttl
    ms for create, expected version for the others; -1 = any version), the byte offset
    of the path's last '/' (so its parent costs no pattern match here), path, data.
    (One argument instead of five per op: each argument costs the client and Redis more
    than unpacking it here.)
  Several multis of one session in one call (the client's group commit: core/redis/
  batch.ts) run one after the other, each exactly as if it were alone: its own zxid,
  its own events and change-log entry, its own success or failure. One call instead of k
  spares Redis the per-call work (script lookup, TIME, the session and lifetime checks,
  ~30 helper closures), which costs more than a small multi's own writes.
  After the multis, optionally, reads: the reads script's ops (reads-3.lua: 2 per op, or 4
  for a page), run after the multis and their events, as if by a call of the reads script
  right after this one: the reads a client queued behind its writes (a lock's create and
  the list of contenders read with it) ride in this call instead of one of their own.
  Returns one reply per multi, in order (then, if reads followed, one more: the reads
  script's reply to them):
    {0, zxid, now, results...}  results per op: create -> path + its Stat, setData -> its
                           Stat, delete/check -> nothing; a Stat is 10 fields (cz mz pz ct
                           mt v cv owner dataLength numChildren), or -1 for a create's
                           znode as the create left it (czxid = mzxid = pzxid = zxid,
                           ctime = mtime = now, no versions, no children, its op's data)
    {code, opIndex, path}  code: -112 session expired, -101 no node, -110 node exists,
                           -103 bad version, -111 not empty, -108 no children for
                           ephemerals, -8 bad arguments (deleting the root)
]]
-- @include tree
-- @include reads

-- The calling session (ARGV[2]); set by main().
local sid

-- Create modes by their code: their index in CREATE_MODES (core/types.ts).
local MODES = { [0] = 'persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential', 'container',
  'persistent_with_ttl' }
local TTL_MODE = 'persistent_with_ttl'
local function isSequential(mode) return mode == 'persistent_sequential' or mode == 'ephemeral_sequential' end
local function isEphemeral(mode) return mode == 'ephemeral' or mode == 'ephemeral_sequential' end

-- NOW as a string, built once: each Lua number passed to redis.call or joined to a string
-- is formatted with sprintf, which costs more than most Redis commands.
-- Set by main(), as is numText (numbers as text, per call).
local NOW_S
local numText
local function text(x)
  local s = numText[x]
  if s == nil then
    s = tostring(x)
    numText[x] = s
  end
  return s
end

-- The view's entry of a znode that does not exist (per call, as the rest of the view: see main).
local ABSENT
-- In a reply, in place of a create's Stat: the znode as that create left it (codec.ts FRESH).
local FRESH = -1

--- A packed op's parent, from the offset of the path's last '/' (codec.ts packOps).
local function parentAt(path, cut)
  return cut == 0 and '/' or string.sub(path, 1, cut)
end

--- A path's last segment, given its parent.
local function leafOf(path, parent)
  return string.sub(path, parent == '/' and 2 or #parent + 2)
end

--- Issues the zxid planned (nextZxid(nil, true)) for a write whose checks passed: by a
--- plain INCR unless the counter jumps or the lifetime is to be recorded (tree.lua).
local function issue(zxid, lastZxid)
  if zxid == lastZxid + 1 and lifetime == false then counter = redis.call('INCR', K_ZXID) else nextZxid(zxid - 1) end
end

--- One multi of `n` ops packed in `packed`: its reply (see the header).
local function runMulti(n, packed)
  local opType, opMode, opNum, opPath, opParent, opData = {}, {}, {}, {}, {}, {}
  do
    local at = 1
    for i = 1, n do
      local t, mode, cut, path
      t, mode, opNum[i], cut, path, opData[i], at = struct.unpack('>c1BdIIc0Ic0', packed, at)
      opType[i], opMode[i], opPath[i] = t, MODES[mode], path
      if t == 'c' or t == 'd' then opParent[i] = parentAt(path, cut) end
    end
  end
  -- Per create op: the key of the znode it made (built once, for the check and the write).
  local opKey = {}

  if n == 0 then return { 0, currentZxid() } end

  -- The zxid this multi gets if every op passes: nothing else runs until the script ends.
  -- (Usually the counter + 1; above the clock in a new Redis lifetime: see tree.lua.)
  local zxid, lastZxid = nextZxid(nil, true)
  -- Stat fields are kept as the strings Redis stores (and sent back as such): formatting a
  -- Lua number (sprintf) costs more than most Redis commands, parsing one (strtod) nearly so.
  -- Only versions and cversions, which ops compare and count, are numbers.
  local ZXID_S = string.format('%d', zxid)

  -- `view`: each touched znode as the ops so far leave it. A znode that op i created and
  -- no later op touched is just the number i (a multi of 500 creates makes no 500 tables:
  -- allocation, through Lua's garbage collector, is what a script pays most for).
  -- Otherwise a table: its stat fields (those of an existing znode read by look()), `nc0`
  -- its child count before the multi (read when needed) and `dnc` the
  -- change since, `data` the index of the op with its latest data and `dl` that data's length;
  -- `created`, `dataSet` and `kids` say what the write pass must write.
  -- `before`: whether each touched znode existed before the multi (and its owner and mode).
  local view, before, touched = {}, {}, {}
  -- Per path a delete op removed: its parent.
  local goneParent = {}

  --- The table entry of a znode op i created (see `view`).
  local function promote(p, i)
    local mode = opMode[i]
    local v = { exists = true, path = p, parent = opParent[i], created = true, v = 0, cv = 0,
                o = isEphemeral(mode) and sid or '', m = mode, t = opNum[i], cz = ZXID_S, mz = ZXID_S, pz = ZXID_S,
                ct = NOW_S, mt = NOW_S, data = i, dl = #opData[i], nc0 = 0, dnc = 0 }
    view[p] = v
    return v
  end

  local function remember(path, v)
    if before[path] == nil then
      -- The entry itself: nothing changes an existing znode's exists, o or m in place (a
      -- delete or re-create puts a new entry in `view`), and one table fewer per znode counts.
      before[path] = v.exists and v or ABSENT
      touched[#touched + 1] = path
    end
  end

  -- What every op needs of a znode: existence, version, cversion, owner and mode; and, read
  -- in the same call (one call costs Redis more than the fields it returns), the rest of its
  -- Stat. Absent fields hold their defaults (see keys.lua).
  local function look(path)
    local v = view[path]
    if type(v) == 'number' then return promote(path, v) end
    if v == nil then
      local key = nodeKey(path)
      local f = redis.call('HMGET', key, 'cz', 'v', 'cv', 'o', 'm', 'mz', 'pz', 'ct', 'mt')
      if not f[1] and path == '/' then
        -- The root exists even when the store lost everything (FLUSHALL, an empty restart).
        ensureRoot()
        f = redis.call('HMGET', key, 'cz', 'v', 'cv', 'o', 'm', 'mz', 'pz', 'ct', 'mt')
      end
      if f[1] then
        local cz, ct = f[1], f[8]
        v = { exists = true, path = path, cz = cz, v = f[2] and tonumber(f[2]) or 0, cv = f[3] and tonumber(f[3]) or 0,
              o = f[4] or '', m = f[5] or 'persistent', mz = f[6] or cz, pz = f[7] or cz, ct = ct, mt = f[9] or ct, dnc = 0 }
        -- cversion 0: it never had a child, so it has none.
        if v.cv == 0 then v.nc0 = 0 end
      else
        v = ABSENT
      end
      view[path] = v
      remember(path, v)
    end
    return v
  end

  local function numChildren(v)
    -- Read before anything is written, so ZCARD gives the count before the multi.
    if v.nc0 == nil then v.nc0 = redis.call('ZCARD', childKey(v.path)) end
    return v.nc0 + v.dnc
  end

  --- A view entry's Stat in the reply's 10 fields (cz mz pz ct mt v cv owner dataLength numChildren).
  local function statAt(v)
    local dl = v.dl
    if dl == nil then dl = redis.call('HSTRLEN', nodeKey(v.path), 'd') end
    return { v.cz, v.mz, v.pz, v.ct, v.mt, v.v, v.cv, v.o, dl, numChildren(v) }
  end

  local function childChanged(parent)
    parent.cv = parent.cv + 1
    parent.pz = ZXID_S
    parent.kids = true
  end

  -- Check pass.
  local actual, snapshots = {}, {}
  local events, containers, isContainer = {}, {}, {}
  -- A parent's childrenChanged is recorded at its first child op only: 64 creates under one
  -- parent are one event (emit() would drop the repeats; this spares making them).
  local hasChildrenChanged = {}
  local function childrenChangedOf(pp)
    if not hasChildrenChanged[pp] then
      hasChildrenChanged[pp] = true
      addEvent(events, 'h', pp, '')
    end
  end
  for i = 1, n do
    local t, path, mode, num = opType[i], opPath[i], opMode[i], opNum[i]
    if t == 'c' then
      if path == '/' then return { E_NODEEXISTS, i - 1, '/' } end
      local pp = opParent[i]
      local parent = look(pp)
      if not parent.exists then return { E_NONODE, i - 1, path } end
      if parent.o ~= '' then return { E_NOCHILDRENFOREPHEMERALS, i - 1, path } end
      local p = path
      if isSequential(mode) then p = path .. string.format('%010d', parent.cv) end
      local cur = view[p]
      local key = nodeKey(p)
      opKey[i] = key
      if cur == nil then
        -- Existence is all a create needs to know of its target (EXISTS is cheaper than a read).
        if redis.call('EXISTS', key) == 1 then return { E_NODEEXISTS, i - 1, p } end
        remember(p, ABSENT)
      elseif type(cur) == 'number' or cur.exists then
        return { E_NODEEXISTS, i - 1, p }
      end
      view[p] = i
      parent.dnc = parent.dnc + 1
      childChanged(parent)
      actual[i] = p
      addEvent(events, 'c', p, pp, opData[i])
      childrenChangedOf(pp)
    elseif t == 'd' then
      if path == '/' then return { E_BADARGUMENTS, i - 1, '/' } end
      local node = look(path)
      if not node.exists then return { E_NONODE, i - 1, path } end
      if num ~= -1 and num ~= node.v then return { E_BADVERSION, i - 1, path } end
      if numChildren(node) > 0 then return { E_NOTEMPTY, i - 1, path } end
      view[path] = ABSENT
      local pp = opParent[i]
      goneParent[path] = pp
      local parent = look(pp)
      parent.dnc = parent.dnc - 1
      childChanged(parent)
      -- With the data this multi wrote to it before deleting it, if it did (a release mark).
      addEvent(events, 'd', path, pp, node.data and opData[node.data] or nil)
      childrenChangedOf(pp)
      -- Emptied containers are deleted after the write, in the order they were emptied.
      if parent.m == 'container' and not isContainer[pp] then
        isContainer[pp] = true
        containers[#containers + 1] = pp
      end
    else -- setData, check
      local node = look(path)
      if not node.exists then return { E_NONODE, i - 1, path } end
      if num ~= -1 and num ~= node.v then return { E_BADVERSION, i - 1, path } end
      if t == 's' then
          node.v = node.v + 1
        node.mz, node.mt = ZXID_S, NOW_S
        node.data, node.dl, node.dataSet = i, #opData[i], true
        snapshots[i] = statAt(node)
        addEvent(events, 'm', path, '', opData[i])
      end
    end
  end

  -- Each create/setData result carries its znode's Stat as of the end of the multi, or as
  -- its op left it if a later op (or the container cascade, checked below) deleted it.
  -- FRESH (-1) stands for a create's znode as that create left it.
  local finals = {}
  for i = 1, n do
    local p = actual[i]
    if p then
      local v = view[p]
      if v == i then finals[i] = FRESH
      else
        if type(v) == 'number' then v = promote(p, v) end
        finals[i] = v.exists and statAt(v) or FRESH
      end
    elseif snapshots[i] then
      local v = view[opPath[i]]
      if type(v) == 'number' then v = promote(opPath[i], v) end
      finals[i] = v.exists and statAt(v) or snapshots[i]
    end
  end

  -- Write pass: nothing below can fail on a valid op list. The zxid planned is issued.
  issue(zxid, lastZxid)
  local dead = {}
  -- Per parent, the names it gains and loses.
  local added, removed, parents, isParent = {}, {}, {}, {}
  local function childList(lists, pp)
    local l = lists[pp]
    if l == nil then
      l = {}
      lists[pp] = l
      if not isParent[pp] then
        isParent[pp] = true
        parents[#parents + 1] = pp
      end
    end
    return l
  end
  for _, p in ipairs(touched) do
    local was, v = before[p], view[p]
    local key = type(v) == 'number' and opKey[v] or nodeKey(p)
    if type(v) == 'number' then
      -- Created by op v and untouched since: the usual create.
      local mode, data = opMode[v], opData[v]
      if was.exists then redis.call('DEL', key) end
      if mode == 'persistent' or mode == 'persistent_sequential' then
        redis.call('HSET', key, 'd', data, 'cz', ZXID_S, 'ct', NOW_S)
      elseif isEphemeral(mode) then
        redis.call('HSET', key, 'd', data, 'cz', ZXID_S, 'ct', NOW_S, 'o', sid)
        redis.call('SADD', ephKey(sid), p)
      elseif mode == TTL_MODE then
        redis.call('HSET', key, 'd', data, 'cz', ZXID_S, 'ct', NOW_S, 'm', mode, 't', text(opNum[v]))
        redis.call('ZADD', K_TTL, NOW + opNum[v], p)
      else
        redis.call('HSET', key, 'd', data, 'cz', ZXID_S, 'ct', NOW_S, 'm', mode)
      end
      if was.exists and was.o ~= '' then redis.call('SREM', ephKey(was.o), p) end
      if was.exists and was.m == TTL_MODE and mode ~= TTL_MODE then redis.call('ZREM', K_TTL, p) end
      if not was.exists then
        local pp = opParent[v]
        local l = childList(added, pp)
        l[#l + 1] = leafOf(p, pp)
      end
    elseif v.exists and v.created then
      -- Only what differs from the defaults (keys.lua): a new znode's mzxid and pzxid are
      -- its czxid, its mtime its ctime, even when this multi also set its data or children.
      if was.exists then redis.call('DEL', key) end
      local fields = { 'd', opData[v.data], 'cz', v.cz, 'ct', v.ct }
      if v.m == 'container' or v.m == TTL_MODE then fields[#fields + 1] = 'm'; fields[#fields + 1] = v.m end
      if v.o ~= '' then fields[#fields + 1] = 'o'; fields[#fields + 1] = v.o end
      if v.m == TTL_MODE then fields[#fields + 1] = 't'; fields[#fields + 1] = text(v.t) end
      if v.v > 0 then fields[#fields + 1] = 'v'; fields[#fields + 1] = text(v.v) end
      if v.cv > 0 then fields[#fields + 1] = 'cv'; fields[#fields + 1] = text(v.cv) end
      redis.call('HSET', key, unpack(fields))
    elseif v.exists then
      if v.dataSet and v.kids then
        redis.call('HSET', key, 'd', opData[v.data], 'mz', v.mz, 'mt', v.mt, 'v', text(v.v), 'cv', text(v.cv), 'pz', v.pz)
      elseif v.dataSet then
        redis.call('HSET', key, 'd', opData[v.data], 'mz', v.mz, 'mt', v.mt, 'v', text(v.v))
      elseif v.kids then
        redis.call('HSET', key, 'cv', text(v.cv), 'pz', v.pz)
      end
    elseif was.exists then
      dead[#dead + 1] = key
    end
    if type(v) == 'table' then
      if p ~= '/' and was.exists ~= v.exists then
        local pp = v.parent or goneParent[p] or parentOf(p)
        local l = childList(v.exists and added or removed, pp)
        l[#l + 1] = leafOf(p, pp)
      end
      if was.exists and was.o ~= '' and (not v.exists or v.created) then redis.call('SREM', ephKey(was.o), p) end
      if v.exists and v.created and v.o ~= '' then redis.call('SADD', ephKey(v.o), p) end
      if was.exists and was.m == TTL_MODE and (not v.exists or v.m ~= TTL_MODE) then redis.call('ZREM', K_TTL, p) end
      if v.exists and v.m == TTL_MODE and (v.created or v.dataSet) then
        local ttl = v.t or redis.call('HGET', key, 't')
        redis.call('ZADD', K_TTL, NOW + tonumber(ttl), p)
      end
    end
  end

  -- Batched writes, in chunks that stay well inside Lua's limit on unpacked arguments.
  local CHUNK = 1000
  for i = 1, #dead, CHUNK do redis.call('DEL', unpack(dead, i, math.min(i + CHUNK - 1, #dead))) end
  for _, pp in ipairs(parents) do
    local names = added[pp]
    if names then
      local args = {}
      for _, name in ipairs(names) do
        args[#args + 1] = '0'
        args[#args + 1] = name
        if #args == 2 * CHUNK then
          redis.call('ZADD', childKey(pp), unpack(args))
          args = {}
        end
      end
      if #args > 0 then redis.call('ZADD', childKey(pp), unpack(args)) end
    end
    names = removed[pp]
    if names then
      for i = 1, #names, CHUNK do redis.call('ZREM', childKey(pp), unpack(names, i, math.min(i + CHUNK - 1, #names))) end
    end
  end

  emit(zxid, events)
  local cascaded = cascadeContainers(containers)

  local reply = { 0, zxid, NOW_S }
  for i = 1, n do
    local stat = finals[i]
    if stat then
      local p = actual[i]
      if p then
        reply[#reply + 1] = p
        if cascaded[p] then stat = FRESH end
      elseif cascaded[opPath[i]] then
        stat = snapshots[i]
      end
      if stat == FRESH then reply[#reply + 1] = FRESH
      else for _, x in ipairs(stat) do reply[#reply + 1] = x end end
    end
  end
  return reply
end

-- The caller's session first: a session past its deadline cannot write, even before a
-- reaper tick (touch-session, reap) has removed it and its ephemerals. NOW is one for
-- the whole call, so the answer holds for every multi in it.
local function sessionRefused(k)
  if sessionLive(sid) then return nil end
  local replies = {}
  for j = 1, k do replies[j] = { E_SESSIONEXPIRED, 0, '' } end
  return replies
end
--[[
  Fast paths: a multi of one create (persistent or ephemeral, sequential or not), one
  setData, one delete, a create and a delete of unrelated znodes (a move), or a setData and
  a delete of one znode (a lock's release), which is what most calls are, written straight through: the same checks, writes, events and reply as
  runMulti makes for them, without its view of the multi (some 25 tables and 10 closures
  per multi: allocation is most of what a script costs Redis). Each returns nil where
  runMulti must decide (the root, a store that lost it, a container parent, ops that touch
  each other's znodes).
]]

--[[
  A run of lone creates (16 sequential creates under /tasks, as group commit sends them)
  updates each parent's hash and child set once, when the run ends: the parent's fields
  are read once, kept here as the creates change them, and written (cversion, pzxid, the
  new names) by flushParents() before any other kind of op runs and before the call
  returns. Nothing else reads those parents in between; each create's own znode is
  written at once (a later create of the same name finds it).
]]
local parents -- parent path -> { cv, owner, pzxid text, new names }; nil when none (per call)
local parentOrder

local function flushParents()
  if parents == nil then return end
  for _, parent in ipairs(parentOrder) do
    local p = parents[parent]
    redis.call('HSET', nodeKey(parent), 'cv', text(p[1]), 'pz', p[3])
    local args = {}
    for _, name in ipairs(p[4]) do
      args[#args + 1] = 0
      args[#args + 1] = name
    end
    redis.call('ZADD', childKey(parent), unpack(args))
  end
  parents, parentOrder = nil, nil
end

--- A create's checks (parent there and not ephemeral, name free): its facts, or false and
--- the error reply (op `index`), or nil where runMulti must decide (the root).
local function checkCreate(path, cut, mode, data, index)
  if path == '/' then return nil end
  local parent = parentAt(path, cut)
  local pending = parents and parents[parent]
  local f = pending and { true, pending[1], pending[2] } or redis.call('HMGET', nodeKey(parent), 'cz', 'cv', 'o')
  if not f[1] then
    if parent == '/' then return nil end
    return false, { E_NONODE, index, path }
  end
  if f[3] and f[3] ~= '' then return false, { E_NOCHILDRENFOREPHEMERALS, index, path } end
  local cv = f[2] and tonumber(f[2]) or 0
  local p = path
  if isSequential(mode) then p = path .. string.format('%010d', cv) end
  local key = nodeKey(p)
  if redis.call('EXISTS', key) == 1 then return false, { E_NODEEXISTS, index, p } end
  return { path = p, key = key, parent = parent, pcv = cv, powner = f[3] or '', mode = mode, data = data }
end

--- Writes a checked create; with `deferParent`, its parent's part goes to flushParents().
local function writeCreate(c, zs, events, deferParent)
  if isEphemeral(c.mode) then
    redis.call('HSET', c.key, 'd', c.data, 'cz', zs, 'ct', NOW_S, 'o', sid)
    redis.call('SADD', ephKey(sid), c.path)
  else
    redis.call('HSET', c.key, 'd', c.data, 'cz', zs, 'ct', NOW_S)
  end
  if deferParent then
    if parents == nil then parents, parentOrder = {}, {} end
    local p = parents[c.parent]
    if p == nil then
      p = { 0, c.powner, '', {} }
      parents[c.parent] = p
      parentOrder[#parentOrder + 1] = c.parent
    end
    p[1] = c.pcv + 1
    p[3] = zs
    p[4][#p[4] + 1] = leafOf(c.path, c.parent)
  else
    redis.call('HSET', nodeKey(c.parent), 'cv', text(c.pcv + 1), 'pz', zs)
    redis.call('ZADD', childKey(c.parent), 0, leafOf(c.path, c.parent))
  end
  if events then
    addEvent(events, 'c', c.path, c.parent, c.data)
    addEvent(events, 'h', c.parent, '')
  end
end

--- A delete's checks (there, version, no children): its facts, or false and the error
--- reply, or nil where runMulti must decide (the root; a container parent, which the
--- delete may leave to be deleted too).
local function checkDelete(path, cut, version, index)
  if path == '/' then return nil end
  local f = redis.call('HMGET', nodeKey(path), 'cz', 'v', 'cv', 'o', 'm')
  if not f[1] then return false, { E_NONODE, index, path } end
  if version ~= -1 and version ~= (f[2] and tonumber(f[2]) or 0) then return false, { E_BADVERSION, index, path } end
  if numChildrenOf(path, f[3] and tonumber(f[3]) or 0) > 0 then return false, { E_NOTEMPTY, index, path } end
  local parent = parentAt(path, cut)
  local pf = redis.call('HMGET', nodeKey(parent), 'cv', 'm')
  if pf[2] == 'container' then return nil end
  return { path = path, parent = parent, pcv = pf[1] and tonumber(pf[1]) or 0, owner = f[4], mode = f[5] }
end

--- `lastWord`: the data the multi set on the znode before deleting it, if it did.
local function writeDelete(d, zs, events, lastWord)
  redis.call('DEL', nodeKey(d.path))
  redis.call('ZREM', childKey(d.parent), leafOf(d.path, d.parent))
  redis.call('HSET', nodeKey(d.parent), 'cv', text(d.pcv + 1), 'pz', zs)
  if d.owner and d.owner ~= '' then redis.call('SREM', ephKey(d.owner), d.path) end
  if d.mode == TTL_MODE then redis.call('ZREM', K_TTL, d.path) end
  addEvent(events, 'd', d.path, d.parent, lastWord)
  addEvent(events, 'h', d.parent, '')
end

--- Issues the zxid for a fast path's checked write; returns it and its text.
local function issueNow()
  local zxid, lastZxid = nextZxid(nil, true)
  issue(zxid, lastZxid)
  return zxid, string.format('%d', zxid)
end

local function fastCreate(path, cut, mode, data)
  local c, err = checkCreate(path, cut, mode, data, 0)
  if not c then return err end
  local zxid, zs = issueNow()
  -- Where nothing is watched, the change-log entry is all a write records: no event tables
  -- (a lone write's tables are a fair share of what it costs Redis).
  if not anyWatch() then
    writeCreate(c, zs, nil, true)
    appendLog(zxid, 'c' .. c.path .. '\nh' .. c.parent, zs)
    return { 0, zxid, NOW_S, c.path, FRESH }
  end
  local events = {}
  writeCreate(c, zs, events, true)
  emit(zxid, events, zs)
  return { 0, zxid, NOW_S, c.path, FRESH }
end

local function fastDelete(path, cut, version)
  local d, err = checkDelete(path, cut, version, 0)
  if not d then return err end
  local zxid, zs = issueNow()
  local events = {}
  writeDelete(d, zs, events)
  emit(zxid, events, zs)
  return { 0, zxid, NOW_S }
end

--- A create then a delete of unrelated znodes (moving a znode: the framework's assignment
--- and its outcome), each under its own parent.
local function fastCreateDelete(c1, d2)
  local c, err = checkCreate(c1[1], c1[2], c1[3], c1[4], 0)
  if not c then return err end
  local path, cut, version = d2[1], d2[2], d2[3]
  local parent = parentAt(path, cut)
  -- Ops that touch each other's znodes (the same path, one's parent the other's znode,
  -- one parent for both) are runMulti's: its view follows each op's effect on the next.
  if path == c.path or path == c.parent or parent == c.parent or parent == c.path then return nil end
  local d
  d, err = checkDelete(path, cut, version, 1)
  if not d then return err end
  local zxid, zs = issueNow()
  local events = {}
  writeCreate(c, zs, events)
  writeDelete(d, zs, events)
  emit(zxid, events, zs)
  return { 0, zxid, NOW_S, c.path, FRESH }
end

local function fastSetData(path, version, data)
  local key = nodeKey(path)
  local f = redis.call('HMGET', key, 'cz', 'v', 'cv', 'o', 'pz', 'ct', 'm', 't')
  local cz = f[1]
  if not cz then
    if path == '/' then return nil end
    return { E_NONODE, 0, path }
  end
  local v = f[2] and tonumber(f[2]) or 0
  if version ~= -1 and version ~= v then return { E_BADVERSION, 0, path } end
  local zxid, zs = issueNow()
  v = v + 1
  redis.call('HSET', key, 'd', data, 'mz', zs, 'mt', NOW_S, 'v', text(v))
  if f[7] == TTL_MODE then redis.call('ZADD', K_TTL, NOW + tonumber(f[8]), path) end
  -- Where nothing is watched, the change-log entry is all it records (see fastCreate).
  if anyWatch() then emit(zxid, { 'm', path, '', data }, zs) else appendLog(zxid, 'm' .. path, zs) end
  local cv = f[3] and tonumber(f[3]) or 0
  return { 0, zxid, NOW_S, cz, zs, f[5] or cz, f[6], NOW_S, v, cv, f[4] or '', #data, numChildrenOf(path, cv) }
end

--- A setData then a delete of the same znode: a last word (the locks' release mark, which
--- the waiter behind gets with the deletion; recipes/internal/protected.ts). The same
--- checks, writes, events (dataChanged then deleted, both with the data, then the parent's
--- childrenChanged) and reply as runMulti's: the setData's Stat as it left the znode.
--- Nil for runMulti: the root, a container parent (its cascade).
local function fastSetDataDelete(path, cut, setVersion, data, deleteVersion)
  if path == '/' then return nil end
  local f = redis.call('HMGET', nodeKey(path), 'cz', 'v', 'cv', 'o', 'm', 'pz', 'ct')
  local cz = f[1]
  if not cz then return { E_NONODE, 0, path } end
  local v = f[2] and tonumber(f[2]) or 0
  if setVersion ~= -1 and setVersion ~= v then return { E_BADVERSION, 0, path } end
  v = v + 1
  if deleteVersion ~= -1 and deleteVersion ~= v then return { E_BADVERSION, 1, path } end
  local cv = f[3] and tonumber(f[3]) or 0
  if numChildrenOf(path, cv) > 0 then return { E_NOTEMPTY, 1, path } end
  local parent = parentAt(path, cut)
  local pf = redis.call('HMGET', nodeKey(parent), 'cv', 'm')
  if pf[2] == 'container' then return nil end
  local zxid, zs = issueNow()
  local events = {}
  addEvent(events, 'm', path, '', data)
  writeDelete({ path = path, parent = parent, pcv = pf[1] and tonumber(pf[1]) or 0, owner = f[4], mode = f[5] }, zs, events, data)
  emit(zxid, events, zs)
  return { 0, zxid, NOW_S, cz, zs, f[6] or cz, f[7], NOW_S, v, cv, f[4] or '', #data, 0 }
end

--- One multi's reply: by a fast path when it has one, else by runMulti.
local function multiReply(n, packed)
  if n == 1 then
    local t, mode, num, cut, path, data = struct.unpack('>c1BdIIc0Ic0', packed)
    if t == 'c' and mode <= 3 then
      local r = fastCreate(path, cut, MODES[mode], data)
      if r then return r end
    end
    -- Anything else may read a parent a run of creates has not written yet.
    flushParents()
    local r
    if t == 's' then r = fastSetData(path, num, data)
    elseif t == 'd' then r = fastDelete(path, cut, num) end
    if r then return r end
    return runMulti(n, packed)
  end
  flushParents()
  if n == 2 then
    local t1, mode1, num1, cut1, path1, data1, at = struct.unpack('>c1BdIIc0Ic0', packed)
    if (t1 == 'c' and mode1 <= 3) or t1 == 's' then
      local t2, _, num2, cut2, path2 = struct.unpack('>c1BdIIc0Ic0', packed, at)
      if t2 == 'd' then
        local r
        if t1 == 'c' then r = fastCreateDelete({ path1, cut1, MODES[mode1], data1 }, { path2, cut2, num2 })
        elseif path2 == path1 then r = fastSetDataDelete(path1, cut2, num1, data1, num2) end
        if r then return r end
      end
    end
  end
  return runMulti(n, packed)
end

local function main()
  beginTree()
  sid = ARGV[2]
  -- The k multis' events go out together at the end (one lookup of who watches them).
  DEFER_EVENTS = true
  WRITER = sid
  NOW_S = T[1] .. string.format('%03d', math.floor(tonumber(T[2]) / 1000))
  numText, parents, parentOrder, ABSENT = {}, nil, nil, { exists = false }
  local k = tonumber(ARGV[3])
  local replies = sessionRefused(k)
  local live = replies == nil
  if live then
    replies = {}
    for j = 1, k do replies[j] = multiReply(tonumber(ARGV[2 + 2 * j]), ARGV[3 + 2 * j]) end
    flushParents()
    publishEvents()
  end
  -- Reads queued behind the multis, after their events (so their reply accounts for them).
  local from = 4 + 2 * k
  if #ARGV >= from then replies[k + 1] = runReads(from, K_ZXID, K_SESSIONS, K_RECURSIVE, sid, currentZxid(), live) end
  return replies
end
