
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_JSON_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


json_t *ngx_http_webhooks_json_own(ngx_pool_t *pool, json_t *json);
json_t *ngx_http_webhooks_json_load(ngx_pool_t *pool, u_char *data,
    size_t len);
json_t *ngx_http_webhooks_json_load_any(ngx_pool_t *pool, u_char *data,
    size_t len);
ngx_int_t ngx_http_webhooks_json_inspect(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out);
ngx_int_t ngx_http_webhooks_json_dump(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out);
ngx_int_t ngx_http_webhooks_json_dumpf(ngx_pool_t *pool, json_t *json,
    size_t flags, ngx_str_t *out);
json_t *ngx_http_webhooks_json_stringn(ngx_str_t *s);
ngx_int_t ngx_http_webhooks_json_str(json_t *object, const char *key,
    ngx_str_t *value);
u_char *ngx_http_webhooks_json_time(u_char *p, time_t t);
u_char *ngx_http_webhooks_json_int64(u_char *p, int64_t i);
ngx_int_t ngx_http_webhooks_json_number(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);


#endif /* _NGX_HTTP_WEBHOOKS_JSON_H_INCLUDED_ */
