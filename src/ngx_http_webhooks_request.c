
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_request.h"


/*
 * What the API's requests, the deliveries', the redelivery's and the
 * hub's share: their context, waiting for Redis with the client watched,
 * the start of every reply handler, arguments, 404 and the base URL.
 */


static void ngx_http_webhooks_request_cleanup(void *data);
static ngx_int_t ngx_http_webhooks_request_base_url(ngx_http_request_t *r,
    ngx_str_t *prefix, ngx_str_t *base);


ngx_int_t
ngx_http_webhooks_request_wait(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_http_cleanup_t  *cln;

    if (cmd == NULL) {
        return ngx_http_webhooks_reply_unavailable(r, ctx->rt.doc_url);
    }

    ctx->cmd = cmd;

    /* a client that goes away meanwhile ends the request at once */
    r->read_event_handler = ngx_http_test_reading;

    if (!ctx->cleanup) {
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            ngx_http_webhooks_redis_cancel(cmd);
            ctx->cmd = NULL;
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_webhooks_request_cleanup;
        cln->data = ctx;
        ctx->cleanup = 1;
    }

    return NGX_DONE;
}


/* the request goes away while redis still owes it a reply */

static void
ngx_http_webhooks_request_cleanup(void *data)
{
    ngx_http_webhooks_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_http_webhooks_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


/*
 * Common start of every reply handler: NULL when the request must end
 * with *rc, because redis failed or answered with the wrong type.
 */

ngx_http_webhooks_ctx_t *
ngx_http_webhooks_request_reply_ctx(ngx_http_request_t *r, redisReply *reply,
    int type, ngx_int_t *rc)
{
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL) {
        *rc = ngx_http_webhooks_reply_unavailable(r, ctx->rt.doc_url);
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: redis error: \"%*s\"",
                      (size_t) reply->len, reply->str);
        *rc = ngx_http_webhooks_reply_unavailable(r, ctx->rt.doc_url);
        return NULL;
    }

    if (reply->type != type) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: unexpected redis reply type %d",
                      reply->type);
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    return ctx;
}


/*
 * The same for a read of one thing: a reply of type none (NIL, or a
 * script's number) says it is not there, and the request ends with 404.
 */

ngx_http_webhooks_ctx_t *
ngx_http_webhooks_request_found_ctx(ngx_http_request_t *r, redisReply *reply,
    int type, int none, ngx_int_t *rc)
{
    ngx_http_webhooks_ctx_t  *ctx;

    if (reply && reply->type == none) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
        ctx->cmd = NULL;
        *rc = ngx_http_webhooks_request_not_found(r, ctx);
        return NULL;
    }

    return ngx_http_webhooks_request_reply_ctx(r, reply, type, rc);
}


ngx_int_t
ngx_http_webhooks_request_not_found(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_NOT_FOUND, "Not Found",
                                         ctx->rt.doc_url, NULL);
}


ngx_int_t
ngx_http_webhooks_request_copy(ngx_http_request_t *r, redisReply *reply,
    ngx_str_t *s)
{
    s->len = reply->len;
    s->data = ngx_pnalloc(r->pool, reply->len + 1);

    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, reply->str, reply->len);
    s->data[s->len] = '\0';

    return NGX_OK;
}


/*
 * page and per_page, as GitHub takes them: what is not a number above 0
 * is the default, and a number too large to hold is past any last page
 */

ngx_uint_t
ngx_http_webhooks_request_arg(ngx_http_request_t *r, char *name, size_t len,
    ngx_uint_t dflt)
{
    size_t     i;
    ngx_int_t  n;
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) name, len, &value) != NGX_OK) {
        return dflt;
    }

    n = ngx_atoi(value.data, value.len);

    if (n != NGX_ERROR) {
        return (n < 1) ? dflt : (ngx_uint_t) n;
    }

    for (i = 0; i < value.len; i++) {
        if (value.data[i] < '0' || value.data[i] > '9') {
            return dflt;
        }
    }

    return (value.len == 0) ? dflt : NGX_MAX_INT_T_VALUE;
}


ngx_int_t
ngx_http_webhooks_request_hook_json(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *out)
{
    out->data = ngx_pnalloc(r->pool,
                    ngx_http_webhooks_hook_output_len(&ctx->base_json,
                                                      &ctx->name,
                                                      &ctx->rt.hook,
                                                      &ctx->view,
                                                      &ctx->last_response));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_webhooks_hook_output(out->data, &ctx->rt,
                                             &ctx->base_json, &ctx->name,
                                             &ctx->rt.hook, &ctx->view,
                                             &ctx->last_response)
               - out->data;

    return NGX_OK;
}


/*
 * The API's base URL, "<scheme>://<host><prefix>", and the same escaped
 * for JSON: the Host header may hold what a JSON string cannot.
 */

ngx_int_t
ngx_http_webhooks_request_base(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *prefix)
{
    size_t  len;

    if (ngx_http_webhooks_request_base_url(r, prefix, &ctx->base) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->base_json = ctx->base;
    len = ngx_escape_json(NULL, ctx->base.data, ctx->base.len);

    if (len) {
        ctx->base_json.data = ngx_pnalloc(r->pool, ctx->base.len + len);
        if (ctx->base_json.data == NULL) {
            return NGX_ERROR;
        }

        ctx->base_json.len = (u_char *) ngx_escape_json(ctx->base_json.data,
                                                        ctx->base.data,
                                                        ctx->base.len)
                             - ctx->base_json.data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_request_base_url(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_str_t *base)
{
    u_char                        *p;
    ngx_str_t                      host;
    ngx_http_core_srv_conf_t      *cscf;
    ngx_http_webhooks_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);

    if (wlcf->base_url) {
        if (ngx_http_complex_value(r, wlcf->base_url, base) != NGX_OK) {
            return NGX_ERROR;
        }

        while (base->len && base->data[base->len - 1] == '/') {
            base->len--;
        }

        return NGX_OK;
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") + host.len + prefix->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    base->data = p;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_cpymem(p, "https://", 8);
    } else
#endif
    {
        p = ngx_cpymem(p, "http://", 7);
    }

    p = ngx_cpymem(p, host.data, host.len);
    p = ngx_cpymem(p, prefix->data, prefix->len);

    base->len = p - base->data;

    return NGX_OK;
}
