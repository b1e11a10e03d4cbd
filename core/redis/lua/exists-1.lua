--[[
  exists: a znode's Stat, read atomically with the last zxid.

  KEYS[1] zxid
  ARGV[1] prefix, ARGV[2] path
  Returns {zxid} when there is no such znode, else {zxid, 10 stat fields}
  (cz mz pz ct mt v cv owner dataLength numChildren).
]]
-- @include keys

local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
local path = ARGV[2]
local reply = { zxid }
local stat
if redis.call('EXISTS', nodeKey(path)) == 1 then stat = statOf(path)
elseif path == '/' then stat = rootStatDefault()
else return reply end
for _, x in ipairs(stat) do reply[#reply + 1] = x end
return reply
