--[[
  get-data: a znode's data and Stat, read atomically with the last zxid.

  KEYS[1] zxid
  ARGV[1] prefix, ARGV[2] path
  Returns {zxid} when there is no such znode, else {zxid, hash, numChildren}: hash the
  znode's hash fields as HGETALL lists them (see keys.lua readNode).
]]
-- @include keys

local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
local h, nc = readNode(ARGV[2])
if h == nil then return { zxid } end
return { zxid, h, nc }
