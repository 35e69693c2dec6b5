-- enqueue: one delivery to one hook: a ping, a test or a redelivery, in
-- the queue shard of the hook's scope.
--
-- lib: host send shard record queue
--
-- KEYS[1] payload_key      the payload
-- KEYS[2] queue            the shard's stream of deliveries
-- KEYS[3] seq              the shard's delivery counter
-- KEYS[4] retry            the shard's retry set
-- ARGV[1] guid             the delivery's GUID
-- ARGV[2] event            the event's name
-- ARGV[3] ttl              how long deliveries and payloads are kept
-- ARGV[4] now              the time, ISO 8601
-- ARGV[5] action           the record's action
-- ARGV[6] repository_id    the record's repository_id
-- ARGV[7] installation_id  the record's installation_id
-- ARGV[8] redelivery       "1" for a redelivery, else "0"
-- ARGV[9] payload          the payload, or "" to keep the stored one
-- ARGV[10] shard           the shard's number
-- ARGV[11] shards          how many shards there are
-- ARGV[12] hooks           the scope's hooks hash, for the entry
-- ARGV[13] hook            the hook id
-- ARGV[14] url             the hook's URL
-- ARGV[15] target_type     "repository" or "organization"
-- ARGV[16] target_id       the repository or organization id
-- ARGV[17] queue_max       the most deliveries queued and due later
--
-- Reply: the delivery id, -2 if the payload is gone, -3 if the queue is
-- full.
if not inside(shard(KEYS[2]), KEYS[1]) then
  return redis.error_reply('the payload is not in the shard')
end
if full(KEYS[2], KEYS[4], ARGV[17]) then return -3 end
if ARGV[9] == '' then
  if redis.call('EXPIRE', KEYS[1], ARGV[3]) == 0 then return -2 end
else
  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])
end
return queue(KEYS[2], newid(KEYS[3], ARGV[11], ARGV[10]), {payload = KEYS[1],
  guid = ARGV[1], event = ARGV[2], action = ARGV[5],
  repository_id = ARGV[6], installation_id = ARGV[7],
  redelivery = ARGV[8], hooks = ARGV[12], target_type = ARGV[15],
  target_id = ARGV[16], auto = 0, delivered_at = ARGV[4], ttl = ARGV[3]},
  ARGV[13], ARGV[14])
