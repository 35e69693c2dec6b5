-- context: what a ping tells about its repository or organization and
-- sender: the objects last taken in, and ids made up when there are none.
--
-- All its keys are the scope's.
--
-- KEYS[1] object        the scope's object
-- KEYS[2] sender        the sender's object in the scope
-- KEYS[3] ids           the ids made up in the scope
-- KEYS[4] seq           their counter
-- ARGV[1] scope_field   the scope's field in KEYS[3]
-- ARGV[2] sender_field  the sender's field in KEYS[3]
-- ARGV[3] owner_field   the repo owner's field in KEYS[3], or ""
--
-- Reply: {scope object, sender object, scope id, sender id, owner id or
-- false}.
local function id(f)
  local v = redis.call('HGET', KEYS[3], f)
  if not v then
    v = redis.call('INCR', KEYS[4])
    redis.call('HSET', KEYS[3], f, v)
  end
  return v
end
local owner = false
if ARGV[3] ~= '' then owner = id(ARGV[3]) end
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]),
        id(ARGV[1]), id(ARGV[2]), owner}
