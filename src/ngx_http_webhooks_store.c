
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
 *                                        (src/lua/lib/queue.lua, send.lua)
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
 * script of src/lua/ but those of the queue touches one slot only.
 */


ngx_http_webhooks_redis_script_t  ngx_http_webhooks_scripts[] = {
    NGX_HTTP_WEBHOOKS_LUA_SCRIPTS
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
