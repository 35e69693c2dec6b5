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
-- writes one queued, from what rshared encoded once for all deliveries
-- of an event; rdone records an outcome; rpairs gives the fields set as
-- HGETALL would, for the API.
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
local function rnew(k, id, hook, shared, host, ttl)
  rset(k, cjson.encode({tostring(id), tostring(hook)}):sub(1, -2) .. ','
          .. shared .. ',' .. cjson.encode(tostring(host or ''))
          .. ',"","","","",""]\n', ttl)
end
-- o: {field, value, ...}; false when there is no such record
local POS
local function rdone(k, o, response, ttl)
  local v = redis.call('GET', k)
  if not v then return false end
  local line = string.match(v, '^[^\n]*')
  if string.find(line, '\t', 1, true) then
    local r = rparse(v)
    for i = 1, #o - 1, 2 do r[o[i]] = o[i + 1] end
    r.response = response
    rput(k, r, ttl)
    return true
  end
  if not POS then
    POS = {}
    for i, f in ipairs(FIELDS) do POS[f] = i end
  end
  local a = {}
  for i = 1, #o - 1, 2 do
    if POS[o[i]] then
      a[#a + 1] = POS[o[i]]
      a[#a + 1] = o[i + 1]
    end
  end
  rset(k, line .. '\t' .. cjson.encode(a) .. '\n' .. response, ttl)
  return true
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
