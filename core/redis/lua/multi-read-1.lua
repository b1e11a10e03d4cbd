--[[
  multi-read: many reads (getData, getChildren) in one round trip, all at one point of the
  total order, each with its own result or error, as ZooKeeper's multiRead.

  KEYS[1] zxid
  ARGV[1] prefix, ARGV[2] number of reads n, then 2 per read: type (d getData,
  c getChildren), path
  Returns {zxid, results...}, per read:
    getData     -> 0, hash, numChildren: hash the znode's fields as HGETALL lists them
                   (data and stat fields, defaults left out: see keys.lua readNode)
    getChildren -> 0, 10 stat fields, number of children k, k names (byte order)
    no such znode -> -101
]]
-- @include keys

local reply = { tonumber(redis.call('GET', KEYS[1]) or '0') }
local n = tonumber(ARGV[2])
for i = 1, n do
  local t, path = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  if t == 'd' then
    local h, nc = readNode(path)
    if h == nil then
      reply[#reply + 1] = -101
    else
      reply[#reply + 1] = 0
      reply[#reply + 1] = h
      reply[#reply + 1] = nc
    end
  else
    local stat
    if redis.call('EXISTS', nodeKey(path)) == 1 then stat = statOf(path)
    elseif path == '/' then stat = rootStatDefault() end
    if stat == nil then
      reply[#reply + 1] = -101
    else
      reply[#reply + 1] = 0
      for _, x in ipairs(stat) do reply[#reply + 1] = x end
      local names = redis.call('ZRANGEBYLEX', childKey(path), '-', '+')
      reply[#reply + 1] = #names
      for _, name in ipairs(names) do reply[#reply + 1] = name end
    end
  end
end
return reply
