--[[
  get-data: a znode's data and Stat, read atomically with the last zxid.

  KEYS[1] zxid
  ARGV[1] prefix, ARGV[2] path
  Returns {zxid} when there is no such znode, else {zxid, data, 10 stat fields}.
]]
-- @include keys

local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
local data, stat = readNode(ARGV[2])
if data == nil then return { zxid } end
local reply = { zxid, data }
for _, x in ipairs(stat) do reply[#reply + 1] = x end
return reply
