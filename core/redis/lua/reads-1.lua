--[[
  reads: many exists, getData and (whole) getChildren reads in one call, all at one point
  of the total order: the reads one connection was asked for in one go (core/redis/batch.ts;
  one call instead of k spares the client a command per read — arguments, a timer, a reply
  to parse — so a busy client's reads cost it half as much), and a multiRead's.

  KEYS[1] zxid
  ARGV[1] prefix, then 2 per read: type (e exists, d getData, c getChildren), path
  Returns one reply per read, in order, each {zxid} when there is no such znode, else
    exists      -> {zxid, 10 stat fields} (cz mz pz ct mt v cv owner dataLength numChildren)
    getData     -> {zxid, hash, numChildren}: hash the znode's hash fields as HGETALL lists
                   them (see keys.lua readNode)
    getChildren -> {zxid, 10 stat fields, 0, names...} (names in byte order; the 0 says no
                   page was cut short: paged reads go through get-children)
]]
-- @include keys

local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
local replies = {}
for i = 2, #ARGV, 2 do
  local t, path = ARGV[i], ARGV[i + 1]
  local reply = { zxid }
  if t == 'd' then
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
      end
    end
  end
  replies[#replies + 1] = reply
end
return replies
