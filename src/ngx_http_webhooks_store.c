
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
 *
 * Names are lowercased.  A hooks hash maps "<id>" to the stored hook,
 * "<id>:v" to its public view (rendered once, when written), "<id>:c" to
 * the OAuth app that created it ("" for a user), "<id>:lr" to its last
 * response and "name" to the org or repo name as first spelled.  The
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
    "redis.call('HSETNX', KEYS[1], 'name', ARGV[6])\n"
    "return {'ok', redis.call('HGET', KEYS[1], 'name')}\n";


/*
 * KEYS[1] the hooks hash, KEYS[2..] keys that belong to the hook
 * ARGV[1] id
 */

static const char  ngx_http_webhooks_delete_lua[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "local id = ARGV[1]\n"
    "redis.call('HDEL', KEYS[1], id, id .. ':v', id .. ':c', id .. ':lr')\n"
    "for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end\n"
    "if redis.call('HLEN', KEYS[1]) <= 1 then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 1\n";


ngx_http_webhooks_redis_script_t  ngx_http_webhooks_scripts[] = {
    { { sizeof(ngx_http_webhooks_save_lua) - 1,
        (u_char *) ngx_http_webhooks_save_lua }, "" },
    { { sizeof(ngx_http_webhooks_delete_lua) - 1,
        (u_char *) ngx_http_webhooks_delete_lua }, "" },
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
