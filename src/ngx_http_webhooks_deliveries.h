
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_DELIVERIES_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_DELIVERIES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_request.h"


ngx_int_t ngx_http_webhooks_deliveries_list(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_deliveries_take(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_deliveries_ping(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_deliveries_test(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_deliveries_key(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_str_t *key);


#endif /* _NGX_HTTP_WEBHOOKS_DELIVERIES_H_INCLUDED_ */
