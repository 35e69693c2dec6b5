-- take: a delivery and its payload, for the API.
--
-- lib: shard
--
-- KEYS[1] delivery    the delivery
--
-- Reply: {the record's fields and values, the payload}, or nil when
-- there is no such delivery.
local r = redis.call('HGETALL', KEYS[1])
if #r == 0 then return false end
local m = {}
for i = 1, #r, 2 do m[r[i]] = r[i + 1] end
local p = false
if inside(shard(KEYS[1]), m.payload) then
  p = redis.call('GET', m.payload)
end
return {r, p}
