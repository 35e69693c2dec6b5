-- Queues one delivery: its record, its place in the hook's list and its
-- entry in the stream, all in the queue shard of KEYS[2].  For the
-- scripts that open with these KEYS and ARGV (intake, enqueue); needs
-- lib/host.lua, lib/send.lua, lib/shard.lua and lib/record.lua.  A
-- delivery of an event taken in ("auto") is tried again when it fails;
-- pings, tests and redeliveries are not.
--
-- KEYS[1] payload, KEYS[2] queue, KEYS[3] delivery counter
-- ARGV[1] guid, [2] event, [3] ttl, [4] now, [5] action,
--      [6] repository_id, [7] installation_id, [8] redelivery,
--      [10] shard, [11] shards
--
-- A stream entry: "k" the delivery, "h" its hook id, "t" the target host,
-- "d" how often it was put off, "s" its hooks hash, "p" its payload and
-- "x" what the request says (lib/send.lua).
local sp = shard(KEYS[2])
local function full(retry, max)
  return redis.call('XLEN', KEYS[2]) + redis.call('ZCARD', retry)
         >= tonumber(max)
end
-- what every delivery of one call shares (the same hooks, target and
-- kind), encoded once
local shared
local function queue(hooks, hook, url, ttype, tid, auto)
  local id = newid(KEYS[3], ARGV[11], ARGV[10])
  local rk, t = sp .. 'delivery:' .. id, host(url)
  shared = shared or rshared({hooks = hooks, guid = ARGV[1],
    event = ARGV[2], action = ARGV[5], repository_id = ARGV[6],
    installation_id = ARGV[7], redelivery = ARGV[8], target_type = ttype,
    target_id = tid, payload = KEYS[1], delivered_at = ARGV[4],
    status = 'queued', status_code = 0, duration = 0, attempt = 1,
    auto = auto})
  rnew(rk, id, hook, shared, t, ARGV[3])
  redis.call('ZADD', sp .. 'deliveries:' .. hook, id, id)
  redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', hook,
             't', t, 's', hooks, 'p', KEYS[1],
             'x', send(ARGV[1], ARGV[2], 1, auto, ttype, tid))
  return id
end
