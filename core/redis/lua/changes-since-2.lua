--[[
  changes-since: the change log after a zxid, for a client catching up after a reconnect.

  KEYS[1] zxid, KEYS[2] log
  ARGV[1] prefix, ARGV[2] zxid to start after
  Returns -1 when the log no longer reaches back to ARGV[2] + 1 (trimmed, or lost), or
  when an entry `!` in the range says history was lost there (a rolled-back store), else
  {zxid, events, zxid, events, ...} oldest first, events being `<code><path>` lines.
]]
local since = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if since == last then return {} end
-- Asked about zxids the store never reached: it went back in time.
if since > last then return -1 end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #first == 0 then return -1 end
local firstZxid = tonumber(string.match(first[1][1], '^(%d+)'))
if firstZxid > since + 1 then return -1 end
local entries = redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')
local reply = {}
for _, e in ipairs(entries) do
  if e[2][2] == '!' then return -1 end
  reply[#reply + 1] = tonumber(string.match(e[1], '^(%d+)'))
  reply[#reply + 1] = e[2][2]
end
return reply
