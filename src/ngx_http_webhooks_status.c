
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_stats.h"
#include "ngx_http_webhooks_status.h"
#include "ngx_http_webhooks_store.h"

#include <ngx_http_webhooks_html.h>


/*
 * "webhooks_status": the counters of ngx_http_webhooks_stats.c as
 * Prometheus text or JSON, and what only Redis knows of the queue, read
 * with one script at most once a second per worker.
 */


#define NGX_HTTP_WEBHOOKS_STATUS_PROMETHEUS  0
#define NGX_HTTP_WEBHOOKS_STATUS_JSON        1
#define NGX_HTTP_WEBHOOKS_STATUS_HTML        2
#define NGX_HTTP_WEBHOOKS_STATUS_JS          3
#define NGX_HTTP_WEBHOOKS_STATUS_CSS         4

#define NGX_HTTP_WEBHOOKS_STATUS_CACHE       1000

/* EVAL, the figures script, its number of keys, then its KEYS and ARGV */
#define NGX_HTTP_WEBHOOKS_STATUS_ARGC  (3 + NGX_HTTP_WEBHOOKS_FIGURES_NARGS)


typedef struct {
    const char                  *name;
    const char                  *help;
    const char                  *label;       /* its name, or NULL */
    const char                  *value;       /* the label's value */
    ngx_uint_t                   stat;
} ngx_http_webhooks_status_counter_t;


typedef struct {
    const char                  *name;
    const char                  *help;
} ngx_http_webhooks_status_hist_t;


/* the queue as Redis saw it last */
typedef struct {
    ngx_msec_t                   at;
    ngx_uint_t                   known;
    int64_t                      length;
    int64_t                      pending;
    int64_t                      retry;
    int64_t                      oldest;      /* ms since the epoch, or 0 */
} ngx_http_webhooks_status_queue_t;


typedef struct {
    ngx_uint_t                       format;
    ngx_http_webhooks_redis_cmd_t   *cmd;
    ngx_uint_t                       shard;     /* read one after another */
    ngx_http_webhooks_status_queue_t  sum;
} ngx_http_webhooks_status_ctx_t;


static ngx_uint_t ngx_http_webhooks_status_format(ngx_http_request_t *r);
static ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_status_figures(
    ngx_http_request_t *r, ngx_http_webhooks_status_ctx_t *ctx);
static void ngx_http_webhooks_status_queue_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_status_cleanup(void *data);
static ngx_int_t ngx_http_webhooks_status_send(ngx_http_request_t *r,
    ngx_uint_t format);
static ngx_int_t ngx_http_webhooks_status_page(ngx_http_request_t *r,
    ngx_uint_t format);
static ngx_int_t ngx_http_webhooks_status_out(ngx_http_request_t *r,
    ngx_str_t *type, ngx_str_t *out);
static ngx_int_t ngx_http_webhooks_status_prometheus(ngx_http_request_t *r,
    ngx_http_webhooks_stats_t *s, ngx_str_t *out);
static u_char *ngx_http_webhooks_status_head(u_char *p, u_char *last,
    const char *name, const char *help, const char *type);
static ngx_int_t ngx_http_webhooks_status_json(ngx_http_request_t *r,
    ngx_http_webhooks_stats_t *s, ngx_str_t *out);


static ngx_http_webhooks_status_counter_t  ngx_http_webhooks_status_counters[]
    = {

    { "webhooks_events_received_total",
      "Events taken in at webhooks_events locations.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_EVENTS },

    { "webhooks_events_refused_total",
      "Events refused at webhooks_events locations, by reason.",
      "reason", "invalid", NGX_HTTP_WEBHOOKS_STAT_EVENTS_INVALID },
    { "webhooks_events_refused_total", NULL,
      "reason", "too_large", NGX_HTTP_WEBHOOKS_STAT_EVENTS_TOO_LARGE },
    { "webhooks_events_refused_total", NULL,
      "reason", "queue_full", NGX_HTTP_WEBHOOKS_STAT_EVENTS_QUEUE_FULL },
    { "webhooks_events_refused_total", NULL,
      "reason", "redis_unavailable",
      NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE },

    { "webhooks_deliveries_queued_total",
      "Deliveries queued for events taken in.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_QUEUED },

    { "webhooks_deliveries_total",
      "Delivery attempts that ended, by outcome.",
      "outcome", "ok", NGX_HTTP_WEBHOOKS_STAT_OK },
    { "webhooks_deliveries_total", NULL,
      "outcome", "http_3xx", NGX_HTTP_WEBHOOKS_STAT_HTTP_3XX },
    { "webhooks_deliveries_total", NULL,
      "outcome", "http_4xx", NGX_HTTP_WEBHOOKS_STAT_HTTP_4XX },
    { "webhooks_deliveries_total", NULL,
      "outcome", "http_5xx", NGX_HTTP_WEBHOOKS_STAT_HTTP_5XX },
    { "webhooks_deliveries_total", NULL,
      "outcome", "timeout", NGX_HTTP_WEBHOOKS_STAT_TIMEOUT },
    { "webhooks_deliveries_total", NULL,
      "outcome", "connect", NGX_HTTP_WEBHOOKS_STAT_CONNECT },
    { "webhooks_deliveries_total", NULL,
      "outcome", "tls", NGX_HTTP_WEBHOOKS_STAT_TLS },
    { "webhooks_deliveries_total", NULL,
      "outcome", "dns", NGX_HTTP_WEBHOOKS_STAT_DNS },
    { "webhooks_deliveries_total", NULL,
      "outcome", "blocked", NGX_HTTP_WEBHOOKS_STAT_BLOCKED },
    { "webhooks_deliveries_total", NULL,
      "outcome", "secret", NGX_HTTP_WEBHOOKS_STAT_SECRET },
    { "webhooks_deliveries_total", NULL,
      "outcome", "invalid_response",
      NGX_HTTP_WEBHOOKS_STAT_INVALID_RESPONSE },
    { "webhooks_deliveries_total", NULL,
      "outcome", "error", NGX_HTTP_WEBHOOKS_STAT_ERROR },

    { "webhooks_delivery_retries_total",
      "Failed deliveries scheduled to be tried again.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_RETRIES },

    { "webhooks_hooks_deactivated_total",
      "Hooks deactivated because their deliveries kept failing.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_DEACTIVATED },

    { "webhooks_redeliveries_total",
      "Redeliveries requested through the API.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDELIVERIES },

    { "webhooks_pings_total",
      "Pings requested through the API.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_PINGS },

    { "webhooks_tests_total",
      "Test deliveries requested through the API.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_TESTS },

    { "webhooks_redis_commands_total",
      "Commands sent to Redis.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDIS_COMMANDS },

    { "webhooks_redis_errors_total",
      "Redis commands answered with an error or not answered.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS },

    { "webhooks_redis_connects_total",
      "Connections to Redis established, the first ones included.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDIS_CONNECTS },

    { "webhooks_redis_reconnects_total",
      "Reconnects to Redis scheduled after a connection failed or was "
      "lost.",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDIS_RECONNECTS },

    { "webhooks_redis_redirects_total",
      "Redis Cluster redirects followed (MOVED and ASK).",
      NULL, NULL, NGX_HTTP_WEBHOOKS_STAT_REDIS_REDIRECTS },
};


static ngx_http_webhooks_status_hist_t
    ngx_http_webhooks_status_hists[NGX_HTTP_WEBHOOKS_NHISTS] = {

    { "webhooks_delivery_duration_seconds",
      "Time from the start of a delivery attempt to its outcome." },

    { "webhooks_delivery_latency_seconds",
      "Time from a delivery entering the queue (intake, a retry falling "
      "due, a redelivery) to its answer, for deliveries that succeeded." },

    { "webhooks_redis_rtt_seconds",
      "Round trip of Redis commands, blocking reads of the queue "
      "left out." },
};


static ngx_http_webhooks_status_queue_t  ngx_http_webhooks_status_queue;


ngx_int_t
ngx_http_webhooks_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_cleanup_t                *cln;
    ngx_http_webhooks_status_ctx_t    *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webhooks_status_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->format = ngx_http_webhooks_status_format(r);

    if (ctx->format >= NGX_HTTP_WEBHOOKS_STATUS_HTML
        || (ngx_http_webhooks_status_queue.known
            && ngx_current_msec - ngx_http_webhooks_status_queue.at
               < NGX_HTTP_WEBHOOKS_STATUS_CACHE))
    {
        return ngx_http_webhooks_status_send(r, ctx->format);
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_webhooks_module);

    ctx->cmd = ngx_http_webhooks_status_figures(r, ctx);
    if (ctx->cmd == NULL) {
        /* Redis is away: no figures older than a second, but counters */
        ngx_http_webhooks_status_queue.known = 0;
        return ngx_http_webhooks_status_send(r, ctx->format);
    }

    cln->handler = ngx_http_webhooks_status_cleanup;
    cln->data = ctx;

    r->main->count++;

    return NGX_DONE;
}


/* ?format= first, then Accept: a browser gets the page */

static ngx_uint_t
ngx_http_webhooks_status_format(ngx_http_request_t *r)
{
    ngx_str_t         v;
    ngx_table_elt_t  *h;

    static ngx_str_t  accept = ngx_string("Accept");

    if (ngx_http_arg(r, (u_char *) "format", 6, &v) == NGX_OK) {
        if (v.len == 4 && ngx_strncmp(v.data, "json", 4) == 0) {
            return NGX_HTTP_WEBHOOKS_STATUS_JSON;
        }

        if (v.len == 4 && ngx_strncmp(v.data, "html", 4) == 0) {
            return NGX_HTTP_WEBHOOKS_STATUS_HTML;
        }

        if (v.len == 2 && ngx_strncmp(v.data, "js", 2) == 0) {
            return NGX_HTTP_WEBHOOKS_STATUS_JS;
        }

        if (v.len == 3 && ngx_strncmp(v.data, "css", 3) == 0) {
            return NGX_HTTP_WEBHOOKS_STATUS_CSS;
        }

        return NGX_HTTP_WEBHOOKS_STATUS_PROMETHEUS;
    }

    h = ngx_http_webhooks_reply_header(r, &accept);

    if (h == NULL) {
        return NGX_HTTP_WEBHOOKS_STATUS_PROMETHEUS;
    }

    if (ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                         (u_char *) "text/html", 9 - 1))
    {
        return NGX_HTTP_WEBHOOKS_STATUS_HTML;
    }

    if (ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                         (u_char *) "application/json", 16 - 1))
    {
        return NGX_HTTP_WEBHOOKS_STATUS_JSON;
    }

    return NGX_HTTP_WEBHOOKS_STATUS_PROMETHEUS;
}


/* the figures of one queue shard; the page sums them */

static ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_status_figures(ngx_http_request_t *r,
    ngx_http_webhooks_status_ctx_t *ctx)
{
    u_char                             nkeys[NGX_INT_T_LEN];
    size_t                             argvlen[NGX_HTTP_WEBHOOKS_STATUS_ARGC];
    ngx_str_t                          args[NGX_HTTP_WEBHOOKS_FIGURES_NARGS];
    ngx_uint_t                         i;
    const char                        *argv[NGX_HTTP_WEBHOOKS_STATUS_ARGC];
    ngx_http_webhooks_main_conf_t     *wmcf;
    ngx_http_webhooks_redis_script_t  *script;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    args[NGX_HTTP_WEBHOOKS_FIGURES_QUEUE] = wmcf->shards[ctx->shard].queue;
    args[NGX_HTTP_WEBHOOKS_FIGURES_RETRY] = wmcf->shards[ctx->shard].retry;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_FIGURES_GROUP],
                NGX_HTTP_WEBHOOKS_GROUP);

    /* EVAL, not ngx_http_webhooks_redis_script(): no WAIT for a read */

    script = &ngx_http_webhooks_scripts[NGX_HTTP_WEBHOOKS_SCRIPT_FIGURES];

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = (const char *) script->body.data;
    argvlen[1] = script->body.len;
    argv[2] = (const char *) nkeys;
    argvlen[2] = ngx_sprintf(nkeys, "%d", NGX_HTTP_WEBHOOKS_FIGURES_NKEYS)
                 - nkeys;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_FIGURES_NARGS; i++) {
        argv[3 + i] = (const char *) args[i].data;
        argvlen[3 + i] = args[i].len;
    }

    return ngx_http_webhooks_redis_command(ngx_http_webhooks_status_queue_done,
                                           r, NGX_HTTP_WEBHOOKS_STATUS_ARGC,
                                           argv, argvlen);
}


static void
ngx_http_webhooks_status_queue_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                            *p, *dash;
    off_t                              oldest;
    redisReply                        *e;
    ngx_http_webhooks_status_ctx_t    *ctx;
    ngx_http_webhooks_status_queue_t  *q;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    q = &ngx_http_webhooks_status_queue;

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 4
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[1]->type == REDIS_REPLY_INTEGER
        && reply->element[3]->type == REDIS_REPLY_INTEGER)
    {
        ctx->sum.length += reply->element[0]->integer;
        ctx->sum.pending += reply->element[1]->integer;
        ctx->sum.retry += reply->element[3]->integer;

        /* a stream entry's id starts with its time in ms */
        e = reply->element[2];

        if (e->type == REDIS_REPLY_STRING && e->len) {
            p = (u_char *) e->str;
            dash = ngx_strlchr(p, p + e->len, '-');

            oldest = ngx_atoof(p, (dash ? dash : p + e->len) - p);

            if (oldest > 0
                && (ctx->sum.oldest == 0 || oldest < ctx->sum.oldest))
            {
                ctx->sum.oldest = oldest;
            }
        }

        if (++ctx->shard < NGX_HTTP_WEBHOOKS_SHARDS) {
            ctx->cmd = ngx_http_webhooks_status_figures(r, ctx);
            if (ctx->cmd) {
                return;
            }

            q->known = 0;

        } else {
            *q = ctx->sum;
            q->known = 1;
            q->at = ngx_current_msec;
        }

    } else {
        q->known = 0;

        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webhooks: reading the queue failed: \"%*s\"",
                          (size_t) reply->len, reply->str);
        }
    }

    ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_status_send(r, ctx->format));
}


static void
ngx_http_webhooks_status_cleanup(void *data)
{
    ngx_http_webhooks_status_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_http_webhooks_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


static ngx_int_t
ngx_http_webhooks_status_send(ngx_http_request_t *r, ngx_uint_t format)
{
    ngx_int_t                   rc;
    ngx_str_t                   out, type;
    ngx_http_webhooks_stats_t  *s;

    static ngx_http_webhooks_stats_t  none;

    s = ngx_http_webhooks_stats_get();
    if (s == NULL) {
        /* no webhooks_status_zone: zeros, as a new zone has */
        s = &none;
    }

    switch (format) {

    case NGX_HTTP_WEBHOOKS_STATUS_JSON:
        rc = ngx_http_webhooks_status_json(r, s, &out);
        ngx_str_set(&type, "application/json; charset=utf-8");
        break;

    case NGX_HTTP_WEBHOOKS_STATUS_HTML:
    case NGX_HTTP_WEBHOOKS_STATUS_JS:
    case NGX_HTTP_WEBHOOKS_STATUS_CSS:
        return ngx_http_webhooks_status_page(r, format);

    default:
        rc = ngx_http_webhooks_status_prometheus(r, s, &out);
        ngx_str_set(&type, "text/plain; version=0.0.4; charset=utf-8");
        break;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_status_out(r, &type, &out);
}


/*
 * The page and what it loads, all built in.  It reads the API and the
 * figures as any client would; the policy lets it load nothing else.
 */

static ngx_int_t
ngx_http_webhooks_status_page(ngx_http_request_t *r, ngx_uint_t format)
{
    ngx_str_t  out, type;

    static ngx_str_t  html = ngx_string(NGX_HTTP_WEBHOOKS_PAGE_HTML);
    static ngx_str_t  js = ngx_string(NGX_HTTP_WEBHOOKS_PAGE_JS);
    static ngx_str_t  css = ngx_string(NGX_HTTP_WEBHOOKS_PAGE_CSS);
    static ngx_str_t  csp = ngx_string("default-src 'none'; "
                                       "script-src 'self'; "
                                       "style-src 'self'; "
                                       "connect-src 'self'; "
                                       "img-src 'self' data:; "
                                       "base-uri 'none'; "
                                       "form-action 'none'; "
                                       "frame-ancestors 'none'");

    switch (format) {

    case NGX_HTTP_WEBHOOKS_STATUS_JS:
        out = js;
        ngx_str_set(&type, "text/javascript; charset=utf-8");
        break;

    case NGX_HTTP_WEBHOOKS_STATUS_CSS:
        out = css;
        ngx_str_set(&type, "text/css; charset=utf-8");
        break;

    default:
        out = html;
        ngx_str_set(&type, "text/html; charset=utf-8");
        break;
    }

    if (ngx_http_webhooks_reply_add_header(r, "Content-Security-Policy", &csp)
           != NGX_OK
        || ngx_http_webhooks_reply_add_header(r, "X-Content-Type-Options",
                                &(ngx_str_t) ngx_string("nosniff"))
           != NGX_OK
        || ngx_http_webhooks_reply_add_header(r, "Referrer-Policy",
                                &(ngx_str_t) ngx_string("no-referrer"))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_status_out(r, &type, &out);
}


static ngx_int_t
ngx_http_webhooks_status_out(ngx_http_request_t *r, ngx_str_t *type,
    ngx_str_t *out)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   cl;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = out->len;

    if (ngx_http_webhooks_reply_add_header(r, "Cache-Control",
                                           &(ngx_str_t) ngx_string("no-store"))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = out->data;
    b->last = out->data + out->len;
    b->memory = 1;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    cl.buf = b;
    cl.next = NULL;

    return ngx_http_output_filter(r, &cl);
}


static ngx_int_t
ngx_http_webhooks_status_prometheus(ngx_http_request_t *r,
    ngx_http_webhooks_stats_t *s, ngx_str_t *out)
{
    u_char                              *p, *last;
    size_t                               size;
    uint64_t                             n;
    ngx_uint_t                           i, j, workers;
    const char                          *name;
    ngx_http_webhooks_hist_t            *h;
    ngx_http_webhooks_status_queue_t    *q;
    ngx_http_webhooks_status_counter_t  *c;

    workers = ngx_http_webhooks_stats_workers();

    size = 16384 + workers * 64;

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    last = p + size;

    c = ngx_http_webhooks_status_counters;

    for (i = 0; i < sizeof(ngx_http_webhooks_status_counters)
                    / sizeof(ngx_http_webhooks_status_counter_t); i++)
    {
        if (c[i].help) {
            p = ngx_http_webhooks_status_head(p, last, c[i].name, c[i].help,
                                              "counter");
        }

        if (c[i].label) {
            p = ngx_slprintf(p, last, "%s{%s=\"%s\"} %uA\n", c[i].name,
                             c[i].label, c[i].value, s->counter[c[i].stat]);

        } else {
            p = ngx_slprintf(p, last, "%s %uA\n", c[i].name,
                             s->counter[c[i].stat]);
        }
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_NHISTS; i++) {
        h = &s->hist[i];
        name = ngx_http_webhooks_status_hists[i].name;

        p = ngx_http_webhooks_status_head(p, last, name,
                                    ngx_http_webhooks_status_hists[i].help,
                                    "histogram");
        n = 0;

        for (j = 0; j < NGX_HTTP_WEBHOOKS_NBUCKETS; j++) {
            n += h->bucket[j];
            p = ngx_slprintf(p, last, "%s_bucket{le=\"%M.%03M\"} %uL\n",
                             name,
                             ngx_http_webhooks_stats_bounds[j] / 1000,
                             ngx_http_webhooks_stats_bounds[j] % 1000, n);
        }

        n += h->bucket[j];

        p = ngx_slprintf(p, last, "%s_bucket{le=\"+Inf\"} %uL\n"
                         "%s_sum %uA.%03uA\n%s_count %uL\n",
                         name, n, name, h->sum / 1000, h->sum % 1000,
                         name, n);
    }

    p = ngx_http_webhooks_status_head(p, last,
                                      "webhooks_deliveries_in_flight",
                                      "Deliveries under way, by worker "
                                      "process number.", "gauge");

    for (i = 0; i < workers; i++) {
        p = ngx_slprintf(p, last,
                         "webhooks_deliveries_in_flight{worker=\"%ui\"} "
                         "%A\n", i, (ngx_atomic_int_t) s->in_flight[i]);
    }

    q = &ngx_http_webhooks_status_queue;

    if (q->known) {
        p = ngx_http_webhooks_status_head(p, last, "webhooks_queue_length",
                  "Entries in the delivery stream (from Redis, cached up "
                  "to 1s).", "gauge");
        p = ngx_slprintf(p, last, "webhooks_queue_length %L\n", q->length);

        p = ngx_http_webhooks_status_head(p, last, "webhooks_queue_pending",
                  "Stream entries taken by a sender and not yet done "
                  "(from Redis, cached up to 1s).", "gauge");
        p = ngx_slprintf(p, last, "webhooks_queue_pending %L\n", q->pending);

        p = ngx_http_webhooks_status_head(p, last,
                  "webhooks_queue_retry_waiting",
                  "Deliveries waiting for a retry to fall due (from Redis, "
                  "cached up to 1s).", "gauge");
        p = ngx_slprintf(p, last, "webhooks_queue_retry_waiting %L\n",
                         q->retry);

        p = ngx_http_webhooks_status_head(p, last,
                  "webhooks_queue_oldest_pending_age_seconds",
                  "Age of the oldest pending stream entry, 0 when none "
                  "(from Redis, cached up to 1s).", "gauge");
        p = ngx_slprintf(p, last,
                         "webhooks_queue_oldest_pending_age_seconds %.3f\n",
                         q->oldest ? (double) ngx_max(
                             (int64_t) ngx_time() * 1000 - q->oldest, 0)
                             / 1000 : 0.0);
    }

    out->len = p - out->data;

    return NGX_OK;
}


static u_char *
ngx_http_webhooks_status_head(u_char *p, u_char *last, const char *name,
    const char *help, const char *type)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


static ngx_int_t
ngx_http_webhooks_status_json(ngx_http_request_t *r,
    ngx_http_webhooks_stats_t *s, ngx_str_t *out)
{
    char                                 le[32];
    json_t                              *doc, *o, *b;
    uint64_t                             n;
    ngx_uint_t                           i, j, workers;
    ngx_http_webhooks_hist_t            *h;
    ngx_http_webhooks_status_queue_t    *q;
    ngx_http_webhooks_status_counter_t  *c;

    doc = ngx_http_webhooks_json_own(r->pool, json_object());
    if (doc == NULL) {
        return NGX_ERROR;
    }

    c = ngx_http_webhooks_status_counters;

    for (i = 0; i < sizeof(ngx_http_webhooks_status_counters)
                    / sizeof(ngx_http_webhooks_status_counter_t); i++)
    {
        if (c[i].label == NULL) {
            if (json_object_set_new(doc, c[i].name,
                                json_integer(s->counter[c[i].stat])) != 0)
            {
                return NGX_ERROR;
            }

            continue;
        }

        o = json_object_get(doc, c[i].name);

        if (o == NULL) {
            o = json_object();
            if (json_object_set_new(doc, c[i].name, o) != 0) {
                return NGX_ERROR;
            }
        }

        if (json_object_set_new(o, c[i].value,
                                json_integer(s->counter[c[i].stat])) != 0)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_NHISTS; i++) {
        h = &s->hist[i];
        b = json_object();
        o = json_pack("{s:o,s:f}", "buckets", b,
                      "sum", (double) h->sum / 1000);

        if (b == NULL || o == NULL
            || json_object_set_new(doc, ngx_http_webhooks_status_hists[i].name,
                                   o) != 0)
        {
            return NGX_ERROR;
        }

        n = 0;

        for (j = 0; j < NGX_HTTP_WEBHOOKS_NBUCKETS; j++) {
            n += h->bucket[j];
            *ngx_snprintf((u_char *) le, sizeof(le) - 1, "%M.%03M",
                          ngx_http_webhooks_stats_bounds[j] / 1000,
                          ngx_http_webhooks_stats_bounds[j] % 1000) = '\0';

            if (json_object_set_new(b, le, json_integer(n)) != 0) {
                return NGX_ERROR;
            }
        }

        n += h->bucket[j];

        if (json_object_set_new(b, "+Inf", json_integer(n)) != 0
            || json_object_set_new(o, "count", json_integer(n)) != 0)
        {
            return NGX_ERROR;
        }
    }

    workers = ngx_http_webhooks_stats_workers();

    o = json_array();
    if (json_object_set_new(doc, "webhooks_deliveries_in_flight", o) != 0) {
        return NGX_ERROR;
    }

    for (i = 0; i < workers; i++) {
        if (json_array_append_new(o,
                   json_integer((ngx_atomic_int_t) s->in_flight[i])) != 0)
        {
            return NGX_ERROR;
        }
    }

    q = &ngx_http_webhooks_status_queue;

    if (q->known) {
        o = json_pack("{s:I,s:I,s:I,s:f,s:f}",
                      "length", (json_int_t) q->length,
                      "pending", (json_int_t) q->pending,
                      "retry_waiting", (json_int_t) q->retry,
                      "oldest_pending_age_seconds",
                      q->oldest ? (double) ngx_max(
                          (int64_t) ngx_time() * 1000 - q->oldest, 0) / 1000
                          : 0.0,
                      "cached_seconds",
                      (double) (ngx_current_msec - q->at) / 1000);

        if (o == NULL || json_object_set_new(doc, "queue", o) != 0) {
            return NGX_ERROR;
        }
    }

    return ngx_http_webhooks_json_dump(r->pool, doc, out);
}
