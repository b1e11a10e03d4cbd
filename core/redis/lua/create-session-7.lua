--[[
  create-session: starts a session whose deadline Redis's clock keeps.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session timeout (ms)
  Returns {session id, last zxid}. Ids are `<creation ms, hex>-<counter, hex>`: unique per
  namespace even after the counter was lost (the time part moves on).
]]
-- @include tree

ensureRoot()
local timeout = tonumber(ARGV[2])
local sid = string.format('%x-%06x', NOW, redis.call('INCR', K_SESSION_SEQ))
redis.call('ZADD', K_SESSIONS, NOW + timeout, sid)
redis.call('HSET', K_TIMEOUTS, sid, timeout)
return { sid, currentZxid() }
