--[[
  changes-since: the change log after a zxid, for a client catching up after a reconnect.

  KEYS[1] zxid, KEYS[2] log
  ARGV[1] prefix, ARGV[2] zxid to start after, ARGV[3] (optional, 0 = none) the highest
  zxid the client has seen
  Returns
    {-1, shared, last} when ARGV[3] is not in this store's history (includes/history.lua):
                 the store went back in time and lost writes the client saw; `shared` is
                 the last zxid both histories share, `last` the store's. The log after
                 ARGV[2] is not the history the client saw, so it is not handed out;
    -1           when the log no longer reaches back to ARGV[2] (trimmed, or lost), or an
                 entry `!` in the range says history was lost there;
    else {zxid, events, zxid, events, ...} oldest first, events being `<code><path>` lines.
  Zxids need not be consecutive: the counter jumps in a new Redis lifetime (tree.lua), and
  the log reaches back to ARGV[2] if its first entry is the zxid after it or a recorded gap
  spans the hole (<prefix>gaps).
]]
-- @include keys
-- @include history


local function main()
  beginKeys()
  local K_GAPS = PREFIX .. 'gaps'
  local since = tonumber(ARGV[2])
  local seen = tonumber(ARGV[3] or '0')
  local last = tonumber(redis.call('GET', KEYS[1]) or '0')
  if seen > last then return { -1, last, last } end
  if seen > 0 and seen < last then
    local shared = divergedAt(KEYS[2], K_GAPS, seen)
    if shared >= 0 then return { -1, shared, last } end
  end
  if since == last then return {} end
  -- Asked about zxids the store never reached: it went back in time.
  if since > last then return -1 end
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
  if #first == 0 then return -1 end
  -- An entry's fields are its zxids in order (tree.lua KEYS[5]): the oldest is the first field.
  local firstZxid = logZxid(first[1], 1)
  if firstZxid > since + 1 then
    -- Only a recorded gap can explain the hole: no zxid between its ends was ever issued.
    local gap = redis.call('ZRANGEBYSCORE', K_GAPS, '(' .. string.format('%d', since), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if #gap == 0 or tonumber(string.match(gap[1], '^(%d+)')) > since or tonumber(gap[2]) < firstZxid then return -1 end
  end
  -- Every entry holding a zxid after `since` has its id (its last zxid) after it too.
  local entries = redis.call('XRANGE', KEYS[2], string.format('%d', since + 1) .. '-0', '+')
  local reply = {}
  for _, e in ipairs(entries) do
    local f = e[2]
    for i = 1, #f, 2 do
      local z = logZxid(e, i)
      if z > since then
        if f[i + 1] == '!' then return -1 end
        reply[#reply + 1] = z
        reply[#reply + 1] = f[i + 1]
      end
    end
  end
  return reply
end
