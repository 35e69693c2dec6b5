-- done: the outcome of an attempt, and the queue entry done with.  A
-- failure may be tried again later; a hook none of whose deliveries
-- succeeded for the whole span is deactivated, with the reason as its
-- last response.
--
-- KEYS[1] delivery       the delivery
-- KEYS[2] queue          the stream of deliveries
-- KEYS[3] retry          the retry set
-- ARGV[1] entry          the stream entry id
-- ARGV[2] group          the consumer group
-- ARGV[3] ttl            how long deliveries and payloads are kept
-- ARGV[4] last_response  the hook's last response
-- ARGV[5] hooks          the hooks hash
-- ARGV[6] hook           the hook id
-- ARGV[7] outcome        "ok", "failed" or "" to only acknowledge the entry
-- ARGV[8] again          when to try again (ms) or ""
-- ARGV[9] now            the time, Unix seconds
-- ARGV[10] fail_span     the failing span after which the hook is
--                        deactivated, or 0
-- ARGV[11] off_response  the last response when the hook is deactivated
-- ARGV[12] payload       the payload key
-- ARGV[13..] fields      the fields of the delivery and their values
--
-- Reply: 2 when the hook was deactivated, else 1.
local rc = 1
if ARGV[7] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  local f = {}
  for i = 13, #ARGV do f[#f + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], (table.unpack or unpack)(f))
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  local hooks, id, lr, again = ARGV[5], ARGV[6], ARGV[4], ARGV[8]
  local cur = redis.call('HGET', hooks, id)
  if cur then
    if ARGV[7] == 'ok' then
      redis.call('HDEL', hooks, id .. ':fs')
    else
      redis.call('HSETNX', hooks, id .. ':fs', ARGV[9])
      local since = tonumber(redis.call('HGET', hooks, id .. ':fs'))
      local span = tonumber(ARGV[10])
      if span > 0 and tonumber(ARGV[9]) - since >= span
         and string.find(cur, '"active":true', 1, true) then
        local v = redis.call('HGET', hooks, id .. ':v') or ''
        local off = '"active":false'
        redis.call('HSET', hooks,
          id, (string.gsub(cur, '"active":true', off, 1)),
          id .. ':v', (string.gsub(v, '"active":true', off, 1)))
        lr, again, rc = ARGV[11], '', 2
      end
    end
    redis.call('HSET', hooks, id .. ':lr', lr)
    if again ~= '' then
      redis.call('ZADD', KEYS[3], again, 'r:' .. KEYS[1])
      redis.call('EXPIRE', ARGV[12], ARGV[3])
    end
  end
end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return rc
