-- intake: an event taken in.  Every active hook of the repo and of the
-- org that subscribes to it gets one delivery, all or none.  Under an
-- idempotency key, the first event taken in is remembered for the ttl as
-- "<sha1 of event and payload> <guid> <deliveries>", and the same key
-- again queues nothing: it gets the first answer back, or a conflict
-- when the event or payload differ.
--
-- lib: host send queue
--
-- KEYS[1] payload_key      the event's payload
-- KEYS[2] queue            the stream of deliveries
-- KEYS[3] seq              the delivery counter
-- KEYS[4] repo_hooks       the repo's hooks (the bare prefix for none)
-- KEYS[5] org_hooks        the org's hooks (the bare prefix for none)
-- KEYS[6] retry            the retry set
-- KEYS[7] idem_key         the idempotency key (the bare prefix, never
--                          touched, when the event has none)
-- ARGV[1] guid             the event's GUID
-- ARGV[2] event            its name
-- ARGV[3] ttl              how long deliveries and payloads are kept
-- ARGV[4] now              the time, ISO 8601
-- ARGV[5] action           the payload's action or ""
-- ARGV[6] repository_id    the record's repository_id
-- ARGV[7] installation_id  the record's installation_id
-- ARGV[8] redelivery       "0"
-- ARGV[9] payload          the payload
-- ARGV[10] repo_prefix     the repo's scope prefix or ""
-- ARGV[11] repo_id         the repository id
-- ARGV[12] org_prefix      the org's scope prefix or ""
-- ARGV[13] org_id          the organization id
-- ARGV[14] repo_object     the repository object or ""
-- ARGV[15] org_object      the organization object or ""
-- ARGV[16] sender_key      the sender's key
-- ARGV[17] sender_object   the sender object or ""
-- ARGV[18] queue_max       the most deliveries queued and due later
-- ARGV[19] idem            "1" when KEYS[7] is an idempotency key
--
-- Reply: the number of deliveries queued, -1 when the queue is full,
-- {"replay", guid, deliveries} or {"conflict"} under a key seen before.
local sum
if ARGV[19] == '1' then
  sum = redis.sha1hex(ARGV[2] .. ' ' .. ARGV[9])
  local was = redis.call('GET', KEYS[7])
  if was then
    local s, g, c = string.match(was, '^(%x+) (%S+) (%d+)$')
    if s ~= sum then return {'conflict'} end
    return {'replay', g, tonumber(c)}
  end
end
if full(KEYS[6], ARGV[18]) then return -1 end
local n = 0
local function fan(hooks, sp, ttype, tid)
  local all = redis.call('HGETALL', hooks)
  for i = 1, #all, 2 do
    if string.find(all[i], '^%d+$') then
      local h = cjson.decode(all[i + 1])
      local sub = false
      if h.active then
        for _, e in ipairs(h.events) do
          if e == ARGV[2] or e == '*' then sub = true end
        end
      end
      if sub then
        queue(sp, hooks, all[i], h.config.url, ttype, tid, 1)
        n = n + 1
      end
    end
  end
end
if ARGV[10] ~= '' then
  fan(KEYS[4], ARGV[10], 'repository', ARGV[11])
end
if ARGV[12] ~= '' then
  fan(KEYS[5], ARGV[12], 'organization', ARGV[13])
end
local push = ARGV[2] == 'push' and ARGV[10] ~= ''
if n > 0 or push then
  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])
end
if ARGV[10] ~= '' then
  if push then
    redis.call('SET', ARGV[10] .. 'lastpush', KEYS[1])
  end
  if ARGV[14] ~= '' then
    redis.call('SET', ARGV[10] .. 'object', ARGV[14], 'NX', 'EX', 600)
  end
end
if ARGV[12] ~= '' and ARGV[15] ~= '' then
  redis.call('SET', ARGV[12] .. 'object', ARGV[15], 'NX', 'EX', 600)
end
if ARGV[17] ~= '' then
  redis.call('SET', ARGV[16], ARGV[17], 'NX', 'EX', 600)
end
if sum then
  redis.call('SET', KEYS[7], sum .. ' ' .. ARGV[1] .. ' ' .. n,
             'EX', ARGV[3])
end
return n
