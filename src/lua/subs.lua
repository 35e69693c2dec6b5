-- subs: the first step of an event's intake in one of its scopes (a
-- repository or an organization): the active hooks that take the event,
-- read from the scope's subscription index (lib/index.lua, built on
-- first use), and the objects the event tells of, kept for pings (10
-- minutes from the last write; a worker writes each at most every 5).
--
-- lib: index
--
-- KEYS[1] hooks          the hooks hash
-- KEYS[2] subs           the scope's subscription index
-- KEYS[3] object         the scope's object
-- KEYS[4] sender         the sender's object in the scope
-- ARGV[1] event          the event's name
-- ARGV[2] object_json    the repository or organization object or ""
-- ARGV[3] sender_object  the sender object or ""
--
-- Reply: {id, url, id, url, ...} of the hooks that take it.
if redis.call('HEXISTS', KEYS[2], '_') == 0 then
  reindex(KEYS[1], KEYS[2])
end
local out, seen = {}, {}
for _, v in ipairs(redis.call('HMGET', KEYS[2], ARGV[1], '*')) do
  if v then
    for id, url in string.gmatch(v, '(%d+) ([^\n]+)') do
      if not seen[id] then
        seen[id] = true
        out[#out + 1] = id
        out[#out + 1] = url
      end
    end
  end
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[3], ARGV[2], 'EX', 600)
end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[4], ARGV[3], 'EX', 600)
end
return out
