-- A delivery's record: one string, "<JSON array of its fields' values, in
-- the order below>\n<response headers JSON>\n<response body>", so that it
-- costs its bytes and one key; a field never set is "".  rget gives a
-- table of the fields and the response ("" before an attempt), or nil;
-- rput writes one, with a time to live or keeping its own; rpairs gives
-- the fields set as HGETALL would, for the API.
local FIELDS = {'id', 'hook', 'hooks', 'guid', 'event', 'action',
  'repository_id', 'installation_id', 'redelivery', 'target_type',
  'target_id', 'payload', 'delivered_at', 'status', 'status_code',
  'duration', 'attempt', 'auto', 'host', 'url', 's1', 's256', 'form',
  'throttled_at'}
local function rget(k)
  local v = redis.call('GET', k)
  if not v then return nil end
  local e = string.find(v, '\n', 1, true) or (#v + 1)
  local a, r = cjson.decode(string.sub(v, 1, e - 1)), {}
  for i, f in ipairs(FIELDS) do r[f] = a[i] or '' end
  r.response = string.sub(v, e + 1)
  return r
end
local function rput(k, r, ttl)
  local a = {}
  for i, f in ipairs(FIELDS) do a[i] = tostring(r[f] or '') end
  local v = cjson.encode(a) .. '\n' .. (r.response or '')
  if ttl then
    redis.call('SET', k, v, 'EX', ttl)
  else
    redis.call('SET', k, v, 'KEEPTTL')
  end
end
local function rpairs(r)
  local out = {}
  for _, f in ipairs(FIELDS) do
    if r[f] ~= '' then
      out[#out + 1] = f
      out[#out + 1] = r[f]
    end
  end
  return out
end
