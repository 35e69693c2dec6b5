-- done: the outcomes of attempts in their deliveries' records, and the
-- queue entries done with, for any number of deliveries of one queue
-- shard at once (what a worker's event loop finished in one pass); a
-- failure may be tried again later.  An entry is acknowledged in the same
-- call that writes its record.  The hook's side of an attempt (its last
-- response, its failing span) is outcome.lua's, in the hook's scope, run
-- first.
--
-- lib: shard record
--
-- KEYS[1] queue          the shard's stream of deliveries
-- KEYS[2] retry          the shard's retry set
-- ARGV[1] group          the consumer group
-- ARGV[2] ttl            how long deliveries and payloads are kept
-- ARGV[3..] deliveries   per delivery: its key, its payload's key, its
--                        stream entry id, the outcome ("ok", "failed" or
--                        "" to only acknowledge the entry), when to try
--                        again (ms) or "", the response ("<headers
--                        JSON>\n<body>"), n, then n fields of the record
--                        and their values
--
-- Reply: the number of deliveries done with.
local sp, ttl, ids, a = shard(KEYS[1]), ARGV[2], {}, 3
while a + 6 <= #ARGV do
  local dk, pk, out, again = ARGV[a], ARGV[a + 1], ARGV[a + 3], ARGV[a + 4]
  local n = tonumber(ARGV[a + 6])
  if out ~= '' and inside(sp, dk) then
    local o = {}
    for i = a + 7, a + 6 + 2 * n do o[#o + 1] = ARGV[i] end
    if rdone(dk, o, ARGV[a + 5], ttl) and again ~= '' then
      redis.call('ZADD', KEYS[2], again, 'r:' .. dk)
      if inside(sp, pk) then redis.call('EXPIRE', pk, ttl) end
    end
  end
  ids[#ids + 1] = ARGV[a + 2]
  a = a + 7 + 2 * n
end
if #ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
return #ids
