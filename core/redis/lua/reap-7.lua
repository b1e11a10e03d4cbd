--[[
  reap: the idempotent reaper every live client runs on a short tick. Expires overdue
  sessions (deleting their ephemerals), then childless TTL znodes past mtime + ttl, one
  zxid each in path order.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix
  Returns the last zxid.
]]

-- @include tree

local function main()
  -- Most ticks find nothing due: they answer with three lookups, before beginTree() (the
  -- tick of every live client, ten times a second: its state costs Redis more than these).
  local t = redis.call('TIME')
  local now = '(' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1) == 0
    and #redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1) == 0
    and #redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 1) == 0 then
    return tonumber(redis.call('GET', KEYS[1]) or '0')
  end
  beginTree()
  ensureRoot()
  reap()
  return currentZxid()
end
