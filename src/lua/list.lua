-- list: a page of a hook's deliveries, newest first, from a cursor on,
-- and the cursor of the page before it.
--
-- KEYS[1] deliveries  the hook's deliveries
-- ARGV[1] prefix      the scope prefix
-- ARGV[2] top         highest id ("+inf" for the first page)
-- ARGV[3] count       how many, plus one
-- ARGV[4] status      "", "success" or "failure"
-- ARGV[5] redelivery  "", "true" or "false"
--
-- Reply: {records (one more than asked for when there are more), id of
-- the newest record of the page before, or false}.
local want = tonumber(ARGV[3]) - 1
local function record(id)
  local r = redis.call('HMGET', ARGV[1] .. 'delivery:' .. id, 'id',
    'guid', 'delivered_at', 'redelivery', 'duration', 'status',
    'status_code', 'event', 'action', 'installation_id',
    'repository_id', 'throttled_at')
  if not r[1] then
    redis.call('ZREM', KEYS[1], id)
    return nil
  end
  local c = tonumber(r[7]) or 0
  if (ARGV[4] == 'success' and (c < 200 or c > 399))
      or (ARGV[4] == 'failure' and (c < 400 or c > 599))
      or (ARGV[5] == 'true' and r[4] ~= '1')
      or (ARGV[5] == 'false' and r[4] == '1') then
    return nil
  end
  return r
end
local out, max = {}, ARGV[2]
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
local prev, n, min = false, 0, ARGV[2]
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
