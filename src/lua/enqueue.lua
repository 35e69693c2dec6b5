-- enqueue: one delivery to one hook: a ping, a test or a redelivery.
--
-- lib: host send queue
--
-- KEYS[1] payload_key      the payload
-- KEYS[2] queue            the stream of deliveries
-- KEYS[3] seq              the delivery counter
-- KEYS[4] hooks            the hooks hash
-- KEYS[5] retry            the retry set
-- ARGV[1] guid             the delivery's GUID
-- ARGV[2] event            the event's name
-- ARGV[3] ttl              how long deliveries and payloads are kept
-- ARGV[4] now              the time, ISO 8601
-- ARGV[5] action           the record's action
-- ARGV[6] repository_id    the record's repository_id
-- ARGV[7] installation_id  the record's installation_id
-- ARGV[8] redelivery       "1" for a redelivery, else "0"
-- ARGV[9] payload          the payload, or "" to keep the stored one
-- ARGV[10] prefix          the scope prefix
-- ARGV[11] hook            the hook id
-- ARGV[12] target_type     "repository" or "organization"
-- ARGV[13] target_id       the repository or organization id
-- ARGV[14] queue_max       the most deliveries queued and due later
--
-- Reply: the delivery id, -1 if the hook is gone, -2 if the payload is,
-- -3 if the queue is full.
local h = redis.call('HGET', KEYS[4], ARGV[11])
if not h then return -1 end
if full(KEYS[5], ARGV[14]) then return -3 end
if ARGV[9] == '' then
  if redis.call('EXPIRE', KEYS[1], ARGV[3]) == 0 then return -2 end
else
  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])
end
return queue(ARGV[10], KEYS[4], ARGV[11], cjson.decode(h).config.url,
             ARGV[12], ARGV[13], 0)
