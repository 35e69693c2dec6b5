-- done: the outcome of an attempt in the delivery's record, and the
-- queue entry done with; a failure may be tried again later.  The hook's
-- side of it (its last response, its failing span) is outcome.lua's, in
-- the hook's scope, run first.
--
-- lib: record
--
-- KEYS[1] delivery       the delivery
-- KEYS[2] queue          the shard's stream of deliveries
-- KEYS[3] retry          the shard's retry set
-- KEYS[4] payload        the payload
-- ARGV[1] entry          the stream entry id
-- ARGV[2] group          the consumer group
-- ARGV[3] ttl            how long deliveries and payloads are kept
-- ARGV[4] outcome        "ok", "failed" or "" to only acknowledge the entry
-- ARGV[5] again          when to try again (ms) or ""
-- ARGV[6] response       "<headers JSON>\n<body>"
-- ARGV[7..] fields       the fields of the delivery and their values
--
-- Reply: 1.
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  local r = rget(KEYS[1])
  for i = 7, #ARGV - 1, 2 do r[ARGV[i]] = ARGV[i + 1] end
  r.response = ARGV[6]
  rput(KEYS[1], r, ARGV[3])
  if ARGV[5] ~= '' then
    redis.call('ZADD', KEYS[3], ARGV[5], 'r:' .. KEYS[1])
    redis.call('EXPIRE', KEYS[4], ARGV[3])
  end
end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return 1
