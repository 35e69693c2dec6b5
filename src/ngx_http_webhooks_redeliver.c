
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_request.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_redeliver.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_store.h"


/*
 * Bulk redelivery, beyond GitHub: POST /_webhooks/{orgs/{org} or
 * repos/{owner}/{repo}}[/hooks/{hook_id}]/redeliveries with
 * {"since", "until", "max", "cursor"}, all optional, answered 202
 * {"queued": N, "cursor": "..." or null}.  Two scripts do the work:
 * visible.lua lists the hooks the caller may see in the scope, bulk.lua
 * redelivers in the scope's queue shard.
 */


typedef struct {
    ngx_http_request_t             *r;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_BULK_NARGS];
} ngx_http_webhooks_redeliver_t;


#define NGX_HTTP_WEBHOOKS_BULK_MAX      1000
#define NGX_HTTP_WEBHOOKS_BULK_DEFAULT  100


static ngx_int_t ngx_http_webhooks_redeliver_time(json_t *body,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_webhooks_redeliver_cursor(ngx_http_request_t *r,
    json_t *body, ngx_str_t *hook, ngx_str_t *id);
static ngx_int_t ngx_http_webhooks_redeliver_invalid(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, const char *field);
static void ngx_http_webhooks_redeliver_visible(void *data,
    redisReply *reply);
static void ngx_http_webhooks_redeliver_done(void *data, redisReply *reply);


ngx_int_t
ngx_http_webhooks_redeliver_failed(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    u_char                         *p;
    json_t                         *v;
    ngx_str_t                      *args;
    ngx_str_t                       visible[NGX_HTTP_WEBHOOKS_VISIBLE_NARGS];
    ngx_uint_t                      i;
    json_int_t                      max;
    ngx_http_webhooks_shard_t      *sh;
    ngx_http_webhooks_main_conf_t  *wmcf;
    ngx_http_webhooks_redeliver_t  *rd;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    rd = ngx_palloc(r->pool, sizeof(ngx_http_webhooks_redeliver_t));
    if (rd == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rd->r = r;
    args = rd->args;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_BULK_NARGS; i++) {
        ngx_str_set(&args[i], "");
    }

    /* lexical order is time order in GitHub's timestamps */
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_BULK_UNTIL], "9999-12-31T23:59:59Z");

    if (ngx_http_webhooks_redeliver_time(ctx->body, "since",
                                         &args[NGX_HTTP_WEBHOOKS_BULK_SINCE])
        != NGX_OK)
    {
        return ngx_http_webhooks_redeliver_invalid(r, ctx, "since");
    }

    if (ngx_http_webhooks_redeliver_time(ctx->body, "until",
                                         &args[NGX_HTTP_WEBHOOKS_BULK_UNTIL])
        != NGX_OK)
    {
        return ngx_http_webhooks_redeliver_invalid(r, ctx, "until");
    }

    max = NGX_HTTP_WEBHOOKS_BULK_DEFAULT;
    v = json_object_get(ctx->body, "max");

    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > NGX_HTTP_WEBHOOKS_BULK_MAX)
        {
            return ngx_http_webhooks_redeliver_invalid(r, ctx, "max");
        }

        max = json_integer_value(v);
    }

    switch (ngx_http_webhooks_redeliver_cursor(r, ctx->body,
                                    &args[NGX_HTTP_WEBHOOKS_BULK_CURSOR_HOOK],
                                    &args[NGX_HTTP_WEBHOOKS_BULK_CURSOR_ID]))
    {
    case NGX_OK:
        break;
    case NGX_DECLINED:
        return ngx_http_webhooks_redeliver_invalid(r, ctx, "cursor");
    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + sizeof("2011-09-06T17:26:27Z"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_BULK_LIMIT].data = p;
    args[NGX_HTTP_WEBHOOKS_BULK_LIMIT].len =
                                       ngx_sprintf(p, "%L", (int64_t) max) - p;
    p += args[NGX_HTTP_WEBHOOKS_BULK_LIMIT].len;

    args[NGX_HTTP_WEBHOOKS_BULK_NOW].data = p;
    args[NGX_HTTP_WEBHOOKS_BULK_NOW].len =
                                 ngx_http_webhooks_json_time(p, ngx_time()) - p;

    sh = ngx_http_webhooks_scope_shard(wmcf, &ctx->rt);

    args[NGX_HTTP_WEBHOOKS_BULK_QUEUE] = sh->queue;
    args[NGX_HTTP_WEBHOOKS_BULK_SEQ] = sh->seq;
    args[NGX_HTTP_WEBHOOKS_BULK_RETRY] = sh->retry;
    args[NGX_HTTP_WEBHOOKS_BULK_SHARD] = sh->number;
    args[NGX_HTTP_WEBHOOKS_BULK_SHARDS] = wmcf->nshards;
    args[NGX_HTTP_WEBHOOKS_BULK_HOOKS] = ctx->hooks;
    args[NGX_HTTP_WEBHOOKS_BULK_TTL] = wmcf->sender.retention_text;
    args[NGX_HTTP_WEBHOOKS_BULK_QUEUE_MAX] = wmcf->reliability.queue_max_text;

    /* first the hooks the caller may see, in the scope */

    visible[NGX_HTTP_WEBHOOKS_VISIBLE_HOOKS] = ctx->hooks;
    visible[NGX_HTTP_WEBHOOKS_VISIBLE_HOOK] = ctx->rt.hook;
    ngx_str_set(&visible[NGX_HTTP_WEBHOOKS_VISIBLE_APP], "");

    if (ctx->who.app.len) {
        visible[NGX_HTTP_WEBHOOKS_VISIBLE_APP] = ctx->who.app;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                        NGX_HTTP_WEBHOOKS_SCRIPT_VISIBLE,
                                        ngx_http_webhooks_redeliver_visible,
                                        rd, NGX_HTTP_WEBHOOKS_VISIBLE_NKEYS,
                                        NGX_HTTP_WEBHOOKS_VISIBLE_NARGS,
                                        visible));
}


/* the hooks seen: their deliveries redelivered in the queue shard */

static void
ngx_http_webhooks_redeliver_visible(void *data, redisReply *reply)
{
    ngx_http_webhooks_redeliver_t *rd = data;

    size_t                    i;
    ngx_int_t                 rc;
    ngx_str_t                *args, v;
    ngx_http_request_t       *r;
    ngx_http_webhooks_ctx_t  *ctx;

    r = rd->r;

    /* a number: no hook the caller may see */
    ctx = ngx_http_webhooks_request_found_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               REDIS_REPLY_INTEGER, &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    args = ngx_palloc(r->pool, (NGX_HTTP_WEBHOOKS_BULK_NARGS + reply->elements)
                               * sizeof(ngx_str_t));
    if (args == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(args, rd->args,
               NGX_HTTP_WEBHOOKS_BULK_NARGS * sizeof(ngx_str_t));

    /* the reply goes away with this handler: what is sent is kept */

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        v.data = (u_char *) reply->element[i]->str;
        v.len = reply->element[i]->len;

        args[NGX_HTTP_WEBHOOKS_BULK_HOSTS + i].len = v.len;
        args[NGX_HTTP_WEBHOOKS_BULK_HOSTS + i].data = v.len
                                             ? ngx_pstrdup(r->pool, &v)
                                             : (u_char *) "";
        if (args[NGX_HTTP_WEBHOOKS_BULK_HOSTS + i].data == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    rc = ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                              NGX_HTTP_WEBHOOKS_SCRIPT_BULK,
                                              ngx_http_webhooks_redeliver_done,
                                              r, NGX_HTTP_WEBHOOKS_BULK_NKEYS,
                                              NGX_HTTP_WEBHOOKS_BULK_NARGS
                                              + reply->elements,
                                              args));
    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


/* "2011-09-06T17:26:27Z" as GitHub writes times; absent keeps the default */

static ngx_int_t
ngx_http_webhooks_redeliver_time(json_t *body, const char *name,
    ngx_str_t *value)
{
    ngx_str_t    s;
    ngx_uint_t   i;

    static u_char  form[] = "0000-00-00T00:00:00Z";

    if (json_object_get(body, name) == NULL) {
        return NGX_OK;
    }

    if (ngx_http_webhooks_json_str(body, name, &s) != NGX_OK
        || s.len != sizeof(form) - 1)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < s.len; i++) {

        if (form[i] == '0') {
            if (s.data[i] < '0' || s.data[i] > '9') {
                return NGX_DECLINED;
            }

        } else if (s.data[i] != form[i]) {
            return NGX_DECLINED;
        }
    }

    *value = s;

    return NGX_OK;
}


/* "<hook id>:<delivery id>", as the last answer gave it */

static ngx_int_t
ngx_http_webhooks_redeliver_cursor(ngx_http_request_t *r, json_t *body,
    ngx_str_t *hook, ngx_str_t *id)
{
    u_char     *colon;
    uint64_t    n;
    ngx_str_t   s;

    if (json_object_get(body, "cursor") == NULL
        || json_is_null(json_object_get(body, "cursor")))
    {
        return NGX_OK;
    }

    if (ngx_http_webhooks_json_str(body, "cursor", &s) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(s.data, s.data + s.len, ':');
    if (colon == NULL) {
        return NGX_DECLINED;
    }

    hook->data = s.data;
    hook->len = colon - s.data;
    id->data = colon + 1;
    id->len = s.data + s.len - id->data;

    if (ngx_http_webhooks_router_parse_id(hook->data, hook->len, &n) != NGX_OK
        || ngx_http_webhooks_router_parse_id(id->data, id->len, &n) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_redeliver_invalid(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, const char *field)
{
    json_t  *errors;

    errors = ngx_http_webhooks_json_own(r->pool,
                 json_pack("[{s:s,s:s,s:s}]", "resource", "HookDelivery",
                           "field", field, "code", "invalid"));
    if (errors == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                         "Validation Failed", ctx->rt.doc_url,
                                         errors);
}


static void
ngx_http_webhooks_redeliver_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                   *p;
    ngx_int_t                 rc;
    ngx_str_t                 body;
    redisReply              **e;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    if (reply && reply->type == REDIS_REPLY_INTEGER) {
        /* -2: the queue is full */
        ctx->cmd = NULL;
        ngx_http_webhooks_reply_finish(r, ngx_http_webhooks_reply_busy(r));
        return;
    }

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    e = reply->element;

    if (reply->elements != 3 || e[0]->type != REDIS_REPLY_INTEGER
        || e[1]->type != REDIS_REPLY_STRING
        || e[2]->type != REDIS_REPLY_STRING)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_pnalloc(r->pool, sizeof("{\"queued\":,\"cursor\":\":\"}")
                             + NGX_INT64_LEN + e[1]->len + e[2]->len);
    if (p == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body.data = p;

    if (e[1]->len == 0) {
        p = ngx_sprintf(p, "{\"queued\":%L,\"cursor\":null}",
                        (int64_t) e[0]->integer);

    } else {
        p = ngx_sprintf(p, "{\"queued\":%L,\"cursor\":\"%*s:%*s\"}",
                        (int64_t) e[0]->integer, (size_t) e[1]->len,
                        e[1]->str, (size_t) e[2]->len, e[2]->str);
    }

    body.len = p - body.data;

    ngx_http_webhooks_reply_finish(r,
                   ngx_http_webhooks_reply_send(r, NGX_HTTP_ACCEPTED, &body));
}
