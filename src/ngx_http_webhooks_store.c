
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_store.h"


/*
 * Key layout (see README.md):
 *
 *   <prefix>seq:hook                     hook id counter, global
 *   <prefix>{o:<org>}:hooks              hash of one org's hooks
 *   <prefix>{r:<owner>/<repo>}:hooks     hash of one repo's hooks
 *   <prefix>seq:delivery                 delivery id counter, global
 *   <prefix>event:<guid>                 an event's payload, once per event
 *   <prefix>queue                        stream of deliveries to make:
 *                                        "k" the delivery, "h" its hook
 *                                        id, "t" the target host, "d"
 *                                        how often it was put off; "s"
 *                                        its hooks hash, "p" its payload
 *                                        and "x" what the request says
 *                                        (see the queue function below)
 *   <prefix>retry                        sorted set of deliveries due
 *                                        later, by time in ms: "r:<key>"
 *                                        a failed delivery to try again,
 *                                        "d<n>:<key>" one put off
 *   <scope>delivery:<id>                 hash: one delivery and its outcome
 *   <scope>deliveries:<hook id>          sorted set of a hook's deliveries
 *   <scope>lastpush                      the key of the latest push's
 *                                        payload (repos)
 *   <scope>object                        a recent repository or
 *                                        organization object taken in
 *   <prefix>user:<login>                 a recent sender object of a login
 *   <prefix>ids                          ids made up for pings: "r:<repo>",
 *                                        "o:<org>", "u:<login>"
 *   <prefix>idempotency:<key>            the event an Idempotency-Key took
 *                                        in: "<sha1> <guid> <deliveries>"
 *
 * where <scope> is "<prefix>{o:<org>}:" or "<prefix>{r:<owner>/<repo>}:".
 * Deliveries and payloads expire after webhooks_delivery_retention.
 *
 * Names are lowercased.  A hooks hash maps "<id>" to the stored hook,
 * "<id>:v" to its public view (rendered once, when written), "<id>:c" to
 * the OAuth app that created it ("" for a user), "<id>:lr" to its last
 * response, "<id>:fs" to when its deliveries started failing, and
 * "name" to the org or repo name as first spelled.  The
 * hash tag keeps one org's or repo's keys in one cluster slot, so every
 * script below touches one slot only.
 */


/*
 * KEYS[1] the hooks hash
 * ARGV    id, the stored hook expected ("" to create), the new hook,
 *         its view, its creator app, the name as spelled, the cap on
 *         hooks per event
 */

static const char  ngx_http_webhooks_save_lua[] =
    "local id, old, new = ARGV[1], ARGV[2], ARGV[3]\n"
    "local cur = redis.call('HGET', KEYS[1], id)\n"
    "if old == '' then\n"
    "  if cur then return {'exists'} end\n"
    "elseif not cur then\n"
    "  return {'gone'}\n"
    "elseif cur ~= old then\n"
    "  return {'conflict'}\n"
    "end\n"
    "local doc = cjson.decode(new)\n"
    "local mine, count = {}, {}\n"
    "for _, e in ipairs(doc.events) do mine[e] = true end\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "for i = 1, #all, 2 do\n"
    "  if all[i] ~= id and string.find(all[i], '^%d+$') then\n"
    "    local h = cjson.decode(all[i + 1])\n"
    "    local overlap = false\n"
    "    for _, e in ipairs(h.events) do\n"
    "      count[e] = (count[e] or 0) + 1\n"
    "      if mine[e] or mine['*'] or e == '*' then overlap = true end\n"
    "    end\n"
    "    if overlap and h.config.url == doc.config.url then\n"
    "      return {'duplicate'}\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for _, e in ipairs(doc.events) do\n"
    "  if (count[e] or 0) >= tonumber(ARGV[7]) then return {'cap', e} end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], id, new, id .. ':v', ARGV[4],\n"
    "           id .. ':c', ARGV[5])\n"
    "if doc.active then redis.call('HDEL', KEYS[1], id .. ':fs') end\n"
    "redis.call('HSETNX', KEYS[1], 'name', ARGV[6])\n"
    "return {'ok', redis.call('HGET', KEYS[1], 'name')}\n";


/*
 * KEYS[1] the hooks hash, KEYS[2] the hook's deliveries
 * ARGV[1] id, ARGV[2] the scope prefix
 */

static const char  ngx_http_webhooks_delete_lua[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "local id = ARGV[1]\n"
    "redis.call('HDEL', KEYS[1], id, id .. ':v', id .. ':c', id .. ':lr',\n"
    "           id .. ':fs')\n"
    "for _, d in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
    "  redis.call('DEL', ARGV[2] .. 'delivery:' .. d)\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "if redis.call('HLEN', KEYS[1]) <= 1 then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 1\n";


/* the host[:port] of a URL, lowercased: what the per-host cap counts */

#define NGX_HTTP_WEBHOOKS_HOST_LUA                                          \
    "local function host(url)\n"                                              \
    "  local h = string.match(url, '^%a[%w+.-]*://([^/?#]*)') or ''\n"        \
    "  return string.lower(string.match(h, '[^@]*$'))\n"                      \
    "end\n"


/*
 * The fields of a delivery the sender needs, carried in its stream entry
 * so that taking it reads no record: "<guid> <event> <attempt> <auto>
 * <target type> <target id>".  They never change once the record is
 * written.
 */

#define NGX_HTTP_WEBHOOKS_SEND_LUA                                          \
    "local function send(guid, event, attempt, auto, ttype, tid)\n"           \
    "  return table.concat({guid or '', event or '', attempt or '',\n"       \
    "                       auto or '', ttype or '', tid or ''}, ' ')\n"     \
    "end\n"


/*
 * Queues one delivery: its record, its place in the hook's list and its
 * entry in the stream.  Shared by the scripts that follow.  A delivery
 * of an event taken in ("auto") is tried again when it fails; pings,
 * tests and redeliveries are not.
 *
 * KEYS[1] payload, KEYS[2] queue, KEYS[3] delivery counter
 * ARGV[1] guid, [2] event, [3] ttl, [4] now, [5] action,
 *      [6] repository_id, [7] installation_id, [8] redelivery
 */

#define NGX_HTTP_WEBHOOKS_QUEUE_LUA                                         \
    NGX_HTTP_WEBHOOKS_HOST_LUA                                                \
    NGX_HTTP_WEBHOOKS_SEND_LUA                                                \
    "local function full(retry, max)\n"                                       \
    "  return redis.call('XLEN', KEYS[2]) + redis.call('ZCARD', retry)\n"     \
    "         >= tonumber(max)\n"                                             \
    "end\n"                                                                   \
    "local function queue(sp, hooks, hook, url, ttype, tid, auto)\n"          \
    "  local id = redis.call('INCR', KEYS[3])\n"                              \
    "  local rk = sp .. 'delivery:' .. id\n"                                  \
    "  redis.call('HSET', rk, 'id', id, 'hook', hook, 'hooks', hooks,\n"      \
    "    'guid', ARGV[1], 'event', ARGV[2], 'action', ARGV[5],\n"             \
    "    'repository_id', ARGV[6], 'installation_id', ARGV[7],\n"             \
    "    'redelivery', ARGV[8], 'target_type', ttype, 'target_id', tid,\n"    \
    "    'payload', KEYS[1], 'delivered_at', ARGV[4], 'status', 'queued',\n"  \
    "    'status_code', 0, 'duration', 0, 'attempt', 1, 'auto', auto)\n"      \
    "  redis.call('EXPIRE', rk, ARGV[3])\n"                                   \
    "  redis.call('ZADD', sp .. 'deliveries:' .. hook, id, id)\n"             \
    "  redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', hook,\n"                \
    "             't', host(url), 's', hooks, 'p', KEYS[1],\n"               \
    "             'x', send(ARGV[1], ARGV[2], 1, auto, ttype, tid))\n"       \
    "  return id\n"                                                           \
    "end\n"


/*
 * An event taken in: every active hook of the repo and of the org that
 * subscribes to it gets one delivery, all or none.  Under an idempotency
 * key, the first event taken in is remembered for the ttl as "<sha1 of
 * event and payload> <guid> <deliveries>", and the same key again queues
 * nothing: it gets the first answer back, or a conflict when the event
 * or payload differ.
 *
 * KEYS[4] the repo's hooks, KEYS[5] the org's hooks, KEYS[6] the retry
 * set, KEYS[7] the idempotency key (a key the event has not: the bare
 * prefix, never touched)
 * ARGV[9] payload, [10] repo scope prefix, [11] repository id,
 *      [12] org scope prefix, [13] organization id, [14] repository
 *      object, [15] organization object, [16] sender key, [17] sender,
 *      [18] the most deliveries queued and due later, [19] "1" when
 *      KEYS[7] is an idempotency key
 * Returns the number of deliveries queued, -1 when the queue is full,
 * {"replay", guid, deliveries} or {"conflict"} under a key seen before.
 */

static const char  ngx_http_webhooks_intake_lua[] =
    NGX_HTTP_WEBHOOKS_QUEUE_LUA
    "local sum\n"
    "if ARGV[19] == '1' then\n"
    "  sum = redis.sha1hex(ARGV[2] .. ' ' .. ARGV[9])\n"
    "  local was = redis.call('GET', KEYS[7])\n"
    "  if was then\n"
    "    local s, g, c = string.match(was, '^(%x+) (%S+) (%d+)$')\n"
    "    if s ~= sum then return {'conflict'} end\n"
    "    return {'replay', g, tonumber(c)}\n"
    "  end\n"
    "end\n"
    "if full(KEYS[6], ARGV[18]) then return -1 end\n"
    "local n = 0\n"
    "local function fan(hooks, sp, ttype, tid)\n"
    "  local all = redis.call('HGETALL', hooks)\n"
    "  for i = 1, #all, 2 do\n"
    "    if string.find(all[i], '^%d+$') then\n"
    "      local h = cjson.decode(all[i + 1])\n"
    "      local sub = false\n"
    "      if h.active then\n"
    "        for _, e in ipairs(h.events) do\n"
    "          if e == ARGV[2] or e == '*' then sub = true end\n"
    "        end\n"
    "      end\n"
    "      if sub then\n"
    "        queue(sp, hooks, all[i], h.config.url, ttype, tid, 1)\n"
    "        n = n + 1\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if ARGV[10] ~= '' then\n"
    "  fan(KEYS[4], ARGV[10], 'repository', ARGV[11])\n"
    "end\n"
    "if ARGV[12] ~= '' then\n"
    "  fan(KEYS[5], ARGV[12], 'organization', ARGV[13])\n"
    "end\n"
    "local push = ARGV[2] == 'push' and ARGV[10] ~= ''\n"
    "if n > 0 or push then\n"
    "  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])\n"
    "end\n"
    "if ARGV[10] ~= '' then\n"
    "  if push then\n"
    "    redis.call('SET', ARGV[10] .. 'lastpush', KEYS[1])\n"
    "  end\n"
    "  if ARGV[14] ~= '' then\n"
    "    redis.call('SET', ARGV[10] .. 'object', ARGV[14], 'NX', 'EX', 600)\n"
    "  end\n"
    "end\n"
    "if ARGV[12] ~= '' and ARGV[15] ~= '' then\n"
    "  redis.call('SET', ARGV[12] .. 'object', ARGV[15], 'NX', 'EX', 600)\n"
    "end\n"
    "if ARGV[17] ~= '' then\n"
    "  redis.call('SET', ARGV[16], ARGV[17], 'NX', 'EX', 600)\n"
    "end\n"
    "if sum then\n"
    "  redis.call('SET', KEYS[7], sum .. ' ' .. ARGV[1] .. ' ' .. n,\n"
    "             'EX', ARGV[3])\n"
    "end\n"
    "return n\n";


/*
 * One delivery to one hook: a ping, a test or a redelivery.
 *
 * KEYS[4] the hooks hash, KEYS[5] the retry set
 * ARGV[9] the payload, or "" to keep the stored one, [10] scope prefix,
 *      [11] hook id, [12] target type, [13] target id, [14] the most
 *      deliveries queued and due later
 * Returns the delivery id, -1 if the hook is gone, -2 if the payload is,
 * -3 if the queue is full.
 */

static const char  ngx_http_webhooks_enqueue_lua[] =
    NGX_HTTP_WEBHOOKS_QUEUE_LUA
    "local h = redis.call('HGET', KEYS[4], ARGV[11])\n"
    "if not h then return -1 end\n"
    "if full(KEYS[5], ARGV[14]) then return -3 end\n"
    "if ARGV[9] == '' then\n"
    "  if redis.call('EXPIRE', KEYS[1], ARGV[3]) == 0 then return -2 end\n"
    "else\n"
    "  redis.call('SET', KEYS[1], ARGV[9], 'EX', ARGV[3])\n"
    "end\n"
    "return queue(ARGV[10], KEYS[4], ARGV[11], cjson.decode(h).config.url,\n"
    "             ARGV[12], ARGV[13], 0)\n";


/*
 * A delivery with its hook and payload, for the sender and the API.
 *
 * KEYS[1] the delivery
 */

static const char  ngx_http_webhooks_take_lua[] =
    "local r = redis.call('HGETALL', KEYS[1])\n"
    "if #r == 0 then return false end\n"
    "local m = {}\n"
    "for i = 1, #r, 2 do m[r[i]] = r[i + 1] end\n"
    "return {r, redis.call('HGET', m.hooks, m.hook),\n"
    "        redis.call('GET', m.payload)}\n";


/*
 * What the sender reads of a delivery its stream entry describes: the
 * hook and the payload, if the delivery is still there.
 *
 * KEYS[1] the delivery, KEYS[2] the hooks hash, KEYS[3] the payload
 * ARGV[1] the hook id
 */

static const char  ngx_http_webhooks_fetch_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
    "return {redis.call('HGET', KEYS[2], ARGV[1]),\n"
    "        redis.call('GET', KEYS[3])}\n";


/*
 * The outcome of an attempt, and the queue entry done with.  A failure
 * may be tried again later; a hook none of whose deliveries succeeded
 * for the whole span is deactivated, with the reason as its last
 * response.
 *
 * KEYS[1] the delivery, KEYS[2] the queue, KEYS[3] the retry set
 * ARGV[1] entry id, [2] group, [3] ttl, [4] last response, [5] the
 *      hooks hash, [6] the hook id, [7] "ok", "failed" or "" to only
 *      acknowledge the entry, [8] when to try again (ms) or "", [9] now,
 *      [10] the failing span or 0, [11] the last response when the hook
 *      is deactivated, [12] the payload, [13..] fields of the delivery
 * Returns 2 when the hook was deactivated.
 */

static const char  ngx_http_webhooks_done_lua[] =
    "local rc = 1\n"
    "if ARGV[7] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  local f = {}\n"
    "  for i = 13, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "  redis.call('HSET', KEYS[1], (table.unpack or unpack)(f))\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "  local hooks, id, lr, again = ARGV[5], ARGV[6], ARGV[4], ARGV[8]\n"
    "  local cur = redis.call('HGET', hooks, id)\n"
    "  if cur then\n"
    "    if ARGV[7] == 'ok' then\n"
    "      redis.call('HDEL', hooks, id .. ':fs')\n"
    "    else\n"
    "      redis.call('HSETNX', hooks, id .. ':fs', ARGV[9])\n"
    "      local since = tonumber(redis.call('HGET', hooks, id .. ':fs'))\n"
    "      local span = tonumber(ARGV[10])\n"
    "      if span > 0 and tonumber(ARGV[9]) - since >= span\n"
    "         and string.find(cur, '\"active\":true', 1, true) then\n"
    "        local v = redis.call('HGET', hooks, id .. ':v') or ''\n"
    "        local off = '\"active\":false'\n"
    "        redis.call('HSET', hooks,\n"
    "          id, (string.gsub(cur, '\"active\":true', off, 1)),\n"
    "          id .. ':v', (string.gsub(v, '\"active\":true', off, 1)))\n"
    "        lr, again, rc = ARGV[11], '', 2\n"
    "      end\n"
    "    end\n"
    "    redis.call('HSET', hooks, id .. ':lr', lr)\n"
    "    if again ~= '' then\n"
    "      redis.call('ZADD', KEYS[3], again, 'r:' .. KEYS[1])\n"
    "      redis.call('EXPIRE', ARGV[12], ARGV[3])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "redis.call('XDEL', KEYS[2], ARGV[1])\n"
    "return rc\n";


/*
 * Deliveries due: each failed one tried again as a delivery of its own
 * (the same GUID, not a redelivery, its attempt counted), each one put
 * off queued again.  Those whose hook was deleted or deactivated, or
 * whose payload expired, are dropped.
 *
 * KEYS[1] the retry set, KEYS[2] queue, KEYS[3] delivery counter
 * ARGV[1] now in ms, [2] how many at most, [3] ttl, [4] now
 * Returns how many were due, and when the next is due (ms) or "".
 */

static const char  ngx_http_webhooks_promote_lua[] =
    NGX_HTTP_WEBHOOKS_HOST_LUA
    NGX_HTTP_WEBHOOKS_SEND_LUA
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],\n"
    "                       'LIMIT', 0, tonumber(ARGV[2]))\n"
    "for _, m in ipairs(due) do\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "  local kind, d, rk = string.match(m, '^(%a)(%d*):(.*)$')\n"
    "  local r = {}\n"
    "  if rk then\n"
    "    local a = redis.call('HGETALL', rk)\n"
    "    for i = 1, #a, 2 do r[a[i]] = a[i + 1] end\n"
    "  end\n"
    "  local h = r.hooks and redis.call('HGET', r.hooks, r.hook)\n"
    "  if h and redis.call('EXISTS', r.payload) == 1 then\n"
    "    local doc = cjson.decode(h)\n"
    "    if doc.active then\n"
    "      if kind == 'r' then\n"
    "        local sp = string.sub(rk, 1, #rk - #('delivery:' .. r.id))\n"
    "        local id = redis.call('INCR', KEYS[3])\n"
    "        rk = sp .. 'delivery:' .. id\n"
    "        redis.call('HSET', rk, 'id', id, 'hook', r.hook,\n"
    "          'hooks', r.hooks, 'guid', r.guid, 'event', r.event,\n"
    "          'action', r.action, 'repository_id', r.repository_id,\n"
    "          'installation_id', r.installation_id, 'redelivery', 0,\n"
    "          'target_type', r.target_type, 'target_id', r.target_id,\n"
    "          'payload', r.payload, 'delivered_at', ARGV[4],\n"
    "          'status', 'queued', 'status_code', 0, 'duration', 0,\n"
    "          'attempt', (tonumber(r.attempt) or 1) + 1, 'auto', 1)\n"
    "        redis.call('EXPIRE', rk, ARGV[3])\n"
    "        redis.call('ZADD', sp .. 'deliveries:' .. r.hook, id, id)\n"
    "        redis.call('EXPIRE', r.payload, ARGV[3])\n"
    "        d = ''\n"
    "        r.attempt, r.auto = (tonumber(r.attempt) or 1) + 1, 1\n"
    "      end\n"
    "      redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', r.hook,\n"
    "                 't', host(doc.config.url), 'd', d, 's', r.hooks,\n"
    "                 'p', r.payload, 'x', send(r.guid, r.event,\n"
    "                 r.attempt, r.auto, r.target_type, r.target_id))\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
    "return {#due, next[2] or ''}\n";


/*
 * A delivery put off: its hook or host has as many in flight as it may
 * have in this worker, or a limit of nginx's refused it.
 *
 * KEYS[1] the queue, KEYS[2] the retry set, KEYS[3] the delivery when
 *      throttled
 * ARGV[1] entry id, [2] group, [3] when (ms), [4] "d<n>:<key>", [5] when
 *      it was throttled
 */

static const char  ngx_http_webhooks_defer_lua[] =
    "if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then\n"
    "  redis.call('HSET', KEYS[3], 'throttled_at', ARGV[5])\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])\n"
    "redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "return 1\n";


/*
 * A page of a hook's deliveries, newest first, from a cursor on, and the
 * cursor of the page before it.
 *
 * KEYS[1] the hook's deliveries
 * ARGV[1] scope prefix, [2] highest id ("+inf" for the first page),
 *      [3] how many, plus one, [4] "", "success" or "failure",
 *      [5] "", "true" or "false" (redeliveries)
 * Reply: { records (one more than asked for when there are more),
 *          id of the newest record of the page before, or false }
 */

static const char  ngx_http_webhooks_list_lua[] =
    "local want = tonumber(ARGV[3]) - 1\n"
    "local function record(id)\n"
    "  local r = redis.call('HMGET', ARGV[1] .. 'delivery:' .. id, 'id',\n"
    "    'guid', 'delivered_at', 'redelivery', 'duration', 'status',\n"
    "    'status_code', 'event', 'action', 'installation_id',\n"
    "    'repository_id', 'throttled_at')\n"
    "  if not r[1] then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    return nil\n"
    "  end\n"
    "  local c = tonumber(r[7]) or 0\n"
    "  if (ARGV[4] == 'success' and (c < 200 or c > 399))\n"
    "      or (ARGV[4] == 'failure' and (c < 400 or c > 599))\n"
    "      or (ARGV[5] == 'true' and r[4] ~= '1')\n"
    "      or (ARGV[5] == 'false' and r[4] == '1') then\n"
    "    return nil\n"
    "  end\n"
    "  return r\n"
    "end\n"
    "local out, max = {}, ARGV[2]\n"
    "while #out < want + 1 do\n"
    "  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf',\n"
    "                         'LIMIT', 0, 100)\n"
    "  if #ids == 0 then break end\n"
    "  for _, id in ipairs(ids) do\n"
    "    local r = record(id)\n"
    "    if r then\n"
    "      out[#out + 1] = r\n"
    "      if #out == want + 1 then break end\n"
    "    end\n"
    "    max = '(' .. id\n"
    "  end\n"
    "end\n"
    "local prev, n, min = false, 0, ARGV[2]\n"
    "if min ~= '+inf' then\n"
    "  min = '(' .. (out[1] and out[1][1] or min)\n"
    "  while n < want do\n"
    "    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf',\n"
    "                           'LIMIT', 0, 100)\n"
    "    if #ids == 0 then break end\n"
    "    for _, id in ipairs(ids) do\n"
    "      if record(id) then\n"
    "        prev, n = id, n + 1\n"
    "        if n == want then break end\n"
    "      end\n"
    "      min = '(' .. id\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {out, prev}\n";


/*
 * What a ping tells about its repository or organization and sender:
 * the objects last taken in, and ids made up when there are none.
 *
 * KEYS[1] scope object, KEYS[2] sender, KEYS[3] ids, KEYS[4] counter
 * ARGV[1] scope id field, ARGV[2] sender id field, ARGV[3] the repo
 *      owner's id field or ""
 */

static const char  ngx_http_webhooks_context_lua[] =
    "local function id(f)\n"
    "  local v = redis.call('HGET', KEYS[3], f)\n"
    "  if not v then\n"
    "    v = redis.call('INCR', KEYS[4])\n"
    "    redis.call('HSET', KEYS[3], f, v)\n"
    "  end\n"
    "  return v\n"
    "end\n"
    "local owner = false\n"
    "if ARGV[3] ~= '' then owner = id(ARGV[3]) end\n"
    "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]),\n"
    "        id(ARGV[1]), id(ARGV[2]), owner}\n";


/*
 * The value of the key another key names: the latest push's payload.
 *
 * KEYS[1] the key that names it
 */

static const char  ngx_http_webhooks_follow_lua[] =
    "local k = redis.call('GET', KEYS[1])\n"
    "if not k then return false end\n"
    "return redis.call('GET', k)\n";


/*
 * Bulk redelivery: the deliveries of one hook, or of every hook of the
 * scope the caller may see, whose last attempt (the newest delivery of
 * their GUID to the hook) failed within [since, until] and that no
 * automatic try awaits, each redelivered as the API's redelivery does.
 * Hooks go by id, deliveries newest first; a delivery redelivered is no
 * longer the last attempt of its GUID, so a second call queues it again
 * only once the redelivery failed too.  All queued, or none when the
 * queue would overflow.
 *
 * KEYS[1] the hooks hash, KEYS[2] queue, KEYS[3] delivery counter,
 * KEYS[4] the retry set
 * ARGV[1] scope prefix, [2] hook id or "" for all, [3] since, [4] until,
 *      [5] how many at most, [6] cursor: hook id or "", [7] cursor:
 *      delivery id, [8] the caller's OAuth app or "", [9] ttl, [10] now,
 *      [11] the most deliveries queued and due later
 * Returns {queued, next hook, next delivery} ("" when done), -1 if the
 * hook is not found, -2 if the queue is full.
 */

static const char  ngx_http_webhooks_bulk_lua[] =
    NGX_HTTP_WEBHOOKS_HOST_LUA
    NGX_HTTP_WEBHOOKS_SEND_LUA
    "local sp, max = ARGV[1], tonumber(ARGV[5])\n"
    "local ch, cd = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local function mine(h)\n"
    "  return (redis.call('HGET', KEYS[1], h .. ':c') or '') == ARGV[8]\n"
    "end\n"
    "local hooks = {}\n"
    "if ARGV[2] ~= '' then\n"
    "  if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0\n"
    "     or not mine(ARGV[2]) then return -1 end\n"
    "  hooks[1] = tonumber(ARGV[2])\n"
    "else\n"
    "  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
    "    if string.find(f, '^%d+$') and mine(f) then\n"
    "      hooks[#hooks + 1] = tonumber(f)\n"
    "    end\n"
    "  end\n"
    "  table.sort(hooks)\n"
    "end\n"
    "local todo, nh, nd = {}, '', ''\n"
    "for _, h in ipairs(hooks) do\n"
    "  if nh ~= '' then break end\n"
    "  if not ch or h >= ch then\n"
    "    local below = (h == ch) and cd or nil\n"
    "    local zk, seen, top = sp .. 'deliveries:' .. h, {}, '+inf'\n"
    "    while nh == '' do\n"
    "      local ids = redis.call('ZREVRANGEBYSCORE', zk, top, '-inf',\n"
    "                             'LIMIT', 0, 100)\n"
    "      if #ids == 0 then break end\n"
    "      for _, id in ipairs(ids) do\n"
    "        top = '(' .. id\n"
    "        local rk = sp .. 'delivery:' .. id\n"
    "        local r = redis.call('HMGET', rk, 'guid', 'status',\n"
    "                             'status_code', 'delivered_at', 'payload')\n"
    "        if r[1] and not seen[r[1]] then\n"
    "          seen[r[1]] = true\n"
    "          local c = tonumber(r[3]) or 0\n"
    "          if (not below or tonumber(id) <= below)\n"
    "             and r[2] ~= 'queued' and (c < 200 or c > 299)\n"
    "             and (r[4] or '') >= ARGV[3] and (r[4] or '') <= ARGV[4]\n"
    "             and not redis.call('ZSCORE', KEYS[4], 'r:' .. rk)\n"
    "             and redis.call('EXISTS', r[5]) == 1 then\n"
    "            if #todo == max then\n"
    "              nh, nd = h, id\n"
    "              break\n"
    "            end\n"
    "            todo[#todo + 1] = {h, rk}\n"
    "          end\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #todo > 0 and redis.call('XLEN', KEYS[2])\n"
    "   + redis.call('ZCARD', KEYS[4]) + #todo > tonumber(ARGV[11]) then\n"
    "  return -2\n"
    "end\n"
    "for _, t in ipairs(todo) do\n"
    "  local h, a = t[1], {}\n"
    "  local f = redis.call('HGETALL', t[2])\n"
    "  for i = 1, #f, 2 do a[f[i]] = f[i + 1] end\n"
    "  local url = cjson.decode(redis.call('HGET', KEYS[1], h)).config.url\n"
    "  local id = redis.call('INCR', KEYS[3])\n"
    "  local rk = sp .. 'delivery:' .. id\n"
    "  redis.call('HSET', rk, 'id', id, 'hook', h, 'hooks', KEYS[1],\n"
    "    'guid', a.guid, 'event', a.event, 'action', a.action or '',\n"
    "    'repository_id', a.repository_id or '',\n"
    "    'installation_id', a.installation_id or '', 'redelivery', 1,\n"
    "    'target_type', a.target_type or '', 'target_id', a.target_id or '',\n"
    "    'payload', a.payload, 'delivered_at', ARGV[10], 'status', 'queued',\n"
    "    'status_code', 0, 'duration', 0, 'attempt', 1, 'auto', 0)\n"
    "  redis.call('EXPIRE', rk, ARGV[9])\n"
    "  redis.call('EXPIRE', a.payload, ARGV[9])\n"
    "  redis.call('ZADD', sp .. 'deliveries:' .. h, id, id)\n"
    "  redis.call('XADD', KEYS[2], '*', 'k', rk, 'h', h, 't', host(url),\n"
    "             's', KEYS[1], 'p', a.payload, 'x', send(a.guid, a.event,\n"
    "             1, 0, a.target_type, a.target_id))\n"
    "end\n"
    "return {#todo, tostring(nh), tostring(nd)}\n";


#define ngx_http_webhooks_lua(s)  { { sizeof(s) - 1, (u_char *) s }, "" }

ngx_http_webhooks_redis_script_t  ngx_http_webhooks_scripts[] = {
    ngx_http_webhooks_lua(ngx_http_webhooks_save_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_delete_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_intake_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_enqueue_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_take_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_done_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_list_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_context_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_follow_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_promote_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_defer_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_fetch_lua),
    ngx_http_webhooks_lua(ngx_http_webhooks_bulk_lua),
};


ngx_int_t
ngx_http_webhooks_store_init(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_NSCRIPTS; i++) {
        if (ngx_http_webhooks_redis_script_sha1(&ngx_http_webhooks_scripts[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_scope_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_http_webhooks_route_t *rt, const char *what, ngx_str_t *key)
{
    size_t   len;
    u_char  *p;

    len = prefix->len + sizeof("{o:}:") - 1 + rt->key.len + ngx_strlen(what);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = ngx_sprintf(p, "%V{%c:%V}:%s", prefix,
                           rt->scope == NGX_HTTP_WEBHOOKS_ORG ? 'o' : 'r',
                           &rt->key, what)
               - p;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_seq_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *key)
{
    u_char  *p;

    p = ngx_pnalloc(pool, prefix->len + sizeof("seq:hook") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = ngx_sprintf(p, "%Vseq:hook", prefix) - p;

    return NGX_OK;
}


/* "<prefix><what>" */

ngx_int_t
ngx_http_webhooks_key(ngx_pool_t *pool, ngx_str_t *prefix, ngx_str_t *what,
    ngx_str_t *key)
{
    u_char  *p;

    p = ngx_pnalloc(pool, prefix->len + what->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = ngx_cpymem(ngx_cpymem(p, prefix->data, prefix->len),
                          what->data, what->len)
               - p;

    return NGX_OK;
}


/* a field of a HGETALL reply, "" when absent */

ngx_int_t
ngx_http_webhooks_field(redisReply *pairs, const char *name, ngx_str_t *value)
{
    size_t       i, len;
    redisReply  *f, *v;

    len = ngx_strlen(name);

    for (i = 0; i + 1 < pairs->elements; i += 2) {
        f = pairs->element[i];
        v = pairs->element[i + 1];

        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
            && (size_t) f->len == len && ngx_strncmp(f->str, name, len) == 0)
        {
            value->data = (u_char *) v->str;
            value->len = v->len;
            return NGX_OK;
        }
    }

    ngx_str_set(value, "");

    return NGX_DECLINED;
}
