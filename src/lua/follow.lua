-- follow: the value of the key another key names: the latest push's
-- payload.
--
-- KEYS[1] pointer     the key that names it
--
-- Reply: the value, or nil.
local k = redis.call('GET', KEYS[1])
if not k then return false end
return redis.call('GET', k)
