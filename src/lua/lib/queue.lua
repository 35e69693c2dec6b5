-- Queues deliveries of an event: each one's record, its place in its
-- hook's list and its entry in the stream, all in the queue shard of the
-- stream q, under an id from the shard's counter (lib/shard.lua).  For
-- the scripts that queue (intake, enqueue); needs lib/host.lua,
-- lib/send.lua, lib/shard.lua and lib/record.lua.  A delivery of an
-- event taken in (auto 1) is tried again when it fails; pings, tests and
-- redeliveries are not.
--
-- e: the event, as its records' fields: payload (its key), guid, event,
-- action, repository_id, installation_id, redelivery, hooks, target_type,
-- target_id, auto, delivered_at (now), and ttl.
--
-- A stream entry: "k" the delivery, "h" its hook id, "t" the target host,
-- "d" how often it was put off, "s" its hooks hash, "p" its payload and
-- "x" what the request says (lib/send.lua).
local function full(q, retry, max)
  return redis.call('XLEN', q) + redis.call('ZCARD', retry)
         >= tonumber(max)
end
-- a delivery, from what all deliveries of its event share: the record's
-- fields from "hooks" to "auto" as JSON (rshared's), what the request
-- says ("x") and the keys of the scope's hooks and of the payload; its
-- host, and the host as JSON, made once per URL in a call
local hosts = {}
local function enq(q, sp, id, hook, url, shared, x, hooks, pk, ttl)
  local t = hosts[url]
  if not t then
    local h = host(url)
    t = {h, rjson(h)}
    hosts[url] = t
  end
  id = tostring(id)
  local rk = sp .. 'delivery:' .. id
  rnew(rk, id, hook, shared, t[2], ttl)
  redis.call('ZADD', sp .. 'deliveries:' .. hook, id, id)
  redis.call('XADD', q, '*', 'k', rk, 'h', hook, 't', t[1], 's', hooks,
             'p', pk, 'x', x)
end
local function queue(q, id, e, hook, url)
  if not e.shared then
    -- what every delivery of the event shares, made once
    e.status, e.status_code, e.duration, e.attempt = 'queued', 0, 0, 1
    e.shared, e.sp = rshared(e), shard(q)
    e.x = send(e.guid, e.event, 1, e.auto, e.target_type, e.target_id)
  end
  enq(q, e.sp, id, hook, url, e.shared, e.x, e.hooks, e.payload, e.ttl)
  return id
end
