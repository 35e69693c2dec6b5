-- fetch: what the sender reads in the queue shard of a delivery its
-- stream entry describes: the payload, if the delivery is still there.
-- Its hook it reads from the scope, with a command of its own.
--
-- KEYS[1] delivery    the delivery
-- KEYS[2] payload     the payload
--
-- Reply: the payload, or nil when it or the delivery is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('GET', KEYS[2])
