-- A scope's subscription index: the hash "<scope>subs" maps each event,
-- and "*", to the active hooks that take it, as lines "<id> <url>", and
-- "_" to "1" once built.  Built again from the hooks hash whenever a hook
-- is written, deleted or deactivated, so that an event reads only its
-- own subscribers and decodes no hook.
local function reindex(hooks, subs)
  redis.call('DEL', subs)
  if redis.call('EXISTS', hooks) == 0 then return end
  local all = redis.call('HGETALL', hooks)
  local by, order, flat = {}, {}, {'_', '1'}
  for i = 1, #all, 2 do
    if string.find(all[i], '^%d+$') then
      local h = cjson.decode(all[i + 1])
      if h.active then
        for _, e in ipairs(h.events) do
          if not by[e] then
            by[e] = {}
            order[#order + 1] = e
          end
          local l = by[e]
          l[#l + 1] = all[i] .. ' ' .. h.config.url
        end
      end
    end
  end
  for _, e in ipairs(order) do
    flat[#flat + 1] = e
    flat[#flat + 1] = table.concat(by[e], '\n')
  end
  redis.call('HSET', subs, (table.unpack or unpack)(flat))
end
