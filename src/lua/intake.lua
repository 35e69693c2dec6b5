-- intake: the second step of the intake of events, each in one of its
-- scopes, all in that scope's queue shard (what a worker's event loop
-- took in in one pass): per event, one delivery to each hook the first
-- step (subs.lua) found, all or none, and the payload kept in the shard.
-- Under an idempotency key a step is remembered under the event's GUID,
-- so that the same step again queues nothing and answers the same count.
-- Whether the queue is full is read once per call.
--
-- lib: host send shard record queue
--
-- KEYS[1] queue            the shard's stream of deliveries
-- KEYS[2] seq              the shard's delivery counter
-- KEYS[3] retry            the shard's retry set
-- ARGV[1] ttl              how long deliveries and payloads are kept
-- ARGV[2] shard            the shard's number
-- ARGV[3] shards           how many shards there are
-- ARGV[4] queue_max        the most deliveries queued and due later
-- ARGV[5..] events         per event: the key of its payload in the
--                          shard, of its step's count once done, of the
--                          scope's latest push; its GUID, the scope's
--                          hooks hash; what its records share, as JSON
--                          (lib/record.lua's rshared, made by the
--                          sender), what its requests say (lib/send.lua);
--                          "1" to remember the step under its key, "1"
--                          when it is a repository's push; n, then n
--                          hooks' ids and URLs, one after the other
--
-- The payload is written before, in a command of its own, for a short
-- while (so that Lua never copies it): an event taken in keeps it for
-- the ttl, one refused lets it expire.
--
-- Reply: per event, the number of deliveries queued, -1 when the queue is
-- full.
local sp, ttl, out = shard(KEYS[1]), ARGV[1], {}
local nshards, sh = tonumber(ARGV[3]), tonumber(ARGV[2])
-- ids for every hook of the call at once; those not queued are gaps
local a, total = 5, 0
while a + 9 <= #ARGV do
  local n = tonumber(ARGV[a + 9]) or 0
  total, a = total + n, a + 10 + 2 * n
end
local id = total > 0 and redis.call('INCRBY', KEYS[2], total) - total
local isfull, pushes, lasts = nil, {}, {}
a = 5
while a + 9 <= #ARGV do
  local pk, seen, last = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local idem, push = ARGV[a + 7] == '1', ARGV[a + 8] == '1'
  local n = tonumber(ARGV[a + 9]) or 0
  local hooks, rc = a + 10, nil
  if not (inside(sp, pk) and inside(sp, seen) and inside(sp, last)) then
    rc = redis.error_reply('an event\'s keys are not in the shard')
  elseif idem then
    rc = tonumber(redis.call('GET', seen))
  end
  if not rc and n > 0 then
    if isfull == nil then isfull = full(KEYS[1], KEYS[3], ARGV[4]) end
    if isfull then rc = -1 end
  end
  if not rc and (n > 0 or push)
     and redis.call('EXPIRE', pk, ttl) == 0 then
    rc = redis.error_reply('the payload of ' .. ARGV[a + 3] .. ' is gone')
  end
  if not rc then
    local hk, shared, x = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
    for i = hooks, hooks + 2 * n - 1, 2 do
      id = id + 1
      enq(KEYS[1], sp, id * nshards + sh, ARGV[i], ARGV[i + 1], shared, x,
          hk, pk, ttl)
    end
    if push then
      if not pushes[last] then lasts[#lasts + 1] = last end
      pushes[last] = pk
    end
    if idem then redis.call('SET', seen, n, 'EX', ttl) end
    rc = n
  end
  out[#out + 1] = rc
  a = hooks + 2 * n
end
-- a scope's latest push: the last of the call
for _, last in ipairs(lasts) do
  redis.call('SET', last, pushes[last], 'EX', ttl)
end
return out
