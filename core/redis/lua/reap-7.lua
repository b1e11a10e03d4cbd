--[[
  reap: the idempotent reaper every live client runs on a short tick. Expires overdue
  sessions (deleting their ephemerals), then childless TTL znodes past mtime + ttl, one
  zxid each in path order.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix
  Returns the last zxid.
]]

-- Most ticks find nothing due. They answer before the helpers below are built: every live
-- client runs this ten times a second, and building them costs Redis several times more
-- than these three lookups.
do
  local t = redis.call('TIME')
  local now = '(' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1) == 0
    and #redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1) == 0
    and #redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 1) == 0 then
    return tonumber(redis.call('GET', KEYS[1]) or '0')
  end
end

-- @include tree

ensureRoot()
reap()
return currentZxid()
