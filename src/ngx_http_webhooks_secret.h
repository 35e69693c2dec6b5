
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_SECRET_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_SECRET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_webhooks_aead.h"


/* what answers show for a secret; sent back, it keeps the stored one */
#define NGX_HTTP_WEBHOOKS_SECRET_MASK  "********"


ngx_int_t ngx_http_webhooks_secret_seal(ngx_pool_t *pool, ngx_log_t *log,
    ngx_array_t *keys, json_t *config, ngx_str_t *id);
ngx_int_t ngx_http_webhooks_secret_open(ngx_pool_t *pool, ngx_array_t *keys,
    ngx_str_t *config, const char *field, ngx_str_t *id, ngx_str_t *secret,
    ngx_str_t *why);
ngx_uint_t ngx_http_webhooks_secret_is_set(json_t *config,
    const char *field);
void ngx_http_webhooks_secret_drop(json_t *config, const char *field);
ngx_int_t ngx_http_webhooks_secret_keep(json_t *from, json_t *to);
ngx_uint_t ngx_http_webhooks_secret_masked(json_t *value);
ssize_t ngx_http_webhooks_secret_read(ngx_conf_t *cf, ngx_str_t *name,
    u_char *buf, size_t size);
ngx_int_t ngx_http_webhooks_secret_key_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_webhooks_aead_key_t *key);
void ngx_http_webhooks_secret_wipe(void *data);


#endif /* _NGX_HTTP_WEBHOOKS_SECRET_H_INCLUDED_ */
