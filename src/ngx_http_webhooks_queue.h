
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_QUEUE_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_QUEUE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_module.h"


typedef struct ngx_http_webhooks_queue_entry_s
    ngx_http_webhooks_queue_entry_t;

typedef void (*ngx_http_webhooks_queue_done_pt)(
    ngx_http_webhooks_queue_entry_t *e);
typedef void (*ngx_http_webhooks_queue_throttle_pt)(
    ngx_http_webhooks_queue_entry_t *e, ngx_str_t *throttled);

/*
 * Takes an entry on, with a copy of its own (callbacks and all): NGX_OK
 * means done() is called when the delivery is over.
 */
typedef ngx_int_t (*ngx_http_webhooks_queue_start_pt)(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_http_webhooks_queue_entry_t *e);


/* a queue entry a delivery of this worker holds */
struct ngx_http_webhooks_queue_entry_s {
    ngx_queue_t                  queue;
    ngx_str_t                    id;         /* of the stream entry */
    ngx_str_t                    key;        /* the delivery */
    ngx_str_t                    hook;       /* its hook's id */
    ngx_str_t                    host;       /* where it goes */
    ngx_str_t                    hooks;      /* its hooks hash */
    ngx_str_t                    payload;    /* its payload's key */
    ngx_str_t                    send;       /* what the request says */
    ngx_uint_t                   shard;      /* the queue shard it is in */
    ngx_uint_t                   deferred;   /* how often it was put off */
    ngx_msec_t                   since;      /* waiting in the worker */

    /* the queue's, for whoever takes the entry on */
    ngx_http_webhooks_queue_done_pt      hold;      /* the copy taken on */
    ngx_http_webhooks_queue_throttle_pt  throttle;  /* put off, then done */
    ngx_http_webhooks_queue_done_pt      done;      /* over: room for more */
};


ngx_int_t ngx_http_webhooks_queue_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_queue_start_pt start);
void ngx_http_webhooks_queue_done(ngx_cycle_t *cycle);
void ngx_http_webhooks_queue_due(ngx_msec_t delay);
ngx_int_t ngx_http_webhooks_queue_again(ngx_pool_t *pool,
    ngx_http_webhooks_main_conf_t *wmcf, ngx_uint_t attempt,
    ngx_uint_t status, ngx_str_t *retry_after, ngx_str_t *due);
ngx_msec_t ngx_http_webhooks_queue_waited(ngx_str_t *id);


#endif /* _NGX_HTTP_WEBHOOKS_QUEUE_H_INCLUDED_ */
