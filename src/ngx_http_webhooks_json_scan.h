
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_JSON_SCAN_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_JSON_SCAN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the most members ngx_http_webhooks_json_scan_members() looks for */
#define NGX_HTTP_WEBHOOKS_JSON_SCAN_KEYS  8


ngx_int_t ngx_http_webhooks_json_scan_check(ngx_pool_t *pool, u_char *p,
    size_t len);
ngx_uint_t ngx_http_webhooks_json_scan_object(ngx_str_t *value);
ngx_int_t ngx_http_webhooks_json_scan_members(ngx_str_t *object,
    const char **keys, ngx_str_t *values, ngx_uint_t n);
ngx_int_t ngx_http_webhooks_json_scan_member(ngx_str_t *object,
    const char *key, ngx_str_t *value);
ngx_int_t ngx_http_webhooks_json_scan_string(ngx_pool_t *pool,
    ngx_str_t *value, ngx_str_t *out);
void ngx_http_webhooks_json_scan_integer(ngx_str_t *value, ngx_str_t *out);


#endif /* _NGX_HTTP_WEBHOOKS_JSON_SCAN_H_INCLUDED_ */
