
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REDIS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>

#include "ngx_http_webhooks_module.h"


typedef struct ngx_http_webhooks_redis_s  ngx_http_webhooks_redis_t;
typedef struct ngx_http_webhooks_redis_cmd_s  ngx_http_webhooks_redis_cmd_t;

/*
 * reply is NULL when the command could not be answered: the connection
 * was lost or the command timed out.  The reply is freed when the
 * handler returns.
 */
typedef void (*ngx_http_webhooks_redis_handler_pt)(void *data,
    redisReply *reply);


/* per connection and worker, for whoever wants to count them */
typedef struct {
    ngx_uint_t                   connects;
    ngx_uint_t                   drops;
    ngx_uint_t                   timeouts;
    ngx_uint_t                   commands;
    ngx_uint_t                   replies;
} ngx_http_webhooks_redis_stats_t;


typedef struct {
    ngx_str_t                    body;
    u_char                       sha1[41];
} ngx_http_webhooks_redis_script_t;


/*
 * Makes a new handle route its commands over connections of its own
 * (Redis Cluster: ngx_http_webhooks_redis_cluster_init()) by setting
 * the callbacks of ngx_http_webhooks_redis_conn.h on it.
 */
typedef ngx_int_t (*ngx_http_webhooks_redis_router_pt)(
    ngx_http_webhooks_redis_t *rd);


ngx_int_t ngx_http_webhooks_redis_conf(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf);
ngx_int_t ngx_http_webhooks_redis_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts,
    ngx_http_webhooks_redis_router_pt router);
void ngx_http_webhooks_redis_done(ngx_cycle_t *cycle);

ngx_http_webhooks_redis_t *ngx_http_webhooks_redis_create(
    ngx_cycle_t *cycle, ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts);
void ngx_http_webhooks_redis_close(ngx_http_webhooks_redis_t *rd);
ngx_http_webhooks_redis_t *ngx_http_webhooks_redis_main(void);
ngx_http_webhooks_redis_stats_t *ngx_http_webhooks_redis_stats(
    ngx_http_webhooks_redis_t *rd);
ngx_int_t ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_t *rd);
ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_command_on(
    ngx_http_webhooks_redis_t *rd, ngx_msec_t timeout,
    ngx_http_webhooks_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_command(
    ngx_http_webhooks_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_key_command(
    ngx_http_webhooks_redis_handler_pt handler, void *data, const char *name,
    ngx_str_t *key);
ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_script(
    ngx_pool_t *pool, ngx_uint_t script,
    ngx_http_webhooks_redis_handler_pt handler, void *data, ngx_uint_t nkeys,
    ngx_uint_t nargs, ngx_str_t *args);
void ngx_http_webhooks_redis_cancel(ngx_http_webhooks_redis_cmd_t *cmd);

ngx_int_t ngx_http_webhooks_redis_script_sha1(
    ngx_http_webhooks_redis_script_t *script);


#endif /* _NGX_HTTP_WEBHOOKS_REDIS_H_INCLUDED_ */
