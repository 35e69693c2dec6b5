
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_queue.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_sender.h"
#include "ngx_http_webhooks_store.h"


/*
 * Every worker of every nginx sharing the Redis consumes the one stream
 * of deliveries, as a consumer of one group: an entry goes to one of
 * them.  A worker blocks in XREADGROUP on a connection of its own, never
 * on the one the API pipelines on, and reads no more than it has room
 * for.  Entries a dead worker took stay pending; any worker claims them
 * with XAUTOCLAIM once they have been idle for the claim timeout.  A
 * live worker keeps claiming the entries it is still delivering, so that
 * a slow receiver does not make them look abandoned.
 */


#define NGX_HTTP_WEBHOOKS_BLOCK  1000
#define NGX_HTTP_WEBHOOKS_RETRY  500


typedef struct {
    ngx_http_webhooks_main_conf_t  *wmcf;
    ngx_http_webhooks_redis_t      *rd;
    ngx_str_t                       consumer;
    ngx_uint_t                      inflight;

    ngx_http_webhooks_redis_cmd_t  *reading;
    ngx_http_webhooks_redis_cmd_t  *claiming;
    ngx_queue_t                     held;
    ngx_event_t                     retry;
    ngx_event_t                     claim;

    unsigned                        group:1;
} ngx_http_webhooks_queue_t;


static void ngx_http_webhooks_queue_read(ngx_http_webhooks_queue_t *q);
static void ngx_http_webhooks_queue_group_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_queue_read_done(void *data, redisReply *reply);
static void ngx_http_webhooks_queue_claim_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_queue_entries(ngx_http_webhooks_queue_t *q,
    redisReply *entries);
static void ngx_http_webhooks_queue_retry_handler(ngx_event_t *ev);
static void ngx_http_webhooks_queue_claim_handler(ngx_event_t *ev);
static void ngx_http_webhooks_queue_later(ngx_http_webhooks_queue_t *q);
static void ngx_http_webhooks_queue_heartbeat(ngx_http_webhooks_queue_t *q);


static ngx_http_webhooks_queue_t  *ngx_http_webhooks_queue;


ngx_int_t
ngx_http_webhooks_queue_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    ngx_http_webhooks_queue_t  *q;

    q = ngx_pcalloc(cycle->pool, sizeof(ngx_http_webhooks_queue_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->wmcf = wmcf;
    ngx_queue_init(&q->held);

    q->consumer.data = ngx_pnalloc(cycle->pool,
                                   cycle->hostname.len + 1 + NGX_INT_T_LEN);
    if (q->consumer.data == NULL) {
        return NGX_ERROR;
    }

    q->consumer.len = ngx_sprintf(q->consumer.data, "%V:%P",
                                  &cycle->hostname, ngx_pid)
                      - q->consumer.data;

    q->retry.handler = ngx_http_webhooks_queue_retry_handler;
    q->retry.data = q;
    q->retry.log = cycle->log;
    q->retry.cancelable = 1;

    q->claim.handler = ngx_http_webhooks_queue_claim_handler;
    q->claim.data = q;
    q->claim.log = cycle->log;
    q->claim.cancelable = 1;

    q->rd = ngx_http_webhooks_redis_create(cycle, wmcf, NULL, 0);
    if (q->rd == NULL) {
        return NGX_ERROR;
    }

    ngx_http_webhooks_queue = q;

    /* once the connections had a moment to come up */
    ngx_add_timer(&q->retry, 10);
    ngx_add_timer(&q->claim, ngx_max(wmcf->claim_timeout / 2, 1000));

    return NGX_OK;
}


void
ngx_http_webhooks_queue_done(ngx_cycle_t *cycle)
{
    ngx_http_webhooks_queue_t  *q;

    q = ngx_http_webhooks_queue;
    if (q == NULL) {
        return;
    }

    if (q->retry.timer_set) {
        ngx_del_timer(&q->retry);
    }

    if (q->claim.timer_set) {
        ngx_del_timer(&q->claim);
    }

    if (q->claiming) {
        ngx_http_webhooks_redis_cancel(q->claiming);
        q->claiming = NULL;
    }

    if (q->reading) {
        ngx_http_webhooks_redis_cancel(q->reading);
        q->reading = NULL;
    }

    ngx_http_webhooks_redis_close(q->rd);

    ngx_http_webhooks_queue = NULL;
}


void
ngx_http_webhooks_queue_hold(ngx_http_webhooks_queue_entry_t *e)
{
    if (ngx_http_webhooks_queue) {
        ngx_queue_insert_tail(&ngx_http_webhooks_queue->held, &e->queue);

    } else {
        ngx_queue_init(&e->queue);
    }
}


/* a delivery is over, or was given up: room for one more */

void
ngx_http_webhooks_queue_release(ngx_http_webhooks_queue_entry_t *e)
{
    ngx_http_webhooks_queue_t  *q;

    q = ngx_http_webhooks_queue;
    if (q == NULL) {
        return;
    }

    ngx_queue_remove(&e->queue);
    q->inflight--;

    ngx_http_webhooks_queue_read(q);
}


static void
ngx_http_webhooks_queue_read(ngx_http_webhooks_queue_t *q)
{
    u_char      count[NGX_INT_T_LEN], block[NGX_INT_T_LEN];
    size_t      argvlen[12];
    const char *argv[12];

    if (q->reading || ngx_exiting || ngx_terminate || ngx_quit
        || q->inflight >= q->wmcf->concurrency)
    {
        return;
    }

    if (!ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_main())) {
        /* what is read now could not be taken on: it would wait for a claim */
        ngx_http_webhooks_queue_later(q);
        return;
    }

    if (!q->group) {
        argv[0] = "XGROUP";
        argv[1] = "CREATE";
        argv[2] = (const char *) q->wmcf->queue.data;
        argvlen[2] = q->wmcf->queue.len;
        argv[3] = NGX_HTTP_WEBHOOKS_GROUP;
        argv[4] = "0";
        argv[5] = "MKSTREAM";

        argvlen[0] = 6;
        argvlen[1] = 6;
        argvlen[3] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
        argvlen[4] = 1;
        argvlen[5] = 8;

        q->reading = ngx_http_webhooks_redis_command_on(q->rd, 0,
                                   ngx_http_webhooks_queue_group_done, q,
                                   6, argv, argvlen);
        if (q->reading == NULL) {
            ngx_http_webhooks_queue_later(q);
        }

        return;
    }

    argv[0] = "XREADGROUP";
    argvlen[0] = 10;
    argv[1] = "GROUP";
    argvlen[1] = 5;
    argv[2] = NGX_HTTP_WEBHOOKS_GROUP;
    argvlen[2] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
    argv[3] = (const char *) q->consumer.data;
    argvlen[3] = q->consumer.len;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = (const char *) count;
    argvlen[5] = ngx_sprintf(count, "%ui",
                             q->wmcf->concurrency - q->inflight) - count;
    argv[6] = "BLOCK";
    argvlen[6] = 5;
    argv[7] = (const char *) block;
    argvlen[7] = ngx_sprintf(block, "%d", NGX_HTTP_WEBHOOKS_BLOCK) - block;
    argv[8] = "STREAMS";
    argvlen[8] = 7;
    argv[9] = (const char *) q->wmcf->queue.data;
    argvlen[9] = q->wmcf->queue.len;
    argv[10] = ">";
    argvlen[10] = 1;

    q->reading = ngx_http_webhooks_redis_command_on(q->rd,
                                   NGX_HTTP_WEBHOOKS_BLOCK,
                                   ngx_http_webhooks_queue_read_done, q,
                                   11, argv, argvlen);
    if (q->reading == NULL) {
        ngx_http_webhooks_queue_later(q);
    }
}


static void
ngx_http_webhooks_queue_group_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_t *q = data;

    q->reading = NULL;

    if (reply == NULL) {
        ngx_http_webhooks_queue_later(q);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR
        && ngx_strncmp(reply->str, "BUSYGROUP", 9) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: creating the queue's group failed: \"%*s\"",
                      (size_t) reply->len, reply->str);
        ngx_http_webhooks_queue_later(q);
        return;
    }

    q->group = 1;

    ngx_http_webhooks_queue_read(q);
}


static void
ngx_http_webhooks_queue_read_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_t *q = data;

    q->reading = NULL;

    if (reply == NULL) {
        ngx_http_webhooks_queue_later(q);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        if (ngx_strncmp(reply->str, "NOGROUP", 7) == 0) {
            /* the stream was deleted */
            q->group = 0;

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: reading the queue failed: \"%*s\"",
                          (size_t) reply->len, reply->str);
        }

        ngx_http_webhooks_queue_later(q);
        return;
    }

    /* [[stream, [[id, [field, value, ...]], ...]]], or nil on timeout */

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
        && reply->element[0]->type == REDIS_REPLY_ARRAY
        && reply->element[0]->elements == 2)
    {
        ngx_http_webhooks_queue_entries(q, reply->element[0]->element[1]);
    }

    ngx_http_webhooks_queue_read(q);
}


static void
ngx_http_webhooks_queue_entries(ngx_http_webhooks_queue_t *q,
    redisReply *entries)
{
    size_t       i, j;
    ngx_str_t    id, key;
    redisReply  *e, *f;

    if (entries->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i < entries->elements; i++) {
        e = entries->element[i];

        /* a deleted entry comes back without fields */
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING
            || e->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        id.data = (u_char *) e->element[0]->str;
        id.len = e->element[0]->len;
        ngx_str_null(&key);

        f = e->element[1];

        for (j = 0; j + 1 < f->elements; j += 2) {
            if (f->element[j]->type == REDIS_REPLY_STRING
                && f->element[j]->len == 1 && f->element[j]->str[0] == 'k'
                && f->element[j + 1]->type == REDIS_REPLY_STRING)
            {
                key.data = (u_char *) f->element[j + 1]->str;
                key.len = f->element[j + 1]->len;
            }
        }

        if (key.len == 0) {
            continue;
        }

        q->inflight++;

        if (ngx_http_webhooks_deliver(q->wmcf, &id, &key) != NGX_OK) {
            /* left pending: claimed again after the claim timeout */
            q->inflight--;
        }
    }
}


static void
ngx_http_webhooks_queue_claim_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_queue_t *q = ev->data;

    u_char      idle[NGX_INT_T_LEN], count[NGX_INT_T_LEN];
    size_t      argvlen[9];
    const char *argv[9];

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(&q->claim, ngx_max(q->wmcf->claim_timeout / 2, 1000));

    ngx_http_webhooks_queue_heartbeat(q);

    if (q->claiming || !q->group
        || q->inflight >= q->wmcf->concurrency)
    {
        return;
    }

    argv[0] = "XAUTOCLAIM";
    argvlen[0] = 10;
    argv[1] = (const char *) q->wmcf->queue.data;
    argvlen[1] = q->wmcf->queue.len;
    argv[2] = NGX_HTTP_WEBHOOKS_GROUP;
    argvlen[2] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
    argv[3] = (const char *) q->consumer.data;
    argvlen[3] = q->consumer.len;
    argv[4] = (const char *) idle;
    argvlen[4] = ngx_sprintf(idle, "%M", q->wmcf->claim_timeout) - idle;
    argv[5] = "0-0";
    argvlen[5] = 3;
    argv[6] = "COUNT";
    argvlen[6] = 5;
    argv[7] = (const char *) count;
    argvlen[7] = ngx_sprintf(count, "%ui",
                             q->wmcf->concurrency - q->inflight) - count;

    q->claiming = ngx_http_webhooks_redis_command(
                      ngx_http_webhooks_queue_claim_done, q, 8, argv,
                      argvlen);
}


static void
ngx_http_webhooks_queue_claim_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_t *q = data;

    q->claiming = NULL;

    /* [next cursor, [[id, [field, value, ...]], ...], [deleted ids]] */

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 2)
    {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: claiming deliveries failed: \"%*s\"",
                          (size_t) reply->len, reply->str);
        }

        return;
    }

    if (reply->element[1]->type == REDIS_REPLY_ARRAY
        && reply->element[1]->elements)
    {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: claimed %uz deliveries idle for %Mms",
                      reply->element[1]->elements, q->wmcf->claim_timeout);

        ngx_http_webhooks_queue_entries(q, reply->element[1]);
    }
}


static void
ngx_http_webhooks_queue_later(ngx_http_webhooks_queue_t *q)
{
    if (!q->retry.timer_set) {
        ngx_add_timer(&q->retry, NGX_HTTP_WEBHOOKS_RETRY);
    }
}


static void
ngx_http_webhooks_queue_retry_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_queue_read(ev->data);
}


/*
 * XCLAIM ... JUSTID of our own entries resets how long they have been
 * idle: no one takes over what a live worker is still delivering.
 */

static void
ngx_http_webhooks_queue_heartbeat(ngx_http_webhooks_queue_t *q)
{
    size_t                           *argvlen;
    ngx_uint_t                        n;
    ngx_queue_t                      *l;
    const char                      **argv;
    ngx_http_webhooks_queue_entry_t  *e;

    if (ngx_queue_empty(&q->held)) {
        return;
    }

    n = 6;

    for (l = ngx_queue_head(&q->held); l != ngx_queue_sentinel(&q->held);
         l = ngx_queue_next(l))
    {
        n++;
    }

    argv = ngx_alloc(n * sizeof(char *), ngx_cycle->log);
    argvlen = ngx_alloc(n * sizeof(size_t), ngx_cycle->log);

    if (argv == NULL || argvlen == NULL) {
        ngx_free(argv);
        ngx_free(argvlen);
        return;
    }

    argv[0] = "XCLAIM";
    argvlen[0] = 6;
    argv[1] = (const char *) q->wmcf->queue.data;
    argvlen[1] = q->wmcf->queue.len;
    argv[2] = NGX_HTTP_WEBHOOKS_GROUP;
    argvlen[2] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
    argv[3] = (const char *) q->consumer.data;
    argvlen[3] = q->consumer.len;
    argv[4] = "0";
    argvlen[4] = 1;

    n = 5;

    for (l = ngx_queue_head(&q->held); l != ngx_queue_sentinel(&q->held);
         l = ngx_queue_next(l))
    {
        e = ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue);
        argv[n] = (const char *) e->id.data;
        argvlen[n] = e->id.len;
        n++;
    }

    argv[n] = "JUSTID";
    argvlen[n] = 6;
    n++;

    /* the reply tells nothing we need; the command is copied when sent */
    (void) ngx_http_webhooks_redis_command(NULL, NULL, (int) n, argv,
                                           argvlen);

    ngx_free(argv);
    ngx_free(argvlen);
}
