-- fetch: what the sender reads of a delivery its stream entry describes:
-- the hook and the payload, if the delivery is still there.
--
-- KEYS[1] delivery    the delivery
-- KEYS[2] hooks       the hooks hash
-- KEYS[3] payload     the payload
-- ARGV[1] hook        the hook id
--
-- Reply: {the stored hook, the payload}, either nil when gone, or nil when
-- the delivery is.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {redis.call('HGET', KEYS[2], ARGV[1]),
        redis.call('GET', KEYS[3])}
