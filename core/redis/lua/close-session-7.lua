--[[
  close-session: ends a session now; its ephemerals go in one write (one zxid, in path
  order; none used when it had none). Idempotent.

  KEYS: the write keys of tree.lua (zxid, sessions, timeouts, ttl, log, recursive, sessionSeq)
  ARGV[1] prefix, ARGV[2] session id
  Returns the last zxid.
]]
-- @include tree


local function main()
  beginTree()
  ensureRoot()
  closeSession(ARGV[2])
  return currentZxid()
end
