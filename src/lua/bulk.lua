-- bulk: bulk redelivery.  The deliveries of one hook, or of every hook of
-- the scope the caller may see, whose last attempt (the newest delivery
-- of their GUID to the hook) failed within [since, until] and that no
-- automatic try awaits, each redelivered as the API's redelivery does.
-- Hooks go by id, deliveries newest first; a delivery redelivered is no
-- longer the last attempt of its GUID, so a second call queues it again
-- only once the redelivery failed too.  All queued, or none when the
-- queue would overflow.
--
-- lib: host send
--
-- KEYS[1] hooks        the hooks hash
-- KEYS[2] queue        the stream of deliveries
-- KEYS[3] seq          the delivery counter
-- KEYS[4] retry        the retry set
-- ARGV[1] prefix       the scope prefix
-- ARGV[2] hook         the hook id, or "" for all
-- ARGV[3] since        ISO 8601
-- ARGV[4] until        ISO 8601
-- ARGV[5] limit        how many at most
-- ARGV[6] cursor_hook  cursor: hook id or ""
-- ARGV[7] cursor_id    cursor: delivery id
-- ARGV[8] app          the caller's OAuth app or ""
-- ARGV[9] ttl          how long deliveries and payloads are kept
-- ARGV[10] now         the time, ISO 8601
-- ARGV[11] queue_max   the most deliveries queued and due later
--
-- Reply: {queued, next hook, next delivery} ("" when done), -1 if the
-- hook is not found, -2 if the queue is full.
local sp, max = ARGV[1], tonumber(ARGV[5])
local ch, cd = tonumber(ARGV[6]), tonumber(ARGV[7])
local function mine(h)
  return (redis.call('HGET', KEYS[1], h .. ':c') or '') == ARGV[8]
end
local hooks = {}
if ARGV[2] ~= '' then
  if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0
     or not mine(ARGV[2]) then return -1 end
  hooks[1] = tonumber(ARGV[2])
else
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.find(f, '^%d+$') and mine(f) then
      hooks[#hooks + 1] = tonumber(f)
    end
  end
  table.sort(hooks)
end
local todo, nh, nd = {}, '', ''
for _, h in ipairs(hooks) do
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
        local r = redis.call('HMGET', rk, 'guid', 'status',
                             'status_code', 'delivered_at', 'payload')
        if r[1] and not seen[r[1]] then
          seen[r[1]] = true
          local c = tonumber(r[3]) or 0
          if (not below or tonumber(id) <= below)
             and r[2] ~= 'queued' and (c < 200 or c > 299)
             and (r[4] or '') >= ARGV[3] and (r[4] or '') <= ARGV[4]
             and not redis.call('ZSCORE', KEYS[4], 'r:' .. rk)
             and redis.call('EXISTS', r[5]) == 1 then
            if #todo == max then
              nh, nd = h, id
              break
            end
            todo[#todo + 1] = {h, rk}
          end
        end
      end
    end
  end
end
if #todo > 0 and redis.call('XLEN', KEYS[2])
   + redis.call('ZCARD', KEYS[4]) + #todo > tonumber(ARGV[11]) then
  return -2
end
for _, t in ipairs(todo) do
  local h, a = t[1], {}
  local f = redis.call('HGETALL', t[2])
  for i = 1, #f, 2 do a[f[i]] = f[i + 1] end
  local url = cjson.decode(redis.call('HGET', KEYS[1], h)).config.url
  local id = redis.call('INCR', KEYS[3])
  local rk = sp .. 'delivery:' .. id
  redis.call('HSET', rk, 'id', id, 'hook', h, 'hooks', KEYS[1],
    'guid', a.guid, 'event', a.event, 'action', a.action or '',
    'repository_id', a.repository_id or '',
    'installation_id', a.installation_id or '', 'redelivery', 1,
    'target_type', a.target_type or '', 'target_id', a.target_id or '',
    'payload', a.payload, 'delivered_at', ARGV[10], 'status', 'queued',
    'status_code', 0, 'duration', 0, 'attempt', 1, 'auto', 0)
  redis.call('EXPIRE', rk, ARGV[9])
  redis.call('EXPIRE', a.payload, ARGV[9])
  redis.call('ZADD', sp .. 'deliveries:' .. h, id, id)
  redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', h, 't', host(url),
             's', KEYS[1], 'p', a.payload, 'x', send(a.guid, a.event,
             1, 0, a.target_type, a.target_id))
end
return {#todo, tostring(nh), tostring(nd)}
