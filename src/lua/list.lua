-- list: a page of a hook's deliveries, newest first, from a cursor on,
-- and the cursor of the page before it.
--
-- lib: shard record
--
-- KEYS[1] deliveries  the hook's deliveries, in its queue shard
-- ARGV[1] top         highest id ("+inf" for the first page)
-- ARGV[2] count       how many, plus one
-- ARGV[3] status      "", "success" or "failure"
-- ARGV[4] redelivery  "", "true" or "false"
--
-- Reply: {records (one more than asked for when there are more), id of
-- the newest record of the page before, or false}.
local sp, want = shard(KEYS[1]), tonumber(ARGV[2]) - 1
local function record(id)
  local m = rget(sp .. 'delivery:' .. id)
  if not m then
    redis.call('ZREM', KEYS[1], id)
    return nil
  end
  local r = {m.id, m.guid, m.delivered_at, m.redelivery, m.duration,
    m.status, m.status_code, m.event, m.action, m.installation_id,
    m.repository_id, m.throttled_at}
  local c = tonumber(r[7]) or 0
  if (ARGV[3] == 'success' and (c < 200 or c > 399))
      or (ARGV[3] == 'failure' and (c < 400 or c > 599))
      or (ARGV[4] == 'true' and r[4] ~= '1')
      or (ARGV[4] == 'false' and r[4] == '1') then
    return nil
  end
  return r
end
local out, max = {}, ARGV[1]
while #out < want + 1 do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf',
                         'LIMIT', 0, 100)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = record(id)
    if r then
      out[#out + 1] = r
      if #out == want + 1 then break end
    end
    max = '(' .. id
  end
end
local prev, n, min = false, 0, ARGV[1]
if min ~= '+inf' then
  min = '(' .. (out[1] and out[1][1] or min)
  while n < want do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf',
                           'LIMIT', 0, 100)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      if record(id) then
        prev, n = id, n + 1
        if n == want then break end
      end
      min = '(' .. id
    end
  end
end
return {out, prev}
