
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_stats.h"


/*
 * Counters of every worker in one shared memory zone: callers add with
 * one atomic instruction, never a lock, and never Redis.  Without
 * "webhooks_status_zone" every call is a test of one pointer.
 */


static ngx_int_t ngx_http_webhooks_stats_init_zone(ngx_shm_zone_t *zone,
    void *data);


ngx_msec_t  ngx_http_webhooks_stats_bounds[NGX_HTTP_WEBHOOKS_NBUCKETS] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};


/* this worker's view of the zone: set in init_process */
static ngx_http_webhooks_stats_t  *ngx_http_webhooks_stats;
static ngx_uint_t                  ngx_http_webhooks_stats_slot;


char *
ngx_http_webhooks_stats_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    static ngx_str_t  name = ngx_string("webhooks_status");

    if (wmcf->stats.zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\" in \"%V\", at least %uzk",
                           &value[1], &cmd->name, 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    wmcf->stats.zone = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_webhooks_module);
    if (wmcf->stats.zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (wmcf->stats.zone->data) {
        return "is duplicate";
    }

    wmcf->stats.zone->init = ngx_http_webhooks_stats_init_zone;
    wmcf->stats.zone->data = wmcf;

    return NGX_CONF_OK;
}


/* counters outlive a reload: the old zone's are taken over */

static ngx_int_t
ngx_http_webhooks_stats_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t            *shpool;
    ngx_http_webhooks_stats_t  *stats;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    stats = ngx_slab_calloc(shpool, sizeof(ngx_http_webhooks_stats_t));
    if (stats == NULL) {
        return NGX_ERROR;
    }

    shpool->data = stats;
    zone->data = stats;

    return NGX_OK;
}


void
ngx_http_webhooks_stats_init_process(ngx_shm_zone_t *zone)
{
    ngx_http_webhooks_stats_t  *stats;

    ngx_http_webhooks_stats = NULL;

    if (zone == NULL) {
        return;
    }

    stats = zone->data;

    /* ngx_worker is 0 in single process mode, as it should be */
    ngx_http_webhooks_stats_slot = ngx_min(ngx_worker,
                                         NGX_HTTP_WEBHOOKS_STATS_WORKERS - 1);

    /*
     * not reset: after a reload the old worker of this number still
     * takes off what it added (a killed one leaves its count behind)
     */

    ngx_http_webhooks_stats = stats;
}


ngx_http_webhooks_stats_t *
ngx_http_webhooks_stats_get(void)
{
    return ngx_http_webhooks_stats;
}


/* the worker slots there are: as many as worker_processes */

ngx_uint_t
ngx_http_webhooks_stats_workers(void)
{
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    return ngx_min((ngx_uint_t) ngx_max(ccf->worker_processes, 1),
                   NGX_HTTP_WEBHOOKS_STATS_WORKERS);
}


void
ngx_http_webhooks_stats_inc(ngx_http_webhooks_stat_e stat, ngx_uint_t n)
{
    if (ngx_http_webhooks_stats) {
        (void) ngx_atomic_fetch_add(&ngx_http_webhooks_stats->counter[stat],
                                    n);
    }
}


void
ngx_http_webhooks_stats_observe(ngx_http_webhooks_hist_e hist, ngx_msec_t ms)
{
    ngx_uint_t                 i;
    ngx_http_webhooks_hist_t  *h;

    if (ngx_http_webhooks_stats == NULL) {
        return;
    }

    h = &ngx_http_webhooks_stats->hist[hist];

    for (i = 0; i < NGX_HTTP_WEBHOOKS_NBUCKETS; i++) {
        if (ms <= ngx_http_webhooks_stats_bounds[i]) {
            break;
        }
    }

    /* per bucket, not cumulative: one add per observation */
    (void) ngx_atomic_fetch_add(&h->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&h->sum, ms);
}


void
ngx_http_webhooks_stats_in_flight(ngx_int_t n)
{
    ngx_atomic_t  *a;

    if (ngx_http_webhooks_stats) {
        a = &ngx_http_webhooks_stats->in_flight[ngx_http_webhooks_stats_slot];
        (void) ngx_atomic_fetch_add(a, (ngx_atomic_int_t) n);
    }
}


/* what an attempt came to, from what the sender records of it */

ngx_http_webhooks_stat_e
ngx_http_webhooks_stats_outcome(ngx_uint_t status, ngx_uint_t from_receiver,
    const char *error)
{
    if (from_receiver) {
        return (status >= 200 && status < 300) ? NGX_HTTP_WEBHOOKS_STAT_OK
               : (status >= 500) ? NGX_HTTP_WEBHOOKS_STAT_HTTP_5XX
               : (status >= 400) ? NGX_HTTP_WEBHOOKS_STAT_HTTP_4XX
               : NGX_HTTP_WEBHOOKS_STAT_HTTP_3XX;
    }

    if (error == NULL) {
        return NGX_HTTP_WEBHOOKS_STAT_ERROR;
    }

    if (ngx_strcmp(error, "timed out") == 0) {
        return NGX_HTTP_WEBHOOKS_STAT_TIMEOUT;
    }

    if (ngx_strcmp(error, "failed to connect to host") == 0) {
        return NGX_HTTP_WEBHOOKS_STAT_CONNECT;
    }

    if (ngx_strcmp(error, "failed to resolve host") == 0) {
        return NGX_HTTP_WEBHOOKS_STAT_DNS;
    }

    if (ngx_strncmp(error, "SSL ", 4) == 0
        || ngx_strncmp(error, "Peer certificate", 16) == 0)
    {
        return NGX_HTTP_WEBHOOKS_STAT_TLS;
    }

    if (ngx_strncmp(error, "Blocked: ", 9) == 0
        || ngx_strcmp(error, "Invalid URL") == 0)
    {
        return NGX_HTTP_WEBHOOKS_STAT_BLOCKED;
    }

    if (ngx_strstr(error, "cannot be decrypted")) {
        return NGX_HTTP_WEBHOOKS_STAT_SECRET;
    }

    if (ngx_strcmp(error, "invalid HTTP response") == 0
        || ngx_strcmp(error, "response headers too large") == 0)
    {
        return NGX_HTTP_WEBHOOKS_STAT_INVALID_RESPONSE;
    }

    return NGX_HTTP_WEBHOOKS_STAT_ERROR;
}
