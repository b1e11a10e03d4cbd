--[[
  create-session: starts a session whose deadline Redis's clock keeps.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session timeout (ms)
  Returns {session id, last zxid}. Ids are `<creation ms, hex>-<counter, hex>`: unique per
  namespace even after the counter was lost (the time part moves on).
]]
-- @include tree


local function main()
  beginTree()
  -- Zxids reach 14 digits (tree.lua floors them at the clock) and scripts format them with
  -- %d, through a C long: a 32-bit Redis would corrupt them. Checked here, once a session.
  if string.format('%d', 2 ^ 53) ~= '9007199254740992' then
    return redis.error_reply('corral needs a 64-bit Redis (zxids are formatted as 64-bit integers)')
  end
  ensureRoot()
  local timeout = tonumber(ARGV[2])
  local sid = string.format('%x-%06x', NOW, redis.call('INCR', K_SESSION_SEQ))
  redis.call('ZADD', K_SESSIONS, NOW + timeout, sid)
  redis.call('HSET', K_TIMEOUTS, sid, timeout)
  return { sid, currentZxid() }
end
