
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_queue.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_store.h"


/*
 * Every worker of every nginx sharing the Redis consumes the streams of
 * deliveries of all queue shards, as a consumer of one group: an entry
 * goes to one of them.  A worker blocks in XREADGROUP on a connection of
 * its own, never on the one the API pipelines on, and reads no more than
 * it has room for: all shards in one command on a single Redis, each
 * shard on a connection of its own on a Redis Cluster, where the shards
 * live on different servers.  Claims and retries are per shard.
 * Entries a dead worker took stay pending; any worker claims them
 * with XAUTOCLAIM once they have been idle for the claim timeout.  A
 * live worker keeps claiming the entries it is still delivering, so that
 * a slow receiver does not make them look abandoned.
 *
 * A worker has no more than so many deliveries in flight to one hook
 * and to one host.  An entry past either cap waits in the worker for a
 * delivery to the same hook or host to end, and counts against what the
 * worker reads: a busy fast receiver drains it in moments.  One that
 * still waits after a moment while the worker can read nothing more is
 * put off, out of the stream into the set of deliveries due later, so
 * that a slow receiver holds neither the worker's capacity nor the
 * entries behind it.  Every worker moves what has come due from that set
 * back into the stream: put-off deliveries and failed ones to be tried
 * again.
 */


#define NGX_HTTP_WEBHOOKS_BLOCK        1000
#define NGX_HTTP_WEBHOOKS_RETRY        500
#define NGX_HTTP_WEBHOOKS_PROMOTE      1000
#define NGX_HTTP_WEBHOOKS_PROMOTE_MAX  100
#define NGX_HTTP_WEBHOOKS_PROMOTE_GAP  50
#define NGX_HTTP_WEBHOOKS_DEFER        1000
#define NGX_HTTP_WEBHOOKS_DEFER_MAX    30000
#define NGX_HTTP_WEBHOOKS_WAIT         250
#define NGX_HTTP_WEBHOOKS_QUEUE_LOW_WATER  16


typedef struct ngx_http_webhooks_queue_s  ngx_http_webhooks_queue_t;


/* a connection blocking in XREADGROUP on shards [n, n + nshards) */
typedef struct {
    ngx_http_webhooks_queue_t      *q;
    ngx_uint_t                      n;
    ngx_uint_t                      nshards;
    ngx_uint_t                      grouped;   /* shards with the group */
    ngx_uint_t                      count;     /* entries asked for */
    ngx_uint_t                      busy;      /* the last read brought */
    ngx_http_webhooks_redis_t      *rd;
    ngx_http_webhooks_redis_cmd_t  *reading;
} ngx_http_webhooks_queue_reader_t;


typedef struct {
    ngx_http_webhooks_queue_t      *q;
    ngx_uint_t                      n;
    ngx_http_webhooks_queue_reader_t  *reader;
    ngx_http_webhooks_redis_cmd_t  *claiming;
    ngx_http_webhooks_redis_cmd_t  *promoting;
    ngx_pool_t                     *promote_pool;
} ngx_http_webhooks_queue_shard_t;


struct ngx_http_webhooks_queue_s {
    ngx_http_webhooks_main_conf_t  *wmcf;
    ngx_http_webhooks_queue_start_pt  start;
    ngx_str_t                       consumer;
    ngx_uint_t                      inflight;
    ngx_uint_t                      asked;

    ngx_http_webhooks_queue_reader_t  readers[NGX_HTTP_WEBHOOKS_SHARDS];
    ngx_uint_t                      nreaders;
    ngx_http_webhooks_queue_shard_t   shards[NGX_HTTP_WEBHOOKS_SHARDS];

    ngx_queue_t                     held;
    ngx_queue_t                     waiting;
    ngx_uint_t                      nwaiting;
    ngx_event_t                     retry;
    ngx_event_t                     claim;
    ngx_event_t                     promote;
    ngx_event_t                     evict;

    unsigned                        resuming:1;
    unsigned                        rescan:1;
    unsigned                        stale:1;
};


static void ngx_http_webhooks_queue_hold(ngx_http_webhooks_queue_entry_t *e);
static void ngx_http_webhooks_queue_throttle(
    ngx_http_webhooks_queue_entry_t *e, ngx_str_t *throttled);
static void ngx_http_webhooks_queue_release(
    ngx_http_webhooks_queue_entry_t *e);
static void ngx_http_webhooks_queue_read(ngx_http_webhooks_queue_t *q);
static void ngx_http_webhooks_queue_read_shards(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_reader_t *rr);
static void ngx_http_webhooks_queue_group_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_queue_read_done(void *data, redisReply *reply);
static void ngx_http_webhooks_queue_claim_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_queue_entries(ngx_http_webhooks_queue_t *q,
    redisReply *entries, ngx_uint_t shard);
static void ngx_http_webhooks_queue_retry_handler(ngx_event_t *ev);
static void ngx_http_webhooks_queue_claim_handler(ngx_event_t *ev);
static void ngx_http_webhooks_queue_later(ngx_http_webhooks_queue_t *q);
static void ngx_http_webhooks_queue_heartbeat(ngx_http_webhooks_queue_t *q);
static ngx_uint_t ngx_http_webhooks_queue_busy(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e);
static void ngx_http_webhooks_queue_defer(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e, ngx_str_t *throttled);
static void ngx_http_webhooks_queue_wait(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e);
static ngx_int_t ngx_http_webhooks_queue_start(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e);
static void ngx_http_webhooks_queue_resume(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e);
static ngx_uint_t ngx_http_webhooks_queue_same(ngx_str_t *a, ngx_str_t *b);
static void ngx_http_webhooks_queue_evict_handler(ngx_event_t *ev);
static time_t ngx_http_webhooks_queue_retry_after(ngx_str_t *value);
static void ngx_http_webhooks_queue_promote_handler(ngx_event_t *ev);
static void ngx_http_webhooks_queue_promote_done(void *data,
    redisReply *reply);


static ngx_http_webhooks_queue_t  *ngx_http_webhooks_queue;


ngx_int_t
ngx_http_webhooks_queue_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_queue_start_pt start)
{
    ngx_uint_t                         i, j;
    ngx_http_webhooks_queue_t         *q;
    ngx_http_webhooks_queue_reader_t  *rr;

    q = ngx_pcalloc(cycle->pool, sizeof(ngx_http_webhooks_queue_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->wmcf = wmcf;
    q->start = start;
    ngx_queue_init(&q->held);
    ngx_queue_init(&q->waiting);

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

    q->promote.handler = ngx_http_webhooks_queue_promote_handler;
    q->promote.data = q;
    q->promote.log = cycle->log;
    q->promote.cancelable = 1;

    q->evict.handler = ngx_http_webhooks_queue_evict_handler;
    q->evict.data = q;
    q->evict.log = cycle->log;
    q->evict.cancelable = 1;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        q->shards[i].q = q;
        q->shards[i].n = i;
    }

    /* a single Redis: one reader for all; a cluster: one per shard */

    q->nreaders = wmcf->redis_cluster ? NGX_HTTP_WEBHOOKS_SHARDS : 1;

    for (i = 0; i < q->nreaders; i++) {
        rr = &q->readers[i];

        rr->q = q;
        rr->n = i;
        rr->nshards = wmcf->redis_cluster ? 1 : NGX_HTTP_WEBHOOKS_SHARDS;

        for (j = rr->n; j < rr->n + rr->nshards; j++) {
            q->shards[j].reader = rr;
        }

        rr->rd = ngx_http_webhooks_redis_create(cycle, wmcf, NULL, 0);
        if (rr->rd == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_http_webhooks_queue = q;

    /* once the connections had a moment to come up */
    ngx_add_timer(&q->retry, 10);
    ngx_add_timer(&q->claim, ngx_max(wmcf->sender.claim_timeout / 2, 1000));
    ngx_add_timer(&q->promote, ngx_random() % NGX_HTTP_WEBHOOKS_PROMOTE);

    return NGX_OK;
}


void
ngx_http_webhooks_queue_done(ngx_cycle_t *cycle)
{
    ngx_uint_t                        i;
    ngx_queue_t                      *l;
    ngx_http_webhooks_queue_t        *q;
    ngx_http_webhooks_queue_shard_t  *sh;

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

    if (q->promote.timer_set) {
        ngx_del_timer(&q->promote);
    }

    if (q->evict.timer_set) {
        ngx_del_timer(&q->evict);
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        sh = &q->shards[i];

        if (sh->promoting) {
            ngx_http_webhooks_redis_cancel(sh->promoting);
            sh->promoting = NULL;
        }

        if (sh->promote_pool) {
            ngx_destroy_pool(sh->promote_pool);
            sh->promote_pool = NULL;
        }

        if (sh->claiming) {
            ngx_http_webhooks_redis_cancel(sh->claiming);
            sh->claiming = NULL;
        }
    }

    for (i = 0; i < q->nreaders; i++) {
        if (q->readers[i].reading) {
            ngx_http_webhooks_redis_cancel(q->readers[i].reading);
            q->readers[i].reading = NULL;
        }
    }

    /* what waited stays pending: another worker claims it */

    while (!ngx_queue_empty(&q->waiting)) {
        l = ngx_queue_head(&q->waiting);
        ngx_queue_remove(l);
        ngx_free(ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue));
    }

    for (i = 0; i < q->nreaders; i++) {
        ngx_http_webhooks_redis_close(q->readers[i].rd);
    }

    ngx_http_webhooks_queue = NULL;
}


static void
ngx_http_webhooks_queue_hold(ngx_http_webhooks_queue_entry_t *e)
{
    if (ngx_http_webhooks_queue) {
        ngx_queue_insert_tail(&ngx_http_webhooks_queue->held, &e->queue);

    } else {
        ngx_queue_init(&e->queue);
    }
}


/*
 * A delivery a limit of nginx's refused before it left (limit_req,
 * limit_conn): put off as a busy hook's is, with the time on its record;
 * its attempt is not used up.  The caller releases the entry.
 */

static void
ngx_http_webhooks_queue_throttle(ngx_http_webhooks_queue_entry_t *e,
    ngx_str_t *throttled)
{
    if (ngx_http_webhooks_queue) {
        ngx_http_webhooks_queue_defer(ngx_http_webhooks_queue, e, throttled);
    }
}


/* a delivery is over, or was given up: room for one more */

static void
ngx_http_webhooks_queue_release(ngx_http_webhooks_queue_entry_t *e)
{
    ngx_http_webhooks_queue_t  *q;

    q = ngx_http_webhooks_queue;
    if (q == NULL) {
        return;
    }

    ngx_queue_remove(&e->queue);
    q->inflight--;

    ngx_http_webhooks_queue_resume(q, e);
    ngx_http_webhooks_queue_read(q);
}


static void
ngx_http_webhooks_queue_read(ngx_http_webhooks_queue_t *q)
{
    ngx_uint_t  i;

    for (i = 0; i < q->nreaders; i++) {
        ngx_http_webhooks_queue_read_shards(q, &q->readers[i]);
    }
}


static void
ngx_http_webhooks_queue_read_shards(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_reader_t *rr)
{
    u_char       count[NGX_INT_T_LEN], block[NGX_INT_T_LEN];
    size_t       argvlen[10 + 2 * NGX_HTTP_WEBHOOKS_SHARDS];
    ngx_uint_t   i, room, slack, low;
    const char  *argv[10 + 2 * NGX_HTTP_WEBHOOKS_SHARDS];
    ngx_http_webhooks_shard_t  *sh;

    if (rr->reading || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    /*
     * With a reader per shard (a cluster) every reader keeps a read out
     * even when the others' fill the room: a shard with work must not
     * wait for the blocked reads of idle ones.  What comes in beyond the
     * room waits, or is put off, as an entry for a busy hook does.
     */
    slack = q->nreaders - 1;

    if (q->inflight + q->nwaiting + q->asked
        >= q->wmcf->sender.concurrency + slack)
    {
        if (q->nwaiting && !q->evict.timer_set) {
            ngx_add_timer(&q->evict, NGX_HTTP_WEBHOOKS_WAIT / 2);
        }

        return;
    }

    if (!ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_main())) {
        /* what is read now could not be taken on: it would wait for a claim */
        ngx_http_webhooks_queue_later(q);
        return;
    }

    if (rr->grouped < rr->nshards) {
        sh = &q->wmcf->shards[rr->n + rr->grouped];

        argv[0] = "XGROUP";
        argv[1] = "CREATE";
        argv[2] = (const char *) sh->queue.data;
        argvlen[2] = sh->queue.len;
        argv[3] = NGX_HTTP_WEBHOOKS_GROUP;
        argv[4] = "0";
        argv[5] = "MKSTREAM";

        argvlen[0] = 6;
        argvlen[1] = 6;
        argvlen[3] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
        argvlen[4] = 1;
        argvlen[5] = 8;

        rr->reading = ngx_http_webhooks_redis_command_on(rr->rd, 0,
                                   ngx_http_webhooks_queue_group_done, rr,
                                   6, argv, argvlen);
        if (rr->reading == NULL) {
            ngx_http_webhooks_queue_later(q);
        }

        return;
    }

    /* what is left of the room, for this reader to ask for */

    room = q->wmcf->sender.concurrency + slack
           - q->inflight - q->nwaiting - q->asked;

    /*
     * A reader whose last read brought entries waits, while deliveries
     * are in flight, for room for a few: a read costs Redis about as
     * much for one entry as for many, and a delivery ending asks again.
     * One whose shards were idle reads at once, and so does one with
     * entries waiting (they are put off once the room is full).  On a
     * cluster a busy reader asks for those few at a time, an idle one for
     * one, so that the blocked reads of idle shards hold little of the
     * room that busy ones need.
     */
    low = ngx_max(ngx_min(q->wmcf->sender.concurrency / 8,
                          NGX_HTTP_WEBHOOKS_QUEUE_LOW_WATER), 1);

    if (rr->busy && q->inflight && q->nwaiting == 0 && room < low) {
        return;
    }

    rr->count = (q->nreaders == 1) ? room
                : rr->busy ? ngx_min(room, low) : 1;

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
    argvlen[5] = ngx_sprintf(count, "%ui", rr->count) - count;
    argv[6] = "BLOCK";
    argvlen[6] = 5;
    argv[7] = (const char *) block;
    argvlen[7] = ngx_sprintf(block, "%d", NGX_HTTP_WEBHOOKS_BLOCK) - block;
    argv[8] = "STREAMS";
    argvlen[8] = 7;

    for (i = 0; i < rr->nshards; i++) {
        sh = &q->wmcf->shards[rr->n + i];

        argv[9 + i] = (const char *) sh->queue.data;
        argvlen[9 + i] = sh->queue.len;
        argv[9 + rr->nshards + i] = ">";
        argvlen[9 + rr->nshards + i] = 1;
    }

    rr->reading = ngx_http_webhooks_redis_command_on(rr->rd,
                                   NGX_HTTP_WEBHOOKS_BLOCK,
                                   ngx_http_webhooks_queue_read_done, rr,
                                   9 + 2 * rr->nshards, argv, argvlen);
    if (rr->reading == NULL) {
        ngx_http_webhooks_queue_later(q);
        return;
    }

    q->asked += rr->count;
}


static void
ngx_http_webhooks_queue_group_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_reader_t *rr = data;

    ngx_http_webhooks_queue_t  *q;

    q = rr->q;
    rr->reading = NULL;

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

    rr->grouped++;

    ngx_http_webhooks_queue_read_shards(q, rr);
}


static void
ngx_http_webhooks_queue_read_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_reader_t *rr = data;

    size_t                      i;
    ngx_uint_t                  n;
    redisReply                 *s;
    ngx_http_webhooks_queue_t  *q;
    ngx_http_webhooks_shard_t  *sh;

    q = rr->q;
    rr->reading = NULL;
    rr->busy = 0;
    q->asked -= rr->count;

    if (reply == NULL) {
        ngx_http_webhooks_queue_later(q);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        if (ngx_strncmp(reply->str, "NOGROUP", 7) == 0) {
            /* a stream was deleted */
            rr->grouped = 0;

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: reading the queue failed: \"%*s\"",
                          (size_t) reply->len, reply->str);
        }

        ngx_http_webhooks_queue_later(q);
        return;
    }

    /* [[stream, [[id, [field, value, ...]], ...]], ...], or nil */

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            s = reply->element[i];

            if (s->type != REDIS_REPLY_ARRAY || s->elements != 2
                || s->element[0]->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            for (n = rr->n; n < rr->n + rr->nshards; n++) {
                sh = &q->wmcf->shards[n];

                if ((size_t) s->element[0]->len == sh->queue.len
                    && ngx_strncmp(s->element[0]->str, sh->queue.data,
                                   sh->queue.len)
                       == 0)
                {
                    rr->busy |= (s->element[1]->type == REDIS_REPLY_ARRAY
                                 && s->element[1]->elements);
                    ngx_http_webhooks_queue_entries(q, s->element[1], n);
                    break;
                }
            }
        }
    }

    ngx_http_webhooks_queue_read_shards(q, rr);
}


static void
ngx_http_webhooks_queue_entries(ngx_http_webhooks_queue_t *q,
    redisReply *entries, ngx_uint_t shard)
{
    size_t                            i, j;
    ngx_str_t                         v;
    redisReply                       *e, *f;
    ngx_http_webhooks_queue_entry_t   entry;

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

        ngx_memzero(&entry, sizeof(ngx_http_webhooks_queue_entry_t));

        entry.shard = shard;
        entry.id.data = (u_char *) e->element[0]->str;
        entry.id.len = e->element[0]->len;

        f = e->element[1];

        for (j = 0; j + 1 < f->elements; j += 2) {
            if (f->element[j]->type != REDIS_REPLY_STRING
                || f->element[j]->len != 1
                || f->element[j + 1]->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            v.data = (u_char *) f->element[j + 1]->str;
            v.len = f->element[j + 1]->len;

            switch (f->element[j]->str[0]) {
            case 'k':
                entry.key = v;
                break;
            case 'h':
                entry.hook = v;
                break;
            case 't':
                entry.host = v;
                break;
            case 's':
                entry.hooks = v;
                break;
            case 'p':
                entry.payload = v;
                break;
            case 'x':
                entry.send = v;
                break;
            case 'd':
                entry.deferred = ngx_atoi(v.data, v.len);
                if (entry.deferred == (ngx_uint_t) NGX_ERROR) {
                    entry.deferred = 0;
                }
                break;
            }
        }

        if (entry.key.len == 0) {
            continue;
        }

        if (q->inflight >= q->wmcf->sender.concurrency) {
            /* read beyond the room (a reader per shard): waits for any */
            if (q->inflight + q->nwaiting
                < q->wmcf->sender.concurrency + q->nreaders - 1)
            {
                ngx_http_webhooks_queue_wait(q, &entry);
                q->stale = 1;

            } else {
                ngx_http_webhooks_queue_defer(q, &entry, NULL);
            }

        } else if (!ngx_http_webhooks_queue_busy(q, &entry)) {
            ngx_http_webhooks_queue_start(q, &entry);

        } else if (q->inflight + q->nwaiting < q->wmcf->sender.concurrency) {
            ngx_http_webhooks_queue_wait(q, &entry);

        } else {
            ngx_http_webhooks_queue_defer(q, &entry, NULL);
        }
    }
}


static ngx_int_t
ngx_http_webhooks_queue_start(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e)
{
    q->inflight++;

    e->hold = ngx_http_webhooks_queue_hold;
    e->throttle = ngx_http_webhooks_queue_throttle;
    e->done = ngx_http_webhooks_queue_release;

    if (q->start(q->wmcf, e) != NGX_OK) {
        /* left pending: claimed again after the claim timeout */
        q->inflight--;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a copy of the entry, kept until its hook and host have room */

static void
ngx_http_webhooks_queue_wait(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e)
{
    u_char                           *p;
    ngx_http_webhooks_queue_entry_t  *w;

    w = ngx_alloc(sizeof(ngx_http_webhooks_queue_entry_t) + e->id.len
                  + e->key.len + e->hook.len + e->host.len + e->hooks.len
                  + e->payload.len + e->send.len, ngx_cycle->log);
    if (w == NULL) {
        /* left pending: claimed again after the claim timeout */
        return;
    }

    p = (u_char *) (w + 1);

    *w = *e;
    w->since = ngx_current_msec;
    w->id.data = p;
    p = ngx_cpymem(p, e->id.data, e->id.len);
    w->key.data = p;
    p = ngx_cpymem(p, e->key.data, e->key.len);
    w->hook.data = p;
    p = ngx_cpymem(p, e->hook.data, e->hook.len);
    w->host.data = p;
    p = ngx_cpymem(p, e->host.data, e->host.len);
    w->hooks.data = p;
    p = ngx_cpymem(p, e->hooks.data, e->hooks.len);
    w->payload.data = p;
    p = ngx_cpymem(p, e->payload.data, e->payload.len);
    w->send.data = p;
    ngx_memcpy(p, e->send.data, e->send.len);

    ngx_queue_insert_tail(&q->waiting, &w->queue);
    q->nwaiting++;
}


/*
 * The worker can read nothing more: what waited past a moment is put
 * off, so that the entries behind it are read.
 */

static void
ngx_http_webhooks_queue_evict_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_queue_t *q = ev->data;

    ngx_queue_t                      *l, *next;
    ngx_http_webhooks_queue_entry_t  *w;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    for (l = ngx_queue_head(&q->waiting); l != ngx_queue_sentinel(&q->waiting);
         l = next)
    {
        next = ngx_queue_next(l);
        w = ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue);

        if (ngx_current_msec - w->since < NGX_HTTP_WEBHOOKS_WAIT) {
            /* in order of arrival: the rest waited less */
            break;
        }

        ngx_queue_remove(l);
        q->nwaiting--;

        ngx_http_webhooks_queue_defer(q, w, NULL);
        ngx_free(w);
    }

    ngx_http_webhooks_queue_read(q);
}


/*
 * A delivery ended: start those waiting that have room now, in order.
 * Only what waits for the hook or the host e had can have room, and only
 * one for each; NULL e looks at every entry.
 */

static void
ngx_http_webhooks_queue_resume(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e)
{
    ngx_uint_t                        hook, host, same_hook, same_host;
    ngx_queue_t                      *l, *next;
    ngx_http_webhooks_queue_entry_t  *w;

    /* a delivery that fails to start ends at once, and comes back here */
    if (q->resuming) {
        q->rescan = 1;
        return;
    }

    q->resuming = 1;

    /*
     * the last pass stopped at the concurrency limit: what it did not
     * look at may wait for a hook or host no later delivery ends on
     */
    if (q->stale) {
        q->stale = 0;
        e = NULL;
    }

again:

    hook = 1;
    host = 1;

    for (l = ngx_queue_head(&q->waiting);
         l != ngx_queue_sentinel(&q->waiting)
         && q->inflight < q->wmcf->sender.concurrency
         && (hook || host);
         l = next)
    {
        next = ngx_queue_next(l);
        w = ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue);

        if (e) {
            same_hook = hook && ngx_http_webhooks_queue_same(&w->hook,
                                                             &e->hook);
            same_host = host && ngx_http_webhooks_queue_same(&w->host,
                                                             &e->host);

            if (!same_hook && !same_host) {
                continue;
            }

        } else {
            same_hook = 0;
            same_host = 0;
        }

        if (ngx_http_webhooks_queue_busy(q, w)) {
            continue;
        }

        ngx_queue_remove(l);
        q->nwaiting--;

        /* deliver() copies what it keeps */
        if (ngx_http_webhooks_queue_start(q, w) == NGX_OK) {
            if (same_hook) {
                hook = 0;
            }

            if (same_host) {
                host = 0;
            }
        }

        ngx_free(w);
    }

    if (q->rescan) {
        /* one ended meanwhile: any entry may have room now */
        q->rescan = 0;
        e = NULL;
        goto again;
    }

    q->stale = (q->nwaiting && q->inflight >= q->wmcf->sender.concurrency);
    q->resuming = 0;
}


static ngx_uint_t
ngx_http_webhooks_queue_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len && a->len == b->len
           && ngx_strncmp(a->data, b->data, a->len) == 0;
}


/* as many in flight to its hook or its host as this worker may have */

static ngx_uint_t
ngx_http_webhooks_queue_busy(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e)
{
    ngx_uint_t                        hooks, hosts;
    ngx_queue_t                      *l;
    ngx_http_webhooks_queue_entry_t  *h;

    hooks = 0;
    hosts = 0;

    for (l = ngx_queue_head(&q->held); l != ngx_queue_sentinel(&q->held);
         l = ngx_queue_next(l))
    {
        h = ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue);

        hooks += ngx_http_webhooks_queue_same(&h->hook, &e->hook);
        hosts += ngx_http_webhooks_queue_same(&h->host, &e->host);
    }

    return hooks >= q->wmcf->reliability.hook_concurrency
           || hosts >= q->wmcf->reliability.host_concurrency;
}


/*
 * Out of the stream and due again a little later, longer each time it
 * is put off, so that a hook that stays slow costs little.
 */

static void
ngx_http_webhooks_queue_defer(ngx_http_webhooks_queue_t *q,
    ngx_http_webhooks_queue_entry_t *e, ngx_str_t *throttled)
{
    u_char       *p;
    ngx_str_t     args[NGX_HTTP_WEBHOOKS_DEFER_NARGS];
    ngx_msec_t    delay;
    ngx_pool_t   *pool;
    ngx_time_t   *tp;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    p = ngx_pnalloc(pool, 2 * NGX_INT_T_LEN + 2 + e->key.len);
    if (p == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    delay = NGX_HTTP_WEBHOOKS_DEFER << ngx_min(e->deferred, 5);
    delay = ngx_min(delay, NGX_HTTP_WEBHOOKS_DEFER_MAX);
    delay += ngx_random() % (delay / 2 + 1);

    tp = ngx_timeofday();

    args[NGX_HTTP_WEBHOOKS_DEFER_QUEUE] = q->wmcf->shards[e->shard].queue;
    args[NGX_HTTP_WEBHOOKS_DEFER_RETRY] = q->wmcf->shards[e->shard].retry;
    args[NGX_HTTP_WEBHOOKS_DEFER_ENTRY] = e->id;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DEFER_GROUP], NGX_HTTP_WEBHOOKS_GROUP);
    args[NGX_HTTP_WEBHOOKS_DEFER_DELIVERY] = e->key;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DEFER_THROTTLED], "");

    if (throttled) {
        args[NGX_HTTP_WEBHOOKS_DEFER_THROTTLED] = *throttled;
    }

    args[NGX_HTTP_WEBHOOKS_DEFER_WHEN].data = p;
    args[NGX_HTTP_WEBHOOKS_DEFER_WHEN].len =
                ngx_sprintf(p, "%M",
                            (ngx_msec_t) tp->sec * 1000 + tp->msec + delay)
                - p;
    p += args[NGX_HTTP_WEBHOOKS_DEFER_WHEN].len;

    args[NGX_HTTP_WEBHOOKS_DEFER_MEMBER].data = p;
    args[NGX_HTTP_WEBHOOKS_DEFER_MEMBER].len =
                    ngx_sprintf(p, "d%ui:%V", e->deferred + 1, &e->key) - p;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "webhooks delivery \"%V\" to \"%V\" put off for %Mms",
                   &e->key, &e->host, delay);

    /*
     * no reply is waited for, so the command is not sent again if Redis
     * lost its scripts: an entry not put off stays pending and is
     * claimed again after the claim timeout
     */
    (void) ngx_http_webhooks_redis_script(pool, NGX_HTTP_WEBHOOKS_SCRIPT_DEFER,
                                          NULL, NULL,
                                          NGX_HTTP_WEBHOOKS_DEFER_NKEYS,
                                          NGX_HTTP_WEBHOOKS_DEFER_NARGS, args);

    ngx_destroy_pool(pool);
}


/*
 * A try is due in delay ms: due tries are moved to the stream then, not
 * at the next round, which would make it up to 1.5 s late.  The sender
 * tells of the tries it sets; each round tells of the next one due in
 * Redis, whoever set it.
 */

void
ngx_http_webhooks_queue_due(ngx_msec_t delay)
{
    ngx_http_webhooks_queue_t  *q;

    q = ngx_http_webhooks_queue;

    if (q == NULL || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (q->promote.timer_set) {
        if ((ngx_msec_int_t) (q->promote.timer.key - ngx_current_msec)
            <= (ngx_msec_int_t) delay)
        {
            return;
        }

        ngx_del_timer(&q->promote);
    }

    ngx_add_timer(&q->promote, delay);
}


/*
 * When to try a failed delivery again, in ms since the epoch, or "":
 * status is the receiver's, 0 when it gave none, and a 4xx other than
 * 408 and 429 is its final word.  The delays are spread out so that
 * deliveries that failed together are not all tried again at once;
 * Retry-After moves a try later, up to the longest delay.
 */

ngx_int_t
ngx_http_webhooks_queue_again(ngx_pool_t *pool,
    ngx_http_webhooks_main_conf_t *wmcf, ngx_uint_t attempt,
    ngx_uint_t status, ngx_str_t *retry_after, ngx_str_t *due)
{
    time_t       after;
    ngx_msec_t   delay, max, *steps;
    ngx_uint_t   i;
    ngx_time_t  *tp;

    ngx_str_set(due, "");

    if (wmcf->reliability.retry->nelts < attempt) {
        return NGX_OK;
    }

    if (status >= 400 && status < 500
        && status != NGX_HTTP_REQUEST_TIME_OUT
        && status != NGX_HTTP_TOO_MANY_REQUESTS)
    {
        return NGX_OK;
    }

    steps = wmcf->reliability.retry->elts;
    delay = steps[attempt - 1];

    /* 80% to 120% of the delay */
    delay = delay / 100 * (80 + ngx_random() % 41)
            + delay % 100 * (80 + ngx_random() % 41) / 100;

    after = ngx_http_webhooks_queue_retry_after(retry_after);

    if (after > 0) {
        max = 0;

        for (i = 0; i < wmcf->reliability.retry->nelts; i++) {
            max = ngx_max(max, steps[i]);
        }

        delay = ngx_max(delay, ngx_min((ngx_msec_t) after * 1000, max));
    }

    due->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (due->data == NULL) {
        return NGX_ERROR;
    }

    tp = ngx_timeofday();

    due->len = ngx_sprintf(due->data, "%M",
                           (ngx_msec_t) tp->sec * 1000 + tp->msec + delay)
               - due->data;

    /*
     * the record script runs first: it is sent on this very call; a
     * millisecond more, for the clock the due time was read from
     */
    ngx_http_webhooks_queue_due(delay + 2);

    return NGX_OK;
}


/* Retry-After in seconds, from either of its forms; 0: none */

static time_t
ngx_http_webhooks_queue_retry_after(ngx_str_t *value)
{
    time_t  t;

    if (value->data == NULL) {
        return 0;
    }

    t = ngx_atotm(value->data, value->len);

    if (t == NGX_ERROR) {
        t = ngx_parse_http_time(value->data, value->len);

        if (t == NGX_ERROR) {
            return 0;
        }

        t -= ngx_time();
    }

    return t > 0 ? t : 0;
}


/* how long since a stream entry was added: its id starts with the ms */

ngx_msec_t
ngx_http_webhooks_queue_waited(ngx_str_t *id)
{
    u_char      *dash;
    off_t        at;
    uint64_t     now;
    ngx_time_t  *tp;

    dash = ngx_strlchr(id->data, id->data + id->len, '-');
    at = ngx_atoof(id->data, (dash ? dash : id->data + id->len) - id->data);

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    if (at <= 0 || (uint64_t) at > now) {
        return 0;
    }

    return (ngx_msec_t) (now - at);
}


static void
ngx_http_webhooks_queue_promote_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_queue_t *q = ev->data;

    u_char                           *p;
    ngx_str_t                         args[NGX_HTTP_WEBHOOKS_PROMOTE_NARGS];
    ngx_uint_t                        i;
    ngx_pool_t                       *pool;
    ngx_time_t                       *tp;
    ngx_http_webhooks_queue_shard_t  *sh;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        if (q->shards[i].promoting) {
            /* a try due now must not wait for the round after this one */
            ngx_add_timer(&q->promote, NGX_HTTP_WEBHOOKS_PROMOTE_GAP);
            return;
        }
    }

    /* the workers of all hosts spread out over the interval */
    ngx_add_timer(&q->promote, NGX_HTTP_WEBHOOKS_PROMOTE / 2
                               + ngx_random() % NGX_HTTP_WEBHOOKS_PROMOTE);

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        sh = &q->shards[i];

        pool = ngx_create_pool(1024, ngx_cycle->log);
        if (pool == NULL) {
            return;
        }

        p = ngx_pnalloc(pool, 2 * NGX_INT_T_LEN
                              + sizeof("2011-09-06T17:26:27Z"));
        if (p == NULL) {
            ngx_destroy_pool(pool);
            return;
        }

        tp = ngx_timeofday();

        args[NGX_HTTP_WEBHOOKS_PROMOTE_RETRY] = q->wmcf->shards[i].retry;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_QUEUE] = q->wmcf->shards[i].queue;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_SEQ] = q->wmcf->shards[i].seq;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_SHARD] = q->wmcf->shards[i].number;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_SHARDS] = q->wmcf->nshards;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_TTL] = q->wmcf->sender.retention_text;

        args[NGX_HTTP_WEBHOOKS_PROMOTE_NOW_MS].data = p;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_NOW_MS].len =
                ngx_sprintf(p, "%M", (ngx_msec_t) tp->sec * 1000 + tp->msec)
                - p;
        p += args[NGX_HTTP_WEBHOOKS_PROMOTE_NOW_MS].len;

        args[NGX_HTTP_WEBHOOKS_PROMOTE_LIMIT].data = p;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_LIMIT].len =
                        ngx_sprintf(p, "%d", NGX_HTTP_WEBHOOKS_PROMOTE_MAX) - p;
        p += args[NGX_HTTP_WEBHOOKS_PROMOTE_LIMIT].len;

        args[NGX_HTTP_WEBHOOKS_PROMOTE_NOW].data = p;
        args[NGX_HTTP_WEBHOOKS_PROMOTE_NOW].len =
                                 ngx_http_webhooks_json_time(p, tp->sec) - p;

        sh->promoting = ngx_http_webhooks_redis_script(pool,
                                          NGX_HTTP_WEBHOOKS_SCRIPT_PROMOTE,
                                          ngx_http_webhooks_queue_promote_done,
                                          sh, NGX_HTTP_WEBHOOKS_PROMOTE_NKEYS,
                                          NGX_HTTP_WEBHOOKS_PROMOTE_NARGS,
                                          args);
        if (sh->promoting == NULL) {
            ngx_destroy_pool(pool);
            return;
        }

        /* a command is sent again from its arguments if Redis lost scripts */
        sh->promote_pool = pool;
    }
}


static void
ngx_http_webhooks_queue_promote_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_shard_t *sh = data;

    ngx_int_t    next;
    ngx_msec_t   now;
    ngx_time_t  *tp;

    sh->promoting = NULL;

    ngx_destroy_pool(sh->promote_pool);
    sh->promote_pool = NULL;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: moving due deliveries failed: \"%*s\"",
                      (size_t) reply->len, reply->str);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
        return;
    }

    if (reply->element[0]->integer >= NGX_HTTP_WEBHOOKS_PROMOTE_MAX) {
        /* more are due: do not wait for the next round */
        ngx_http_webhooks_queue_due(1);
        return;
    }

    /* the next one due, whoever put it there, is moved when due */

    if (reply->element[1]->type != REDIS_REPLY_STRING) {
        return;
    }

    next = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);
    if (next == NGX_ERROR) {
        return;
    }

    tp = ngx_timeofday();
    now = (ngx_msec_t) tp->sec * 1000 + tp->msec;

    /* not more often than every 50 ms, however many tries are due */

    ngx_http_webhooks_queue_due(((ngx_msec_t) next > now
                                 && (ngx_msec_t) next - now
                                    > NGX_HTTP_WEBHOOKS_PROMOTE_GAP)
                                ? (ngx_msec_t) next - now + 2
                                : NGX_HTTP_WEBHOOKS_PROMOTE_GAP);
}


static void
ngx_http_webhooks_queue_claim_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_queue_t *q = ev->data;

    u_char                             idle[NGX_INT_T_LEN];
    u_char                             count[NGX_INT_T_LEN];
    size_t                             argvlen[9];
    ngx_uint_t                         i;
    const char                        *argv[9];
    ngx_http_webhooks_queue_shard_t   *sh;
    ngx_http_webhooks_queue_reader_t  *rr;

    if (ngx_terminate) {
        return;
    }

    /*
     * a worker shutting down gracefully still finishes what it holds:
     * it keeps the entries its own, but takes over no more
     */

    if (ngx_exiting || ngx_quit) {
        if (!ngx_queue_empty(&q->held) || !ngx_queue_empty(&q->waiting)) {
            ngx_add_timer(&q->claim,
                          ngx_max(q->wmcf->sender.claim_timeout / 2, 1000));
            ngx_http_webhooks_queue_heartbeat(q);
        }

        return;
    }

    ngx_add_timer(&q->claim, ngx_max(q->wmcf->sender.claim_timeout / 2, 1000));

    ngx_http_webhooks_queue_heartbeat(q);

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        sh = &q->shards[i];
        rr = sh->reader;

        if (sh->claiming || i - rr->n >= rr->grouped
            || q->inflight >= q->wmcf->sender.concurrency)
        {
            continue;
        }

        argv[0] = "XAUTOCLAIM";
        argvlen[0] = 10;
        argv[1] = (const char *) q->wmcf->shards[i].queue.data;
        argvlen[1] = q->wmcf->shards[i].queue.len;
        argv[2] = NGX_HTTP_WEBHOOKS_GROUP;
        argvlen[2] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
        argv[3] = (const char *) q->consumer.data;
        argvlen[3] = q->consumer.len;
        argv[4] = (const char *) idle;
        argvlen[4] = ngx_sprintf(idle, "%M", q->wmcf->sender.claim_timeout)
                     - idle;
        argv[5] = "0-0";
        argvlen[5] = 3;
        argv[6] = "COUNT";
        argvlen[6] = 5;
        argv[7] = (const char *) count;
        argvlen[7] = ngx_sprintf(count, "%ui",
                                 q->wmcf->sender.concurrency - q->inflight)
                     - count;

        sh->claiming = ngx_http_webhooks_redis_command(
                           ngx_http_webhooks_queue_claim_done, sh, 8, argv,
                           argvlen);
    }
}


static void
ngx_http_webhooks_queue_claim_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_queue_shard_t *sh = data;

    ngx_http_webhooks_queue_t  *q;

    q = sh->q;
    sh->claiming = NULL;

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
                      reply->element[1]->elements,
                      q->wmcf->sender.claim_timeout);

        ngx_http_webhooks_queue_entries(q, reply->element[1], sh->n);
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
    ngx_uint_t                        n, i, k;
    ngx_queue_t                      *l, *lists[2];
    const char                      **argv;
    ngx_http_webhooks_queue_entry_t  *e;

    if (ngx_queue_empty(&q->held) && ngx_queue_empty(&q->waiting)) {
        return;
    }

    n = 6 + q->nwaiting;

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

    lists[0] = &q->held;
    lists[1] = &q->waiting;

    /* one command per shard, with the entries of that shard */

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        argv[0] = "XCLAIM";
        argvlen[0] = 6;
        argv[1] = (const char *) q->wmcf->shards[i].queue.data;
        argvlen[1] = q->wmcf->shards[i].queue.len;
        argv[2] = NGX_HTTP_WEBHOOKS_GROUP;
        argvlen[2] = sizeof(NGX_HTTP_WEBHOOKS_GROUP) - 1;
        argv[3] = (const char *) q->consumer.data;
        argvlen[3] = q->consumer.len;
        argv[4] = "0";
        argvlen[4] = 1;

        n = 5;

        for (k = 0; k < 2; k++) {
            for (l = ngx_queue_head(lists[k]);
                 l != ngx_queue_sentinel(lists[k]);
                 l = ngx_queue_next(l))
            {
                e = ngx_queue_data(l, ngx_http_webhooks_queue_entry_t, queue);

                if (e->shard == i) {
                    argv[n] = (const char *) e->id.data;
                    argvlen[n] = e->id.len;
                    n++;
                }
            }
        }

        if (n == 5) {
            continue;
        }

        argv[n] = "JUSTID";
        argvlen[n] = 6;
        n++;

        /* the reply tells nothing we need; the command is copied when sent */
        (void) ngx_http_webhooks_redis_command(NULL, NULL, (int) n, argv,
                                               argvlen);
    }

    ngx_free(argv);
    ngx_free(argvlen);
}
