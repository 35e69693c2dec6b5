-- promote: deliveries of one queue shard due.  Each failed one is tried
-- again as a delivery of its own (the same GUID, not a redelivery, its
-- attempt counted), each one put off is queued again.  Those whose
-- record or payload expired are dropped here, those whose hook was
-- deleted or deactivated by the sender, which reads the hook.  Members
-- of the retry set: "r:<key>" a failed delivery, "d<n>:<key>" one put
-- off.
--
-- lib: send shard record
--
-- KEYS[1] retry       the shard's retry set
-- KEYS[2] queue       the shard's stream of deliveries
-- KEYS[3] seq         the shard's delivery counter
-- ARGV[1] now_ms      the time in ms
-- ARGV[2] limit       how many at most
-- ARGV[3] ttl         how long deliveries and payloads are kept
-- ARGV[4] now         the time, ISO 8601
-- ARGV[5] shard       the shard's number
-- ARGV[6] shards      how many shards there are
--
-- Reply: {how many were due, when the next is due (ms) or ""}.
local sp = shard(KEYS[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],
                       'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  local kind, d, rk = string.match(m, '^(%a)(%d*):(.*)$')
  local r = inside(sp, rk) and rget(rk) or {}
  if r.hook and inside(sp, r.payload)
     and redis.call('EXISTS', r.payload) == 1 then
    if kind == 'r' then
      local id = newid(KEYS[3], ARGV[6], ARGV[5])
      rk = sp .. 'delivery:' .. id
      rput(rk, {id = id, hook = r.hook, hooks = r.hooks, guid = r.guid,
        event = r.event, action = r.action,
        repository_id = r.repository_id,
        installation_id = r.installation_id, redelivery = 0,
        target_type = r.target_type, target_id = r.target_id,
        payload = r.payload, delivered_at = ARGV[4], status = 'queued',
        status_code = 0, duration = 0,
        attempt = (tonumber(r.attempt) or 1) + 1, auto = 1,
        host = r.host}, ARGV[3])
      redis.call('ZADD', sp .. 'deliveries:' .. r.hook, id, id)
      redis.call('EXPIRE', r.payload, ARGV[3])
      d = ''
      r.attempt, r.auto = (tonumber(r.attempt) or 1) + 1, 1
    end
    redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', r.hook,
               't', r.host or '', 'd', d, 's', r.hooks,
               'p', r.payload, 'x', send(r.guid, r.event,
               r.attempt, r.auto, r.target_type, r.target_id))
  end
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, next[2] or ''}
