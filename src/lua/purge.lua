-- purge: the deliveries of a hook deleted, in its queue shard.  Safe to
-- run again; what it misses expires with the retention.
--
-- lib: shard
--
-- KEYS[1] deliveries  the hook's deliveries
--
-- Reply: how many were deleted.
local sp = shard(KEYS[1])
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, d in ipairs(ids) do
  redis.call('DEL', sp .. 'delivery:' .. d)
end
redis.call('DEL', KEYS[1])
return #ids
