-- take: a delivery, its payload and its response, for the API.
--
-- lib: shard
--
-- KEYS[1] delivery    the delivery
--
-- Reply: {the record's fields and values, the payload, the response},
-- or nil when there is no such delivery.
local r = redis.call('HGETALL', KEYS[1])
if #r == 0 then return false end
local m = {}
for i = 1, #r, 2 do m[r[i]] = r[i + 1] end
local sp, p = shard(KEYS[1]), false
if inside(sp, m.payload) then
  p = redis.call('GET', m.payload)
end
local rk = string.gsub(KEYS[1], 'delivery:(%d+)$', 'response:%1')
return {r, p, redis.call('GET', rk)}
