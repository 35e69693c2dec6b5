
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REQUEST_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_webhooks_auth.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_router.h"


/* GitHub's page sizes */
#define NGX_HTTP_WEBHOOKS_PER_PAGE      30
#define NGX_HTTP_WEBHOOKS_PER_PAGE_MAX  100


typedef struct ngx_http_webhooks_ctx_s  ngx_http_webhooks_ctx_t;

/* what an operation does, and what it answers once the hook is saved */
typedef ngx_int_t (*ngx_http_webhooks_ctx_handler_pt)(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);


struct ngx_http_webhooks_ctx_s {
    ngx_http_webhooks_route_t       rt;
    ngx_http_webhooks_ctx_handler_pt  handler;
    ngx_http_webhooks_ctx_handler_pt  saved;
    ngx_http_webhooks_identity_t    who;
    ngx_str_t                       base;
    ngx_str_t                       base_json; /* escaped for JSON */
    ngx_str_t                       hooks;     /* key of the hooks hash */
    ngx_str_t                       name;      /* as first spelled */

    json_t                         *body;
    ngx_str_t                       stored;    /* the hook as read */
    ngx_str_t                       next;      /* the hook to write */
    json_t                         *hook;
    ngx_str_t                       view;
    ngx_str_t                       last_response;

    ngx_http_webhooks_redis_cmd_t  *cmd;
    ngx_uint_t                      tries;
    ngx_uint_t                      per_page;
    ngx_uint_t                      cleanup;   /* unsigned:1 */

    /* a hub subscription: the API's work, answered with a 204 */
    ngx_str_t                       hub_event;
    unsigned                        hub_subscribe:1;
};


ngx_int_t ngx_http_webhooks_request_wait(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_http_webhooks_redis_cmd_t *cmd);
ngx_http_webhooks_ctx_t *ngx_http_webhooks_request_reply_ctx(
    ngx_http_request_t *r, redisReply *reply, int type, ngx_int_t *rc);
ngx_http_webhooks_ctx_t *ngx_http_webhooks_request_found_ctx(
    ngx_http_request_t *r, redisReply *reply, int type, int none,
    ngx_int_t *rc);
ngx_int_t ngx_http_webhooks_request_not_found(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_request_copy(ngx_http_request_t *r,
    redisReply *reply, ngx_str_t *s);
ngx_uint_t ngx_http_webhooks_request_arg(ngx_http_request_t *r, char *name,
    size_t len, ngx_uint_t dflt);
ngx_int_t ngx_http_webhooks_request_hook_json(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *out);
ngx_int_t ngx_http_webhooks_request_base(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *prefix);


#endif /* _NGX_HTTP_WEBHOOKS_REQUEST_H_INCLUDED_ */
