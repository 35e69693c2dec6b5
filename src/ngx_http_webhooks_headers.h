
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_HEADERS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_HEADERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_webhooks_headers_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_webhooks_headers_start(ngx_http_request_t *r,
    ngx_str_t *bad_version);


#endif /* _NGX_HTTP_WEBHOOKS_HEADERS_H_INCLUDED_ */
