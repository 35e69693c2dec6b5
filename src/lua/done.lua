-- done: the queue entries done with, for any number of deliveries of one
-- queue shard at once (what a worker's event loop finished in one pass),
-- and a failure to try again later.  The record with the attempt's
-- outcome is written by the sender just before, in the same pipeline, a
-- plain SET ... XX (so that Lua never copies it, and a delivery gone
-- meanwhile is not made again); a retry is due only for a delivery
-- still there.  The hook's side of an attempt (its last response, its
-- failing span) is outcome.lua's, in the hook's scope, run first.
--
-- lib: shard
--
-- KEYS[1] queue          the shard's stream of deliveries
-- KEYS[2] retry          the shard's retry set
-- ARGV[1] group          the consumer group
-- ARGV[2] ttl            how long deliveries and payloads are kept
-- ARGV[3..] deliveries   per delivery: its key, its payload's key, its
--                        stream entry id, the outcome ("ok", "failed" or
--                        "" to only acknowledge the entry), and when to
--                        try again (ms) or ""
--
-- Reply: the number of deliveries done with.
local sp, ttl, ids, a = shard(KEYS[1]), ARGV[2], {}, 3
while a + 4 <= #ARGV do
  local dk, pk, again = ARGV[a], ARGV[a + 1], ARGV[a + 4]
  if ARGV[a + 3] ~= '' and again ~= '' and inside(sp, dk)
     and redis.call('EXISTS', dk) == 1 then
    redis.call('ZADD', KEYS[2], again, 'r:' .. dk)
    if inside(sp, pk) then redis.call('EXPIRE', pk, ttl) end
  end
  ids[#ids + 1] = ARGV[a + 2]
  a = a + 5
end
if #ids > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
  redis.call('XDEL', KEYS[1], unpack(ids))
end
return #ids
