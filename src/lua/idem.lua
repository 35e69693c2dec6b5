-- idem: an event under an Idempotency-Key, remembered for the ttl as
-- "<sha1 of event and payload> <guid> <deliveries>", the count "-" until
-- every step of its intake is done.  A key seen before with another
-- event or payload conflicts; one whose intake did not finish gives its
-- GUID back, for the steps to be run again (each does its work once).
--
-- KEYS[1] idem_key    the idempotency key
-- ARGV[1] guid        the event's GUID
-- ARGV[2] event       its name
-- ARGV[3] payload     the payload ("" to finish)
-- ARGV[4] ttl         how long it is remembered
-- ARGV[5] deliveries  the count once every step is done, else ""
--
-- Reply: {"new"}, {"resume", guid}, {"replay", guid, deliveries} or
-- {"conflict"}; 1 once finished.
local was = redis.call('GET', KEYS[1])
if ARGV[5] ~= '' then
  local s, g = string.match(was or '', '^(%x+) (%S+) %-$')
  if s then
    redis.call('SET', KEYS[1], s .. ' ' .. g .. ' ' .. ARGV[5], 'KEEPTTL')
  end
  return 1
end
local sum = redis.sha1hex(ARGV[2] .. ' ' .. ARGV[3])
if was then
  local s, g, c = string.match(was, '^(%x+) (%S+) (%S+)$')
  if s ~= sum then return {'conflict'} end
  if c == '-' then return {'resume', g} end
  return {'replay', g, tonumber(c)}
end
redis.call('SET', KEYS[1], sum .. ' ' .. ARGV[1] .. ' -', 'EX', ARGV[4])
return {'new'}
