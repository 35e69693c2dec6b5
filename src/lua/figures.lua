-- figures: the queue's figures for the status page.
--
-- KEYS[1] queue       the stream of deliveries
-- KEYS[2] retry       the retry set
-- ARGV[1] group       the consumer group
--
-- Reply: {entries in the stream, entries pending, the oldest pending
-- entry id or "", members of the retry set}.
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1])
local n, oldest = 0, ''
if type(p) == 'table' and p.err == nil then
  n, oldest = p[1], p[2] or ''
end
return {redis.call('XLEN', KEYS[1]), n, oldest,
        redis.call('ZCARD', KEYS[2])}
