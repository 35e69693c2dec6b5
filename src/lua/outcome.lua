-- outcome: what an attempt tells of its hook, in the hook's scope: its
-- last response, and when its deliveries started failing.  A hook none
-- of whose deliveries succeeded for the whole span is deactivated, with
-- the reason as its last response, and leaves the subscription index.
--
-- lib: index
--
-- KEYS[1] hooks          the hooks hash
-- KEYS[2] subs           the scope's subscription index
-- ARGV[1] hook           the hook id
-- ARGV[2] outcome        "ok" or "failed"
-- ARGV[3] now            the time, Unix seconds
-- ARGV[4] fail_span      the failing span after which the hook is
--                        deactivated, or 0
-- ARGV[5] last_response  the hook's last response
-- ARGV[6] off_response   the last response when the hook is deactivated
--
-- Reply: 2 when the hook was deactivated, 1, or 0 when it is gone.
local hooks, id, lr = KEYS[1], ARGV[1], ARGV[5]
local cur = redis.call('HGET', hooks, id)
if not cur then return 0 end
local rc = 1
if ARGV[2] == 'ok' then
  redis.call('HDEL', hooks, id .. ':fs')
else
  redis.call('HSETNX', hooks, id .. ':fs', ARGV[3])
  local since = tonumber(redis.call('HGET', hooks, id .. ':fs'))
  local span = tonumber(ARGV[4])
  if span > 0 and tonumber(ARGV[3]) - since >= span
     and string.find(cur, '"active":true', 1, true) then
    local v = redis.call('HGET', hooks, id .. ':v') or ''
    local off = '"active":false'
    redis.call('HSET', hooks,
      id, (string.gsub(cur, '"active":true', off, 1)),
      id .. ':v', (string.gsub(v, '"active":true', off, 1)))
    reindex(hooks, KEYS[2])
    lr, rc = ARGV[6], 2
  end
end
redis.call('HSET', hooks, id .. ':lr', lr)
return rc
