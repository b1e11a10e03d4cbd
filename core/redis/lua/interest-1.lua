--[[
  interest: registers (or refreshes) a recursive watch on a path, so write scripts publish
  events below it to the path's `r:` channel. Registrations expire unless refreshed (the
  reaper removes them): a crashed client's interest fades by itself.

  KEYS[1] recursive (sorted set: path -> interest deadline, Redis clock)
  ARGV[1] prefix, ARGV[2] path, ARGV[3] how long the registration lasts (ms)
  Returns 1.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- GT: several clients may watch the same path; the latest deadline wins (new members are added).
redis.call('ZADD', KEYS[1], 'GT', now + tonumber(ARGV[3]), ARGV[2])
return 1
