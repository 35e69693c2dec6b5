
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REPLY_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


#define NGX_HTTP_WEBHOOKS_DOCS  "https://docs.github.com/rest"


ngx_int_t ngx_http_webhooks_reply_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_webhooks_reply_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_webhooks_reply_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_webhooks_reply_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message, const char *doc_url,
    json_t *errors);
void ngx_http_webhooks_reply_finish(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_webhooks_reply_unavailable(ngx_http_request_t *r,
    const char *doc_url);
ngx_int_t ngx_http_webhooks_reply_busy(ngx_http_request_t *r);
ngx_int_t ngx_http_webhooks_reply_too_large(ngx_http_request_t *r,
    const char *doc_url);
ngx_int_t ngx_http_webhooks_reply_read_body(ngx_http_request_t *r,
    ngx_str_t *body, size_t max);
ngx_table_elt_t *ngx_http_webhooks_reply_header(ngx_http_request_t *r,
    ngx_str_t *name);


#endif /* _NGX_HTTP_WEBHOOKS_REPLY_H_INCLUDED_ */
