
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_request.h"
#include "ngx_http_webhooks_deliveries.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_ping.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_sign.h"
#include "ngx_http_webhooks_store.h"
#include "ngx_http_webhooks_stats.h"


/*
 * The delivery log of a hook, redelivery, pings and tests.  The hook
 * was found and may be seen by the caller before any of this runs.
 */


static void ngx_http_webhooks_deliveries_list_done(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_deliveries_list_query(ngx_http_request_t *r,
    ngx_str_t *query);
static ngx_int_t ngx_http_webhooks_deliveries_web_url(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *web);
static ngx_int_t ngx_http_webhooks_deliveries_send_log(ngx_http_request_t *r,
    json_t *json);
static json_t *ngx_http_webhooks_deliveries_item(redisReply *r);
static void ngx_http_webhooks_deliveries_take_done(void *data,
    redisReply *reply);
static json_t *ngx_http_webhooks_deliveries_json(ngx_http_request_t *r,
    redisReply *record, redisReply *payload, redisReply *response);
static json_t *ngx_http_webhooks_deliveries_request_headers(
    redisReply *record);
static void ngx_http_webhooks_deliveries_context_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_deliveries_lastpush_done(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_deliveries_enqueue(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *args);
static void ngx_http_webhooks_deliveries_enqueue_done(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_deliveries_enqueue_args(
    ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx, ngx_str_t *args,
    ngx_str_t *event, ngx_str_t *payload);
static ngx_int_t ngx_http_webhooks_deliveries_scoped(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, const char *fmt, ngx_str_t *arg,
    ngx_str_t *key);
static ngx_int_t ngx_http_webhooks_deliveries_subscribed(json_t *hook,
    const char *e);


/* a delivery, to show it or to send it again */

ngx_int_t
ngx_http_webhooks_deliveries_take(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    off_t                           id;
    ngx_str_t                       key;
    ngx_http_webhooks_shard_t      *sh;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    sh = ngx_http_webhooks_scope_shard(wmcf, &ctx->rt);

    /* an id tells its shard: one of another is not this scope's */

    id = ngx_atoof(ctx->rt.delivery.data, ctx->rt.delivery.len);

    if (id < 0 || (ngx_uint_t) (id % NGX_HTTP_WEBHOOKS_SHARDS)
                  != (ngx_uint_t) (sh - wmcf->shards))
    {
        return ngx_http_webhooks_request_not_found(r, ctx);
    }

    if (ngx_http_webhooks_shard_key(r->pool, sh, "delivery:",
                                    &ctx->rt.delivery, &key)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_TAKE,
                                    ngx_http_webhooks_deliveries_take_done, r,
                                    NGX_HTTP_WEBHOOKS_TAKE_NKEYS,
                                    NGX_HTTP_WEBHOOKS_TAKE_NARGS, &key));
}


ngx_int_t
ngx_http_webhooks_deliveries_test(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    ngx_str_t  key;

    /* GitHub sends nothing to a hook that does not take pushes */
    if (!ngx_http_webhooks_deliveries_subscribed(ctx->hook, "push")) {
        return ngx_http_webhooks_reply_send(r, NGX_HTTP_NO_CONTENT, NULL);
    }

    if (ngx_http_webhooks_deliveries_scoped(r, ctx, "lastpush:r:%V",
                                            &ctx->rt.key, &key)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_FOLLOW,
                                    ngx_http_webhooks_deliveries_lastpush_done,
                                    r,
                                    NGX_HTTP_WEBHOOKS_FOLLOW_NKEYS,
                                    NGX_HTTP_WEBHOOKS_FOLLOW_NARGS, &key));
}


/* "<shard prefix>deliveries:<hook id>", in the scope's queue shard */

ngx_int_t
ngx_http_webhooks_deliveries_key(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *key)
{
    return ngx_http_webhooks_deliveries_scoped(r, ctx, "deliveries:%V",
                                               &ctx->rt.hook, key);
}


/* a key of the scope's queue shard */

static ngx_int_t
ngx_http_webhooks_deliveries_scoped(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, const char *fmt, ngx_str_t *arg,
    ngx_str_t *key)
{
    u_char                         *p;
    ngx_str_t                       prefix;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    prefix = ngx_http_webhooks_scope_shard(wmcf, &ctx->rt)->prefix;

    p = ngx_pnalloc(r->pool, prefix.len + ngx_strlen(fmt)
                             + (arg ? arg->len : 0));
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, prefix.data, prefix.len);
    key->len = (arg ? ngx_sprintf(p, fmt, arg) : ngx_sprintf(p, fmt))
               - key->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_deliveries_subscribed(json_t *hook, const char *e)
{
    size_t   i;
    json_t  *v;

    json_array_foreach(json_object_get(hook, "events"), i, v) {
        if (ngx_strcmp(json_string_value(v), e) == 0
            || ngx_strcmp(json_string_value(v), "*") == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* newest first, GitHub's opaque cursor: "v1_<id>" starts at <id> */

ngx_int_t
ngx_http_webhooks_deliveries_list(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    u_char                         *p;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_LIST_NARGS];
    ngx_str_t                       cursor, status, redelivery;
    ngx_uint_t                      per_page;

    per_page = ngx_http_webhooks_request_arg(r, "per_page", 8,
                                             NGX_HTTP_WEBHOOKS_PER_PAGE);
    if (per_page > NGX_HTTP_WEBHOOKS_PER_PAGE_MAX) {
        per_page = NGX_HTTP_WEBHOOKS_PER_PAGE_MAX;
    }

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_LIST_TOP], "+inf");

    if (ngx_http_arg(r, (u_char *) "cursor", 6, &cursor) == NGX_OK) {
        uint64_t  id;

        if (cursor.len < 4 || ngx_strncmp(cursor.data, "v1_", 3) != 0
           || ngx_http_webhooks_router_parse_id(cursor.data + 3, cursor.len - 3,
                                                 &id)
               != NGX_OK)
        {
            return ngx_http_webhooks_reply_error(r, NGX_HTTP_BAD_REQUEST,
                                                 "Invalid cursor",
                                                 ctx->rt.doc_url, NULL);
        }

        args[NGX_HTTP_WEBHOOKS_LIST_TOP].data = cursor.data + 3;
        args[NGX_HTTP_WEBHOOKS_LIST_TOP].len = cursor.len - 3;
    }

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_LIST_STATUS], "");
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_LIST_REDELIVERY], "");

    if (ngx_http_arg(r, (u_char *) "redelivery", 10, &redelivery) == NGX_OK) {
        if (!(redelivery.len == 4
              && ngx_strncmp(redelivery.data, "true", 4) == 0)
            && !(redelivery.len == 5
                 && ngx_strncmp(redelivery.data, "false", 5) == 0))
        {
            return ngx_http_webhooks_reply_error(r,
                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE, "Validation Failed",
                       ctx->rt.doc_url,
                       ngx_http_webhooks_json_own(r->pool,
                           json_pack("[{s:s,s:s,s:s}]", "resource",
                                     "HookDelivery", "field", "redelivery",
                                     "code", "invalid")));
        }

        args[NGX_HTTP_WEBHOOKS_LIST_REDELIVERY] = redelivery;
    }

    if (ngx_http_arg(r, (u_char *) "status", 6, &status) == NGX_OK) {
        if (!(status.len == 7 && ngx_strncmp(status.data, "success", 7) == 0)
            && !(status.len == 7
                 && ngx_strncmp(status.data, "failure", 7) == 0))
        {
            return ngx_http_webhooks_reply_error(r,
                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE, "Validation Failed",
                       ctx->rt.doc_url,
                       ngx_http_webhooks_json_own(r->pool,
                           json_pack("[{s:s,s:s,s:s}]", "resource",
                                     "HookDelivery", "field", "status",
                                     "code", "invalid")));
        }

        args[NGX_HTTP_WEBHOOKS_LIST_STATUS] = status;
    }

    if (ngx_http_webhooks_deliveries_key(r, ctx,
                                    &args[NGX_HTTP_WEBHOOKS_LIST_DELIVERIES])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* one more than asked for tells whether there is a next page */

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_LIST_COUNT].data = p;
    args[NGX_HTTP_WEBHOOKS_LIST_COUNT].len =
                                       ngx_sprintf(p, "%ui", per_page + 1) - p;

    ctx->per_page = per_page;

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_LIST,
                                    ngx_http_webhooks_deliveries_list_done, r,
                                    NGX_HTTP_WEBHOOKS_LIST_NKEYS,
                                    NGX_HTTP_WEBHOOKS_LIST_NARGS, args));
}


static void
ngx_http_webhooks_deliveries_list_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    size_t                    i, n;
    json_t                   *list, *item;
    ngx_int_t                 rc;
    ngx_str_t                 link, url, query, next, prev;
    redisReply               *items;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_ARRAY)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    items = reply->element[0];

    list = ngx_http_webhooks_json_own(r->pool, json_array());
    if (list == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = ngx_min(items->elements, ctx->per_page);

    for (i = 0; i < n; i++) {
        item = ngx_http_webhooks_deliveries_item(items->element[i]);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_str_null(&next);
    ngx_str_null(&prev);

    if (items->elements > ctx->per_page
        && items->element[n]->type == REDIS_REPLY_ARRAY
        && items->element[n]->elements
        && items->element[n]->element[0]->type == REDIS_REPLY_STRING)
    {
        next.data = (u_char *) items->element[n]->element[0]->str;
        next.len = items->element[n]->element[0]->len;
    }

    if (reply->element[1]->type == REDIS_REPLY_STRING) {
        prev.data = (u_char *) reply->element[1]->str;
        prev.len = reply->element[1]->len;
    }

    if (next.len || prev.len) {
        if (ngx_http_webhooks_hook_url(r->pool, &ctx->rt, &ctx->base,
                                       &ctx->name, &ctx->rt.hook,
                                       "/deliveries", &url)
            != NGX_OK
            || ngx_http_webhooks_deliveries_list_query(r, &query) != NGX_OK)
        {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        link.data = ngx_pnalloc(r->pool, 2 * (url.len + query.len + 64)
                                         + next.len + prev.len);
        if (link.data == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        link.len = 0;

        if (prev.len) {
            link.len = ngx_sprintf(link.data,
                                   "<%V?per_page=%ui&cursor=v1_%V%V>; "
                                   "rel=\"prev\"",
                                   &url, ctx->per_page, &prev, &query)
                       - link.data;
        }

        if (next.len) {
            link.len = ngx_sprintf(link.data + link.len,
                                   "%s<%V?per_page=%ui&cursor=v1_%V%V>; "
                                   "rel=\"next\"",
                                   link.len ? ", " : "",
                                   &url, ctx->per_page, &next, &query)
                       - link.data;
        }

        if (ngx_http_webhooks_reply_add_header(r, "Link", &link) != NGX_OK) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_webhooks_reply_finish(r,
                               ngx_http_webhooks_deliveries_send_log(r, list));
}


/* the filters of a page, for its links: "&status=...&redelivery=..." */

static ngx_int_t
ngx_http_webhooks_deliveries_list_query(ngx_http_request_t *r, ngx_str_t *query)
{
    u_char     *p;
    ngx_str_t   status, redelivery;

    if (ngx_http_arg(r, (u_char *) "status", 6, &status) != NGX_OK) {
        ngx_str_null(&status);
    }

    if (ngx_http_arg(r, (u_char *) "redelivery", 10, &redelivery) != NGX_OK)
    {
        ngx_str_null(&redelivery);
    }

    /* both were checked to be plain words before the page was read */

    p = ngx_pnalloc(r->pool, sizeof("&status=&redelivery=") + status.len
                             + redelivery.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    query->data = p;

    if (status.len) {
        p = ngx_sprintf(p, "&status=%V", &status);
    }

    if (redelivery.len) {
        p = ngx_sprintf(p, "&redelivery=%V", &redelivery);
    }

    query->len = p - query->data;

    return NGX_OK;
}


/*
 * The base of web URLs: webhooks_web_url, else the API's base without
 * GitHub Enterprise's "/api/v3" (https://HOST/api/v3 -> https://HOST)
 */

static ngx_int_t
ngx_http_webhooks_deliveries_web_url(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *web)
{
    ngx_http_webhooks_loc_conf_t  *wlcf;

    static const char  api[] = "/api/v3";

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);

    if (wlcf->web_url) {
        if (ngx_http_complex_value(r, wlcf->web_url, web) != NGX_OK) {
            return NGX_ERROR;
        }

        while (web->len && web->data[web->len - 1] == '/') {
            web->len--;
        }

        return NGX_OK;
    }

    *web = ctx->base;

    if (web->len >= sizeof(api) - 1
        && ngx_strncasecmp(web->data + web->len - (sizeof(api) - 1),
                           (u_char *) api, sizeof(api) - 1)
           == 0)
    {
        web->len -= sizeof(api) - 1;
    }

    return NGX_OK;
}


/* durations as the short decimals they are kept as */

static ngx_int_t
ngx_http_webhooks_deliveries_send_log(ngx_http_request_t *r, json_t *json)
{
    ngx_str_t  body;

    if (ngx_http_webhooks_json_dumpf(r->pool, json, JSON_REAL_PRECISION(15),
                                     &body)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_send(r, NGX_HTTP_OK, &body);
}


/*
 * id, guid, delivered_at, redelivery, duration, status, status_code,
 * event, action, installation_id, repository_id, throttled_at: as the
 * list script gives them, or taken from a delivery's hash
 */

static json_t *
ngx_http_webhooks_deliveries_item(redisReply *r)
{
    size_t     i;
    ngx_str_t  f[12];
    json_t    *action, *installation, *repository, *throttled;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 12) {
        return NULL;
    }

    for (i = 0; i < 12; i++) {
        if (r->element[i]->type == REDIS_REPLY_STRING) {
            f[i].data = (u_char *) r->element[i]->str;
            f[i].len = r->element[i]->len;

        } else {
            ngx_str_set(&f[i], "");
        }
    }

    action = f[8].len ? ngx_http_webhooks_json_stringn(&f[8]) : json_null();
    installation = f[9].len
                   ? json_integer(ngx_atoof(f[9].data, f[9].len))
                   : json_null();
    repository = f[10].len
                 ? json_integer(ngx_atoof(f[10].data, f[10].len))
                 : json_null();
    throttled = f[11].len ? ngx_http_webhooks_json_stringn(&f[11])
                          : json_null();

    return json_pack("{s:I,s:s%,s:s%,s:b,s:f,s:s%,s:I,s:s%,s:o,s:o,s:o,s:o}",
                     "id", (json_int_t) ngx_atoof(f[0].data, f[0].len),
                     "guid", f[1].data, f[1].len,
                     "delivered_at", f[2].data, f[2].len,
                     "redelivery", f[3].len == 1 && f[3].data[0] == '1',
                     "duration", f[4].len
                                 ? strtod((char *) r->element[4]->str, NULL)
                                 : 0.0,
                     "status", f[5].data, f[5].len,
                     "status_code",
                     (json_int_t) ngx_atoi(f[6].data, f[6].len),
                     "event", f[7].data, f[7].len,
                     "action", action,
                     "installation_id", installation,
                     "repository_id", repository,
                     "throttled_at", throttled);
}


static void
ngx_http_webhooks_deliveries_take_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    json_t                   *out;
    ngx_int_t                 rc;
    ngx_str_t                 hook, v, args[NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS];
    ngx_uint_t                i, k;
    redisReply               *record;
    ngx_http_webhooks_ctx_t  *ctx;

    /* what a redelivery keeps of the delivery redelivered */
    static struct {
        const char           *field;
        ngx_uint_t            arg;
    } kept[] = {
        { "payload", NGX_HTTP_WEBHOOKS_ENQUEUE_PAYLOAD_KEY },
        { "guid", NGX_HTTP_WEBHOOKS_ENQUEUE_GUID },
        { "action", NGX_HTTP_WEBHOOKS_ENQUEUE_ACTION },
        { "repository_id", NGX_HTTP_WEBHOOKS_ENQUEUE_REPOSITORY_ID },
        { "installation_id", NGX_HTTP_WEBHOOKS_ENQUEUE_INSTALLATION_ID },
        { "target_type", NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_TYPE },
        { "target_id", NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_ID }
    };

    /* nil: no such delivery, or it expired */
    ctx = ngx_http_webhooks_request_found_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               REDIS_REPLY_NIL, &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    record = reply->element[0];

    if (record->type != REDIS_REPLY_ARRAY
        || ngx_http_webhooks_field(record, "hook", &hook) != NGX_OK
        || hook.len != ctx->rt.hook.len
        || ngx_strncmp(hook.data, ctx->rt.hook.data, hook.len) != 0)
    {
        /* a delivery of another hook is not found here */
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    if (ctx->rt.op == NGX_HTTP_WEBHOOKS_OP_DELIVERY) {
        out = ngx_http_webhooks_json_own(r->pool,
                  ngx_http_webhooks_deliveries_json(r, record,
                                                    reply->element[1],
                                                    reply->element[2]));
        ngx_http_webhooks_reply_finish(r, out
                            ? ngx_http_webhooks_deliveries_send_log(r, out)
                            : NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* redelivery: the same event, the same GUID, the same payload */

    (void) ngx_http_webhooks_field(record, "event", &v);

    if (ngx_http_webhooks_deliveries_enqueue_args(r, ctx, args, &v, NULL)
        != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
        (void) ngx_http_webhooks_field(record, kept[k].field,
                                       &args[kept[k].arg]);
    }

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_ENQUEUE_REDELIVERY], "1");

    /* the reply goes away with this handler: keep what is sent */
    for (i = 0; i < NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS; i++) {
        if (args[i].len == 0) {
            args[i].data = (u_char *) "";
            continue;
        }

        args[i].data = ngx_pstrdup(r->pool, &args[i]);
        if (args[i].data == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    rc = ngx_http_webhooks_deliveries_enqueue(r, ctx, args);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


static json_t *
ngx_http_webhooks_deliveries_json(ngx_http_request_t *r, redisReply *record,
    redisReply *payload, redisReply *response)
{
    size_t       i;
    u_char      *body;
    json_t      *out, *v;
    ngx_str_t    f;
    redisReply   fields, *e[12], ev[12];

    static const char  *names[] = {
        "id", "guid", "delivered_at", "redelivery", "duration", "status",
        "status_code", "event", "action", "installation_id",
        "repository_id", "throttled_at"
    };

    /* the item's fields in the list script's order */

    for (i = 0; i < 12; i++) {
        ngx_memzero(&ev[i], sizeof(redisReply));

        if (ngx_http_webhooks_field(record, names[i], &f) == NGX_OK) {
            ev[i].type = REDIS_REPLY_STRING;
            ev[i].str = (char *) f.data;
            ev[i].len = f.len;

        } else {
            ev[i].type = REDIS_REPLY_NIL;
        }

        e[i] = &ev[i];
    }

    ngx_memzero(&fields, sizeof(redisReply));
    fields.type = REDIS_REPLY_ARRAY;
    fields.elements = 12;
    fields.element = e;

    out = ngx_http_webhooks_deliveries_item(&fields);
    if (out == NULL) {
        return NULL;
    }

    (void) ngx_http_webhooks_field(record, "url", &f);

    if (json_object_set_new(out, "url", ngx_http_webhooks_json_stringn(&f))
        != 0)
    {
        goto failed;
    }

    v = json_pack("{s:o,s:o}", "headers", json_null(), "payload",
                  json_null());
    if (v == NULL || json_object_set_new(out, "request", v) != 0) {
        goto failed;
    }

    if (ngx_http_webhooks_field(record, "url", &f) == NGX_OK) {
        json_object_set_new(v, "headers",
                         ngx_http_webhooks_deliveries_request_headers(record));
    }

    if (payload->type == REDIS_REPLY_STRING) {
        json_object_set_new(v, "payload",
                            json_loadb(payload->str, payload->len, 0, NULL));
    }

    v = json_pack("{s:o,s:o}", "headers", json_null(), "payload",
                  json_null());
    if (v == NULL || json_object_set_new(out, "response", v) != 0) {
        goto failed;
    }

    /* "<headers JSON>\n<body>" */

    if (response->type == REDIS_REPLY_STRING) {
        f.data = (u_char *) response->str;
        f.len = response->len;

        body = ngx_strlchr(f.data, f.data + f.len, '\n');
        if (body == NULL) {
            body = f.data + f.len;
        }

        json_object_set_new(v, "headers",
                            json_loadb((char *) f.data, body - f.data, 0,
                                       NULL));

        f.len = (body < f.data + f.len) ? f.data + f.len - body - 1 : 0;
        f.data = body + 1;

        json_object_set_new(v, "payload",
                            ngx_http_webhooks_json_stringn(&f));
    }

    return out;

failed:

    json_decref(out);
    return NULL;
}


/*
 * The request headers of an attempt, as the sender made them: all but
 * the signatures follow from the record, which keeps those.
 */

static json_t *
ngx_http_webhooks_deliveries_request_headers(redisReply *record)
{
    u_char      buf[sizeof("sha256=") + 64];
    json_t     *h;
    ngx_str_t   v;
    ngx_uint_t  i;

    static struct {
        const char  *header;
        const char  *field;
    } from[] = {
        { "X-GitHub-Delivery", "guid" },
        { "X-GitHub-Event", "event" },
        { "X-GitHub-Hook-ID", "hook" },
        { "X-GitHub-Hook-Installation-Target-ID", "target_id" },
        { "X-GitHub-Hook-Installation-Target-Type", "target_type" }
    };

    h = json_object();
    if (h == NULL) {
        return NULL;
    }

    (void) ngx_http_webhooks_field(record, "form", &v);

    json_object_set_new(h, "Accept", json_string("*/*"));
    json_object_set_new(h, "Content-Type",
                        json_string(v.len
                                    ? "application/x-www-form-urlencoded"
                                    : "application/json"));
    json_object_set_new(h, "User-Agent", json_string(NGX_HTTP_WEBHOOKS_UA));

    for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        (void) ngx_http_webhooks_field(record, from[i].field, &v);

        /* no target id, no header; a target type, even empty */
        if (v.len == 0 && i == 3) {
            continue;
        }

        json_object_set_new(h, from[i].header,
                            ngx_http_webhooks_json_stringn(&v));
    }

    if (ngx_http_webhooks_field(record, "s1", &v) == NGX_OK && v.len <= 64) {
        v.len = ngx_sprintf(buf, "sha1=%V", &v) - buf;
        v.data = buf;
        json_object_set_new(h, "X-Hub-Signature",
                            ngx_http_webhooks_json_stringn(&v));
    }

    if (ngx_http_webhooks_field(record, "s256", &v) == NGX_OK && v.len <= 64)
    {
        v.len = ngx_sprintf(buf, "sha256=%V", &v) - buf;
        v.data = buf;
        json_object_set_new(h, "X-Hub-Signature-256",
                            ngx_http_webhooks_json_stringn(&v));
    }

    return h;
}


/* a ping: the hook as the API shows it, its repository or org, sender */

ngx_int_t
ngx_http_webhooks_deliveries_ping(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    u_char                         *p;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_CONTEXT_NARGS];
    ngx_str_t                       what, scope;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    p = ngx_pnalloc(r->pool, 3 * (sizeof("user:") + ctx->rt.key.len)
                             + sizeof("user:") + ctx->who.login.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    what.data = p;
    what.len = ngx_sprintf(p, "user:%V", &ctx->who.login) - p;
    p += what.len;

    /* all of them the scope's keys, in its slot */

    if (ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &ctx->rt, "",
                                    &scope)
           != NGX_OK
        || ngx_http_webhooks_key(r->pool, &scope,
                                 &(ngx_str_t) ngx_string("object"),
                                 &args[NGX_HTTP_WEBHOOKS_CONTEXT_OBJECT])
           != NGX_OK
        || ngx_http_webhooks_key(r->pool, &scope, &what,
                                 &args[NGX_HTTP_WEBHOOKS_CONTEXT_SENDER])
           != NGX_OK
        || ngx_http_webhooks_key(r->pool, &scope,
                                 &(ngx_str_t) ngx_string("ids"),
                                 &args[NGX_HTTP_WEBHOOKS_CONTEXT_IDS])
           != NGX_OK
        || ngx_http_webhooks_key(r->pool, &scope,
                                 &(ngx_str_t) ngx_string("seq:id"),
                                 &args[NGX_HTTP_WEBHOOKS_CONTEXT_SEQ])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_CONTEXT_SCOPE_FIELD].data = p;
    args[NGX_HTTP_WEBHOOKS_CONTEXT_SCOPE_FIELD].len = ngx_sprintf(p, "%c:%V",
                              ctx->rt.scope == NGX_HTTP_WEBHOOKS_ORG
                              ? 'o' : 'r', &ctx->rt.key) - p;
    p += args[NGX_HTTP_WEBHOOKS_CONTEXT_SCOPE_FIELD].len;

    args[NGX_HTTP_WEBHOOKS_CONTEXT_SENDER_FIELD].data = p;
    args[NGX_HTTP_WEBHOOKS_CONTEXT_SENDER_FIELD].len =
                                   ngx_sprintf(p, "u:%V", &ctx->who.login) - p;
    p += args[NGX_HTTP_WEBHOOKS_CONTEXT_SENDER_FIELD].len;

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_CONTEXT_OWNER_FIELD], "");

    if (ctx->rt.scope == NGX_HTTP_WEBHOOKS_REPO) {
        /* the owner: the repository's name up to the slash */
        args[NGX_HTTP_WEBHOOKS_CONTEXT_OWNER_FIELD].data = p;
        p = ngx_cpymem(p, "u:", 2);

        for (what.data = ctx->rt.key.data;
             what.data < ctx->rt.key.data + ctx->rt.key.len
             && *what.data != '/';
             what.data++)
        {
            *p++ = *what.data;
        }

        args[NGX_HTTP_WEBHOOKS_CONTEXT_OWNER_FIELD].len =
                         p - args[NGX_HTTP_WEBHOOKS_CONTEXT_OWNER_FIELD].data;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_CONTEXT,
                                    ngx_http_webhooks_deliveries_context_done,
                                    r,
                                    NGX_HTTP_WEBHOOKS_CONTEXT_NKEYS,
                                    NGX_HTTP_WEBHOOKS_CONTEXT_NARGS, args));
}


static void
ngx_http_webhooks_deliveries_context_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                  rc;
    ngx_str_t                  payload, event, *s[5];
    ngx_str_t                  args[NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS];
    ngx_uint_t                 i;
    redisReply               **e;
    ngx_http_webhooks_ctx_t   *ctx;
    ngx_http_webhooks_ping_t   ping;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (reply->elements != 5) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&ping, sizeof(ngx_http_webhooks_ping_t));

    e = reply->element;
    s[0] = &ping.scope_object;
    s[1] = &ping.sender_object;
    s[2] = &ping.scope_id;
    s[3] = &ping.sender_id;
    s[4] = &ping.owner_id;

    for (i = 0; i < 5; i++) {
        if (e[i]->type == REDIS_REPLY_INTEGER) {
            s[i]->data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
            if (s[i]->data == NULL) {
                ngx_http_webhooks_reply_finish(r,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            s[i]->len = ngx_sprintf(s[i]->data, "%L",
                                    (int64_t) e[i]->integer)
                        - s[i]->data;

        } else if (e[i]->type == REDIS_REPLY_STRING) {
            s[i]->data = (u_char *) e[i]->str;
            s[i]->len = e[i]->len;

        } else {
            ngx_str_set(s[i], "");
        }
    }

    ping.repo = (ctx->rt.scope == NGX_HTTP_WEBHOOKS_REPO);
    ping.base = ctx->base;

    if (ngx_http_webhooks_deliveries_web_url(r, ctx, &ping.web) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ping.name = ctx->name;
    ping.login = ctx->who.login;

    if (ngx_http_webhooks_request_hook_json(r, ctx, &ping.hook) != NGX_OK
        || ngx_http_webhooks_ping_payload(r, &ping, &payload) != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&event, "ping");

    if (ngx_http_webhooks_deliveries_enqueue_args(r, ctx, args, &event,
                                                  &payload)
        != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_ID] = ping.target_id;

    if (ping.repo) {
        args[NGX_HTTP_WEBHOOKS_ENQUEUE_REPOSITORY_ID] = ping.target_id;
    }

    rc = ngx_http_webhooks_deliveries_enqueue(r, ctx, args);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


/* a test: the latest push taken in for the repository, sent again */

static void
ngx_http_webhooks_deliveries_lastpush_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    json_t                   *push;
    ngx_int_t                 rc;
    ngx_str_t                 payload, event;
    ngx_str_t                 args[NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS];
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_STRING,
                                               &rc);

    if (ctx == NULL) {
        if (reply && reply->type == REDIS_REPLY_NIL) {
            /* nothing pushed yet: GitHub sends nothing either */
            rc = ngx_http_webhooks_reply_send(r, NGX_HTTP_NO_CONTENT, NULL);
        }

        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (ngx_http_webhooks_request_copy(r, reply, &payload) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&event, "push");

    if (ngx_http_webhooks_deliveries_enqueue_args(r, ctx, args, &event,
                                                  &payload)
        != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    push = ngx_http_webhooks_json_load(r->pool, payload.data, payload.len);

    if (push == NULL
        || ngx_http_webhooks_json_number(r->pool,
               json_object_get(json_object_get(push, "repository"), "id"),
               &args[NGX_HTTP_WEBHOOKS_ENQUEUE_REPOSITORY_ID])
           != NGX_OK
        || ngx_http_webhooks_json_number(r->pool,
               json_object_get(json_object_get(push, "installation"), "id"),
               &args[NGX_HTTP_WEBHOOKS_ENQUEUE_INSTALLATION_ID])
           != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_ID] =
                                 args[NGX_HTTP_WEBHOOKS_ENQUEUE_REPOSITORY_ID];

    rc = ngx_http_webhooks_deliveries_enqueue(r, ctx, args);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


/*
 * The arguments of the enqueue script for a new event of one hook: a new
 * GUID, the payload given.  A redelivery overwrites what it keeps.
 */

static ngx_int_t
ngx_http_webhooks_deliveries_enqueue_args(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *args, ngx_str_t *event,
    ngx_str_t *payload)
{
    u_char                         *p;
    ngx_uint_t                      i;
    ngx_str_t                       what;
    ngx_http_webhooks_shard_t      *sh;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    for (i = 0; i < NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS; i++) {
        ngx_str_set(&args[i], "");
    }

    /* the GUID, "event:<GUID>" and the time */
    p = ngx_pnalloc(r->pool, 2 * NGX_HTTP_WEBHOOKS_GUID_LEN + sizeof("event:")
                             + sizeof("2011-09-06T17:26:27Z"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_ENQUEUE_GUID].data = p;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_GUID].len = NGX_HTTP_WEBHOOKS_GUID_LEN;

    if (ngx_http_webhooks_sign_guid(p) != NGX_OK) {
        return NGX_ERROR;
    }

    p += NGX_HTTP_WEBHOOKS_GUID_LEN;

    what.data = p;
    what.len = ngx_sprintf(p, "event:%V",
                           &args[NGX_HTTP_WEBHOOKS_ENQUEUE_GUID])
               - p;
    p += what.len;

    args[NGX_HTTP_WEBHOOKS_ENQUEUE_NOW].data = p;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_NOW].len =
                                 ngx_http_webhooks_json_time(p, ngx_time()) - p;

    sh = ngx_http_webhooks_scope_shard(wmcf, &ctx->rt);

    if (ngx_http_webhooks_shard_key(r->pool, sh, "", &what,
                                  &args[NGX_HTTP_WEBHOOKS_ENQUEUE_PAYLOAD_KEY])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the hook was read before: the shard's script needs only its URL */

    if (ngx_http_webhooks_json_str(json_object_get(ctx->hook, "config"),
                                   "url", &args[NGX_HTTP_WEBHOOKS_ENQUEUE_URL])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_ENQUEUE_QUEUE] = sh->queue;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_SEQ] = sh->seq;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_RETRY] = sh->retry;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_SHARD] = sh->number;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_SHARDS] = wmcf->nshards;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_HOOKS] = ctx->hooks;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_QUEUE_MAX] =
                                            wmcf->reliability.queue_max_text;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_EVENT] = *event;
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_TTL] = wmcf->sender.retention_text;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_ENQUEUE_REDELIVERY], "0");
    args[NGX_HTTP_WEBHOOKS_ENQUEUE_HOOK] = ctx->rt.hook;

    if (payload) {
        args[NGX_HTTP_WEBHOOKS_ENQUEUE_PAYLOAD] = *payload;
    }

    if (ctx->rt.scope == NGX_HTTP_WEBHOOKS_ORG) {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_TYPE],
                    "organization");

    } else {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_ENQUEUE_TARGET_TYPE], "repository");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_deliveries_enqueue(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *args)
{
    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_ENQUEUE,
                                    ngx_http_webhooks_deliveries_enqueue_done,
                                    r,
                                    NGX_HTTP_WEBHOOKS_ENQUEUE_NKEYS,
                                    NGX_HTTP_WEBHOOKS_ENQUEUE_NARGS, args));
}


static void
ngx_http_webhooks_deliveries_enqueue_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                 rc;
    ngx_http_webhooks_ctx_t  *ctx;

    static ngx_str_t  accepted = ngx_string("{}");

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_INTEGER,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (reply->integer == -1) {
        /* deleted meanwhile */
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    if (reply->integer == -2) {
        /* the payload outlived the retention of deliveries */
        ngx_http_webhooks_reply_finish(r,
                ngx_http_webhooks_reply_error(r,
                    NGX_HTTP_WEBHOOKS_UNPROCESSABLE, "Validation Failed",
                    ctx->rt.doc_url,
                    ngx_http_webhooks_json_own(r->pool,
                        json_pack("[{s:s,s:s,s:s}]", "resource",
                                  "HookDelivery", "code", "custom",
                                  "message",
                                  "The delivery is too old to redeliver"))));
        return;
    }

    if (reply->integer == -3) {
        ngx_http_webhooks_reply_finish(r, ngx_http_webhooks_reply_busy(r));
        return;
    }

    ngx_http_webhooks_stats_inc(
        ctx->rt.op == NGX_HTTP_WEBHOOKS_OP_REDELIVER
        ? NGX_HTTP_WEBHOOKS_STAT_REDELIVERIES
        : ctx->rt.op == NGX_HTTP_WEBHOOKS_OP_PING ? NGX_HTTP_WEBHOOKS_STAT_PINGS
        : NGX_HTTP_WEBHOOKS_STAT_TESTS, 1);

    if (ctx->rt.op == NGX_HTTP_WEBHOOKS_OP_REDELIVER) {
        ngx_http_webhooks_reply_finish(r, ngx_http_webhooks_reply_send(r,
                                               NGX_HTTP_ACCEPTED, &accepted));
        return;
    }

    ngx_http_webhooks_reply_finish(r,
                  ngx_http_webhooks_reply_send(r, NGX_HTTP_NO_CONTENT, NULL));
}
