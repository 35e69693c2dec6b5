-- delete: a hook, and the hooks hash once it is empty.  Its deliveries,
-- in its queue shard, are purge.lua's.
--
-- lib: index
--
-- KEYS[1] hooks       the hooks hash
-- KEYS[2] subs        the scope's subscription index
-- ARGV[1] id          the hook id
--
-- Reply: 1, or 0 when there is no such hook.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local id = ARGV[1]
redis.call('HDEL', KEYS[1], id, id .. ':v', id .. ':c', id .. ':lr',
           id .. ':fs')
if redis.call('HLEN', KEYS[1]) <= 1 then
  redis.call('DEL', KEYS[1])
end
reindex(KEYS[1], KEYS[2])
return 1
