-- follow: the latest push's payload, from the key in the queue shard
-- that names it.
--
-- lib: shard
--
-- KEYS[1] pointer     the key that names it
--
-- Reply: the value, or nil.
local k = redis.call('GET', KEYS[1])
if not inside(shard(KEYS[1]), k) then return false end
return redis.call('GET', k)
