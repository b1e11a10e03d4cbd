--[[
  reads: many exists, getData and (whole) getChildren reads in one call, all at one point
  of the total order: the reads one connection was asked for in one go (core/redis/batch.ts;
  one call instead of k spares the client a command per read — arguments, a timer, a reply
  to parse — so a busy client's reads cost it half as much), and a multiRead's.

  It also takes the session's watch registrations, in the same order as its reads: a watch
  registered before a read in one call misses no write after the read (write scripts
  publish to the sessions registered on a path, see tree.lua publishEntries), and costs no
  round trip of its own.

  KEYS[1] zxid, KEYS[2] sessions, KEYS[3] recursive (see tree.lua)
  ARGV[1] prefix, ARGV[2] session id ('' for none), then 2 per op: type, path. Types:
    e exists, d getData, c getChildren, p a page of getChildren: reads;
    +<bits>, -<bits>: register, withdraw the session's watches of these kinds on the path
    (bits: 1 node, 2 children, 4 recursive; × 8 for the same kinds that ignore the
    session's own writes; each of those × 64 for the same whose events carry the data
    their write wrote). Registrations of a session that is not live are ignored.
  Returns one reply per op, in order, then the zxid the reads ran at and the zxid of the
  last event message sent to the session by then (0 if none; see tree.lua). A registration's reply is {}. A read's is {zxid}
  when there is no such znode, else
    exists      -> {zxid, 10 stat fields} (cz mz pz ct mt v cv owner dataLength numChildren)
    getData     -> {zxid, hash, numChildren}: hash the znode's hash fields as HGETALL lists
                   them (see keys.lua readNode)
    getChildren -> {zxid, 10 stat fields, 0, names...} (names in byte order; the 0 says no
                   page was cut short)
    p (a page of getChildren) takes two more arguments: `>name` to start after that
    child, or '' for the first page; the page's size (> 0). Its reply is getChildren's,
    with 1 in place of the 0 when there are more children after the page.
]]
-- @include reads

local function main()
  beginKeys()
  return runReads(3, KEYS[1], KEYS[2], KEYS[3], ARGV[2])
end
