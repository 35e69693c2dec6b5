-- The keys of a queue shard share the hash tag of its queue: they are
-- "<prefix>{q<n>}:...", and a key a script finds named in a record or
-- builds from an id is checked to be one of them, so that a script never
-- leaves the slot of its KEYS.  Delivery ids are unique across shards:
-- the shard's counter times the number of shards, plus the shard.
local function shard(k)
  return string.match(k, '^(.-{[^}]*}:)')
end
local function inside(sp, k)
  return k and string.sub(k, 1, #sp) == sp
end
local function newid(seq, n, s)
  return redis.call('INCR', seq) * tonumber(n) + tonumber(s)
end
