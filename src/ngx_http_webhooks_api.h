
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_API_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_request.h"


ngx_int_t ngx_http_webhooks_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_webhooks_api_run(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_api_fetch(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_api_create(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_api_update(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_api_delete(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
ngx_int_t ngx_http_webhooks_api_respond_hook(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx, ngx_uint_t status);


#endif /* _NGX_HTTP_WEBHOOKS_API_H_INCLUDED_ */
