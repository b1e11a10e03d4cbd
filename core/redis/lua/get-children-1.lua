--[[
  get-children: a znode's child names in lexical (byte) order, one page of them if asked,
  with its Stat and the last zxid, read atomically.

  KEYS[1] zxid
  ARGV[1] prefix, ARGV[2] path, ARGV[3] '1' if ARGV[4] holds `after`, ARGV[4] after,
  ARGV[5] limit (0 = all)
  Returns {zxid} when there is no such znode, else
  {zxid, 10 stat fields, more (1 when a page was cut short), names...}.
]]
-- @include keys

local zxid = tonumber(redis.call('GET', KEYS[1]) or '0')
local path = ARGV[2]
local stat
if redis.call('EXISTS', nodeKey(path)) == 1 then stat = statOf(path)
elseif path == '/' then stat = rootStatDefault()
else return { zxid } end
local min = '-'
if ARGV[3] == '1' then min = '(' .. ARGV[4] end
local limit = tonumber(ARGV[5])
local names
if limit > 0 then
  names = redis.call('ZRANGEBYLEX', childKey(path), min, '+', 'LIMIT', 0, limit + 1)
else
  names = redis.call('ZRANGEBYLEX', childKey(path), min, '+')
end
local more = 0
if limit > 0 and #names > limit then
  more = 1
  names[#names] = nil
end
local reply = { zxid }
for _, x in ipairs(stat) do reply[#reply + 1] = x end
reply[#reply + 1] = more
for _, x in ipairs(names) do reply[#reply + 1] = x end
return reply
