
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_SIGN_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_SIGN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_WEBHOOKS_GUID_LEN    36
#define NGX_HTTP_WEBHOOKS_SHA1_LEN    (sizeof("sha1=") - 1 + 40)
#define NGX_HTTP_WEBHOOKS_SHA256_LEN  (sizeof("sha256=") - 1 + 64)


ngx_int_t ngx_http_webhooks_sign_guid(u_char *buf);
ngx_int_t ngx_http_webhooks_sign(ngx_str_t *secret, ngx_str_t *body,
    u_char *sha1, u_char *sha256);
void ngx_http_webhooks_sign_done(ngx_cycle_t *cycle);
ngx_int_t ngx_http_webhooks_sign_form_encode(ngx_pool_t *pool, ngx_str_t *json,
    ngx_str_t *out);


#endif /* _NGX_HTTP_WEBHOOKS_SIGN_H_INCLUDED_ */
