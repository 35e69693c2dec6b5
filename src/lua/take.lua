-- take: a delivery, its payload and its response, for the API.
--
-- lib: shard record
--
-- KEYS[1] delivery    the delivery
--
-- Reply: {the record's fields and values, the payload, the response},
-- or nil when there is no such delivery.
local m = rget(KEYS[1])
if not m then return false end
local p = false
if inside(shard(KEYS[1]), m.payload) then
  p = redis.call('GET', m.payload)
end
return {rpairs(m), p, m.response ~= '' and m.response}
