-- delete: a hook, its deliveries, and the hooks hash once it is empty.
--
-- KEYS[1] hooks       the hooks hash
-- KEYS[2] deliveries  the hook's deliveries
-- ARGV[1] id          the hook id
-- ARGV[2] prefix      the scope prefix
--
-- Reply: 1, or 0 when there is no such hook.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local id = ARGV[1]
redis.call('HDEL', KEYS[1], id, id .. ':v', id .. ':c', id .. ':lr',
           id .. ':fs')
for _, d in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[2] .. 'delivery:' .. d)
end
redis.call('DEL', KEYS[2])
if redis.call('HLEN', KEYS[1]) <= 1 then
  redis.call('DEL', KEYS[1])
end
return 1
