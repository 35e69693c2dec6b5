-- defer: a delivery put off: its hook or host has as many in flight as
-- it may have in this worker, or a limit of nginx's refused it.
--
-- lib: record
--
-- KEYS[1] queue        the shard's stream of deliveries
-- KEYS[2] retry        the shard's retry set
-- KEYS[3] delivery     the delivery
-- ARGV[1] entry        the stream entry id
-- ARGV[2] group        the consumer group
-- ARGV[3] when         when to queue it again (ms)
-- ARGV[4] member       "d<n>:<key>"
-- ARGV[5] throttled    when it was throttled, ISO 8601, or ""
--
-- Reply: 1.
local r = ARGV[5] ~= '' and rget(KEYS[3])
if r then
  r.throttled_at = ARGV[5]
  rput(KEYS[3], r)
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
