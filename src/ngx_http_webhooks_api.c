
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_api.h"
#include "ngx_http_webhooks_auth.h"
#include "ngx_http_webhooks_deliveries.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_redeliver.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_request.h"
#include "ngx_http_webhooks_router.h"
#include "ngx_http_webhooks_headers.h"
#include "ngx_http_webhooks_secret.h"
#include "ngx_http_webhooks_store.h"


#define NGX_HTTP_WEBHOOKS_TRIES         5


/* one field of a hooks hash: "<id>" or "<id>:<what>" */

typedef struct {
    uint64_t                        id;
    ngx_str_t                       key;
    ngx_str_t                       what;
    ngx_str_t                       value;
} ngx_http_webhooks_item_t;


static void ngx_http_webhooks_api_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_api_bad_version(ngx_http_request_t *r,
    ngx_str_t *version);
static ngx_uint_t ngx_http_webhooks_api_body_required(
    ngx_http_webhooks_route_t *rt);
static ngx_int_t ngx_http_webhooks_api_not_object(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, json_t *body);

static void ngx_http_webhooks_api_list_done(void *data, redisReply *reply);
static void ngx_http_webhooks_api_id_done(void *data, redisReply *reply);
static void ngx_http_webhooks_api_fetch_done(void *data, redisReply *reply);
static void ngx_http_webhooks_api_save_done(void *data, redisReply *reply);
static void ngx_http_webhooks_api_delete_done(void *data, redisReply *reply);
static void ngx_http_webhooks_api_purge_done(void *data, redisReply *reply);

static ngx_int_t ngx_http_webhooks_api_list(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_api_get(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_api_update_config(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_api_created(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_api_save(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_webhooks_api_respond_config(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_api_fault(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_http_webhooks_fault_t *fault);
static ngx_int_t ngx_http_webhooks_api_json_media(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_api_link(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_uint_t page, ngx_uint_t per_page,
    ngx_uint_t last);
static int ngx_libc_cdecl ngx_http_webhooks_api_item_cmp(const void *one,
    const void *two);


#define NGX_HTTP_WEBHOOKS_API_BODY       0x01  /* a JSON body, read first */
#define NGX_HTTP_WEBHOOKS_API_ORG_BODY   0x02  /* required of an org */
#define NGX_HTTP_WEBHOOKS_API_REPO_BODY  0x04  /* required of a repo */
#define NGX_HTTP_WEBHOOKS_API_HOOK       0x08  /* the hook, read first */
#define NGX_HTTP_WEBHOOKS_API_PARSE      0x10  /* and its JSON parsed */


/*
 * What each operation of a route does: the one place an operation is
 * dispatched on.  GitHub's description makes the bodies of creating an
 * org hook and updating a repository hook required.
 */

static struct {
    ngx_uint_t                        flags;
    ngx_http_webhooks_ctx_handler_pt  handler;
    ngx_http_webhooks_ctx_handler_pt  saved;
} ngx_http_webhooks_api_ops[NGX_HTTP_WEBHOOKS_OP_MAX] = {

    [NGX_HTTP_WEBHOOKS_OP_LIST] =
        { 0, ngx_http_webhooks_api_list, NULL },
    [NGX_HTTP_WEBHOOKS_OP_CREATE] =
        { NGX_HTTP_WEBHOOKS_API_BODY|NGX_HTTP_WEBHOOKS_API_ORG_BODY,
          ngx_http_webhooks_api_create, ngx_http_webhooks_api_created },
    [NGX_HTTP_WEBHOOKS_OP_GET] =
        { NGX_HTTP_WEBHOOKS_API_HOOK, ngx_http_webhooks_api_get, NULL },
    [NGX_HTTP_WEBHOOKS_OP_UPDATE] =
        { NGX_HTTP_WEBHOOKS_API_BODY|NGX_HTTP_WEBHOOKS_API_REPO_BODY
          |NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_api_update, ngx_http_webhooks_api_get },
    [NGX_HTTP_WEBHOOKS_OP_DELETE] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_api_delete, NULL },
    [NGX_HTTP_WEBHOOKS_OP_GET_CONFIG] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_api_respond_config, NULL },
    [NGX_HTTP_WEBHOOKS_OP_UPDATE_CONFIG] =
        { NGX_HTTP_WEBHOOKS_API_BODY
          |NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_api_update_config,
          ngx_http_webhooks_api_respond_config },
    [NGX_HTTP_WEBHOOKS_OP_DELIVERIES] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_deliveries_list, NULL },
    [NGX_HTTP_WEBHOOKS_OP_DELIVERY] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_deliveries_take, NULL },
    [NGX_HTTP_WEBHOOKS_OP_REDELIVER] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_deliveries_take, NULL },
    [NGX_HTTP_WEBHOOKS_OP_PING] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_deliveries_ping, NULL },
    [NGX_HTTP_WEBHOOKS_OP_TEST] =
        { NGX_HTTP_WEBHOOKS_API_HOOK|NGX_HTTP_WEBHOOKS_API_PARSE,
          ngx_http_webhooks_deliveries_test, NULL },
    [NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED] =
        { NGX_HTTP_WEBHOOKS_API_BODY, ngx_http_webhooks_redeliver_failed,
          NULL },

    /* the hub sets what it does, and answers 204 */
    [NGX_HTTP_WEBHOOKS_OP_HUB] =
        { NGX_HTTP_WEBHOOKS_API_PARSE, NULL, NULL },
};


ngx_int_t
ngx_http_webhooks_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      prefix, version;
    ngx_http_webhooks_ctx_t       *ctx;
    ngx_http_webhooks_loc_conf_t  *wlcf;
    ngx_http_webhooks_main_conf_t *wmcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);
    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webhooks_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_webhooks_module);

    rc = ngx_http_webhooks_headers_start(r, &version);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_webhooks_api_bad_version(r, &version);
    }

    rc = ngx_http_webhooks_router_request(r, &ctx->rt, &prefix);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_request_not_found(r, ctx);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "webhooks op:%ui name:\"%V\" hook:%uL",
                   ctx->rt.op, &ctx->rt.name, ctx->rt.hook_id);

    if (ngx_http_webhooks_auth_identify(r, wlcf, &ctx->who) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->who.login.len == 0) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_webhooks_reply_error(r, NGX_HTTP_UNAUTHORIZED,
                                             "Requires authentication",
                                             ctx->rt.doc_url, NULL);
    }

    if (!ctx->who.admin) {
        /* GitHub hides what one may not administer */
        return ngx_http_webhooks_request_not_found(r, ctx);
    }

    if (ngx_http_webhooks_request_base(r, ctx, &prefix) != NGX_OK
        || ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &ctx->rt,
                                       "hooks", &ctx->hooks)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->handler = ngx_http_webhooks_api_ops[ctx->rt.op].handler;
    ctx->saved = ngx_http_webhooks_api_ops[ctx->rt.op].saved;

    if (!(ngx_http_webhooks_api_ops[ctx->rt.op].flags
          & NGX_HTTP_WEBHOOKS_API_BODY))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_webhooks_api_run(r, ctx);

        if (rc == NGX_DONE) {
            /* held until the reply from redis finalizes the request */
            r->main->count++;
        }

        return rc;
    }

    if (ngx_http_webhooks_api_json_media(r) != NGX_OK) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_webhooks_reply_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                             "Unsupported Media Type",
                                             ctx->rt.doc_url, NULL);
    }

    if (wlcf->body_max
        && r->headers_in.content_length_n > (off_t) wlcf->body_max)
    {
        return ngx_http_webhooks_reply_too_large(r, ctx->rt.doc_url);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_webhooks_api_body_handler);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_webhooks_api_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      body;
    ngx_http_webhooks_ctx_t       *ctx;
    ngx_http_webhooks_loc_conf_t  *wlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);

    rc = ngx_http_webhooks_reply_read_body(r, &body, wlcf->body_max);

    if (rc == NGX_DECLINED) {
        ngx_http_finalize_request(r,
                         ngx_http_webhooks_reply_too_large(r, ctx->rt.doc_url));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (body.len == 0 && !ngx_http_webhooks_api_body_required(&ctx->rt)) {
        ctx->body = ngx_http_webhooks_json_own(r->pool, json_object());

    } else if (body.len == 0) {
        ctx->body = ngx_http_webhooks_json_own(r->pool, json_null());

    } else {
        ctx->body = ngx_http_webhooks_json_load_any(r->pool, body.data,
                                                    body.len);

        if (ctx->body == NULL) {
            rc = ngx_http_webhooks_reply_error(r, NGX_HTTP_BAD_REQUEST,
                                               "Problems parsing JSON",
                                               ctx->rt.doc_url, NULL);
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    if (ctx->body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!json_is_object(ctx->body)) {
        ngx_http_finalize_request(r,
                          ngx_http_webhooks_api_not_object(r, ctx, ctx->body));
        return;
    }

    rc = ngx_http_webhooks_api_run(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* GitHub's 400, its "errors" a string naming the versions it serves */

static ngx_int_t
ngx_http_webhooks_api_bad_version(ngx_http_request_t *r, ngx_str_t *version)
{
    json_t     *shown, *errors;
    ngx_str_t   dump;
    u_char     *p;

    static const char  head[] = "The version you specified in the "
                                "\"X-GitHub-API-Version\" request header, ";
    static const char  tail[] = ", is not a supported version. The following "
                                "versions are currently supported: "
                                "\"2026-03-10\" (most recent) and "
                                "\"2022-11-28\".";

    /* quoted and escaped as a JSON string: headers may hold anything */
    shown = ngx_http_webhooks_json_own(r->pool,
                                       json_stringn((char *) version->data,
                                                    version->len));
    if (shown == NULL) {
        shown = ngx_http_webhooks_json_own(r->pool, json_string("?"));
    }

    if (shown == NULL
        || ngx_http_webhooks_json_dump(r->pool, shown, &dump) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof(head) - 1 + dump.len + sizeof(tail));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, "%s%V%s%Z", head, &dump, tail);

    errors = ngx_http_webhooks_json_own(r->pool, json_string((char *) p));
    if (errors == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_BAD_REQUEST, "Bad Request",
                                         NULL, errors);
}


/* GitHub's description makes these bodies required */

static ngx_uint_t
ngx_http_webhooks_api_body_required(ngx_http_webhooks_route_t *rt)
{
    ngx_uint_t  flags;

    flags = ngx_http_webhooks_api_ops[rt->op].flags;

    return (rt->scope == NGX_HTTP_WEBHOOKS_ORG)
           ? (flags & NGX_HTTP_WEBHOOKS_API_ORG_BODY)
           : (flags & NGX_HTTP_WEBHOOKS_API_REPO_BODY);
}


/*
 * A body that parses but is not an object fails GitHub's schema check of
 * the whole body ("links/0/schema"), an absent one as nil
 */

static ngx_int_t
ngx_http_webhooks_api_not_object(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, json_t *body)
{
    u_char     *p;
    ngx_str_t   shown;

    static const char  head[] = "Invalid request.\n\nFor 'links/0/schema', ";
    static const char  tail[] = " is not an object.";

    if (ngx_http_webhooks_json_inspect(r->pool, body, &shown) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof(head) - 1 + shown.len + sizeof(tail));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, "%s%V%s%Z", head, &shown, tail);

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                         (char *) p, ctx->rt.doc_url, NULL);
}


/* NGX_DONE when a reply is awaited, or what to finalize the request with */

ngx_int_t
ngx_http_webhooks_api_run(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx)
{
    if (ngx_http_webhooks_api_ops[ctx->rt.op].flags
        & NGX_HTTP_WEBHOOKS_API_HOOK)
    {
        return ngx_http_webhooks_api_fetch(r, ctx);
    }

    return ctx->handler(r, ctx);
}


static ngx_int_t
ngx_http_webhooks_api_list(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_key_command(
                   ngx_http_webhooks_api_list_done, r, "HGETALL", &ctx->hooks));
}


ngx_int_t
ngx_http_webhooks_api_create(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    json_t                         *hook;
    ngx_str_t                       seq;
    ngx_http_webhooks_fault_t       fault;
    ngx_http_webhooks_main_conf_t  *wmcf;

    ngx_memzero(&fault, sizeof(ngx_http_webhooks_fault_t));

    hook = ngx_http_webhooks_hook_create(r, &ctx->rt, &ctx->who, ctx->body,
                                         &fault);
    if (hook == NULL) {
        return ngx_http_webhooks_api_fault(r, ctx, &fault);
    }

    ctx->hook = hook;

    /* ids come from one counter, unique across orgs and repos */

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    if (ngx_http_webhooks_seq_key(r->pool, &wmcf->prefix, &seq) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_key_command(
                   ngx_http_webhooks_api_id_done, r, "INCR", &seq));
}


ngx_int_t
ngx_http_webhooks_api_fetch(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx)
{
    u_char      *p;
    size_t       argvlen[7];
    const char  *argv[7];

    p = ngx_pnalloc(r->pool, 3 * (ctx->rt.hook.len + 3));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (const char *) ctx->hooks.data;
    argvlen[1] = ctx->hooks.len;
    argv[2] = (const char *) ctx->rt.hook.data;
    argvlen[2] = ctx->rt.hook.len;

    argv[3] = (const char *) p;
    argvlen[3] = ngx_sprintf(p, "%V:v", &ctx->rt.hook) - p;
    p += argvlen[3];

    argv[4] = (const char *) p;
    argvlen[4] = ngx_sprintf(p, "%V:c", &ctx->rt.hook) - p;
    p += argvlen[4];

    argv[5] = (const char *) p;
    argvlen[5] = ngx_sprintf(p, "%V:lr", &ctx->rt.hook) - p;

    argv[6] = "name";
    argvlen[6] = 4;

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_command(
                   ngx_http_webhooks_api_fetch_done, r, 7, argv, argvlen));
}


static void
ngx_http_webhooks_api_list_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                    *p, *out;
    size_t                     i, n, len;
    uint64_t                   id;
    ngx_int_t                  rc;
    ngx_str_t                  field, body, *view, *app, *lr;
    ngx_uint_t                 k, page, per_page, last, first, shown;
    redisReply                *f, *v;
    ngx_http_webhooks_ctx_t   *ctx;
    ngx_http_webhooks_item_t  *items;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    items = ngx_palloc(r->pool, (reply->elements / 2 + 1)
                                * sizeof(ngx_http_webhooks_item_t));
    if (items == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->name = ctx->rt.name;
    n = 0;

    for (i = 0; i + 1 < reply->elements; i += 2) {
        f = reply->element[i];
        v = reply->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        field.data = (u_char *) f->str;
        field.len = f->len;

        if (field.len == 4 && ngx_strncmp(field.data, "name", 4) == 0) {
            if (ngx_http_webhooks_request_copy(r, v, &ctx->name) != NGX_OK) {
                ngx_http_webhooks_reply_finish(r,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            continue;
        }

        p = ngx_strlchr(field.data, field.data + field.len, ':');

        items[n].key.data = field.data;
        items[n].key.len = (p ? p : field.data + field.len) - field.data;
        items[n].what.data = p ? p + 1 : field.data + field.len;
        items[n].what.len = field.data + field.len - items[n].what.data;

        if (ngx_http_webhooks_router_parse_id(items[n].key.data,
                                              items[n].key.len, &id)
            != NGX_OK)
        {
            continue;
        }

        items[n].id = id;

        if (ngx_http_webhooks_request_copy(r, f, &field) != NGX_OK
            || ngx_http_webhooks_request_copy(r, v, &items[n].value) != NGX_OK)
        {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        items[n].key.data = field.data;
        items[n].what.data = field.data + field.len - items[n].what.len;

        n++;
    }

    /* fields of one hook end up next to each other, hooks by id */

    ngx_qsort(items, n, sizeof(ngx_http_webhooks_item_t),
              ngx_http_webhooks_api_item_cmp);

    per_page = ngx_http_webhooks_request_arg(r, "per_page", 8,
                                             NGX_HTTP_WEBHOOKS_PER_PAGE);
    if (per_page > NGX_HTTP_WEBHOOKS_PER_PAGE_MAX) {
        per_page = NGX_HTTP_WEBHOOKS_PER_PAGE_MAX;
    }

    page = ngx_http_webhooks_request_arg(r, "page", 4, 1);

    /* two passes over the visible hooks: count them, then print a page */

    out = NULL;
    p = NULL;
    len = 0;
    first = 0;
    last = 0;

    for ( ;; ) {
        shown = 0;

        for (i = 0; i < n; i = k) {
            view = NULL;
            app = NULL;
            lr = NULL;

            for (k = i; k < n && items[k].id == items[i].id; k++) {
                if (items[k].what.len == 1 && items[k].what.data[0] == 'v') {
                    view = &items[k].value;

                } else if (items[k].what.len == 1
                           && items[k].what.data[0] == 'c')
                {
                    app = &items[k].value;

                } else if (items[k].what.len == 2
                           && ngx_strncmp(items[k].what.data, "lr", 2) == 0)
                {
                    lr = &items[k].value;
                }
            }

            if (view == NULL || app == NULL
                || !ngx_http_webhooks_auth_may_see(&ctx->who, app))
            {
                continue;
            }

            if (out && shown >= first && shown < first + per_page) {
                if (p != out + 1) {
                    *p++ = ',';
                }

                p = ngx_http_webhooks_hook_output(p, &ctx->rt,
                                                  &ctx->base_json,
                                                  &ctx->name,
                                                  &items[i].key, view, lr);

            } else if (out == NULL) {
                len += ngx_http_webhooks_hook_output_len(&ctx->base_json,
                                                         &ctx->name,
                                                         &items[i].key,
                                                         view, lr) + 1;
            }

            shown++;
        }

        if (out) {
            break;
        }

        last = (shown + per_page - 1) / per_page;
        if (last == 0) {
            last = 1;
        }

        first = (page - 1 < last) ? (page - 1) * per_page : shown;

        out = ngx_pnalloc(r->pool, len + 2);
        if (out == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p = out;
        *p++ = '[';
    }

    *p++ = ']';

    body.data = out;
    body.len = p - out;

    if (ngx_http_webhooks_api_link(r, ctx, page, per_page, last) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_webhooks_reply_finish(r,
                         ngx_http_webhooks_reply_send(r, NGX_HTTP_OK, &body));
}


static int ngx_libc_cdecl
ngx_http_webhooks_api_item_cmp(const void *one, const void *two)
{
    const ngx_http_webhooks_item_t  *a = one, *b = two;

    return (a->id > b->id) - (a->id < b->id);
}


static void
ngx_http_webhooks_api_id_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                   *p;
    ngx_int_t                 rc;
    ngx_str_t                 id;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_INTEGER,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    id.data = p;
    id.len = ngx_sprintf(p, "%L", (int64_t) reply->integer) - p;

    ctx->rt.hook = id;
    ctx->rt.hook_id = (uint64_t) reply->integer;
    /* nothing stored yet: the script refuses an existing id */
    ctx->stored.len = 0;
    ctx->stored.data = (u_char *) "";

    rc = ngx_http_webhooks_api_save(r, ctx, &id);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


static ngx_int_t
ngx_http_webhooks_api_save(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx,
    ngx_str_t *id)
{
    u_char                         *p;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_SAVE_NARGS];
    ngx_http_webhooks_loc_conf_t   *wlcf;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);
    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    /* the id is known by now: sealed secrets are bound to it */

    if (ngx_http_webhooks_secret_seal(r->pool, r->connection->log,
                                      wmcf->secrets.keys,
                                      json_object_get(ctx->hook, "config"),
                                      id)
           != NGX_OK
        || ngx_http_webhooks_json_dump(r->pool, ctx->hook, &ctx->next)
           != NGX_OK
        || ngx_http_webhooks_hook_view(r, &ctx->rt, ctx->hook, &ctx->view)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &ctx->rt, "subs",
                                    &args[NGX_HTTP_WEBHOOKS_SAVE_SUBS])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_SAVE_HOOKS] = ctx->hooks;
    args[NGX_HTTP_WEBHOOKS_SAVE_ID] = *id;
    args[NGX_HTTP_WEBHOOKS_SAVE_STORED] = ctx->stored;
    args[NGX_HTTP_WEBHOOKS_SAVE_HOOK] = ctx->next;
    args[NGX_HTTP_WEBHOOKS_SAVE_VIEW] = ctx->view;
    (void) ngx_http_webhooks_json_str(json_object_get(ctx->hook, "creator"),
                                      "app",
                                      &args[NGX_HTTP_WEBHOOKS_SAVE_APP]);
    args[NGX_HTTP_WEBHOOKS_SAVE_NAME] = ctx->rt.name;
    args[NGX_HTTP_WEBHOOKS_SAVE_MAX_HOOKS].data = p;
    args[NGX_HTTP_WEBHOOKS_SAVE_MAX_HOOKS].len =
                                  ngx_sprintf(p, "%ui", wlcf->max_hooks) - p;

    if (args[NGX_HTTP_WEBHOOKS_SAVE_APP].data == NULL) {
        args[NGX_HTTP_WEBHOOKS_SAVE_APP].data = (u_char *) "";
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                              NGX_HTTP_WEBHOOKS_SCRIPT_SAVE,
                                              ngx_http_webhooks_api_save_done,
                                              r,
                                              NGX_HTTP_WEBHOOKS_SAVE_NKEYS,
                                              NGX_HTTP_WEBHOOKS_SAVE_NARGS,
                                              args));
}


static void
ngx_http_webhooks_api_save_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                    *msg;
    ngx_int_t                  rc;
    redisReply                *status;
    ngx_http_webhooks_ctx_t   *ctx;
    ngx_http_webhooks_fault_t  fault;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (reply->elements == 0
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    status = reply->element[0];
    ngx_memzero(&fault, sizeof(ngx_http_webhooks_fault_t));

    if (ngx_strcmp(status->str, "ok") == 0) {

        if (reply->elements > 1
            && reply->element[1]->type == REDIS_REPLY_STRING
            && ngx_http_webhooks_request_copy(r, reply->element[1], &ctx->name)
               != NGX_OK)
        {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_webhooks_reply_finish(r, ctx->saved(r, ctx));
        return;
    }

    if (ngx_strcmp(status->str, "conflict") == 0) {

        /* someone else changed the hook since we read it: start over */

        if (++ctx->tries < NGX_HTTP_WEBHOOKS_TRIES) {
            rc = ngx_http_webhooks_api_fetch(r, ctx);
            if (rc != NGX_DONE) {
                ngx_http_webhooks_reply_finish(r, rc);
            }

            return;
        }

        ngx_http_webhooks_reply_finish(r,
            ngx_http_webhooks_reply_error(r, NGX_HTTP_CONFLICT,
                                         "Conflict: the hook changed meanwhile",
                                          ctx->rt.doc_url, NULL));
        return;
    }

    if (ngx_strcmp(status->str, "gone") == 0) {
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    if (ngx_strcmp(status->str, "duplicate") == 0) {
        rc = ngx_http_webhooks_hook_fault(r, &fault, "custom", NULL,
                 ctx->rt.scope == NGX_HTTP_WEBHOOKS_ORG
                 ? "Hook already exists on this organization"
                 : "Hook already exists on this repository");

    } else if (ngx_strcmp(status->str, "cap") == 0
               && reply->elements > 1
               && reply->element[1]->type == REDIS_REPLY_STRING)
    {
        msg = ngx_pnalloc(r->pool, reply->element[1]->len + 64);
        if (msg == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_sprintf(msg, "The \"%*s\" event cannot have more than %ui hooks%Z",
                    (size_t) reply->element[1]->len, reply->element[1]->str,
                    ((ngx_http_webhooks_loc_conf_t *)
                     ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module))
                    ->max_hooks);

        rc = ngx_http_webhooks_hook_fault(r, &fault, "custom", NULL,
                                          (char *) msg);

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: save of hook %V failed: \"%s\"",
                      &ctx->rt.hook, status->str);
        rc = NGX_ERROR;
    }

    if (rc == NGX_ERROR) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_api_fault(r, ctx, &fault));
}


static void
ngx_http_webhooks_api_fetch_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                  rc;
    ngx_str_t                  app;
    redisReply               **e;
    ngx_http_webhooks_ctx_t   *ctx;

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

    /* the hook, its view, its creator, its last response, the name */

    e = reply->element;

    if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING
        || e[2]->type != REDIS_REPLY_STRING)
    {
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    app.data = (u_char *) e[2]->str;
    app.len = e[2]->len;

    if (!ngx_http_webhooks_auth_may_see(&ctx->who, &app)) {
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    if (ngx_http_webhooks_request_copy(r, e[1], &ctx->view) != NGX_OK
        || (e[3]->type == REDIS_REPLY_STRING
            && ngx_http_webhooks_request_copy(r, e[3], &ctx->last_response)
               != NGX_OK))
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (e[4]->type != REDIS_REPLY_STRING) {
        ctx->name = ctx->rt.name;

    } else if (ngx_http_webhooks_request_copy(r, e[4], &ctx->name) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!(ngx_http_webhooks_api_ops[ctx->rt.op].flags
          & NGX_HTTP_WEBHOOKS_API_PARSE))
    {
        /* the hot path: no JSON to parse */
        ngx_http_webhooks_reply_finish(r, ctx->handler(r, ctx));
        return;
    }

    if (ngx_http_webhooks_request_copy(r, e[0], &ctx->stored) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->hook = ngx_http_webhooks_json_load(r->pool, ctx->stored.data,
                                            ctx->stored.len);
    if (ctx->hook == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: bad hook %V in \"%V\"",
                      &ctx->rt.hook, &ctx->hooks);
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ctx->handler(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


static ngx_int_t
ngx_http_webhooks_api_get(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx)
{
    return ngx_http_webhooks_api_respond_hook(r, ctx, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_webhooks_api_created(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    return ngx_http_webhooks_api_respond_hook(r, ctx, NGX_HTTP_CREATED);
}


ngx_int_t
ngx_http_webhooks_api_update(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    ngx_http_webhooks_fault_t  fault;

    ngx_memzero(&fault, sizeof(ngx_http_webhooks_fault_t));

    if (ngx_http_webhooks_hook_update(r, &ctx->rt, ctx->hook, ctx->body,
                                      &fault)
        == NULL)
    {
        return ngx_http_webhooks_api_fault(r, ctx, &fault);
    }

    return ngx_http_webhooks_api_save(r, ctx, &ctx->rt.hook);
}


static ngx_int_t
ngx_http_webhooks_api_update_config(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    ngx_http_webhooks_fault_t  fault;

    ngx_memzero(&fault, sizeof(ngx_http_webhooks_fault_t));

    if (ngx_http_webhooks_hook_update_config(r, &ctx->rt, ctx->hook,
                                             ctx->body, &fault)
        == NULL)
    {
        return ngx_http_webhooks_api_fault(r, ctx, &fault);
    }

    return ngx_http_webhooks_api_save(r, ctx, &ctx->rt.hook);
}


ngx_int_t
ngx_http_webhooks_api_delete(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    ngx_str_t                       keys[NGX_HTTP_WEBHOOKS_DELETE_NARGS];
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    keys[NGX_HTTP_WEBHOOKS_DELETE_HOOKS] = ctx->hooks;
    keys[NGX_HTTP_WEBHOOKS_DELETE_ID] = ctx->rt.hook;

    if (ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &ctx->rt,
                                "subs", &keys[NGX_HTTP_WEBHOOKS_DELETE_SUBS])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_script(r->pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_DELETE,
                                            ngx_http_webhooks_api_delete_done,
                                            r,
                                            NGX_HTTP_WEBHOOKS_DELETE_NKEYS,
                                            NGX_HTTP_WEBHOOKS_DELETE_NARGS,
                                            keys));
}


static void
ngx_http_webhooks_api_delete_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                 rc;
    ngx_str_t                 key;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_INTEGER,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    if (reply->integer == 0) {
        ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_request_not_found(r, ctx));
        return;
    }

    /*
     * its deliveries, in the queue shard, in a step of their own; what
     * a step cut short misses expires with the retention
     */

    if (ngx_http_webhooks_deliveries_key(r, ctx, &key) != NGX_OK) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_webhooks_request_wait(r, ctx,
             ngx_http_webhooks_redis_script(r->pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_PURGE,
                                            ngx_http_webhooks_api_purge_done, r,
                                            NGX_HTTP_WEBHOOKS_PURGE_NKEYS,
                                            NGX_HTTP_WEBHOOKS_PURGE_NARGS,
                                            &key));
    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


static void
ngx_http_webhooks_api_purge_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                 rc;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_INTEGER,
                                               &rc);

    /* the hook is gone whatever became of its deliveries */
    (void) ctx;

    ngx_http_webhooks_reply_finish(r,
                  ngx_http_webhooks_reply_send(r, NGX_HTTP_NO_CONTENT, NULL));
}


ngx_int_t
ngx_http_webhooks_api_respond_hook(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_uint_t status)
{
    ngx_str_t  body, location;

    if (ngx_http_webhooks_request_hook_json(r, ctx, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status == NGX_HTTP_CREATED) {
        if (ngx_http_webhooks_hook_url(r->pool, &ctx->rt, &ctx->base,
                                       &ctx->name, &ctx->rt.hook, "",
                                       &location)
               != NGX_OK
            || ngx_http_webhooks_reply_add_header(r, "Location", &location)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_webhooks_reply_send(r, status, &body);
}


static ngx_int_t
ngx_http_webhooks_api_respond_config(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    json_t  *config;

    config = ngx_http_webhooks_json_own(r->pool,
                 ngx_http_webhooks_hook_config_render(ctx->hook));
    if (config == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_send_json(r, NGX_HTTP_OK, config);
}


static ngx_int_t
ngx_http_webhooks_api_fault(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx,
    ngx_http_webhooks_fault_t *fault)
{
    if (fault->status == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, fault->status, fault->message,
                                         ctx->rt.doc_url, fault->errors);
}


/*
 * JSON, or what curl sends by default: GitHub's own examples use curl -d
 * without a Content-Type.
 */

static ngx_int_t
ngx_http_webhooks_api_json_media(ngx_http_request_t *r)
{
    u_char     *p, *last;
    ngx_str_t   type;

    if (r->headers_in.content_type == NULL) {
        return NGX_OK;
    }

    type = r->headers_in.content_type->value;
    last = type.data + type.len;

    for (p = type.data; p < last && *p != ';' && *p != ' '; p++) {
        /* void */
    }

    type.len = p - type.data;

    if (type.len == 0
        || (type.len == 16
            && ngx_strncasecmp(type.data, (u_char *) "application/json", 16)
               == 0)
        || (type.len > 5
            && ngx_strncasecmp(type.data + type.len - 5, (u_char *) "+json",
                               5) == 0)
        || (type.len == 33
            && ngx_strncasecmp(type.data,
                               (u_char *) "application/x-www-form-urlencoded",
                               33) == 0))
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* GitHub's Link header: prev, next, last, first as they apply */

static ngx_int_t
ngx_http_webhooks_api_link(ngx_http_request_t *r, ngx_http_webhooks_ctx_t *ctx,
    ngx_uint_t page, ngx_uint_t per_page, ngx_uint_t last)
{
    size_t      len, one;
    u_char     *p;
    ngx_str_t   url, link;

    if (last <= 1 && page <= 1) {
        return NGX_OK;
    }

    if (ngx_http_webhooks_hook_url(r->pool, &ctx->rt, &ctx->base, &ctx->name,
                                   &(ngx_str_t) ngx_null_string, "", &url)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    one = sizeof("<?per_page=&page=>; rel=\"first\", ") - 1 + url.len
          + 2 * NGX_INT_T_LEN;
    len = 4 * one;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    link.data = p;

    if (page > 1) {
        p = ngx_sprintf(p, "<%V?per_page=%ui&page=%ui>; rel=\"prev\", ",
                        &url, per_page, ngx_min(page - 1, last));
    }

    if (page < last) {
        p = ngx_sprintf(p, "<%V?per_page=%ui&page=%ui>; rel=\"next\", ",
                        &url, per_page, page + 1);
        p = ngx_sprintf(p, "<%V?per_page=%ui&page=%ui>; rel=\"last\", ",
                        &url, per_page, last);
    }

    if (page > 1) {
        p = ngx_sprintf(p, "<%V?per_page=%ui&page=1>; rel=\"first\", ",
                        &url, per_page);
    }

    link.len = p - link.data;

    if (link.len == 0) {
        return NGX_OK;
    }

    link.len -= 2;

    return ngx_http_webhooks_reply_add_header(r, "Link", &link);
}
