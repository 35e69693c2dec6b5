
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_STATS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_STATS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* counters: the names and labels they get are in ngx_http_webhooks_status.c */
typedef enum {
    NGX_HTTP_WEBHOOKS_STAT_EVENTS = 0,
    NGX_HTTP_WEBHOOKS_STAT_EVENTS_INVALID,
    NGX_HTTP_WEBHOOKS_STAT_EVENTS_TOO_LARGE,
    NGX_HTTP_WEBHOOKS_STAT_EVENTS_QUEUE_FULL,
    NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE,
    NGX_HTTP_WEBHOOKS_STAT_QUEUED,

    /* outcomes of delivery attempts, in ngx_http_webhooks_stats_outcome */
    NGX_HTTP_WEBHOOKS_STAT_OK,
    NGX_HTTP_WEBHOOKS_STAT_HTTP_3XX,
    NGX_HTTP_WEBHOOKS_STAT_HTTP_4XX,
    NGX_HTTP_WEBHOOKS_STAT_HTTP_5XX,
    NGX_HTTP_WEBHOOKS_STAT_TIMEOUT,
    NGX_HTTP_WEBHOOKS_STAT_CONNECT,
    NGX_HTTP_WEBHOOKS_STAT_TLS,
    NGX_HTTP_WEBHOOKS_STAT_DNS,
    NGX_HTTP_WEBHOOKS_STAT_BLOCKED,
    NGX_HTTP_WEBHOOKS_STAT_SECRET,
    NGX_HTTP_WEBHOOKS_STAT_INVALID_RESPONSE,
    NGX_HTTP_WEBHOOKS_STAT_ERROR,

    NGX_HTTP_WEBHOOKS_STAT_RETRIES,
    NGX_HTTP_WEBHOOKS_STAT_DEACTIVATED,
    NGX_HTTP_WEBHOOKS_STAT_REDELIVERIES,
    NGX_HTTP_WEBHOOKS_STAT_PINGS,
    NGX_HTTP_WEBHOOKS_STAT_TESTS,

    NGX_HTTP_WEBHOOKS_STAT_REDIS_COMMANDS,
    NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS,
    NGX_HTTP_WEBHOOKS_STAT_REDIS_CONNECTS,
    NGX_HTTP_WEBHOOKS_STAT_REDIS_RECONNECTS,
    NGX_HTTP_WEBHOOKS_STAT_REDIS_REDIRECTS,

    NGX_HTTP_WEBHOOKS_NSTATS
} ngx_http_webhooks_stat_e;


typedef enum {
    NGX_HTTP_WEBHOOKS_HIST_DURATION = 0,   /* one attempt */
    NGX_HTTP_WEBHOOKS_HIST_LATENCY,        /* queued to answered */
    NGX_HTTP_WEBHOOKS_HIST_REDIS,          /* a command's round trip */

    NGX_HTTP_WEBHOOKS_NHISTS
} ngx_http_webhooks_hist_e;


/* upper bounds in ms; one more bucket holds the rest */
#define NGX_HTTP_WEBHOOKS_NBUCKETS  14

/* the in-flight gauge is kept for this many worker slots */
#define NGX_HTTP_WEBHOOKS_STATS_WORKERS  64


typedef struct {
    ngx_atomic_t                 bucket[NGX_HTTP_WEBHOOKS_NBUCKETS + 1];
    ngx_atomic_t                 sum;      /* ms */
} ngx_http_webhooks_hist_t;


typedef struct {
    ngx_atomic_t                 counter[NGX_HTTP_WEBHOOKS_NSTATS];
    ngx_http_webhooks_hist_t     hist[NGX_HTTP_WEBHOOKS_NHISTS];
    ngx_atomic_t                 in_flight[NGX_HTTP_WEBHOOKS_STATS_WORKERS];
} ngx_http_webhooks_stats_t;


extern ngx_msec_t  ngx_http_webhooks_stats_bounds[NGX_HTTP_WEBHOOKS_NBUCKETS];


char *ngx_http_webhooks_stats_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_webhooks_stats_init_process(ngx_shm_zone_t *zone);
ngx_http_webhooks_stats_t *ngx_http_webhooks_stats_get(void);
ngx_uint_t ngx_http_webhooks_stats_workers(void);

void ngx_http_webhooks_stats_inc(ngx_http_webhooks_stat_e stat, ngx_uint_t n);
void ngx_http_webhooks_stats_observe(ngx_http_webhooks_hist_e hist,
    ngx_msec_t ms);
void ngx_http_webhooks_stats_in_flight(ngx_int_t n);
ngx_http_webhooks_stat_e ngx_http_webhooks_stats_outcome(ngx_uint_t status,
    ngx_uint_t from_receiver, const char *error);


#endif /* _NGX_HTTP_WEBHOOKS_STATS_H_INCLUDED_ */
