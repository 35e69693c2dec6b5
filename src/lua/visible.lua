-- visible: the first step of a bulk redelivery, in the scope: the hooks
-- the caller may see (one, or all of them), by id, with the host their
-- deliveries go to.
--
-- lib: host
--
-- KEYS[1] hooks       the hooks hash
-- ARGV[1] hook        the hook id, or "" for all
-- ARGV[2] app         the caller's OAuth app or ""
--
-- Reply: {id, host, id, host, ...}, or -1 if the hook is not found.
local function mine(h)
  return (redis.call('HGET', KEYS[1], h .. ':c') or '') == ARGV[2]
end
local ids = {}
if ARGV[1] ~= '' then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
     or not mine(ARGV[1]) then return -1 end
  ids[1] = tonumber(ARGV[1])
else
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.find(f, '^%d+$') and mine(f) then
      ids[#ids + 1] = tonumber(f)
    end
  end
  table.sort(ids)
end
local out = {}
for _, h in ipairs(ids) do
  local url = cjson.decode(redis.call('HGET', KEYS[1], h)).config.url
  out[#out + 1] = tostring(h)
  out[#out + 1] = host(url)
end
return out
