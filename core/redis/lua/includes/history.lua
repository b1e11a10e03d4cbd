--[[
  Whether a zxid a client saw belongs to this store's history (included by touch-session
  and changes-since).

  Every zxid a client can hold is in the change log: each script that issues one logs it
  (tree.lua nextZxid; an entry holds one or more zxids as fields, its id `<last zxid>-0`),
  reads return the counter, which rests on an issued zxid, and 0, before any write, is
  part of every history. The log is trimmed from its oldest end only. And a jump of the counter to the clock (a new Redis
  lifetime) is recorded in <prefix>gaps as `<from>:<to>`: no zxid strictly between was
  issued here. So a zxid a client saw is not this store's history if it falls in a gap, or
  if the log reaches back past it but has no entry for it.
]]

--- -1 when `zxid` (0 < zxid <= the counter) belongs to this store's history, or cannot
--- be judged any more (the log was trimmed past it and no gap holds it); otherwise the
--- last zxid the two histories share.
--- The zxid of change-log entry `e`'s field pair at `i`: its name, or, in an entry written
--- by a corral before 0.2 (one zxid per entry, field `e`), the entry's id.
local function logZxid(e, i)
  return tonumber(e[2][i]) or tonumber(string.match(e[1], '^(%d+)'))
end

local function divergedAt(logKey, gapsKey, zxid)
  -- %d: exact (a C long, 64 bits on the 64-bit Redis create-session insists on), where
  -- tostring and .. write numbers of more than 14 digits as 1e+14.
  local s = string.format('%d', zxid)
  local gap = redis.call('ZRANGEBYSCORE', gapsKey, '(' .. s, '+inf', 'LIMIT', 0, 1)[1]
  if gap then
    local from = tonumber(string.match(gap, '^(%d+)'))
    if from < zxid then return from end
  end
  -- The entry that would hold `zxid`: the first whose last zxid is at or after it.
  local e = redis.call('XRANGE', logKey, s .. '-0', '+', 'COUNT', 1)[1]
  local below = nil
  if e then
    local f = e[2]
    for i = 1, #f, 2 do
      local z = logZxid(e, i)
      if z == zxid then return -1 end
      if z < zxid then below = z end
    end
  end
  if below then return below end
  local before = redis.call('XREVRANGE', logKey, '(' .. s .. '-0', '-', 'COUNT', 1)[1]
  if not before then return -1 end
  return tonumber(string.match(before[1], '^(%d+)'))
end
