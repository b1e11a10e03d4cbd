--[[
  reap: the idempotent reaper every live client runs on a short tick. Expires overdue
  sessions (deleting their ephemerals), then childless TTL znodes past mtime + ttl, one
  zxid each in path order.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix
  Returns the last zxid.
]]
-- @include tree

ensureRoot()
reap()
return currentZxid()
