
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_delivery.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_json_scan.h"
#include "ngx_http_webhooks_queue.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_secret.h"
#include "ngx_http_webhooks_sign.h"
#include "ngx_http_webhooks_stats.h"
#include "ngx_http_webhooks_store.h"
#include "ngx_http_webhooks_subrequest.h"


/*
 * One delivery attempt of a queue entry: taken (what the entry does not
 * say: whether the delivery, its hook and payload are still there),
 * prepared (the request as GitHub sends it, signed), aimed (the SSRF
 * guard of ngx_http_webhooks_address.c picks the checked address), sent
 * (ngx_http_webhooks_subrequest.c, through the location the operator
 * configured, proxy_pass $webhooks_delivery_url), and recorded (the
 * outcome as GitHub words it, and whether and when to try again).  The
 * hook's name stays in $webhooks_delivery_host, for the Host header and
 * TLS.
 */


/* the fields of a delivery the request is made of */
typedef struct {
    ngx_str_t                        guid;
    ngx_str_t                        event;
    ngx_str_t                        hook;
    ngx_str_t                        hooks;
    ngx_str_t                        payload;
    ngx_str_t                        attempt;
    ngx_str_t                        auto_retry;
    ngx_str_t                        target_type;
    ngx_str_t                        target_id;
} ngx_http_webhooks_delivery_about_t;


/* what the record says of an attempt; NULL for an acknowledgement */
typedef struct {
    ngx_uint_t                       ok;
    ngx_str_t                        status;
    ngx_str_t                        code;
    ngx_str_t                        duration;
    ngx_str_t                        sig1;      /* hex, no "sha1=" */
    ngx_str_t                        sig256;
    ngx_uint_t                       form;
    ngx_str_t                        last;
    ngx_str_t                        off;
    ngx_str_t                        due;
} ngx_http_webhooks_delivery_outcome_t;


typedef struct ngx_http_webhooks_delivery_s  ngx_http_webhooks_delivery_t;

struct ngx_http_webhooks_delivery_s {
    ngx_pool_t                      *pool;
    ngx_http_webhooks_main_conf_t   *wmcf;
    ngx_http_webhooks_redis_cmd_t   *cmd;
    ngx_str_t                       *done;      /* done.lua's args */
    ngx_uint_t                       ndone;
    ngx_str_t                       *outcome;   /* outcome.lua's args */
    ngx_queue_t                      waiting;   /* for a done.lua call */
    ngx_http_webhooks_delivery_t   **batched;   /* its place in one */
    ngx_str_t                        fetched;   /* the payload, read */
    ngx_str_t                        line;      /* the record's fields */
    ngx_str_t                        stored;    /* the hook, read */

    ngx_http_webhooks_queue_entry_t  entry;     /* in the queue */
    ngx_http_webhooks_delivery_about_t  about;  /* what the entry says */
    ngx_uint_t                       attempt;

    /* for the delivery location's log */
    ngx_str_t                        id;
    ngx_str_t                        guid;
    ngx_str_t                        event;
    ngx_str_t                        attempt_text;

    ngx_str_t                        url;
    ngx_http_webhooks_aim_t          aim;       /* where it goes */
    ngx_str_t                        body;
    ngx_array_t                      headers;   /* of ngx_keyval_t */
    ngx_uint_t                       insecure;
    time_t                           sent_at;
    ngx_msec_t                       start;
    ngx_event_t                      blocked;   /* recorded, never sent */
    ngx_http_webhooks_subrequest_t   sr;

    ngx_int_t                        rc;
    ngx_uint_t                       status;
    const char                      *error;
    ngx_str_t                        payload;   /* its key */
    ngx_str_t                        hooks;
    ngx_str_t                        hook;

    unsigned                         from_receiver:1;
    unsigned                         auto_retry:1;
    unsigned                         released:1;
    unsigned                         ended:1;
    unsigned                         throttled:1;
    unsigned                         ok:1;
    unsigned                         queued:1;  /* in waiting */
    unsigned                         reads:2;   /* replies to come */
    unsigned                         gone:1;    /* read: no delivery */
};


/*
 * done.lua's calls: the deliveries that ended in one pass of the event
 * loop, per queue shard, in one call each, made from a posted event once
 * the pass is over.  A delivery's args for it, in d->done, and after
 * them the record that goes ahead of the call in a SET of its own:
 */

#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_KEY       0
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_PAYLOAD   1
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_ENTRY     2
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME   3
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_AGAIN     4
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_SENT      5    /* done.lua's */
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_RECORD    5    /* SET before it */
#define NGX_HTTP_WEBHOOKS_DELIVERY_DONE_FIELDS    6

/* the most deliveries in one call */
#define NGX_HTTP_WEBHOOKS_DELIVERY_BATCH          64


typedef struct {
    ngx_pool_t                      *pool;
    ngx_uint_t                       n;
    ngx_http_webhooks_delivery_t    *d[NGX_HTTP_WEBHOOKS_DELIVERY_BATCH];
} ngx_http_webhooks_delivery_batch_t;


/* a read of a hook, shared by the deliveries of one pass: see wait() */

typedef ngx_int_t (*ngx_http_webhooks_delivery_args_pt)(
    ngx_http_webhooks_delivery_t *d, ngx_pool_t *pool, const char **argv,
    size_t *argvlen);

typedef struct {
    ngx_http_webhooks_delivery_args_pt   args;
    ngx_http_webhooks_redis_handler_pt   reply;  /* data: the batch */
    ngx_queue_t                          waiting;
    ngx_event_t                          event;
} ngx_http_webhooks_delivery_group_t;

#define NGX_HTTP_WEBHOOKS_DELIVERY_HOOK   0
#define NGX_HTTP_WEBHOOKS_DELIVERY_CHECK  1


/*
 * What this worker last wrote as a hook's side of an attempt: a success,
 * with that last response, and no failing-span mark left.  A later
 * success with the same answer need not run outcome.lua again, once a
 * plain HMGET of the hook's last response and mark, read after the
 * answer came, shows both still as written.  Another worker or host may
 * have recorded a failure since: the cache cannot know, the read does,
 * and outcome.lua runs.  Without that read a failure written elsewhere
 * would stay, its mark uncleared, and the hook be deactivated in spite
 * of a success in its span.  So a stale entry costs a read, or an
 * outcome.lua run that a read would have spared; never a missed write.
 */

#define NGX_HTTP_WEBHOOKS_DELIVERY_SEEN      256
#define NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_KEY  160
#define NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_LR   96

typedef struct {
    u_char                           key[NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_KEY];
    size_t                           key_len;
    u_char                           lr[NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_LR];
    size_t                           lr_len;
} ngx_http_webhooks_delivery_seen_t;


static ngx_int_t ngx_http_webhooks_delivery_about(
    ngx_http_webhooks_queue_entry_t *e,
    ngx_http_webhooks_delivery_about_t *a);
static void ngx_http_webhooks_delivery_take_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_delivery_hook_done(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_delivery_keep(
    ngx_http_webhooks_delivery_t *d, char *str, size_t len, ngx_str_t *to);
static void ngx_http_webhooks_delivery_read(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_go(ngx_http_webhooks_delivery_t *d,
    redisReply *hook, redisReply *payload);
static ngx_int_t ngx_http_webhooks_delivery_prepare(
    ngx_http_webhooks_delivery_t *d, ngx_http_webhooks_delivery_about_t *a,
    redisReply *hook, redisReply *payload);
static ngx_int_t ngx_http_webhooks_delivery_add(
    ngx_http_webhooks_delivery_t *d, char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_webhooks_delivery_log(
    ngx_http_webhooks_delivery_t *d, ngx_http_webhooks_delivery_about_t *a);
static void ngx_http_webhooks_delivery_aimed(ngx_http_webhooks_aim_t *a);
static void ngx_http_webhooks_delivery_blocked_handler(ngx_event_t *ev);
static void ngx_http_webhooks_delivery_sent(
    ngx_http_webhooks_subrequest_t *sr);
static void ngx_http_webhooks_delivery_record(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_done(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_delivery_outcome_t *o);
static ngx_int_t ngx_http_webhooks_delivery_outcome_record(
    ngx_http_webhooks_delivery_t *d, ngx_http_webhooks_delivery_outcome_t *o,
    ngx_str_t *record);
static void ngx_http_webhooks_delivery_outcome_send(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_outcome_reply(void *data,
    redisReply *reply);
static void ngx_http_webhooks_delivery_wait(ngx_http_webhooks_delivery_t *d,
    ngx_uint_t group);
static void ngx_http_webhooks_delivery_group_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_webhooks_delivery_hook_args(
    ngx_http_webhooks_delivery_t *d, ngx_pool_t *pool, const char **argv,
    size_t *argvlen);
static ngx_int_t ngx_http_webhooks_delivery_check_args(
    ngx_http_webhooks_delivery_t *d, ngx_pool_t *pool, const char **argv,
    size_t *argvlen);
static void ngx_http_webhooks_delivery_check_reply(void *data,
    redisReply *reply);
static ngx_http_webhooks_delivery_seen_t *ngx_http_webhooks_delivery_slot(
    ngx_http_webhooks_delivery_t *d);
static ngx_uint_t ngx_http_webhooks_delivery_seen(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_saw(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_store(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_store_reply(void *data,
    redisReply *reply);
static void ngx_http_webhooks_delivery_done_send(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_flush_handler(ngx_event_t *ev);
static void ngx_http_webhooks_delivery_flush(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_queue_t *waiting);
static void ngx_http_webhooks_delivery_done_reply(void *data,
    redisReply *reply);
static void ngx_http_webhooks_delivery_throttle(
    ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_end(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_cleanup(void *data);


static ngx_str_t  ngx_http_webhooks_delivery_post = ngx_string("POST");

/* per worker; a worker process starts with them empty */
static ngx_http_webhooks_delivery_seen_t
    ngx_http_webhooks_delivery_seen_hooks[NGX_HTTP_WEBHOOKS_DELIVERY_SEEN];
static ngx_queue_t
    ngx_http_webhooks_delivery_waiting[NGX_HTTP_WEBHOOKS_SHARDS];
static ngx_event_t  ngx_http_webhooks_delivery_flush_event;


/* what the delivery location may log, by offset in the delivery */

static struct {
    ngx_str_t                        name;
    uintptr_t                        offset;
} ngx_http_webhooks_delivery_variables[] = {
    { ngx_string("webhooks_delivery_id"),
      offsetof(ngx_http_webhooks_delivery_t, id) },
    { ngx_string("webhooks_delivery_guid"),
      offsetof(ngx_http_webhooks_delivery_t, guid) },
    { ngx_string("webhooks_delivery_event"),
      offsetof(ngx_http_webhooks_delivery_t, event) },
    { ngx_string("webhooks_delivery_attempt"),
      offsetof(ngx_http_webhooks_delivery_t, attempt_text) },
    { ngx_string("webhooks_delivery_url"),
      offsetof(ngx_http_webhooks_delivery_t, aim)
      + offsetof(ngx_http_webhooks_aim_t, target) },
    { ngx_string("webhooks_delivery_scheme"),
      offsetof(ngx_http_webhooks_delivery_t, aim)
      + offsetof(ngx_http_webhooks_aim_t, parts)
      + offsetof(ngx_http_webhooks_url_t, scheme) },
    { ngx_string("webhooks_delivery_uri"),
      offsetof(ngx_http_webhooks_delivery_t, aim)
      + offsetof(ngx_http_webhooks_aim_t, uri) },
    { ngx_string("webhooks_delivery_host"),
      offsetof(ngx_http_webhooks_delivery_t, aim)
      + offsetof(ngx_http_webhooks_aim_t, parts)
      + offsetof(ngx_http_webhooks_url_t, host) },
};


ngx_int_t
ngx_http_webhooks_delivery_conf(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *var;

    for (i = 0; i < sizeof(ngx_http_webhooks_delivery_variables)
                    / sizeof(ngx_http_webhooks_delivery_variables[0]); i++)
    {
        var = ngx_http_add_variable(cf,
                                 &ngx_http_webhooks_delivery_variables[i].name,
                                 NGX_HTTP_VAR_NOCACHEABLE);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = ngx_http_webhooks_subrequest_variable;
        var->data = ngx_http_webhooks_delivery_variables[i].offset;
    }

    return NGX_OK;
}


/*
 * Takes a queue entry on: NGX_OK means the queue is told when it is
 * over, through the entry's done().
 */

ngx_int_t
ngx_http_webhooks_delivery_start(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_queue_entry_t *e)
{
    size_t                         argvlen[3];
    ngx_pool_t                    *pool;
    const char                    *argv[3];
    ngx_pool_cleanup_t            *cln;
    ngx_http_webhooks_delivery_t  *d;

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    d = ngx_pcalloc(pool, sizeof(ngx_http_webhooks_delivery_t));
    if (d == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    d->pool = pool;
    d->wmcf = wmcf;
    d->entry = *e;
    d->entry.id.len = e->id.len;
    d->entry.id.data = ngx_pstrdup(pool, &e->id);
    d->entry.key.len = e->key.len;
    d->entry.key.data = ngx_pstrdup(pool, &e->key);
    d->entry.hook.len = e->hook.len;
    d->entry.hook.data = ngx_pstrdup(pool, &e->hook);
    d->entry.host.len = e->host.len;
    d->entry.host.data = ngx_pstrdup(pool, &e->host);
    d->entry.hooks.len = e->hooks.len;
    d->entry.hooks.data = ngx_pstrdup(pool, &e->hooks);
    d->entry.payload.len = e->payload.len;
    d->entry.payload.data = ngx_pstrdup(pool, &e->payload);
    d->entry.send.len = e->send.len;
    d->entry.send.data = ngx_pstrdup(pool, &e->send);

    cln = ngx_pool_cleanup_add(pool, 0);

    if (d->entry.id.data == NULL || d->entry.key.data == NULL
        || (e->hook.len && d->entry.hook.data == NULL)
        || (e->host.len && d->entry.host.data == NULL)
        || (e->hooks.len && d->entry.hooks.data == NULL)
        || (e->payload.len && d->entry.payload.data == NULL)
        || (e->send.len && d->entry.send.data == NULL)
        || cln == NULL)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    /* from here on, whatever way the pool goes, the slot comes back */
    cln->handler = ngx_http_webhooks_delivery_cleanup;
    cln->data = d;

    d->entry.hold(&d->entry);
    ngx_http_webhooks_stats_in_flight(1);

    d->blocked.handler = ngx_http_webhooks_delivery_blocked_handler;
    d->blocked.data = d;
    d->blocked.log = ngx_cycle->log;

    if (ngx_http_webhooks_delivery_about(&d->entry, &d->about) != NGX_OK) {
        /* every entry says it all: this one cannot be sent */
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: queue entry \"%V\" of delivery \"%V\" "
                      "is malformed, dropped", &d->entry.id, &d->entry.key);
        ngx_http_webhooks_delivery_done(d, NULL);
        return NGX_OK;
    }

    /*
     * what the entry does not say, both read at once: whether the
     * delivery is still on, and its payload, from the queue shard (the
     * record's queued fields are kept for the outcome's record); the
     * hook, from its scope, with the others of this pass that read it
     */

    argv[0] = "MGET";
    argvlen[0] = 4;
    argv[1] = (const char *) d->entry.key.data;
    argvlen[1] = d->entry.key.len;
    argv[2] = (const char *) d->about.payload.data;
    argvlen[2] = d->about.payload.len;

    d->reads = 2;

    d->cmd = ngx_http_webhooks_redis_command(
                                        ngx_http_webhooks_delivery_take_done,
                                        d, 3, argv, argvlen);
    if (d->cmd == NULL) {
        /* released by the cleanup; the entry waits to be claimed again */
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    /* the hook, read once for the deliveries of it taken in this pass */
    ngx_http_webhooks_delivery_wait(d, NGX_HTTP_WEBHOOKS_DELIVERY_HOOK);

    return NGX_OK;
}


/* what the stream entry says: all of it, or NGX_DECLINED */

static ngx_int_t
ngx_http_webhooks_delivery_about(ngx_http_webhooks_queue_entry_t *e,
    ngx_http_webhooks_delivery_about_t *a)
{
    u_char      *p, *last;
    ngx_str_t   *f[6];
    ngx_uint_t   i;

    if (e->hooks.len == 0 || e->payload.len == 0 || e->send.len == 0
        || e->hook.len == 0)
    {
        return NGX_DECLINED;
    }

    a->hook = e->hook;
    a->hooks = e->hooks;
    a->payload = e->payload;

    /* "<guid> <event> <attempt> <auto> <target type> <target id>" */

    f[0] = &a->guid;
    f[1] = &a->event;
    f[2] = &a->attempt;
    f[3] = &a->auto_retry;
    f[4] = &a->target_type;
    f[5] = &a->target_id;

    p = e->send.data;
    last = p + e->send.len;

    for (i = 0; i < 6; i++) {
        f[i]->data = p;

        while (p < last && *p != ' ') {
            p++;
        }

        f[i]->len = p - f[i]->data;

        if (i < 5) {
            if (p == last) {
                return NGX_DECLINED;
            }

            p++;
        }
    }

    return (p == last) ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_webhooks_delivery_take_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    size_t       n;
    redisReply  *p;

    d->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: taking delivery \"%V\" failed: \"%*s\"",
                          &d->entry.key, (size_t) reply->len, reply->str);
        }

        /* still pending in the queue: claimed again later */
        ngx_destroy_pool(d->pool);
        return;
    }

    p = reply->element[1];

    if (reply->element[0]->type != REDIS_REPLY_STRING
        || p->type != REDIS_REPLY_STRING)
    {
        d->gone = 1;

    } else {
        if (ngx_http_webhooks_delivery_keep(d, p->str, p->len, &d->fetched)
            != NGX_OK)
        {
            ngx_destroy_pool(d->pool);
            return;
        }

        /*
         * the queued fields, kept for the outcome's record: no tab or
         * newline is in their JSON, so the first of either ends them
         */
        p = reply->element[0];

        for (n = 0; n < p->len; n++) {
            if (p->str[n] == '\t' || p->str[n] == '\n') {
                break;
            }
        }

        d->line.len = n;
        d->line.data = ngx_pnalloc(d->pool, n);
        if (d->line.data == NULL) {
            ngx_destroy_pool(d->pool);
            return;
        }

        ngx_memcpy(d->line.data, p->str, n);
    }

    if (--d->reads == 0) {
        ngx_http_webhooks_delivery_read(d);
    }
}


static void
ngx_http_webhooks_delivery_hook_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_batch_t *b = data;

    ngx_uint_t                     i;
    ngx_http_webhooks_delivery_t  *d;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: reading the hook of %ui deliveries "
                      "failed: \"%*s\"", b->n, (size_t) reply->len,
                      reply->str);
    }

    for (i = 0; i < b->n; i++) {
        d = b->d[i];

        if (d == NULL) {
            continue;
        }

        d->batched = NULL;

        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            /* still pending in the queue: claimed again later */
            ngx_destroy_pool(d->pool);
            continue;
        }

        if (reply->type == REDIS_REPLY_STRING
            && ngx_http_webhooks_delivery_keep(d, reply->str, reply->len,
                                               &d->stored)
               != NGX_OK)
        {
            ngx_destroy_pool(d->pool);
            continue;
        }

        if (--d->reads == 0) {
            ngx_http_webhooks_delivery_read(d);
        }
    }

    ngx_destroy_pool(b->pool);
}


/* a string of a reply, kept in d's pool, NUL-terminated */

static ngx_int_t
ngx_http_webhooks_delivery_keep(ngx_http_webhooks_delivery_t *d, char *str,
    size_t len, ngx_str_t *to)
{
    to->data = ngx_pnalloc(d->pool, len + 1);
    if (to->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(to->data, str, len);
    to->data[len] = '\0';
    to->len = len;

    return NGX_OK;
}


/* the delivery, its payload and its hook read */

static void
ngx_http_webhooks_delivery_read(ngx_http_webhooks_delivery_t *d)
{
    ngx_int_t   attempt;
    redisReply  hook, payload;

    if (d->gone || d->stored.data == NULL) {
        ngx_http_webhooks_delivery_go(d, NULL, NULL);
        return;
    }

    /* a try again or a delivery put off goes to an active hook only */

    attempt = ngx_atoi(d->about.attempt.data, d->about.attempt.len);

    if ((d->entry.deferred || attempt > 1)
        && ngx_strnstr(d->stored.data, "\"active\":true", d->stored.len)
           == NULL)
    {
        ngx_http_webhooks_delivery_go(d, NULL, NULL);
        return;
    }

    ngx_memzero(&hook, sizeof(redisReply));
    hook.type = REDIS_REPLY_STRING;
    hook.str = (char *) d->stored.data;
    hook.len = d->stored.len;

    ngx_memzero(&payload, sizeof(redisReply));
    payload.type = REDIS_REPLY_STRING;
    payload.str = (char *) d->fetched.data;
    payload.len = d->fetched.len;

    ngx_http_webhooks_delivery_go(d, &hook, &payload);
}


static void
ngx_http_webhooks_delivery_go(ngx_http_webhooks_delivery_t *d,
    redisReply *hook, redisReply *payload)
{
    ngx_int_t  rc;

    if (hook == NULL || hook->type != REDIS_REPLY_STRING
        || payload->type != REDIS_REPLY_STRING)
    {
        /* the delivery, its hook or its payload expired or was deleted */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" is gone, dropped",
                      &d->entry.key);
        ngx_http_webhooks_delivery_done(d, NULL);
        return;
    }

    rc = ngx_http_webhooks_delivery_prepare(d, &d->about, hook, payload);

    d->sent_at = ngx_time();
    d->start = ngx_current_msec;

    if (rc == NGX_DECLINED) {
        /* never sent unsigned: failed, and maybe tried again later */
        ngx_http_webhooks_delivery_record(d);
        return;
    }

    if (rc != NGX_OK) {
        ngx_destroy_pool(d->pool);
        return;
    }

    d->aim.pool = d->pool;
    d->aim.wmcf = d->wmcf;
    d->aim.url = d->url;
    d->aim.handler = ngx_http_webhooks_delivery_aimed;
    d->aim.data = d;

    d->aim.what.data = ngx_pnalloc(d->pool, d->entry.key.len
                                            + sizeof("delivery \"\""));
    if (d->aim.what.data == NULL) {
        ngx_destroy_pool(d->pool);
        return;
    }

    d->aim.what.len = ngx_sprintf(d->aim.what.data, "delivery \"%V\"",
                                  &d->entry.key)
                      - d->aim.what.data;

    if (ngx_http_webhooks_address_aim(&d->aim) != NGX_OK) {
        ngx_destroy_pool(d->pool);
        return;
    }
}


/*
 * The request as GitHub sends it, signed over the exact bytes;
 * NGX_DECLINED when the secret does not open, with d->error saying so.
 */

static ngx_int_t
ngx_http_webhooks_delivery_prepare(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_delivery_about_t *a, redisReply *hook,
    redisReply *payload)
{
    u_char     sha1[NGX_HTTP_WEBHOOKS_SHA1_LEN];
    u_char     sha256[NGX_HTTP_WEBHOOKS_SHA256_LEN];
    ngx_int_t  rc;
    ngx_str_t  json, ct, secret, insecure, v, why, doc, config;
    ngx_str_t  in[3];

    static const char  *keys[] = { "url", "content_type", "insecure_ssl" };

    /* read where it lies: a tree per delivery cost more than the HMACs */

    doc.data = (u_char *) hook->str;
    doc.len = hook->len;

    if (ngx_http_webhooks_json_scan_check(d->pool, doc.data, doc.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    (void) ngx_http_webhooks_json_scan_member(&doc, "config", &config);
    (void) ngx_http_webhooks_json_scan_members(&config, keys, in, 3);

    if (ngx_http_webhooks_json_scan_string(d->pool, &in[0], &d->url)
        != NGX_OK
        || ngx_http_webhooks_json_scan_string(d->pool, &in[1], &ct)
           == NGX_ERROR
        || ngx_http_webhooks_json_scan_string(d->pool, &in[2], &insecure)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    d->insecure = (insecure.len == 1 && insecure.data[0] == '1');

    d->url.data = ngx_pstrdup(d->pool, &d->url);
    if (d->url.data == NULL) {
        return NGX_ERROR;
    }

    json.data = (u_char *) payload->str;
    json.len = payload->len;

    if (ct.len == 4 && ngx_strncmp(ct.data, "form", 4) == 0) {
        if (ngx_http_webhooks_sign_form_encode(d->pool, &json, &d->body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_str_set(&ct, "application/x-www-form-urlencoded");

    } else {
        /* the payload as read, in the delivery's pool already */
        d->body = json;

        ngx_str_set(&ct, "application/json");
    }

    if (ngx_array_init(&d->headers, d->pool, 12, sizeof(ngx_keyval_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_webhooks_delivery_add(d, "Accept", (u_char *) "*/*", 3)
        != NGX_OK
        || ngx_http_webhooks_delivery_add(d, "Content-Type", ct.data, ct.len)
           != NGX_OK
        || ngx_http_webhooks_delivery_add(d, "User-Agent",
                                          (u_char *) NGX_HTTP_WEBHOOKS_UA,
                                          sizeof(NGX_HTTP_WEBHOOKS_UA) - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->guid;
    if (ngx_http_webhooks_delivery_add(d, "X-GitHub-Delivery", v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->event;
    if (ngx_http_webhooks_delivery_add(d, "X-GitHub-Event", v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->hook;
    if (ngx_http_webhooks_delivery_add(d, "X-GitHub-Hook-ID", v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    d->hook.len = v.len;
    d->hook.data = ngx_pstrdup(d->pool, &v);
    v = a->hooks;
    d->hooks.len = v.len;
    d->hooks.data = ngx_pstrdup(d->pool, &v);

    v = a->payload;
    d->payload.len = v.len;
    d->payload.data = ngx_pstrdup(d->pool, &v);

    if (d->hook.data == NULL || d->hooks.data == NULL
        || d->payload.data == NULL)
    {
        return NGX_ERROR;
    }

    /* a delivery of an event taken in is tried again when it fails */

    v = a->auto_retry;
    d->auto_retry = (v.len == 1 && v.data[0] == '1');

    v = a->attempt;
    d->attempt = ngx_atoi(v.data, v.len);

    if (d->attempt == (ngx_uint_t) NGX_ERROR || d->attempt == 0) {
        d->attempt = 1;
    }

    if (ngx_http_webhooks_delivery_log(d, a) != NGX_OK) {
        return NGX_ERROR;
    }

    v = a->target_id;
    if (v.len
        && ngx_http_webhooks_delivery_add(d,
                                       "X-GitHub-Hook-Installation-Target-ID",
                                       v.data, v.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->target_type;
    if (ngx_http_webhooks_delivery_add(d,
                                     "X-GitHub-Hook-Installation-Target-Type",
                                     v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_webhooks_secret_open(d->pool, d->wmcf->secrets.keys,
                                       &config, "secret", &d->hook, &secret,
                                       &why);
    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" to hook %V not sent: %V",
                      &d->entry.key, &d->hook, &why);

        d->error = (const char *) why.data;
        d->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (secret.len == 0) {
        return NGX_OK;
    }

    rc = ngx_http_webhooks_sign(&secret, &d->body, sha1, sha256);

    /* the pool's copy, clear or opened */
    ngx_explicit_memzero(secret.data, secret.len);

    if (rc != NGX_OK
        || ngx_http_webhooks_delivery_add(d, "X-Hub-Signature", sha1,
                                          sizeof(sha1))
           != NGX_OK
        || ngx_http_webhooks_delivery_add(d, "X-Hub-Signature-256", sha256,
                                          sizeof(sha256))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* kept for the log variables: the record the fields came from goes */

static ngx_int_t
ngx_http_webhooks_delivery_log(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_delivery_about_t *a)
{
    u_char  *p;

    /* "<scope prefix>delivery:<id>" */
    p = d->entry.key.data + d->entry.key.len;

    while (p > d->entry.key.data && p[-1] != ':') {
        p--;
    }

    d->id.data = p;
    d->id.len = d->entry.key.data + d->entry.key.len - p;

    d->guid.len = a->guid.len;
    d->guid.data = ngx_pstrdup(d->pool, &a->guid);
    d->event.len = a->event.len;
    d->event.data = ngx_pstrdup(d->pool, &a->event);
    d->attempt_text.data = ngx_pnalloc(d->pool, NGX_INT_T_LEN);

    if ((a->guid.len && d->guid.data == NULL)
        || (a->event.len && d->event.data == NULL)
        || d->attempt_text.data == NULL)
    {
        return NGX_ERROR;
    }

    d->attempt_text.len = ngx_sprintf(d->attempt_text.data, "%ui", d->attempt)
                          - d->attempt_text.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_delivery_add(ngx_http_webhooks_delivery_t *d,
    char *name, u_char *value, size_t len)
{
    ngx_keyval_t  *kv;

    kv = ngx_array_push(&d->headers);
    if (kv == NULL) {
        return NGX_ERROR;
    }

    kv->key.data = (u_char *) name;
    kv->key.len = ngx_strlen(name);
    kv->value.len = len;
    kv->value.data = ngx_pnalloc(d->pool, len);

    if (kv->value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(kv->value.data, value, len);

    return NGX_OK;
}




/* the guard's answer: sent to the checked address, or recorded */

static void
ngx_http_webhooks_delivery_aimed(ngx_http_webhooks_aim_t *a)
{
    ngx_http_webhooks_delivery_t *d = a->data;

    u_char                          *p;
    ngx_http_webhooks_subrequest_t  *sr;

    if (a->blocked) {
        /* an attempt that never leaves: a failure, with why */
        d->error = a->blocked;
        ngx_post_event(&d->blocked, &ngx_posted_events);
        return;
    }

    if (a->target.len == 0) {
        ngx_destroy_pool(d->pool);
        return;
    }

    sr = &d->sr;

    sr->pool = d->pool;
    sr->conf_ctx = d->wmcf->sender.ctx;
    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_webhooks_delivery_post;
    sr->uri = (d->insecure && d->wmcf->sender.insecure_uri.len)
              ? d->wmcf->sender.insecure_uri : d->wmcf->sender.delivery_uri;
    sr->headers = &d->headers;
    sr->body = d->body;
    sr->timeout = d->wmcf->sender.delivery_timeout;
    sr->response_max = d->wmcf->sender.response_max;
    sr->handler = ngx_http_webhooks_delivery_sent;
    sr->data = d;
    sr->peer = &a->addr;
    sr->peer_name = a->parts.host;

    p = ngx_pnalloc(d->pool, sizeof(" while delivering webhook \"\" to \"\"")
                             + d->entry.key.len + a->parts.host.len);
    if (p == NULL) {
        ngx_destroy_pool(d->pool);
        return;
    }

    sr->context.data = p;
    sr->context.len = ngx_sprintf(p, " while delivering webhook \"%V\" "
                                  "to \"%V\"", &d->entry.key,
                                  &a->parts.host)
                      - p;

    if (ngx_http_webhooks_subrequest_send(sr) != NGX_OK) {
        ngx_destroy_pool(d->pool);
    }
}


static void
ngx_http_webhooks_delivery_blocked_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_delivery_record(ev->data);
}


/* the subrequest's outcome, as GitHub words what went wrong */

static void
ngx_http_webhooks_delivery_sent(ngx_http_webhooks_subrequest_t *sr)
{
    ngx_http_webhooks_delivery_t *d = sr->data;

    d->rc = sr->rc;
    d->status = sr->status;
    d->from_receiver = sr->answered;
    d->throttled = sr->throttled;

    switch (sr->error) {

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_TIMEOUT:
        d->error = "timed out";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_TOO_BIG:
        d->error = "response headers too large";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_CERTIFICATE:
        d->error = "Peer certificate cannot be authenticated with given "
                   "CA certificates";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_HANDSHAKE:
        d->error = "SSL handshake failed";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_RESOLVE:
        d->error = "failed to resolve host";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_CONNECT:
        d->error = "failed to connect to host";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_INVALID:
        d->error = "invalid HTTP response";
        break;

    case NGX_HTTP_WEBHOOKS_SUBREQUEST_DEADLINE:
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" to \"%V\" ended: no outcome "
                      "after %M ms", &d->entry.key, &d->aim.parts.host,
                      ngx_current_msec - sr->started);

        d->error = "timed out: past the delivery deadline";
        break;

    default: /* NGX_HTTP_WEBHOOKS_SUBREQUEST_OK */
        d->error = NULL;
    }

    ngx_http_webhooks_delivery_record(d);
}


/* the outcome as GitHub words it, and the hook's last response */

static void
ngx_http_webhooks_delivery_record(ngx_http_webhooks_delivery_t *d)
{
    u_char                                *p;
    ngx_str_t                              status, last, code, due, off;
    ngx_uint_t                             i, ok;
    ngx_msec_t                             ms;
    ngx_keyval_t                          *kv;
    ngx_http_webhooks_delivery_outcome_t   o;

    if (d->throttled) {
        ngx_http_webhooks_delivery_throttle(d);
        return;
    }

    if (!d->from_receiver) {
        d->status = (d->rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) d->rc
                    : (d->status >= NGX_HTTP_SPECIAL_RESPONSE) ? d->status
                    : NGX_HTTP_BAD_GATEWAY;
    }

    p = ngx_pnalloc(d->pool, 256);
    if (p == NULL) {
        goto failed;
    }

    status.data = p;

    if (d->from_receiver && (d->rc != NGX_OK || d->error)) {

        /*
         * the answer ended before its end (closed, timed out): whatever
         * its status said, the receiver may not have meant it.  Past the
         * header, upstream flushes instead of finalizing with an error:
         * the error it logged is what tells.
         */

        d->from_receiver = 0;
        d->status = NGX_HTTP_BAD_GATEWAY;

        /* what nginx still held when it timed out was never passed on */

        if (d->sr.error == NGX_HTTP_WEBHOOKS_SUBREQUEST_TIMEOUT) {
            p = ngx_sprintf(p, "Response cut short: timed out");

        } else if (d->sr.response_expected >= 0) {
            p = ngx_sprintf(p, "Response cut short: %O of %O bytes",
                            d->sr.response_read, d->sr.response_expected);

        } else {
            p = ngx_sprintf(p, "Response cut short after %O bytes",
                            d->sr.response_read);
        }

    } else if (d->from_receiver && d->status >= 200 && d->status < 300) {
        p = ngx_cpymem(p, "OK", 2);

    } else if (!d->from_receiver && d->error) {
        p = ngx_sprintf(p, "%s", d->error);

    } else {
        p = ngx_sprintf(p, "Invalid HTTP Response: %ui", d->status);
    }

    status.len = p - status.data;

    code.data = p;
    code.len = ngx_sprintf(p, "%ui", d->status) - p;
    p += code.len;

    ms = ngx_current_msec - d->start;
    o.duration.data = p;
    o.duration.len = ngx_sprintf(p, "%M.%03M", ms / 1000, ms % 1000) - p;
    p += o.duration.len;

    /*
     * the request headers are made again when read, from the record and
     * the hook: kept are only what cannot be, the signatures (hex, no
     * "sha1=" or "sha256="), and a form's content type
     */

    kv = d->headers.elts;
    ngx_str_null(&o.sig1);
    ngx_str_null(&o.sig256);
    o.form = 0;

    for (i = 0; i < d->headers.nelts; i++) {
        if (kv[i].key.len == sizeof("X-Hub-Signature") - 1
            && kv[i].value.len > 5
            && ngx_strncmp(kv[i].key.data, "X-Hub-Signature", 15) == 0)
        {
            o.sig1.data = kv[i].value.data + 5;
            o.sig1.len = kv[i].value.len - 5;

        } else if (kv[i].key.len == sizeof("X-Hub-Signature-256") - 1
                   && kv[i].value.len > 7
                   && ngx_strncmp(kv[i].key.data, "X-Hub-Signature-256", 19)
                      == 0)
        {
            o.sig256.data = kv[i].value.data + 7;
            o.sig256.len = kv[i].value.len - 7;

        } else if (kv[i].key.len == sizeof("Content-Type") - 1
                   && ngx_strncmp(kv[i].key.data, "Content-Type", 12) == 0
                   && kv[i].value.len > 13
                   && ngx_strncmp(kv[i].value.data, "application/x", 13)
                      == 0)
        {
            o.form = 1;
        }
    }

    if (d->sr.response_headers.len == 0) {
        ngx_str_set(&d->sr.response_headers, "{}");
    }

    last.data = ngx_pnalloc(d->pool, status.len * 6 + 64);
    if (last.data == NULL) {
        goto failed;
    }

    /* the status text is ours and plain: no JSON escaping needed */
    last.len = ngx_sprintf(last.data,
                           "{\"code\":%V,\"status\":\"%s\",\"message\":\"%V\"}",
                           &code,
                           (d->from_receiver && d->status >= 200
                            && d->status < 300) ? "active" : "failed",
                           &status)
               - last.data;

    ok = d->from_receiver && d->status >= 200 && d->status < 300;

    ngx_str_set(&due, "");

    if (!ok && d->auto_retry
        && ngx_http_webhooks_queue_again(d->pool, d->wmcf, d->attempt,
                                         d->from_receiver ? d->status : 0,
                                         &d->sr.retry_after, &due)
           != NGX_OK)
    {
        goto failed;
    }

    ngx_http_webhooks_stats_inc(ngx_http_webhooks_stats_outcome(d->status,
                                                    d->from_receiver,
                                                    d->error), 1);
    ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_DURATION, ms);

    if (ok) {
        ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_LATENCY,
                                ngx_http_webhooks_queue_waited(&d->entry.id));
    }

    if (due.len) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_RETRIES, 1);
    }

    /* what the hook says once its deliveries failed for the whole span */

    ngx_str_set(&off, "");

    if (!ok && d->wmcf->reliability.fail_span) {
        off.data = ngx_pnalloc(d->pool, status.len + 192);
        if (off.data == NULL) {
            goto failed;
        }

        off.len = ngx_sprintf(off.data,
                              "{\"code\":%V,\"status\":\"failed\","
                              "\"message\":\"Deactivated: every delivery "
                              "failed for %T seconds. Last: %V\"}",
                              &code, d->wmcf->reliability.fail_span, &status)
                  - off.data;
    }

    o.ok = ok;
    o.status = status;
    o.code = code;
    o.last = last;
    o.off = off;
    o.due = due;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "webhooks delivery \"%V\": %V \"%V\"",
                   &d->entry.key, &code, &status);

    ngx_http_webhooks_delivery_done(d, &o);
    return;

failed:

    /* not recorded: the entry is claimed and sent again later */
    ngx_http_webhooks_delivery_end(d);
}


/*
 * The done script, in the queue shard: the entry acknowledged and, with
 * an outcome, the attempt recorded and maybe a try more due.  With an
 * outcome, the hook's side of it (its last response, its failing span)
 * goes first to the outcome script, in the hook's scope.
 */

static void
ngx_http_webhooks_delivery_done(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_delivery_outcome_t *o)
{
    u_char      *p;
    ngx_str_t   *args, *hk, outcome;
    ngx_uint_t   i;

    args = ngx_palloc(d->pool, NGX_HTTP_WEBHOOKS_DELIVERY_DONE_FIELDS
                               * sizeof(ngx_str_t));
    if (args == NULL) {
        goto failed;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_DELIVERY_DONE_FIELDS; i++) {
        ngx_str_set(&args[i], "");
    }

    /* a key of the shard all the same where the entry names no payload */
    args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_KEY] = d->entry.key;
    args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_PAYLOAD] = d->entry.payload.len
                                                    ? d->entry.payload
                                                    : d->entry.key;
    args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_ENTRY] = d->entry.id;

    d->done = args;
    d->ndone = NGX_HTTP_WEBHOOKS_DELIVERY_DONE_SENT;

    if (o == NULL) {
        /* no outcome: the entry is only acknowledged */
        ngx_http_webhooks_delivery_done_send(d);
        return;
    }

    args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_PAYLOAD] = d->payload;

    if (o->ok) {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME], "ok");

    } else {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME], "failed");
    }

    args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_AGAIN] = o->due;
    outcome = args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME];

    switch (ngx_http_webhooks_delivery_outcome_record(d, o,
                                &args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_RECORD]))
    {
    case NGX_OK:
        break;

    case NGX_DECLINED:
        /* no record read, none to write: the entry is acknowledged */
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME], "");
        break;

    default:
        goto failed;
    }

    /* the hook's side first, in its scope; then the record's */

    hk = ngx_pcalloc(d->pool, NGX_HTTP_WEBHOOKS_OUTCOME_NARGS
                              * sizeof(ngx_str_t));
    if (hk == NULL || d->hooks.len < sizeof("hooks") - 1) {
        goto failed;
    }

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_HOOKS] = d->hooks;

    /* "<scope>hooks" -> "<scope>subs" */
    p = ngx_pnalloc(d->pool, d->hooks.len);
    if (p == NULL) {
        goto failed;
    }

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data = p;
    p = ngx_cpymem(p, d->hooks.data, d->hooks.len - (sizeof("hooks") - 1));
    p = ngx_cpymem(p, "subs", 4);
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].len =
                                    p - hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data;

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_HOOK] = d->hook;
    /* the attempt's, whether or not the record is written */
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_OUTCOME] = outcome;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_LAST_RESPONSE] = o->last;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_FAIL_SPAN] =
                                        d->wmcf->reliability.fail_span_text;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_OFF_RESPONSE] = o->off;

    p = ngx_pnalloc(d->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        goto failed;
    }

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_NOW].data = p;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_NOW].len = ngx_sprintf(p, "%T", ngx_time())
                                            - p;

    d->outcome = hk;
    d->ok = o->ok;

    if (!o->ok || !ngx_http_webhooks_delivery_seen(d)) {
        ngx_http_webhooks_delivery_outcome_send(d);
        return;
    }

    /* the same success as this worker last wrote: still so in Redis? */

    ngx_http_webhooks_delivery_wait(d, NGX_HTTP_WEBHOOKS_DELIVERY_CHECK);
    return;

failed:

    /* not recorded: the entry is claimed and sent again later */
    ngx_http_webhooks_delivery_end(d);
}


/*
 * Reads of a hook by the deliveries of one pass of the event loop: the
 * hook itself when they are taken, its last response and mark when they
 * succeeded.  They wait for the pass to end, then share one command per
 * hook; sent once the pass is over, a success's read still comes after
 * its answer.  A delivery waits in one list at a time: d->waiting.
 */

static ngx_http_webhooks_delivery_group_t
    ngx_http_webhooks_delivery_groups[] = {
    { ngx_http_webhooks_delivery_hook_args,
      ngx_http_webhooks_delivery_hook_done, { NULL, NULL },
      { 0 } },
    { ngx_http_webhooks_delivery_check_args,
      ngx_http_webhooks_delivery_check_reply, { NULL, NULL },
      { 0 } }
};


static void
ngx_http_webhooks_delivery_wait(ngx_http_webhooks_delivery_t *d,
    ngx_uint_t group)
{
    ngx_http_webhooks_delivery_group_t  *g;

    g = &ngx_http_webhooks_delivery_groups[group];

    if (g->waiting.prev == NULL) {
        ngx_queue_init(&g->waiting);
        g->event.handler = ngx_http_webhooks_delivery_group_handler;
        g->event.data = g;
        g->event.log = ngx_cycle->log;
    }

    ngx_queue_insert_tail(&g->waiting, &d->waiting);
    d->queued = 1;

    if (!g->event.posted) {
        ngx_post_event(&g->event, &ngx_posted_events);
    }
}


static void
ngx_http_webhooks_delivery_group_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_delivery_group_t *g = ev->data;

    size_t                               argvlen[4];
    ngx_int_t                            argc;
    ngx_pool_t                          *pool;
    ngx_queue_t                         *q, *next;
    const char                          *argv[4];
    ngx_http_webhooks_delivery_t        *d, *first;
    ngx_http_webhooks_delivery_batch_t  *b;

    while (!ngx_queue_empty(&g->waiting)) {
        first = ngx_queue_data(ngx_queue_head(&g->waiting),
                               ngx_http_webhooks_delivery_t, waiting);

        argc = NGX_ERROR;
        pool = ngx_create_pool(1024, ngx_cycle->log);
        b = pool ? ngx_pcalloc(pool,
                               sizeof(ngx_http_webhooks_delivery_batch_t))
                 : NULL;

        if (b) {
            b->pool = pool;
            argc = g->args(first, pool, argv, argvlen);
        }

        /* the deliveries of first's hook, up to a batch */

        for (q = ngx_queue_head(&g->waiting);
             q != ngx_queue_sentinel(&g->waiting);
             q = next)
        {
            next = ngx_queue_next(q);
            d = ngx_queue_data(q, ngx_http_webhooks_delivery_t, waiting);

            if (d != first
                && (d->about.hook.len != first->about.hook.len
                    || d->about.hooks.len != first->about.hooks.len
                    || ngx_strncmp(d->about.hook.data,
                                   first->about.hook.data, d->about.hook.len)
                       != 0
                    || ngx_strncmp(d->about.hooks.data,
                                   first->about.hooks.data,
                                   d->about.hooks.len)
                       != 0))
            {
                continue;
            }

            ngx_queue_remove(q);
            d->queued = 0;

            if (argc == NGX_ERROR) {
                /*
                 * the entry stays pending: claimed and sent again later;
                 * the cleanup cancels what d still waits for
                 */
                ngx_destroy_pool(d->pool);
                continue;
            }

            d->batched = &b->d[b->n];
            b->d[b->n++] = d;

            if (b->n == NGX_HTTP_WEBHOOKS_DELIVERY_BATCH) {
                break;
            }
        }

        if (argc == NGX_ERROR) {
            if (pool) {
                ngx_destroy_pool(pool);
            }

            continue;
        }

        if (ngx_http_webhooks_redis_command(g->reply, b, argc, argv, argvlen)
            == NULL)
        {
            g->reply(b, NULL);
        }
    }
}


/* HGET <scope>hooks <id> */

static ngx_int_t
ngx_http_webhooks_delivery_hook_args(ngx_http_webhooks_delivery_t *d,
    ngx_pool_t *pool, const char **argv, size_t *argvlen)
{
    argv[0] = "HGET";
    argvlen[0] = 4;
    argv[1] = (const char *) d->about.hooks.data;
    argvlen[1] = d->about.hooks.len;
    argv[2] = (const char *) d->about.hook.data;
    argvlen[2] = d->about.hook.len;

    return 3;
}


/* HMGET <scope>hooks <id>:lr <id>:fs */

static ngx_int_t
ngx_http_webhooks_delivery_check_args(ngx_http_webhooks_delivery_t *d,
    ngx_pool_t *pool, const char **argv, size_t *argvlen)
{
    u_char      *p;
    ngx_uint_t   i;

    p = ngx_pnalloc(pool, 2 * (d->about.hook.len + 3));
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (const char *) d->about.hooks.data;
    argvlen[1] = d->about.hooks.len;

    for (i = 0; i < 2; i++) {
        argv[2 + i] = (const char *) p;
        argvlen[2 + i] = ngx_sprintf(p, "%V:%s", &d->about.hook,
                                     i ? "fs" : "lr")
                         - p;
        p += argvlen[2 + i];
    }

    return 4;
}


static void
ngx_http_webhooks_delivery_outcome_send(ngx_http_webhooks_delivery_t *d)
{
    d->cmd = ngx_http_webhooks_redis_script(d->pool,
                                    NGX_HTTP_WEBHOOKS_SCRIPT_OUTCOME,
                                    ngx_http_webhooks_delivery_outcome_reply,
                                    d, NGX_HTTP_WEBHOOKS_OUTCOME_NKEYS,
                                    NGX_HTTP_WEBHOOKS_OUTCOME_NARGS,
                                    d->outcome);
    if (d->cmd == NULL) {
        /* not recorded: the entry is claimed and sent again later */
        ngx_http_webhooks_delivery_end(d);
    }
}


/* the hook's last response and failing-span mark, as read after the answer */

static void
ngx_http_webhooks_delivery_check_reply(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_batch_t *b = data;

    ngx_str_t                     *last;
    ngx_uint_t                     i;
    ngx_http_webhooks_delivery_t  *d;

    for (i = 0; i < b->n; i++) {
        d = b->d[i];

        if (d == NULL) {
            continue;
        }

        d->batched = NULL;

        last = &d->outcome[NGX_HTTP_WEBHOOKS_OUTCOME_LAST_RESPONSE];

        if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
            && reply->element[0]->type == REDIS_REPLY_STRING
            && reply->element[0]->len == last->len
            && ngx_strncmp(reply->element[0]->str, last->data, last->len)
               == 0
            && reply->element[1]->type == REDIS_REPLY_NIL)
        {
            /* outcome.lua would write what is there already */
            ngx_http_webhooks_delivery_done_send(d);
            continue;
        }

        ngx_http_webhooks_delivery_slot(d)->key_len = 0;
        ngx_http_webhooks_delivery_outcome_send(d);
    }

    ngx_destroy_pool(b->pool);
}


/*
 * The slot of d's hook in the worker's cache.  A slot another hook took
 * over, or one cleared (key_len 0), only costs an outcome.lua run.
 */

static ngx_http_webhooks_delivery_seen_t *
ngx_http_webhooks_delivery_slot(ngx_http_webhooks_delivery_t *d)
{
    uint32_t  h;

    ngx_crc32_init(h);
    ngx_crc32_update(&h, d->hooks.data, d->hooks.len);
    ngx_crc32_update(&h, (u_char *) " ", 1);
    ngx_crc32_update(&h, d->hook.data, d->hook.len);
    ngx_crc32_final(h);

    return &ngx_http_webhooks_delivery_seen_hooks[
                                        h % NGX_HTTP_WEBHOOKS_DELIVERY_SEEN];
}


/* whether the worker last wrote d's last response for d's hook */

static ngx_uint_t
ngx_http_webhooks_delivery_seen(ngx_http_webhooks_delivery_t *d)
{
    ngx_str_t                          *last;
    ngx_http_webhooks_delivery_seen_t  *s;

    s = ngx_http_webhooks_delivery_slot(d);
    last = &d->outcome[NGX_HTTP_WEBHOOKS_OUTCOME_LAST_RESPONSE];

    return s->key_len == d->hooks.len + 1 + d->hook.len
           && ngx_strncmp(s->key, d->hooks.data, d->hooks.len) == 0
           && ngx_strncmp(s->key + d->hooks.len + 1, d->hook.data,
                          d->hook.len) == 0
           && s->lr_len == last->len
           && ngx_strncmp(s->lr, last->data, last->len) == 0;
}


/* after outcome.lua wrote a success: d's last response, no mark */

static void
ngx_http_webhooks_delivery_saw(ngx_http_webhooks_delivery_t *d)
{
    u_char                             *p;
    ngx_str_t                          *last;
    ngx_http_webhooks_delivery_seen_t  *s;

    s = ngx_http_webhooks_delivery_slot(d);
    last = &d->outcome[NGX_HTTP_WEBHOOKS_OUTCOME_LAST_RESPONSE];
    s->key_len = 0;

    if (d->hooks.len + 1 + d->hook.len > NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_KEY
        || last->len > NGX_HTTP_WEBHOOKS_DELIVERY_SEEN_LR)
    {
        return;
    }

    p = ngx_cpymem(s->key, d->hooks.data, d->hooks.len);
    *p++ = ' ';
    p = ngx_cpymem(p, d->hook.data, d->hook.len);
    s->key_len = p - s->key;
    s->lr_len = ngx_cpymem(s->lr, last->data, last->len) - s->lr;
}


static void
ngx_http_webhooks_delivery_outcome_reply(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    d->cmd = NULL;
    ngx_http_webhooks_delivery_slot(d)->key_len = 0;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: recording delivery \"%V\" failed: "
                          "\"%*s\"", &d->entry.key, (size_t) reply->len,
                          reply->str);
        }

        /* not recorded: the entry is claimed and sent again later */
        ngx_http_webhooks_delivery_end(d);
        return;
    }

    if (d->ok && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
        ngx_http_webhooks_delivery_saw(d);
    }

    if (reply->type == REDIS_REPLY_INTEGER && reply->integer != 1) {

        /* deactivated, or deleted: no try again */
        ngx_str_set(&d->done[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_AGAIN], "");

        if (reply->integer == 2) {
            ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_DEACTIVATED, 1);
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "webhooks: hook %V deactivated: its deliveries "
                          "failed for %T seconds, the last to \"%V\"",
                          &d->hook, d->wmcf->reliability.fail_span,
                          &d->aim.parts.host);
        }
    }

    ngx_http_webhooks_delivery_done_send(d);
}


/*
 * The record with the attempt's outcome, whole, for a SET ahead of
 * done.lua to write in place of the queued one: the queued fields as
 * taken, a tab, the JSON array of the positions (in lib/record.lua's
 * FIELDS) and values of the outcome's fields, a newline, and the
 * response ("<headers JSON>\n<body>").  It is the form lib/record.lua
 * reads; made here, Redis only stores it.  NGX_DECLINED when the
 * record was not read.
 */

#define NGX_HTTP_WEBHOOKS_RECORD_DELIVERED_AT  13
#define NGX_HTTP_WEBHOOKS_RECORD_STATUS        14
#define NGX_HTTP_WEBHOOKS_RECORD_STATUS_CODE   15
#define NGX_HTTP_WEBHOOKS_RECORD_DURATION      16
#define NGX_HTTP_WEBHOOKS_RECORD_URL           20
#define NGX_HTTP_WEBHOOKS_RECORD_S1            21
#define NGX_HTTP_WEBHOOKS_RECORD_S256          22
#define NGX_HTTP_WEBHOOKS_RECORD_FORM          23

static ngx_int_t
ngx_http_webhooks_delivery_outcome_record(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_delivery_outcome_t *o, ngx_str_t *record)
{
    u_char      *p, at[sizeof("2011-09-06T17:26:27Z")];
    size_t       len;
    ngx_str_t    v[8];
    ngx_uint_t   i, n, pos[8];

    if (d->line.len == 0) {
        return NGX_DECLINED;
    }

    n = 0;

    pos[n] = NGX_HTTP_WEBHOOKS_RECORD_STATUS;
    v[n++] = o->status;
    pos[n] = NGX_HTTP_WEBHOOKS_RECORD_STATUS_CODE;
    v[n++] = o->code;
    pos[n] = NGX_HTTP_WEBHOOKS_RECORD_DURATION;
    v[n++] = o->duration;
    pos[n] = NGX_HTTP_WEBHOOKS_RECORD_URL;
    v[n++] = d->url;
    pos[n] = NGX_HTTP_WEBHOOKS_RECORD_DELIVERED_AT;
    v[n].data = at;
    v[n++].len = ngx_http_webhooks_json_time(at, d->sent_at) - at;

    if (o->sig1.len) {
        pos[n] = NGX_HTTP_WEBHOOKS_RECORD_S1;
        v[n++] = o->sig1;
    }

    if (o->sig256.len) {
        pos[n] = NGX_HTTP_WEBHOOKS_RECORD_S256;
        v[n++] = o->sig256;
    }

    if (o->form) {
        pos[n] = NGX_HTTP_WEBHOOKS_RECORD_FORM;
        ngx_str_set(&v[n], "1"); n++;
    }

    len = d->line.len + sizeof("\t[]\n") - 1
          + d->sr.response_headers.len + 1 + d->sr.response_len;

    for (i = 0; i < n; i++) {
        len += sizeof("99,\"\",") - 1 + v[i].len
               + ngx_escape_json(NULL, v[i].data, v[i].len);
    }

    p = ngx_pnalloc(d->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    record->data = p;

    p = ngx_cpymem(p, d->line.data, d->line.len);
    *p++ = '\t';
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "%s%ui,\"", i ? "," : "", pos[i]);
        p = (u_char *) ngx_escape_json(p, v[i].data, v[i].len);
        *p++ = '"';
    }

    *p++ = ']';
    *p++ = '\n';

    p = ngx_cpymem(p, d->sr.response_headers.data,
                   d->sr.response_headers.len);
    *p++ = '\n';

    if (d->sr.response_len) {
        p = ngx_cpymem(p, d->sr.response, d->sr.response_len);
    }

    record->len = p - record->data;

    return NGX_OK;
}


/* d waits for the end of the event loop's pass, with the others */

static void
ngx_http_webhooks_delivery_done_send(ngx_http_webhooks_delivery_t *d)
{
    ngx_uint_t    i;
    ngx_queue_t  *w;
    ngx_event_t  *ev;

    w = ngx_http_webhooks_delivery_waiting;
    ev = &ngx_http_webhooks_delivery_flush_event;

    if (w[0].prev == NULL) {
        for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
            ngx_queue_init(&w[i]);
        }

        ev->handler = ngx_http_webhooks_delivery_flush_handler;
        ev->log = ngx_cycle->log;
    }

    ev->data = d->wmcf;

    ngx_queue_insert_tail(&w[d->entry.shard], &d->waiting);
    d->queued = 1;

    if (!ev->posted) {
        ngx_post_event(ev, &ngx_posted_events);
    }
}


static void
ngx_http_webhooks_delivery_flush_handler(ngx_event_t *ev)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        while (!ngx_queue_empty(&ngx_http_webhooks_delivery_waiting[i])) {
            ngx_http_webhooks_delivery_flush(ev->data,
                                      &ngx_http_webhooks_delivery_waiting[i]);
        }
    }
}


/*
 * One done.lua call for up to NGX_HTTP_WEBHOOKS_DELIVERY_BATCH of the
 * deliveries waiting in a shard.  Their args stay in their pools until
 * the reply: only the reply ends them.
 */

static void
ngx_http_webhooks_delivery_flush(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_queue_t *waiting)
{
    ngx_str_t                           *args;
    ngx_uint_t                           n, nargs, shard;
    ngx_pool_t                          *pool;
    ngx_queue_t                         *q;
    ngx_http_webhooks_delivery_t        *d;
    ngx_http_webhooks_delivery_batch_t  *b;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    b = pool ? ngx_pcalloc(pool, sizeof(ngx_http_webhooks_delivery_batch_t))
             : NULL;

    /* the args of as many as go in one call */

    nargs = NGX_HTTP_WEBHOOKS_DONE_NARGS;
    n = 0;
    shard = 0;

    for (q = ngx_queue_head(waiting);
         q != ngx_queue_sentinel(waiting)
         && n < NGX_HTTP_WEBHOOKS_DELIVERY_BATCH;
         q = ngx_queue_next(q))
    {
        d = ngx_queue_data(q, ngx_http_webhooks_delivery_t, waiting);
        nargs += d->ndone;
        shard = d->entry.shard;
        n++;
    }

    args = b ? ngx_palloc(pool, nargs * sizeof(ngx_str_t)) : NULL;

    if (args) {
        b->pool = pool;
        args[NGX_HTTP_WEBHOOKS_DONE_QUEUE] = wmcf->shards[shard].queue;
        args[NGX_HTTP_WEBHOOKS_DONE_RETRY] = wmcf->shards[shard].retry;
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DONE_GROUP],
                    NGX_HTTP_WEBHOOKS_GROUP);
        args[NGX_HTTP_WEBHOOKS_DONE_TTL] = wmcf->sender.retention_text;
        nargs = NGX_HTTP_WEBHOOKS_DONE_NARGS;
    }

    while (n--) {
        q = ngx_queue_head(waiting);
        ngx_queue_remove(q);

        d = ngx_queue_data(q, ngx_http_webhooks_delivery_t, waiting);
        d->queued = 0;

        if (args == NULL) {
            /* not recorded: the entry is claimed and sent again later */
            ngx_http_webhooks_delivery_end(d);
            continue;
        }

        ngx_http_webhooks_delivery_store(d);

        ngx_memcpy(&args[nargs], d->done, d->ndone * sizeof(ngx_str_t));
        nargs += d->ndone;

        d->batched = &b->d[b->n];
        b->d[b->n++] = d;
    }

    if (args == NULL) {
        if (pool) {
            ngx_destroy_pool(pool);
        }

        return;
    }

    if (ngx_http_webhooks_redis_script(pool, NGX_HTTP_WEBHOOKS_SCRIPT_DONE,
                                       ngx_http_webhooks_delivery_done_reply,
                                       b, NGX_HTTP_WEBHOOKS_DONE_NKEYS,
                                       nargs, args)
        == NULL)
    {
        /* not recorded: the entries are claimed and sent again later */
        ngx_http_webhooks_delivery_done_reply(b, NULL);
    }
}


/*
 * The record with its outcome, a plain SET ahead of done.lua on the same
 * connection (Lua would copy it): XX, so that a delivery gone meanwhile
 * is not made again.  Where Redis refuses it (out of memory) it refuses
 * done.lua too, and the entry is sent again.
 */

static void
ngx_http_webhooks_delivery_store(ngx_http_webhooks_delivery_t *d)
{
    size_t       argvlen[6];
    ngx_str_t   *rec;
    const char  *argv[6];

    rec = &d->done[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_RECORD];

    if (d->done[NGX_HTTP_WEBHOOKS_DELIVERY_DONE_OUTCOME].len == 0
        || rec->len == 0)
    {
        return;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) d->entry.key.data;
    argvlen[1] = d->entry.key.len;
    argv[2] = (const char *) rec->data;
    argvlen[2] = rec->len;
    argv[3] = "XX";
    argvlen[3] = 2;
    argv[4] = "EX";
    argvlen[4] = 2;
    argv[5] = (const char *) d->wmcf->sender.retention_text.data;
    argvlen[5] = d->wmcf->sender.retention_text.len;

    (void) ngx_http_webhooks_redis_command(
                                      ngx_http_webhooks_delivery_store_reply,
                                      NULL, 6, argv, argvlen);
}


static void
ngx_http_webhooks_delivery_store_reply(void *data, redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: recording a delivery failed: \"%*s\"",
                      (size_t) reply->len, reply->str);
    }
}


static void
ngx_http_webhooks_delivery_done_reply(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_batch_t *b = data;

    ngx_uint_t                     i;
    ngx_http_webhooks_delivery_t  *d;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: recording %ui deliveries failed: \"%*s\"",
                      b->n, (size_t) reply->len, reply->str);
    }

    for (i = 0; i < b->n; i++) {
        d = b->d[i];

        if (d) {
            d->batched = NULL;
            ngx_http_webhooks_delivery_end(d);
        }
    }

    ngx_destroy_pool(b->pool);
}


/*
 * Refused by a limit in the delivery location: the receiver got nothing,
 * so nothing is recorded but the time, and the delivery waits its turn
 * again, neither failed nor tried.
 */

static void
ngx_http_webhooks_delivery_throttle(ngx_http_webhooks_delivery_t *d)
{
    ngx_str_t  at;

    at.data = ngx_pnalloc(d->pool, sizeof("2011-09-06T17:26:27Z"));

    if (at.data) {
        at.len = ngx_http_webhooks_json_time(at.data, ngx_time()) - at.data;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" to \"%V\" throttled "
                      "(%i), put off", &d->entry.key, &d->aim.parts.host,
                      d->rc);

        d->entry.throttle(&d->entry, &at);
    }

    /* else pending still: claimed again after the claim timeout */

    ngx_http_webhooks_delivery_end(d);
}


static void
ngx_http_webhooks_delivery_end(ngx_http_webhooks_delivery_t *d)
{
    d->ended = 1;
    ngx_destroy_pool(d->pool);
}


static void
ngx_http_webhooks_delivery_cleanup(void *data)
{
    ngx_http_webhooks_delivery_t *d = data;

    ngx_http_webhooks_subrequest_cancel(&d->sr);

    if (!d->ended) {
        /*
         * nginx closed the fake request itself (an internal error in the
         * subrequest) or something failed early: the entry stays pending
         */
        if (d->blocked.posted) {
            ngx_delete_posted_event(&d->blocked);
        }

        if (d->cmd) {
            ngx_http_webhooks_redis_cancel(d->cmd);
        }

        ngx_http_webhooks_address_aim_cancel(&d->aim);
    }

    if (d->queued) {
        ngx_queue_remove(&d->waiting);
        d->queued = 0;
    }

    if (d->batched) {
        /* its args are gone: a call under way must not be resent */
        *d->batched = NULL;
    }

    if (!d->released) {
        d->released = 1;
        d->entry.done(&d->entry);
        ngx_http_webhooks_stats_in_flight(-1);
    }
}


/*
 * $webhooks_hook_id and $webhooks_scope in a delivery: whose delivery it
 * is, for limits per hook or per org or repo.  NGX_DECLINED when r is no
 * delivery, for the API's own values.
 */

ngx_int_t
ngx_http_webhooks_delivery_hook_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    ngx_http_webhooks_delivery_t  *d;

    d = ngx_http_webhooks_subrequest_data(r);

    if (d == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_webhooks_subrequest_variable(r, v,
                                 offsetof(ngx_http_webhooks_delivery_t, hook));
}


/* "org:<name>" or "repo:<owner>/<name>", from the delivery's hooks key */

ngx_int_t
ngx_http_webhooks_delivery_scope(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    u_char                        *p, *last, *name;
    ngx_uint_t                     org;
    ngx_http_webhooks_delivery_t  *d;

    d = ngx_http_webhooks_subrequest_data(r);

    if (d == NULL) {
        return NGX_DECLINED;
    }

    v->not_found = 1;

    /*
     * "<prefix>{o:<org>}:hooks" or "<prefix>{r:<owner>/<repo>}:hooks":
     * the last "{", as names have none and a prefix may
     */

    last = d->hooks.data + d->hooks.len;

    for (p = last; p > d->hooks.data && p[-1] != '{'; p--) {
        /* void */
    }

    if (p == d->hooks.data || last - p < 3 || p[1] != ':'
        || (p[0] != 'o' && p[0] != 'r'))
    {
        return NGX_OK;
    }

    p--;

    name = p + 3;
    last = ngx_strlchr(name, last, '}');

    if (last == NULL) {
        return NGX_OK;
    }

    v->data = ngx_pnalloc(r->pool, sizeof("repo:") - 1 + (last - name));
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    org = (p[1] == 'o');

    p = org ? ngx_cpymem(v->data, "org:", 4)
            : ngx_cpymem(v->data, "repo:", 5);
    p = ngx_cpymem(p, name, last - name);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
