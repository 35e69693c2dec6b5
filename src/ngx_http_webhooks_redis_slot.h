
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REDIS_SLOT_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REDIS_SLOT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_WEBHOOKS_REDIS_SLOTS    16384

/* what ngx_http_webhooks_redis_slot_key() says besides an argument */
#define NGX_HTTP_WEBHOOKS_REDIS_KEYLESS  -1
#define NGX_HTTP_WEBHOOKS_REDIS_ALL      -2


ngx_uint_t ngx_http_webhooks_redis_slot(const u_char *key, size_t len);
ngx_int_t ngx_http_webhooks_redis_slot_key(int argc, const char **argv,
    const size_t *argvlen);


#endif /* _NGX_HTTP_WEBHOOKS_REDIS_SLOT_H_INCLUDED_ */
