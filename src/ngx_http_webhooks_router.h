
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_ROUTER_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_ROUTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_WEBHOOKS_ORG            1
#define NGX_HTTP_WEBHOOKS_REPO           2

/* GitHub's longest login (user or org) and repository name */
#define NGX_HTTP_WEBHOOKS_LOGIN_MAX      39
#define NGX_HTTP_WEBHOOKS_REPO_MAX       100


typedef enum {
    NGX_HTTP_WEBHOOKS_OP_LIST = 1,
    NGX_HTTP_WEBHOOKS_OP_CREATE,
    NGX_HTTP_WEBHOOKS_OP_GET,
    NGX_HTTP_WEBHOOKS_OP_UPDATE,
    NGX_HTTP_WEBHOOKS_OP_DELETE,
    NGX_HTTP_WEBHOOKS_OP_GET_CONFIG,
    NGX_HTTP_WEBHOOKS_OP_UPDATE_CONFIG,
    NGX_HTTP_WEBHOOKS_OP_DELIVERIES,
    NGX_HTTP_WEBHOOKS_OP_DELIVERY,
    NGX_HTTP_WEBHOOKS_OP_REDELIVER,
    NGX_HTTP_WEBHOOKS_OP_PING,
    NGX_HTTP_WEBHOOKS_OP_TEST,
    NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED,
    NGX_HTTP_WEBHOOKS_OP_HUB,              /* POST /hub: no path of its own */
    NGX_HTTP_WEBHOOKS_OP_MAX
} ngx_http_webhooks_op_e;


typedef struct {
    ngx_uint_t                   op;
    ngx_uint_t                   scope;
    ngx_str_t                    name;     /* "org" or "owner/repo" */
    ngx_str_t                    key;      /* the name in lowercase */
    uint64_t                     hook_id;
    ngx_str_t                    hook;     /* the id in decimal */
    uint64_t                     delivery_id;
    ngx_str_t                    delivery;
    const char                  *doc_url;
    ngx_str_t                    operation;  /* "repos/list-webhooks" */
} ngx_http_webhooks_route_t;


ngx_int_t ngx_http_webhooks_router_request(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, ngx_str_t *prefix);
ngx_int_t ngx_http_webhooks_router_find(ngx_http_request_t *r,
    ngx_str_t *path, ngx_http_webhooks_route_t *rt);
ngx_int_t ngx_http_webhooks_router_scope(ngx_pool_t *pool, ngx_uint_t scope,
    ngx_str_t *name, ngx_http_webhooks_route_t *rt);
ngx_int_t ngx_http_webhooks_router_parse_id(u_char *p, size_t len,
    uint64_t *id);


#endif /* _NGX_HTTP_WEBHOOKS_ROUTER_H_INCLUDED_ */
