
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_store.h"


/*
 * Key layout (see README.md), where <scope> is "<prefix>{o:<org>}:" or
 * "<prefix>{r:<owner>/<repo>}:", and <shard> "<prefix>{q<n>}:", the
 * queue shard of a scope (ngx_http_webhooks_scope_shard()):
 *
 *   <prefix>seq:hook                     hook id counter, global
 *   <scope>hooks                         hash of the scope's hooks
 *   <scope>subs                          the scope's subscription index:
 *                                        event -> "<id> <url>" lines
 *                                        (src/lua/lib/index.lua)
 *   <scope>object                        a recent repository or
 *                                        organization object taken in
 *   <scope>user:<login>                  a recent sender object
 *   <scope>ids, <scope>seq:id            ids made up for pings
 *   <shard>queue                         stream of deliveries to make:
 *                                        "k" the delivery, "h" its hook
 *                                        id, "t" the target host, "d"
 *                                        how often it was put off; "s"
 *                                        its hooks hash, "p" its payload
 *                                        and "x" what the request says
 *                                        (src/lua/lib/queue.lua, send.lua)
 *   <shard>retry                         sorted set of deliveries due
 *                                        later, by time in ms: "r:<key>"
 *                                        a failed delivery to try again,
 *                                        "d<n>:<key>" one put off
 *   <shard>seq                           the shard's delivery counter:
 *                                        ids are seq * SHARDS + n
 *   <shard>delivery:<id>                 one delivery and its outcome, a
 *                                        string (src/lua/lib/record.lua)
 *   <shard>deliveries:<hook id>          sorted set of a hook's deliveries
 *   <shard>event:<guid>                  an event's payload, once per
 *                                        event and shard
 *   <shard>seen:<guid>:<r|o>             an idempotent step done: its count
 *   <shard>lastpush:r:<owner>/<repo>     the key of the latest push's
 *                                        payload
 *   <prefix>idempotency:<key>            the event an Idempotency-Key took
 *                                        in: "<sha1> <guid> <deliveries>"
 *
 * Deliveries and payloads expire after webhooks_delivery_retention.
 *
 * Names are lowercased.  A hooks hash maps "<id>" to the stored hook,
 * "<id>:v" to its public view (rendered once, when written), "<id>:c" to
 * the OAuth app that created it ("" for a user), "<id>:lr" to its last
 * response, "<id>:fs" to when its deliveries started failing, and
 * "name" to the org or repo name as first spelled.  Every script of
 * src/lua/ touches the keys of one hash tag, one Redis Cluster slot: a
 * scope's or a shard's.  What spans both is done in steps, each safe to
 * run again.
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


/* the keys of each queue shard, made once at configuration */

ngx_int_t
ngx_http_webhooks_shards(ngx_pool_t *pool,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    u_char                     *p;
    size_t                      len;
    ngx_uint_t                  i;
    ngx_http_webhooks_shard_t  *sh;

    sh = ngx_pcalloc(pool, NGX_HTTP_WEBHOOKS_SHARDS
                           * sizeof(ngx_http_webhooks_shard_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    wmcf->shards = sh;

    len = wmcf->prefix.len + sizeof("{q}:queue") + NGX_INT_T_LEN;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        p = ngx_pnalloc(pool, 4 * len + NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        sh[i].prefix.data = p;
        sh[i].prefix.len = ngx_sprintf(p, "%V{q%ui}:", &wmcf->prefix, i) - p;
        p += sh[i].prefix.len;

        sh[i].queue.data = p;
        sh[i].queue.len = ngx_sprintf(p, "%Vqueue", &sh[i].prefix) - p;
        p += sh[i].queue.len;

        sh[i].retry.data = p;
        sh[i].retry.len = ngx_sprintf(p, "%Vretry", &sh[i].prefix) - p;
        p += sh[i].retry.len;

        sh[i].seq.data = p;
        sh[i].seq.len = ngx_sprintf(p, "%Vseq", &sh[i].prefix) - p;
        p += sh[i].seq.len;

        sh[i].number.data = p;
        sh[i].number.len = ngx_sprintf(p, "%ui", i) - p;
    }

    p = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    wmcf->nshards.data = p;
    wmcf->nshards.len = ngx_sprintf(p, "%d", NGX_HTTP_WEBHOOKS_SHARDS) - p;

    return NGX_OK;
}


/* the queue shard of an org or a repo: CRC32 of "o:<org>" or "r:<repo>" */

ngx_http_webhooks_shard_t *
ngx_http_webhooks_scope_shard(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_route_t *rt)
{
    uint32_t  crc;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) (rt->scope == NGX_HTTP_WEBHOOKS_ORG
                                       ? "o:" : "r:"), 2);
    ngx_crc32_update(&crc, rt->key.data, rt->key.len);
    ngx_crc32_final(crc);

    return &wmcf->shards[crc % NGX_HTTP_WEBHOOKS_SHARDS];
}


/* "<shard prefix><what><arg>" */

ngx_int_t
ngx_http_webhooks_shard_key(ngx_pool_t *pool, ngx_http_webhooks_shard_t *sh,
    const char *what, ngx_str_t *arg, ngx_str_t *key)
{
    u_char  *p;
    size_t   len;

    len = ngx_strlen(what);

    p = ngx_pnalloc(pool, sh->prefix.len + len + (arg ? arg->len : 0));
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, sh->prefix.data, sh->prefix.len);
    p = ngx_cpymem(p, what, len);

    if (arg) {
        p = ngx_cpymem(p, arg->data, arg->len);
    }

    key->len = p - key->data;

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
