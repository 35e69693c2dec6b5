-- take: a delivery with its hook and payload, for the API.
--
-- KEYS[1] delivery    the delivery
--
-- Reply: {the record's fields and values, the stored hook, the payload},
-- or nil when there is no such delivery.
local r = redis.call('HGETALL', KEYS[1])
if #r == 0 then return false end
local m = {}
for i = 1, #r, 2 do m[r[i]] = r[i + 1] end
return {r, redis.call('HGET', m.hooks, m.hook),
        redis.call('GET', m.payload)}
