-- save: a hook created or replaced, unless another hook of the scope has
-- the same URL and an event in common, or an event would have more hooks
-- than allowed.  The scope's subscription index follows.
--
-- lib: index
--
-- KEYS[1] hooks       the hooks hash
-- KEYS[2] subs        the scope's subscription index
-- ARGV[1] id          the hook id
-- ARGV[2] stored      the stored hook expected ("" to create)
-- ARGV[3] hook        the new hook
-- ARGV[4] view        its public view
-- ARGV[5] app         its creator app ("" for a user)
-- ARGV[6] name        the org or repo name as spelled
-- ARGV[7] max_hooks   the cap on hooks per event
--
-- Reply: {"ok", name as first spelled}, {"exists"}, {"gone"},
-- {"conflict"}, {"duplicate"} or {"cap", event}.
local id, old, new = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('HGET', KEYS[1], id)
if old == '' then
  if cur then return {'exists'} end
elseif not cur then
  return {'gone'}
elseif cur ~= old then
  return {'conflict'}
end
local doc = cjson.decode(new)
local mine, count = {}, {}
for _, e in ipairs(doc.events) do mine[e] = true end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= id and string.find(all[i], '^%d+$') then
    local h = cjson.decode(all[i + 1])
    local overlap = false
    for _, e in ipairs(h.events) do
      count[e] = (count[e] or 0) + 1
      if mine[e] or mine['*'] or e == '*' then overlap = true end
    end
    if overlap and h.config.url == doc.config.url then
      return {'duplicate'}
    end
  end
end
for _, e in ipairs(doc.events) do
  if (count[e] or 0) >= tonumber(ARGV[7]) then return {'cap', e} end
end
redis.call('HSET', KEYS[1], id, new, id .. ':v', ARGV[4],
           id .. ':c', ARGV[5])
if doc.active then redis.call('HDEL', KEYS[1], id .. ':fs') end
redis.call('HSETNX', KEYS[1], 'name', ARGV[6])
reindex(KEYS[1], KEYS[2])
return {'ok', redis.call('HGET', KEYS[1], 'name')}
