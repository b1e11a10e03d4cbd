--[[
  Reads and watch registrations, the reads script's ops (see reads-3.lua for their
  arguments and replies): shared by the reads script and the multi script, which runs the
  reads a client queued right after its writes in the same call (core/redis/batch.ts).
]]
-- @include keys

-- The call's keys and session, and whether the session is live (nil until a registration
-- asks): set by runReads.
local R_SESSIONS, R_RECURSIVE, sid, live

--- Sets or clears `bits` of the session's watch kinds on `path`.
local function register(path, bits, on)
  if live == nil then
    local deadline = sid ~= '' and redis.call('ZSCORE', R_SESSIONS, sid)
    live = deadline and tonumber(deadline) >= tonumber(redis.call('TIME')[1]) * 1000 or false
  end
  if not live then return end
  local had = tonumber(redis.call('HGET', watchKey(path), sid) or '0')
  -- Write scripts look for recursive watches above each event path in R_RECURSIVE.
  setWatchBits(path, sid, had, on and bit.bor(had, bits) or bit.band(had, bit.bnot(bits)), R_RECURSIVE)
end

--- Runs the ops in ARGV from index `from` to the end, for session `session` ('' for none),
--- at this point of the total order: one reply per op, then the zxid they ran at and the
--- zxid of the last event message sent to the session by then (see reads-3.lua).
--- A caller that already knows the zxid counter and whether the session is live (the
--- multi script, whose writes just read both) passes them as `zxidNow` and `liveNow`:
--- reads riding behind writes cost no second look at either.
local function runReads(from, zxidKey, sessionsKey, recursiveKey, session, zxidNow, liveNow)
  R_SESSIONS, R_RECURSIVE, sid, live = sessionsKey, recursiveKey, session, liveNow
  local zxid = zxidNow or tonumber(redis.call('GET', zxidKey) or '0')
  local replies = {}
  local i = from
  while i <= #ARGV do
    local t, path = ARGV[i], ARGV[i + 1]
    i = i + 2
    local reply = { zxid }
    local c = string.sub(t, 1, 1)
    if c == '+' or c == '-' then
      register(path, tonumber(string.sub(t, 2)), c == '+')
      reply = {}
    elseif t == 'd' then
      local h, nc = readNode(path)
      if h ~= nil then
        reply[2] = h
        reply[3] = nc
      end
    else
      local stat = statOf(path)
      if stat == nil and path == '/' then stat = rootStatDefault() end
      if stat ~= nil then
        for _, x in ipairs(stat) do reply[#reply + 1] = x end
        -- No child list to read when the Stat counts none (a lock's or an election's
        -- contender, any ephemeral): one command fewer for the commonest child watch.
        if (t == 'c' or t == 'p') and stat[10] == 0 then
          reply[#reply + 1] = 0
        elseif t == 'c' then
          reply[#reply + 1] = 0
          for _, name in ipairs(redis.call('ZRANGEBYLEX', childKey(path), '-', '+')) do reply[#reply + 1] = name end
        elseif t == 'p' then
          -- One page: names after ARGV[i] (when it starts with '>', the rest is the name),
          -- at most ARGV[i + 1]; one more is read to tell whether the page was cut short.
          local after, limit = ARGV[i], tonumber(ARGV[i + 1])
          local min = string.sub(after, 1, 1) == '>' and '(' .. string.sub(after, 2) or '-'
          local names = redis.call('ZRANGEBYLEX', childKey(path), min, '+', 'LIMIT', 0, limit + 1)
          local more = 0
          if #names > limit then
            more = 1
            names[#names] = nil
          end
          reply[#reply + 1] = more
          for _, name in ipairs(names) do reply[#reply + 1] = name end
        end
      end
    end
    if t == 'p' then i = i + 2 end
    replies[#replies + 1] = reply
  end
  replies[#replies + 1] = zxid
  replies[#replies + 1] = sid ~= '' and tonumber(redis.call('HGET', K_LASTEV, sid) or '0') or 0
  return replies
end
