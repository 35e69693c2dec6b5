-- A delivery's record: one string, "<JSON array of its fields' values, in
-- the order below>[\t<JSON array of the positions in that order and the
-- values of the fields of its latest outcome>]\n<response headers
-- JSON>\n<response body>", so that it costs
-- its bytes and one key; a field never set is "".  An outcome is written
-- beside the fields of the queued delivery, not merged into them, so
-- that recording it decodes and encodes nothing (JSON escapes every tab
-- and newline in a value).  rget gives a table of the fields, the
-- outcome's over the others, and the response ("" before an attempt), or
-- nil; rput writes one, with a time to live or keeping its own; rnew
-- writes one queued, from what rshared (or the sender, for an event
-- taken in) encoded once for all deliveries of an event; rpairs gives
-- the fields set as HGETALL would, for the API.  An outcome is written
-- by the sender (ngx_http_webhooks_delivery.c makes the record whole,
-- with the positions of FIELDS), not here.
-- (positions are the sender's too: new fields go at the end)
local FIELDS = {'id', 'hook', 'hooks', 'guid', 'event', 'action',
  'repository_id', 'installation_id', 'redelivery', 'target_type',
  'target_id', 'payload', 'delivered_at', 'status', 'status_code',
  'duration', 'attempt', 'auto', 'host', 'url', 's1', 's256', 'form',
  'throttled_at'}
local function rparse(v)
  local e = string.find(v, '\n', 1, true) or (#v + 1)
  local line, r = string.sub(v, 1, e - 1), {}
  local t = string.find(line, '\t', 1, true)
  local a = cjson.decode(t and string.sub(line, 1, t - 1) or line)
  for i, f in ipairs(FIELDS) do r[f] = a[i] or '' end
  if t then
    local o = cjson.decode(string.sub(line, t + 1))
    for i = 1, #o - 1, 2 do
      if FIELDS[o[i]] then r[FIELDS[o[i]]] = o[i + 1] end
    end
  end
  r.response = string.sub(v, e + 1)
  return r
end
local function rget(k)
  local v = redis.call('GET', k)
  return v and rparse(v) or nil
end
local function rset(k, v, ttl)
  if ttl then
    redis.call('SET', k, v, 'EX', ttl)
  else
    redis.call('SET', k, v, 'KEEPTTL')
  end
end
local function rput(k, r, ttl)
  local a = {}
  for i, f in ipairs(FIELDS) do a[i] = tostring(r[f] or '') end
  rset(k, cjson.encode(a) .. '\n' .. (r.response or ''), ttl)
end
-- the fields from "hooks" to "auto", the same for every delivery of r
local function rshared(r)
  local a = {}
  for i = 3, 18 do a[i - 2] = tostring(r[FIELDS[i]] or '') end
  return string.sub(cjson.encode(a), 2, -2)
end
-- a plain string's JSON without cjson: most are (ids, keys, hosts)
local function rjson(s)
  s = tostring(s or '')
  if not string.find(s, '[%c"\\\128-\255]') then
    return '"' .. s .. '"'
  end
  return cjson.encode(s)
end
-- shared: rshared's, or the same made by the sender; host as JSON
local function rnew(k, id, hook, shared, host, ttl)
  rset(k, '[' .. rjson(id) .. ',' .. rjson(hook) .. ',' .. shared .. ','
          .. host .. ',"","","","",""]\n', ttl)
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
