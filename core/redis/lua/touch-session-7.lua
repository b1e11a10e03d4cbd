--[[
  touch-session: a heartbeat. Reaps first (so an overdue session cannot be revived), then
  moves the caller's deadline to now + its timeout.

  If the zxid counter is behind ARGV[3] (the highest zxid the client has seen) the store
  went back in time (fail-over to a lagging replica, restore of an older AOF/RDB): the
  counter is raised to it so zxids, and the fencing tokens made of them, never go
  backwards, and the next zxid marks the change log as broken there. This happens even
  when the session is gone.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session id, ARGV[3] highest zxid the client has seen
  Returns {0, zxid before any raise} or {-112 session expired, zxid before any raise}.
]]
-- @include tree

ensureRoot()
reap()
local sid = ARGV[2]
local seen = tonumber(ARGV[3])
local zxid = currentZxid()
if seen > zxid then
  redis.call('SET', K_ZXID, seen)
  -- Mark the gap in the change log with a zxid of its own: a client catching up across it
  -- cannot know what changed, so it re-reads its watched znodes instead.
  appendLog(nextZxid(), '!')
end
local timeout = redis.call('HGET', K_TIMEOUTS, sid)
if not sessionLive(sid) or not timeout then return { E_SESSIONEXPIRED, zxid } end
redis.call('ZADD', K_SESSIONS, NOW + tonumber(timeout), sid)
return { 0, zxid }
