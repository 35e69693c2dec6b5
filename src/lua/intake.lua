-- intake: the second step of an event's intake in one of its scopes, in
-- the scope's queue shard: one delivery to each hook the first step
-- (subs.lua) found, all or none, and the payload once in the shard.
-- Under an idempotency key a step is remembered under the event's GUID,
-- so that the same step again queues nothing and answers the same count.
--
-- lib: host send shard record queue
--
-- KEYS[1] payload_key      the event's payload in the shard
-- KEYS[2] queue            the shard's stream of deliveries
-- KEYS[3] seq              the shard's delivery counter
-- KEYS[4] retry            the shard's retry set
-- KEYS[5] seen             the count of this step, once done
-- KEYS[6] lastpush         the key of the scope's latest push
-- ARGV[1] guid             the event's GUID
-- ARGV[2] event            its name
-- ARGV[3] ttl              how long deliveries and payloads are kept
-- ARGV[4] now              the time, ISO 8601
-- ARGV[5] action           the payload's action or ""
-- ARGV[6] repository_id    the record's repository_id
-- ARGV[7] installation_id  the record's installation_id
-- ARGV[8] redelivery       "0"
-- ARGV[9] payload          the payload
-- ARGV[10] shard           the shard's number
-- ARGV[11] shards          how many shards there are
-- ARGV[12] hooks           the scope's hooks hash, for the entries
-- ARGV[13] target_type     "repository" or "organization"
-- ARGV[14] target_id       the repository or organization id
-- ARGV[15] queue_max       the most deliveries queued and due later
-- ARGV[16] idem            "1" to remember the step under KEYS[5]
-- ARGV[17] push            "1" when the event is a repository's push
-- ARGV[18..] hooks_urls    the hooks' ids and URLs, one after the other
--
-- Reply: the number of deliveries queued, -1 when the queue is full.
if ARGV[16] == '1' then
  local was = redis.call('GET', KEYS[5])
  if was then return tonumber(was) end
end
local n = (#ARGV - 17) / 2
if n > 0 and full(KEYS[4], ARGV[15]) then return -1 end
for i = 18, #ARGV, 2 do
  queue(ARGV[12], ARGV[i], ARGV[i + 1], ARGV[13], ARGV[14], 1)
end
if n > 0 or ARGV[17] == '1' then
  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])
end
if ARGV[17] == '1' then
  redis.call('SET', KEYS[6], KEYS[1], 'EX', ARGV[3])
end
if ARGV[16] == '1' then
  redis.call('SET', KEYS[5], n, 'EX', ARGV[3])
end
return n
