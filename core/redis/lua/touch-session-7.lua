--[[
  touch-session: a heartbeat. Reaps first (so an overdue session cannot be revived), then
  moves the caller's deadline to now + its timeout.

  It also checks that ARGV[3], the highest zxid the client has seen, belongs to this
  store's history (includes/history.lua). If the store went back in time (fail-over to a
  lagging replica, restart from an older AOF/RDB) the client saw writes it lost:
  - when the counter is behind ARGV[3], it is raised past it (so zxids, and the fencing
    tokens made of them, never go backwards even if the store's lifetime change went
    unnoticed) and the raise gets a zxid of its own, logged as `!`: a catch-up across it
    re-reads its watched znodes;
  - when the counter has moved on (another client wrote first: its write jumped the counter
    to the clock, see tree.lua), ARGV[3] lies in a gap of the history, or is missing from a
    change log that reaches back to it.
  Either way the reply names the last zxid the client's history shares with the store's,
  and the client reports the rollback and resyncs its watches. This happens even when the
  session is gone.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session id, ARGV[3] highest zxid the client has seen
  Returns {code, zxid before any raise, shared}: code 0, or -112 session expired; shared
  -1 when ARGV[3] is in this store's history, else the last zxid both histories share.
]]
-- @include tree
-- @include history


local function main()
  beginTree()
  ensureRoot()
  reap()
  local sid = ARGV[2]
  local seen = tonumber(ARGV[3])
  local zxid = currentZxid()
  local shared = -1
  if seen > zxid then
    -- Mark the gap in the change log with a zxid of its own: a client catching up across it
    -- cannot know what changed, so it re-reads its watched znodes instead.
    appendLog(nextZxid(seen), '!')
    shared = zxid
  elseif seen > 0 and seen < zxid then
    shared = divergedAt(K_LOG, PREFIX .. 'gaps', seen)
  end
  local timeout = redis.call('HGET', K_TIMEOUTS, sid)
  if not sessionLive(sid) or not timeout then return { E_SESSIONEXPIRED, zxid, shared } end
  redis.call('ZADD', K_SESSIONS, NOW + tonumber(timeout), sid)
  return { 0, zxid, shared }
end
