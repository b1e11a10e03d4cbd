--[[
  reads: many exists, getData and (whole) getChildren reads in one call, all at one point
  of the total order: the reads one connection was asked for in one go (core/redis/batch.ts;
  one call instead of k spares the client a command per read — arguments, a timer, a reply
  to parse — so a busy client's reads cost it half as much), and a multiRead's.

  It also takes the session's watch registrations, in the same order as its reads: a watch
  registered before a read in one call misses no write after the read (write scripts
  publish to the sessions registered on a path, see tree.lua publishEntries), and costs no
  round trip of its own.

  KEYS[1] zxid, KEYS[2] sessions, KEYS[3] recursive (see tree.lua)
  ARGV[1] prefix, ARGV[2] session id ('' for none), then 2 per op: type, path. Types:
    e exists, d getData, c getChildren, p a page of getChildren: reads;
    +<bits>, -<bits>: register, withdraw the session's watches of these kinds on the path
    (bits: 1 node, 2 children, 4 recursive; × 8 for the same kinds that ignore the
    session's own writes; each of those × 64 for the same whose events carry the data
    their write wrote). Registrations of a session that is not live are ignored.
  Returns one reply per op, in order, then the zxid the reads ran at and the zxid of the
  last event message sent to the session by then (0 if none; see tree.lua). A registration's reply is {}. A read's is {zxid}
  when there is no such znode, else
    exists      -> {zxid, 10 stat fields} (cz mz pz ct mt v cv owner dataLength numChildren)
    getData     -> {zxid, hash, numChildren}: hash the znode's hash fields as HGETALL lists
                   them (see keys.lua readNode)
    getChildren -> {zxid, 10 stat fields, 0, names...} (names in byte order; the 0 says no
                   page was cut short)
    p (a page of getChildren) takes two more arguments: `>name` to start after that
    child, or '' for the first page; the page's size (> 0). Its reply is getChildren's,
    with 1 in place of the 0 when there are more children after the page.
]]
-- @include keys

-- The call's session and whether it is live (nil until a registration asks): set by main().
local sid, live

--- Sets or clears `bits` of the session's watch kinds on `path`.
local function register(path, bits, on)
  if live == nil then
    local deadline = sid ~= '' and redis.call('ZSCORE', KEYS[2], sid)
    live = deadline and tonumber(deadline) >= tonumber(redis.call('TIME')[1]) * 1000 or false
  end
  if not live then return end
  local had = tonumber(redis.call('HGET', watchKey(path), sid) or '0')
  -- Write scripts look for recursive watches above each event path in KEYS[3].
  setWatchBits(path, sid, had, on and bit.bor(had, bits) or bit.band(had, bit.bnot(bits)), KEYS[3])
end

local function main()
  beginKeys()
  sid, live = ARGV[2], nil
  local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
  local replies = {}
  local i = 3
  while i <= #ARGV do
    local t, path = ARGV[i], ARGV[i + 1]
    i = i + 2
    local reply = { zxid }
    local c = string.sub(t, 1, 1)
    if c == '+' or c == '-' then
      register(path, tonumber(string.sub(t, 2)), c == '+')
      reply = {}
    elseif t == 'd' then
      local h, nc = readNode(path)
      if h ~= nil then
        reply[2] = h
        reply[3] = nc
      end
    else
      local stat
      if redis.call('EXISTS', nodeKey(path)) == 1 then stat = statOf(path)
      elseif path == '/' then stat = rootStatDefault() end
      if stat ~= nil then
        for _, x in ipairs(stat) do reply[#reply + 1] = x end
        if t == 'c' then
          reply[#reply + 1] = 0
          for _, name in ipairs(redis.call('ZRANGEBYLEX', childKey(path), '-', '+')) do reply[#reply + 1] = name end
        elseif t == 'p' then
          -- One page: names after ARGV[i] (when it starts with '>', the rest is the name),
          -- at most ARGV[i + 1]; one more is read to tell whether the page was cut short.
          local after, limit = ARGV[i], tonumber(ARGV[i + 1])
          local min = string.sub(after, 1, 1) == '>' and '(' .. string.sub(after, 2) or '-'
          local names = redis.call('ZRANGEBYLEX', childKey(path), min, '+', 'LIMIT', 0, limit + 1)
          local more = 0
          if #names > limit then
            more = 1
            names[#names] = nil
          end
          reply[#reply + 1] = more
          for _, name in ipairs(names) do reply[#reply + 1] = name end
        end
      end
    end
    if t == 'p' then i = i + 2 end
    replies[#replies + 1] = reply
  end
  replies[#replies + 1] = zxid
  replies[#replies + 1] = sid ~= '' and tonumber(redis.call('HGET', K_LASTEV, sid) or '0') or 0
  return replies
end
