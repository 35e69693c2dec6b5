-- bulk: the second step of a bulk redelivery, in the queue shard of the
-- scope: of the hooks visible.lua gave, the deliveries whose last attempt
-- (the newest delivery of their GUID to the hook) failed within [since,
-- until] and that no automatic try awaits, each redelivered as the API's
-- redelivery does.  Hooks go by id, deliveries newest first; a delivery
-- redelivered is no longer the last attempt of its GUID, so a second call
-- queues it again only once the redelivery failed too.  All queued, or
-- none when the queue would overflow.
--
-- lib: send shard record
--
-- KEYS[1] queue        the shard's stream of deliveries
-- KEYS[2] seq          the shard's delivery counter
-- KEYS[3] retry        the shard's retry set
-- ARGV[1] since        ISO 8601
-- ARGV[2] until        ISO 8601
-- ARGV[3] limit        how many at most
-- ARGV[4] cursor_hook  cursor: hook id or ""
-- ARGV[5] cursor_id    cursor: delivery id
-- ARGV[6] ttl          how long deliveries and payloads are kept
-- ARGV[7] now          the time, ISO 8601
-- ARGV[8] queue_max    the most deliveries queued and due later
-- ARGV[9] shard        the shard's number
-- ARGV[10] shards      how many shards there are
-- ARGV[11] hooks       the scope's hooks hash, for the entries
-- ARGV[12..] hosts     the hooks' ids and hosts, one after the other
--
-- Reply: {queued, next hook, next delivery} ("" when done), -2 if the
-- queue is full.
local sp, max = shard(KEYS[1]), tonumber(ARGV[3])
local ch, cd = tonumber(ARGV[4]), tonumber(ARGV[5])
local todo, nh, nd = {}, '', ''
for i = 12, #ARGV, 2 do
  local h, t = tonumber(ARGV[i]), ARGV[i + 1]
  if nh ~= '' then break end
  if not ch or h >= ch then
    local below = (h == ch) and cd or nil
    local zk, seen, top = sp .. 'deliveries:' .. h, {}, '+inf'
    while nh == '' do
      local ids = redis.call('ZREVRANGEBYSCORE', zk, top, '-inf',
                             'LIMIT', 0, 100)
      if #ids == 0 then break end
      for _, id in ipairs(ids) do
        top = '(' .. id
        local rk = sp .. 'delivery:' .. id
        local m = rget(rk)
        local r = m and {m.guid, m.status, m.status_code, m.delivered_at,
                         m.payload} or {}
        if r[1] and not seen[r[1]] then
          seen[r[1]] = true
          local c = tonumber(r[3]) or 0
          if (not below or tonumber(id) <= below)
             and r[2] ~= 'queued' and (c < 200 or c > 299)
             and (r[4] or '') >= ARGV[1] and (r[4] or '') <= ARGV[2]
             and not redis.call('ZSCORE', KEYS[3], 'r:' .. rk)
             and inside(sp, r[5])
             and redis.call('EXISTS', r[5]) == 1 then
            if #todo == max then
              nh, nd = h, id
              break
            end
            todo[#todo + 1] = {h, rk, t}
          end
        end
      end
    end
  end
end
if #todo > 0 and redis.call('XLEN', KEYS[1])
   + redis.call('ZCARD', KEYS[3]) + #todo > tonumber(ARGV[8]) then
  return -2
end
for _, t in ipairs(todo) do
  local h, a = t[1], rget(t[2])
  local id = newid(KEYS[2], ARGV[10], ARGV[9])
  local rk = sp .. 'delivery:' .. id
  rput(rk, {id = id, hook = h, hooks = ARGV[11], guid = a.guid,
    event = a.event, action = a.action, repository_id = a.repository_id,
    installation_id = a.installation_id, redelivery = 1,
    target_type = a.target_type, target_id = a.target_id,
    payload = a.payload, delivered_at = ARGV[7], status = 'queued',
    status_code = 0, duration = 0, attempt = 1, auto = 0, host = t[3]},
    ARGV[6])
  redis.call('EXPIRE', a.payload, ARGV[6])
  redis.call('ZADD', sp .. 'deliveries:' .. h, id, id)
  redis.call('XADD', KEYS[1], '*', 'k', rk, 'h', h, 't', t[3],
             's', ARGV[11], 'p', a.payload, 'x', send(a.guid, a.event,
             1, 0, a.target_type, a.target_id))
end
return {#todo, tostring(nh), tostring(nd)}
