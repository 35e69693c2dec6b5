
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_HOOK_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_HOOK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_webhooks_router.h"
#include "ngx_http_webhooks_auth.h"


/* bytes of a URL to deliver to */
#define NGX_HTTP_WEBHOOKS_URL_MAX     2048

/* GitHub has fewer than 100 event names: room for those yet to come */
#define NGX_HTTP_WEBHOOKS_EVENTS_MAX  256

/* characters of a secret, a username or a password */
#define NGX_HTTP_WEBHOOKS_SECRET_MAX  1024


/* why a request body was refused: 400, 422 with errors, or 422 alone */

typedef struct {
    ngx_uint_t                   status;
    const char                  *message;
    json_t                      *errors;
} ngx_http_webhooks_fault_t;


json_t *ngx_http_webhooks_hook_create(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, ngx_http_webhooks_identity_t *who,
    json_t *body, ngx_http_webhooks_fault_t *fault);
json_t *ngx_http_webhooks_hook_update(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, json_t *body,
    ngx_http_webhooks_fault_t *fault);
json_t *ngx_http_webhooks_hook_update_config(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, json_t *body,
    ngx_http_webhooks_fault_t *fault);
ngx_int_t ngx_http_webhooks_hook_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, const char *code, const char *field,
    const char *message);

ngx_int_t ngx_http_webhooks_hook_view(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, ngx_str_t *view);
u_char *ngx_http_webhooks_hook_output(u_char *p,
    ngx_http_webhooks_route_t *rt, ngx_str_t *base, ngx_str_t *name,
    ngx_str_t *id, ngx_str_t *view, ngx_str_t *last_response);
size_t ngx_http_webhooks_hook_output_len(ngx_str_t *base, ngx_str_t *name,
    ngx_str_t *id, ngx_str_t *view, ngx_str_t *last_response);
json_t *ngx_http_webhooks_hook_config_render(json_t *hook);
ngx_int_t ngx_http_webhooks_hook_valid_event(ngx_str_t *event);
ngx_int_t ngx_http_webhooks_hook_valid_url(ngx_str_t *url);
ngx_int_t ngx_http_webhooks_hook_url(ngx_pool_t *pool,
    ngx_http_webhooks_route_t *rt, ngx_str_t *base, ngx_str_t *name,
    ngx_str_t *id, const char *tail, ngx_str_t *url);


#endif /* _NGX_HTTP_WEBHOOKS_HOOK_H_INCLUDED_ */
