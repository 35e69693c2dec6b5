
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_STORE_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_router.h"

/* generated from src/lua/ by util/lua2h: the scripts, their arguments */
#include "ngx_http_webhooks_lua.h"


#define NGX_HTTP_WEBHOOKS_GROUP           "senders"


extern ngx_http_webhooks_redis_script_t  ngx_http_webhooks_scripts[];


ngx_int_t ngx_http_webhooks_store_init(void);
ngx_int_t ngx_http_webhooks_scope_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_http_webhooks_route_t *rt, const char *what, ngx_str_t *key);
ngx_int_t ngx_http_webhooks_seq_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *key);
ngx_int_t ngx_http_webhooks_shards(ngx_pool_t *pool,
    ngx_http_webhooks_main_conf_t *wmcf);
ngx_http_webhooks_shard_t *ngx_http_webhooks_scope_shard(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_http_webhooks_route_t *rt);
ngx_int_t ngx_http_webhooks_shard_key(ngx_pool_t *pool,
    ngx_http_webhooks_shard_t *sh, const char *what, ngx_str_t *arg,
    ngx_str_t *key);
ngx_int_t ngx_http_webhooks_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *what, ngx_str_t *key);
ngx_int_t ngx_http_webhooks_field(redisReply *pairs, const char *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_WEBHOOKS_STORE_H_INCLUDED_ */
