
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_queue.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_secret.h"
#include "ngx_http_webhooks_sender.h"
#include "ngx_http_webhooks_sign.h"
#include "ngx_http_webhooks_stats.h"
#include "ngx_http_webhooks_store.h"


/*
 * One delivery attempt.  nginx makes it: a subrequest to the location
 * the operator configured (proxy_pass $webhooks_delivery_url, TLS,
 * timeouts), so nothing here connects anywhere by itself.  The hook's
 * host is resolved here first, with the resolver of the server the
 * subrequests run in, and $webhooks_delivery_url names the address
 * that was checked (see ngx_http_webhooks_address.c); the name stays
 * in $webhooks_delivery_host, for the Host header and TLS.
 *
 * A queue consumer has no client request, so the subrequest gets a
 * parent of its own: a request on a connection whose descriptor is a
 * duplicate of /dev/null and whose events count as already added, so
 * that the upstream module adds none, and nginx's own close path works
 * on it if the request is ever terminated.  Filters keep the response
 * (capped) from going anywhere, and a writer on the connection's log
 * learns why an attempt failed.
 */


/* the deadline of "auto": GitHub's 10 s and a margin, or the proxy's */
#define NGX_HTTP_WEBHOOKS_DEADLINE         15000
#define NGX_HTTP_WEBHOOKS_DEADLINE_MARGIN  5000


/* what the log keeps of a receiver's headers, as GitLab does */
#define NGX_HTTP_WEBHOOKS_HEADERS_MAX  50
#define NGX_HTTP_WEBHOOKS_HEADER_MAX   1024


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
} ngx_http_webhooks_about_t;


typedef struct {
    ngx_pool_t                      *pool;
    ngx_http_webhooks_main_conf_t   *wmcf;
    ngx_http_webhooks_redis_cmd_t   *cmd;
    ngx_str_t                       *done;      /* done.lua's args */
    ngx_uint_t                       ndone;
    ngx_str_t                        fetched_payload;

    ngx_http_webhooks_queue_entry_t  entry;     /* in the queue */
    ngx_str_t                        payload;   /* its key */
    ngx_http_webhooks_about_t        about;     /* what the entry says */
    ngx_uint_t                       attempt;
    time_t                           retry_after;

    /* for the delivery location's log */
    ngx_str_t                        id;
    ngx_str_t                        guid;
    ngx_str_t                        event;
    ngx_str_t                        attempt_text;

    ngx_str_t                        url;
    ngx_http_webhooks_url_t          parts;
    ngx_str_t                        target;    /* what proxy_pass gets */
    ngx_resolver_ctx_t              *resolving;
    ngx_str_t                        body;
    ngx_array_t                      headers;   /* of ngx_keyval_t */
    ngx_uint_t                       insecure;
    time_t                           sent_at;
    ngx_msec_t                       start;

    ngx_connection_t                *conn;
    ngx_http_request_t              *request;
    ngx_http_request_t              *sub;       /* the subrequest */
    ngx_event_t                      finish;
    ngx_event_t                      deadline;
    ngx_msec_t                       started;   /* the subrequest */

    ngx_int_t                        rc;
    ngx_uint_t                       status;
    const char                      *error;
    ngx_str_t                        response_headers;   /* JSON */
    ngx_str_t                        hooks;
    ngx_str_t                        hook;
    u_char                          *response;
    size_t                           response_len;
    off_t                            response_expected;   /* -1: unsaid */
    off_t                            response_read;

    unsigned                         from_receiver:1;
    unsigned                         fetched:1; /* about is the entry's */
    unsigned                         response_cut:1;
    unsigned                         auto_retry:1;
    unsigned                         released:1;
    unsigned                         ended:1;
    unsigned                         throttled:1;
    unsigned                         limits:1;  /* in the preaccess phase */
} ngx_http_webhooks_delivery_t;



static void ngx_http_webhooks_take_done(void *data, redisReply *reply);
static void ngx_http_webhooks_hook_done(void *data, redisReply *reply);
static void ngx_http_webhooks_take_go(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *about, redisReply *hook, redisReply *payload);
static void ngx_http_webhooks_outcome_done(void *data, redisReply *reply);
static ngx_int_t ngx_http_webhooks_about_entry(
    ngx_http_webhooks_queue_entry_t *e, ngx_http_webhooks_about_t *a);
static void ngx_http_webhooks_about_record(redisReply *record,
    ngx_http_webhooks_about_t *a);
static ngx_int_t ngx_http_webhooks_about_log(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *a);
static ngx_int_t ngx_http_webhooks_aim(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_resolved(ngx_resolver_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_aimed(ngx_http_webhooks_delivery_t *d,
    struct sockaddr *sa, socklen_t socklen);
static void ngx_http_webhooks_blocked(ngx_http_webhooks_delivery_t *d,
    const char *fmt, ...);
static ngx_int_t ngx_http_webhooks_prepare(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *a, redisReply *hook, redisReply *payload);
static ngx_int_t ngx_http_webhooks_add(ngx_http_webhooks_delivery_t *d,
    char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_webhooks_start(ngx_http_webhooks_delivery_t *d);
static ngx_int_t ngx_http_webhooks_post_subrequest(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_webhooks_parent_handler(ngx_http_request_t *r);
static void ngx_http_webhooks_finish_handler(ngx_event_t *ev);
static void ngx_http_webhooks_deadline_handler(ngx_event_t *ev);
static void ngx_http_webhooks_record(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_record_done(void *data, redisReply *reply);
static void ngx_http_webhooks_throttle(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_ack(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_end(ngx_http_webhooks_delivery_t *d);
static void ngx_http_webhooks_delivery_cleanup(void *data);
static void ngx_http_webhooks_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static u_char *ngx_http_webhooks_log_handler(ngx_log_t *log, u_char *buf,
    size_t len);
static void ngx_http_webhooks_fake_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_webhooks_preaccess_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_precontent_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static size_t ngx_http_webhooks_utf8_cut(u_char *p, size_t len,
    size_t max);
static ngx_int_t ngx_http_webhooks_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static time_t ngx_http_webhooks_retry_after(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_again(ngx_http_webhooks_delivery_t *d,
    ngx_uint_t ok, ngx_str_t *due);
static ngx_msec_t ngx_http_webhooks_queued_for(ngx_str_t *id);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_socket_t  ngx_http_webhooks_devnull = (ngx_socket_t) -1;

static ngx_str_t  ngx_http_webhooks_post = ngx_string("POST");

static struct sockaddr_in  ngx_http_webhooks_sin;


/* what the delivery location may log, by offset in the delivery */

static struct {
    ngx_str_t                        name;
    uintptr_t                        offset;
} ngx_http_webhooks_log_variables[] = {
    { ngx_string("webhooks_delivery_id"),
      offsetof(ngx_http_webhooks_delivery_t, id) },
    { ngx_string("webhooks_delivery_guid"),
      offsetof(ngx_http_webhooks_delivery_t, guid) },
    { ngx_string("webhooks_delivery_event"),
      offsetof(ngx_http_webhooks_delivery_t, event) },
    { ngx_string("webhooks_delivery_attempt"),
      offsetof(ngx_http_webhooks_delivery_t, attempt_text) },
};


ngx_int_t
ngx_http_webhooks_sender_conf(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *var;

    static ngx_str_t  url = ngx_string("webhooks_delivery_url");
    static ngx_str_t  host = ngx_string("webhooks_delivery_host");

    for (i = 0; i < sizeof(ngx_http_webhooks_log_variables)
                    / sizeof(ngx_http_webhooks_log_variables[0]); i++)
    {
        var = ngx_http_add_variable(cf,
                                    &ngx_http_webhooks_log_variables[i].name,
                                    NGX_HTTP_VAR_NOCACHEABLE);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = ngx_http_webhooks_variable;
        var->data = ngx_http_webhooks_log_variables[i].offset;
    }

    var = ngx_http_add_variable(cf, &url, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_webhooks_variable;
    var->data = offsetof(ngx_http_webhooks_delivery_t, target);

    var = ngx_http_add_variable(cf, &host, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_webhooks_variable;
    var->data = offsetof(ngx_http_webhooks_delivery_t, parts)
                + offsetof(ngx_http_webhooks_url_t, host);

    return NGX_OK;
}


/*
 * Where a delivery's subrequest is: between these two it is with the
 * limits (limit_req, limit_conn), whose refusal is no failure.  Handlers
 * registered last run first in their phase.
 */

ngx_int_t
ngx_http_webhooks_sender_phases(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhooks_preaccess_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhooks_precontent_handler;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_sender_filters(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_webhooks_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_webhooks_body_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_sender_init(ngx_cycle_t *cycle)
{
    ngx_http_webhooks_devnull = open("/dev/null", O_RDWR);

    if (ngx_http_webhooks_devnull == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "webhooks: open(\"/dev/null\") failed");
        return NGX_ERROR;
    }

    ngx_http_webhooks_sin.sin_family = AF_INET;
    ngx_http_webhooks_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    return NGX_OK;
}


void
ngx_http_webhooks_sender_done(ngx_cycle_t *cycle)
{
    if (ngx_http_webhooks_devnull != (ngx_socket_t) -1) {
        (void) close(ngx_http_webhooks_devnull);
        ngx_http_webhooks_devnull = (ngx_socket_t) -1;
    }
}


/*
 * Takes a queue entry on: NGX_OK means the queue is told when it is
 * over, through the entry's done().
 */

ngx_int_t
ngx_http_webhooks_deliver(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_queue_entry_t *e)
{
    ngx_str_t                      args[NGX_HTTP_WEBHOOKS_FETCH_NARGS];
    ngx_pool_t                    *pool;
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

    d->finish.handler = ngx_http_webhooks_finish_handler;
    d->finish.data = d;
    d->finish.log = ngx_cycle->log;

    d->deadline.handler = ngx_http_webhooks_deadline_handler;
    d->deadline.data = d;
    d->deadline.log = ngx_cycle->log;

    if (ngx_http_webhooks_about_entry(&d->entry, &d->about) == NGX_OK) {
        /* what the entry does not say: whether the delivery is still on */
        d->fetched = 1;

        args[NGX_HTTP_WEBHOOKS_FETCH_DELIVERY] = d->entry.key;
        args[NGX_HTTP_WEBHOOKS_FETCH_PAYLOAD] = d->about.payload;

        d->cmd = ngx_http_webhooks_redis_script(pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_FETCH,
                                            ngx_http_webhooks_take_done, d,
                                            NGX_HTTP_WEBHOOKS_FETCH_NKEYS,
                                            NGX_HTTP_WEBHOOKS_FETCH_NARGS,
                                            args);

    } else {
        /* queued by an older version: the record says it all */
        d->cmd = ngx_http_webhooks_redis_script(pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_TAKE,
                                            ngx_http_webhooks_take_done, d,
                                            NGX_HTTP_WEBHOOKS_TAKE_NKEYS,
                                            NGX_HTTP_WEBHOOKS_TAKE_NARGS,
                                            &d->entry.key);
    }

    if (d->cmd == NULL) {
        /* released by the cleanup; the entry waits to be claimed again */
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    return NGX_OK;
}


static void
ngx_http_webhooks_take_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    size_t                      argvlen[3];
    const char                 *argv[3];
    redisReply                 *hook, *payload;
    ngx_http_webhooks_about_t   about;

    d->cmd = NULL;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: taking delivery \"%V\" failed: \"%*s\"",
                          &d->entry.key, (size_t) reply->len, reply->str);
        }

        /* still pending in the queue: claimed again later */
        ngx_destroy_pool(d->pool);
        return;
    }

    /*
     * the payload, from the queue shard, for an entry that says the
     * rest; then the hook, from its scope, with a command of its own
     */

    if (d->fetched) {
        if (reply->type != REDIS_REPLY_STRING) {
            ngx_http_webhooks_take_go(d, &d->about, NULL, NULL);
            return;
        }

        d->fetched_payload.len = reply->len;
        d->fetched_payload.data = ngx_pnalloc(d->pool, reply->len + 1);
        if (d->fetched_payload.data == NULL) {
            ngx_destroy_pool(d->pool);
            return;
        }

        ngx_memcpy(d->fetched_payload.data, reply->str, reply->len);

        argv[0] = "HGET";
        argvlen[0] = 4;
        argv[1] = (const char *) d->about.hooks.data;
        argvlen[1] = d->about.hooks.len;
        argv[2] = (const char *) d->about.hook.data;
        argvlen[2] = d->about.hook.len;

        d->cmd = ngx_http_webhooks_redis_command(ngx_http_webhooks_hook_done,
                                                 d, 3, argv, argvlen);
        if (d->cmd == NULL) {
            ngx_destroy_pool(d->pool);
        }

        return;
    }

    /* [record, hook, payload]: queued by an older version */

    hook = NULL;
    payload = NULL;

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3
        && reply->element[0]->type == REDIS_REPLY_ARRAY)
    {
        ngx_http_webhooks_about_record(reply->element[0], &about);
        hook = reply->element[1];
        payload = reply->element[2];
    }

    ngx_http_webhooks_take_go(d, &about, hook, payload);
}


static void
ngx_http_webhooks_hook_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    ngx_int_t    attempt;
    redisReply   payload;

    d->cmd = NULL;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: reading the hook of \"%V\" failed: "
                          "\"%*s\"", &d->entry.key, (size_t) reply->len,
                          reply->str);
        }

        ngx_destroy_pool(d->pool);
        return;
    }

    /* a try again or a delivery put off goes to an active hook only */

    attempt = ngx_atoi(d->about.attempt.data, d->about.attempt.len);

    if (reply->type == REDIS_REPLY_STRING
        && (d->entry.deferred || attempt > 1)
        && ngx_strnstr((u_char *) reply->str, "\"active\":true",
                       reply->len) == NULL)
    {
        ngx_http_webhooks_take_go(d, &d->about, NULL, NULL);
        return;
    }

    ngx_memzero(&payload, sizeof(redisReply));
    payload.type = REDIS_REPLY_STRING;
    payload.str = (char *) d->fetched_payload.data;
    payload.len = d->fetched_payload.len;

    ngx_http_webhooks_take_go(d, &d->about, reply, &payload);
}


static void
ngx_http_webhooks_take_go(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *about, redisReply *hook, redisReply *payload)
{
    ngx_int_t  rc;

    if (hook == NULL || hook->type != REDIS_REPLY_STRING
        || payload->type != REDIS_REPLY_STRING)
    {
        /* the delivery, its hook or its payload expired or was deleted */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" is gone, dropped",
                      &d->entry.key);
        ngx_http_webhooks_ack(d);
        return;
    }

    rc = ngx_http_webhooks_prepare(d, about, hook, payload);

    if (rc == NGX_DECLINED) {
        /* never sent unsigned: failed, and maybe tried again later */
        d->sent_at = ngx_time();
        d->start = ngx_current_msec;
        ngx_http_webhooks_record(d);
        return;
    }

    if (rc != NGX_OK) {
        ngx_destroy_pool(d->pool);
        return;
    }

    if (ngx_http_webhooks_aim(d) != NGX_OK) {
        ngx_destroy_pool(d->pool);
        return;
    }
}


/* what the stream entry says: all of it, or NGX_DECLINED */

static ngx_int_t
ngx_http_webhooks_about_entry(ngx_http_webhooks_queue_entry_t *e,
    ngx_http_webhooks_about_t *a)
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
ngx_http_webhooks_about_record(redisReply *record,
    ngx_http_webhooks_about_t *a)
{
    (void) ngx_http_webhooks_field(record, "guid", &a->guid);
    (void) ngx_http_webhooks_field(record, "event", &a->event);
    (void) ngx_http_webhooks_field(record, "hook", &a->hook);
    (void) ngx_http_webhooks_field(record, "hooks", &a->hooks);
    (void) ngx_http_webhooks_field(record, "payload", &a->payload);
    (void) ngx_http_webhooks_field(record, "attempt", &a->attempt);
    (void) ngx_http_webhooks_field(record, "auto", &a->auto_retry);
    (void) ngx_http_webhooks_field(record, "target_type", &a->target_type);
    (void) ngx_http_webhooks_field(record, "target_id", &a->target_id);
}


/*
 * The request as GitHub sends it, signed over the exact bytes;
 * NGX_DECLINED when the secret does not open, with d->error saying so.
 */

static ngx_int_t
ngx_http_webhooks_prepare(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *a, redisReply *hook, redisReply *payload)
{
    u_char     sha1[NGX_HTTP_WEBHOOKS_SHA1_LEN];
    u_char     sha256[NGX_HTTP_WEBHOOKS_SHA256_LEN];
    json_t    *doc, *config;
    ngx_int_t  rc;
    ngx_str_t  json, ct, secret, insecure, v, why;

    doc = ngx_http_webhooks_json_load(d->pool, (u_char *) hook->str,
                                      hook->len);
    if (doc == NULL) {
        return NGX_ERROR;
    }

    config = json_object_get(doc, "config");

    if (ngx_http_webhooks_json_str(config, "url", &d->url) != NGX_OK) {
        return NGX_ERROR;
    }

    (void) ngx_http_webhooks_json_str(config, "content_type", &ct);
    (void) ngx_http_webhooks_json_str(config, "insecure_ssl", &insecure);

    d->insecure = (insecure.len == 1 && insecure.data[0] == '1');

    d->url.data = ngx_pstrdup(d->pool, &d->url);
    if (d->url.data == NULL) {
        return NGX_ERROR;
    }

    json.data = (u_char *) payload->str;
    json.len = payload->len;

    if (ct.len == 4 && ngx_strncmp(ct.data, "form", 4) == 0) {
        if (ngx_http_webhooks_form_encode(d->pool, &json, &d->body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_str_set(&ct, "application/x-www-form-urlencoded");

    } else {
        d->body.len = json.len;
        d->body.data = ngx_pstrdup(d->pool, &json);
        if (d->body.data == NULL && json.len) {
            return NGX_ERROR;
        }

        ngx_str_set(&ct, "application/json");
    }

    if (ngx_array_init(&d->headers, d->pool, 12, sizeof(ngx_keyval_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_webhooks_add(d, "Accept", (u_char *) "*/*", 3) != NGX_OK
        || ngx_http_webhooks_add(d, "Content-Type", ct.data, ct.len)
           != NGX_OK
        || ngx_http_webhooks_add(d, "User-Agent",
                                 (u_char *) NGX_HTTP_WEBHOOKS_UA,
                                 sizeof(NGX_HTTP_WEBHOOKS_UA) - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->guid;
    if (ngx_http_webhooks_add(d, "X-GitHub-Delivery", v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->event;
    if (ngx_http_webhooks_add(d, "X-GitHub-Event", v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->hook;
    if (ngx_http_webhooks_add(d, "X-GitHub-Hook-ID", v.data, v.len)
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

    if (ngx_http_webhooks_about_log(d, a) != NGX_OK) {
        return NGX_ERROR;
    }

    v = a->target_id;
    if (v.len
        && ngx_http_webhooks_add(d, "X-GitHub-Hook-Installation-Target-ID",
                                 v.data, v.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = a->target_type;
    if (ngx_http_webhooks_add(d, "X-GitHub-Hook-Installation-Target-Type",
                              v.data, v.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_webhooks_secret_open(d->pool, d->wmcf->secret_keys,
                                       config, "secret", &d->hook, &secret,
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

    /* opened, or in the parsed hook: either goes with the pool */
    ngx_explicit_memzero(secret.data, secret.len);

    if (rc != NGX_OK
        || ngx_http_webhooks_add(d, "X-Hub-Signature", sha1, sizeof(sha1))
           != NGX_OK
        || ngx_http_webhooks_add(d, "X-Hub-Signature-256", sha256,
                                 sizeof(sha256))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* kept for the log variables: the record the fields came from goes */

static ngx_int_t
ngx_http_webhooks_about_log(ngx_http_webhooks_delivery_t *d,
    ngx_http_webhooks_about_t *a)
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


/*
 * Where this attempt goes: a literal address is checked as it is, a name
 * is resolved and every address it has is checked, so that one denied
 * answer among allowed ones cannot be picked later.  A name that does
 * not resolve fails the attempt: the check is never skipped.
 */

static ngx_int_t
ngx_http_webhooks_aim(ngx_http_webhooks_delivery_t *d)
{
    ngx_addr_t                 addr;
    ngx_resolver_ctx_t        *ctx, temp;
    struct sockaddr_in6        buf;
    ngx_http_core_loc_conf_t  *clcf;

    d->sent_at = ngx_time();
    d->start = ngx_current_msec;

    if (ngx_http_webhooks_url_parse(&d->url, &d->parts) != NGX_OK) {
        ngx_http_webhooks_blocked(d, "Invalid URL");
        return NGX_OK;
    }

    if (ngx_http_webhooks_port_allowed(d->wmcf, d->parts.port) != NGX_OK) {
        ngx_http_webhooks_blocked(d, "Blocked: port %d is not allowed",
                                  (int) d->parts.port);
        return NGX_OK;
    }

    switch (ngx_http_webhooks_literal(&d->parts.name, &addr, &buf)) {

    case NGX_OK:
        return ngx_http_webhooks_aimed(d, addr.sockaddr, addr.socklen);

    case NGX_ERROR:
        ngx_http_webhooks_blocked(d, "Invalid URL");
        return NGX_OK;

    default:
        break;
    }

    clcf = d->wmcf->sender_ctx->loc_conf[ngx_http_core_module.ctx_index];

    temp.name = d->parts.name;

    ctx = ngx_resolve_start(clcf->resolver, &temp);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx == NGX_NO_RESOLVER) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: no \"resolver\" for the delivery server, "
                      "\"%V\" cannot be resolved", &d->parts.name);
        ngx_http_webhooks_blocked(d, "failed to resolve host");
        return NGX_OK;
    }

    ctx->name = d->parts.name;
    ctx->handler = ngx_http_webhooks_resolved;
    ctx->data = d;
    ctx->timeout = clcf->resolver_timeout;

    d->resolving = ctx;

    /* the handler may run before this returns, with a cached answer */

    if (ngx_resolve_name(ctx) != NGX_OK) {
        d->resolving = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_webhooks_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_webhooks_delivery_t *d = ctx->data;

    u_char                text[NGX_SOCKADDR_STRLEN];
    size_t                len;
    ngx_uint_t            i;
    socklen_t             socklen;
    const char           *why;
    struct sockaddr_in6   buf;

    d->resolving = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\": \"%V\" could not be "
                      "resolved (%i: %s)", &d->entry.key, &ctx->name,
                      ctx->state, ngx_resolver_strerror(ctx->state));

        ngx_resolve_name_done(ctx);
        ngx_http_webhooks_blocked(d, "failed to resolve host");
        return;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        if (ngx_http_webhooks_address_check(d->wmcf, ctx->addrs[i].sockaddr,
                                            &why)
            != NGX_OK)
        {
            len = ngx_sock_ntop(ctx->addrs[i].sockaddr,
                                ctx->addrs[i].socklen, text,
                                NGX_SOCKADDR_STRLEN, 0);

            ngx_resolve_name_done(ctx);
            ngx_http_webhooks_blocked(d, "Blocked: %V resolves to %*s, %s",
                                      &d->parts.name, len, text, why);
            return;
        }
    }

    /* all allowed: any one will do, as nginx's own round robin would */

    i = ngx_random() % ctx->naddrs;

    socklen = ngx_min(ctx->addrs[i].socklen,
                      (socklen_t) sizeof(struct sockaddr_in6));
    ngx_memcpy(&buf, ctx->addrs[i].sockaddr, socklen);

    ngx_resolve_name_done(ctx);

    if (ngx_http_webhooks_aimed(d, (struct sockaddr *) &buf, socklen)
        != NGX_OK)
    {
        ngx_destroy_pool(d->pool);
    }
}


/* the checked address, in the URL proxy_pass gets */

static ngx_int_t
ngx_http_webhooks_aimed(ngx_http_webhooks_delivery_t *d, struct sockaddr *sa,
    socklen_t socklen)
{
    u_char                    *p, text[NGX_SOCKADDR_STRLEN];
    size_t                     len;
    const char                *why;
    ngx_http_webhooks_url_t   *u;

    u = &d->parts;

    ngx_inet_set_port(sa, u->port);
    len = ngx_sock_ntop(sa, socklen, text, NGX_SOCKADDR_STRLEN, 1);

    if (ngx_http_webhooks_address_check(d->wmcf, sa, &why) != NGX_OK) {
        /* the address without its port */
        len = ngx_sock_ntop(sa, socklen, text, NGX_SOCKADDR_STRLEN, 0);
        ngx_http_webhooks_blocked(d, "Blocked: %*s is %s", len, text, why);
        return NGX_OK;
    }

    /* proxy_pass with a variable sends its own URI if the URL has none */

    d->target.len = u->scheme.len + sizeof("://") - 1 + len + 1
                    + u->rest.len;
    d->target.data = ngx_pnalloc(d->pool, d->target.len);
    if (d->target.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(d->target.data, "%V://%*s", &u->scheme, len, text);

    if (u->rest.len == 0 || u->rest.data[0] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, u->rest.data, u->rest.len);
    d->target.len = p - d->target.data;

    return ngx_http_webhooks_start(d);
}


/* an attempt that never leaves: recorded as a failure, with why */

static void
ngx_http_webhooks_blocked(ngx_http_webhooks_delivery_t *d,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(d->pool, 256);

    if (p) {
        va_start(args, fmt);
        *ngx_vslprintf(p, p + 255, fmt, args) = '\0';
        va_end(args);

        d->error = (const char *) p;

    } else {
        d->error = "failed to connect to host";
    }

    ngx_post_event(&d->finish, &ngx_posted_events);
}


static ngx_int_t
ngx_http_webhooks_add(ngx_http_webhooks_delivery_t *d, char *name,
    u_char *value, size_t len)
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


static ngx_int_t
ngx_http_webhooks_start(ngx_http_webhooks_delivery_t *d)
{
    ngx_uint_t                      i;
    ngx_buf_t                      *b;
    ngx_log_t                      *log, *real;
    ngx_str_t                      *uri;
    ngx_socket_t                    fd;
    ngx_keyval_t                   *kv;
    ngx_chain_t                    *cl;
    ngx_table_elt_t                *h;
    ngx_connection_t               *c;
    ngx_http_request_t             *r, *sr;
    ngx_http_log_ctx_t             *lctx;
    ngx_http_connection_t          *hc;
    ngx_http_request_body_t        *rb;
    ngx_http_post_subrequest_t     *ps;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = d->wmcf;

    uri = (d->insecure && wmcf->insecure_uri.len) ? &wmcf->insecure_uri
                                                  : &wmcf->delivery_uri;

    log = ngx_pcalloc(d->pool, sizeof(ngx_log_t));
    lctx = ngx_pcalloc(d->pool, sizeof(ngx_http_log_ctx_t));
    hc = ngx_pcalloc(d->pool, sizeof(ngx_http_connection_t));

    if (log == NULL || lctx == NULL || hc == NULL) {
        return NGX_ERROR;
    }

    *log = *ngx_cycle->log;
    log->data = lctx;
    log->handler = ngx_http_webhooks_log_handler;
    log->action = NULL;

    fd = dup(ngx_http_webhooks_devnull);
    if (fd == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "webhooks: dup() failed");
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, log);
    if (c == NULL) {
        (void) close(fd);
        return NGX_ERROR;
    }

    d->conn = c;
    lctx->connection = c;
    hc->conf_ctx = wmcf->sender_ctx;

    c->data = hc;
    c->pool = d->pool;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->start_time = ngx_current_msec;
    c->log_error = NGX_ERROR_INFO;
    c->sockaddr = (struct sockaddr *) &ngx_http_webhooks_sin;
    c->socklen = sizeof(struct sockaddr_in);
    c->local_sockaddr = c->sockaddr;
    c->local_socklen = c->socklen;
    ngx_str_set(&c->addr_text, "127.0.0.1");

    /* never in epoll: the upstream module must not try to add them */
    c->read->active = 1;
    c->write->active = 1;
    c->write->ready = 1;
    c->read->handler = ngx_http_webhooks_fake_handler;
    c->write->handler = ngx_http_webhooks_fake_handler;
    c->read->log = log;
    c->write->log = log;
    c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;

    r = ngx_http_create_request(c);
    if (r == NULL) {
        ngx_close_connection(c);
        d->conn = NULL;
        return NGX_ERROR;
    }

    c->data = r;
    d->request = r;

    /*
     * ngx_http_create_request() gave the connection the location's error
     * log; the writer in front of it learns why an attempt failed
     */

    real = ngx_palloc(d->pool, sizeof(ngx_log_t));
    if (real == NULL) {
        goto failed;
    }

    *real = *c->log;
    c->log->next = real;
    c->log->writer = ngx_http_webhooks_log_writer;
    c->log->wdata = d;

    if (c->log->log_level < NGX_LOG_ERR) {
        c->log->log_level = NGX_LOG_ERR;
    }

    r->method = NGX_HTTP_POST;
    r->method_name = ngx_http_webhooks_post;
    r->http_version = NGX_HTTP_VERSION_11;
    r->uri = *uri;
    r->unparsed_uri = *uri;
    r->valid_unparsed_uri = 1;
    r->logged = 1;
    r->write_event_handler = ngx_http_webhooks_parent_handler;

    ngx_http_set_ctx(r, d, ngx_http_webhooks_module);

    if (ngx_list_init(&r->headers_in.headers, r->pool, 12,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        goto failed;
    }

    kv = d->headers.elts;

    for (i = 0; i < d->headers.nelts; i++) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            goto failed;
        }

        h->key = kv[i].key;
        h->value = kv[i].value;
        h->lowcase_key = ngx_pnalloc(r->pool, h->key.len);
        if (h->lowcase_key == NULL) {
            goto failed;
        }

        h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    /* the body, as if the client had sent it */

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (rb == NULL || b == NULL || cl == NULL) {
        goto failed;
    }

    b->pos = d->body.data;
    b->last = d->body.data + d->body.len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->rest = 0;
    r->request_body = rb;
    r->headers_in.content_length_n = d->body.len;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_webhooks_post_subrequest;
    ps->data = d;

    d->rc = NGX_OK;

    if (ngx_http_subrequest(r, uri, NULL, &sr, ps, 0) != NGX_OK) {
        goto failed;
    }

    sr->method = NGX_HTTP_POST;
    sr->method_name = r->method_name;

    ngx_http_set_ctx(sr, d, ngx_http_webhooks_module);

    /* whatever the location does, the attempt ends by then */

    d->sub = sr;
    d->started = ngx_current_msec;

    ngx_add_timer(&d->deadline, wmcf->delivery_timeout
                                ? wmcf->delivery_timeout
                                : NGX_HTTP_WEBHOOKS_DEADLINE);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "webhooks delivery \"%V\" to \"%V\" via \"%V\"",
                   &d->entry.key, &d->parts.host, uri);

    ngx_http_run_posted_requests(c);

    return NGX_OK;

failed:

    r->logged = 1;
    ngx_http_free_request(r, 0);
    c->pool = NULL;
    ngx_close_connection(c);
    d->conn = NULL;
    d->request = NULL;

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_webhooks_post_subrequest(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_webhooks_delivery_t *d = data;

    /* the first error counts: an error page may finalize it again */
    if (d->rc == NGX_OK && rc != NGX_OK && rc != NGX_AGAIN
        && rc != NGX_DONE)
    {
        d->rc = rc;

        /* refused by a limit, before any upstream: not the receiver's */
        d->throttled = (d->limits && r->upstream == NULL
                        && rc >= NGX_HTTP_BAD_REQUEST);
    }

    return rc;
}


static void
ngx_http_webhooks_parent_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_delivery_t  *d;

    if (r->count > 1) {
        /* the subrequest is not over */
        return;
    }

    d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    /* tear down outside of ngx_http_run_posted_requests() */
    if (!d->finish.posted) {
        ngx_post_event(&d->finish, &ngx_posted_events);
    }
}


static void
ngx_http_webhooks_finish_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_delivery_t *d = ev->data;

    ngx_connection_t  *c;

    if (d->request == NULL) {
        /* blocked before any subrequest */
        ngx_http_webhooks_record(d);
        return;
    }

    c = d->conn;

    if (d->deadline.timer_set) {
        ngx_del_timer(&d->deadline);
    }

    d->request->logged = 1;
    ngx_http_free_request(d->request, 0);

    /* the pool is ours until the outcome is recorded */
    c->pool = NULL;
    ngx_close_connection(c);

    d->conn = NULL;
    d->request = NULL;

    ngx_http_webhooks_record(d);
}


/*
 * An attempt past its deadline, whatever holds it (a limit's delay, an
 * upstream that trickles, a module that never finalizes): what the
 * subrequest holds is released through the request's cleanups, as
 * ngx_http_terminate_request() does, and the request is freed here,
 * never finalized again.
 */

static void
ngx_http_webhooks_deadline_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_delivery_t *d = ev->data;

    ngx_msec_t                 limit, elapsed;
    ngx_http_request_t        *r;
    ngx_http_cleanup_t        *cln;
    ngx_http_upstream_conf_t  *ucf;

    r = d->request;

    if (r == NULL || d->finish.posted) {
        return;
    }

    elapsed = ngx_current_msec - d->started;

    /* "auto": an upstream gets its own timeouts in full, and a margin */

    if (d->wmcf->delivery_timeout == 0 && d->sub->upstream
        && d->sub->upstream->conf)
    {
        ucf = d->sub->upstream->conf;
        limit = ucf->connect_timeout + ucf->send_timeout + ucf->read_timeout
                + NGX_HTTP_WEBHOOKS_DEADLINE_MARGIN;

        if (elapsed < limit) {
            ngx_add_timer(ev, limit - elapsed);
            return;
        }
    }

    if (r->blocked) {
        /* a thread or AIO works for it: not freed under its feet */
        ngx_add_timer(ev, 100);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "webhooks: delivery \"%V\" to \"%V\" ended: no outcome "
                  "after %M ms", &d->entry.key, &d->parts.host, elapsed);

    d->rc = NGX_HTTP_GATEWAY_TIME_OUT;
    d->from_receiver = 0;
    d->error = "timed out: past the delivery deadline";

    /* an upstream cleanup finalizes the subrequest: a reference for it */
    r->count++;

    cln = r->cleanup;
    r->cleanup = NULL;

    while (cln) {
        if (cln->handler) {
            cln->handler(cln->data);
        }

        cln = cln->next;
    }

    ngx_http_webhooks_finish_handler(&d->finish);
}


/* the outcome as GitHub words it, and the hook's last response */

static void
ngx_http_webhooks_record(ngx_http_webhooks_delivery_t *d)
{
    u_char        *p;
    ngx_str_t      status, last, code, duration, due, off, sig1, sig256;
    ngx_str_t      resp;
    ngx_str_t     *args, *hk;
    ngx_uint_t     i, n, ok, form;
    ngx_msec_t     ms;
    ngx_keyval_t  *kv;

    if (d->throttled) {
        ngx_http_webhooks_throttle(d);
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

        if (d->error && ngx_strcmp(d->error, "timed out") == 0) {
            p = ngx_sprintf(p, "Response cut short: timed out");

        } else if (d->response_expected >= 0) {
            p = ngx_sprintf(p, "Response cut short: %O of %O bytes",
                            d->response_read, d->response_expected);

        } else {
            p = ngx_sprintf(p, "Response cut short after %O bytes",
                            d->response_read);
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
    duration.data = p;
    duration.len = ngx_sprintf(p, "%M.%03M", ms / 1000, ms % 1000) - p;
    p += duration.len;

    /*
     * the request headers are made again when read, from the record and
     * the hook: kept are only what cannot be, the signatures (hex, no
     * "sha1=" or "sha256="), and a form's content type
     */

    kv = d->headers.elts;
    ngx_str_null(&sig1);
    ngx_str_null(&sig256);
    form = 0;

    for (i = 0; i < d->headers.nelts; i++) {
        if (kv[i].key.len == sizeof("X-Hub-Signature") - 1
            && kv[i].value.len > 5
            && ngx_strncmp(kv[i].key.data, "X-Hub-Signature", 15) == 0)
        {
            sig1.data = kv[i].value.data + 5;
            sig1.len = kv[i].value.len - 5;

        } else if (kv[i].key.len == sizeof("X-Hub-Signature-256") - 1
                   && kv[i].value.len > 7
                   && ngx_strncmp(kv[i].key.data, "X-Hub-Signature-256", 19)
                      == 0)
        {
            sig256.data = kv[i].value.data + 7;
            sig256.len = kv[i].value.len - 7;

        } else if (kv[i].key.len == sizeof("Content-Type") - 1
                   && ngx_strncmp(kv[i].key.data, "Content-Type", 12) == 0
                   && kv[i].value.len > 13
                   && ngx_strncmp(kv[i].value.data, "application/x", 13)
                      == 0)
        {
            form = 1;
        }
    }

    if (d->response_headers.len == 0) {
        ngx_str_set(&d->response_headers, "{}");
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

    if (ngx_http_webhooks_again(d, ok, &due) != NGX_OK) {
        goto failed;
    }

    ngx_http_webhooks_stats_inc(ngx_http_webhooks_stats_outcome(d->status,
                                                    d->from_receiver,
                                                    d->error), 1);
    ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_DURATION, ms);

    if (ok) {
        ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_LATENCY,
                                ngx_http_webhooks_queued_for(&d->entry.id));
    }

    if (due.len) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_RETRIES, 1);
    }

    /* what the hook says once its deliveries failed for the whole span */

    ngx_str_set(&off, "");

    if (!ok && d->wmcf->fail_span) {
        off.data = ngx_pnalloc(d->pool, status.len + 192);
        if (off.data == NULL) {
            goto failed;
        }

        off.len = ngx_sprintf(off.data,
                              "{\"code\":%V,\"status\":\"failed\","
                              "\"message\":\"Deactivated: every delivery "
                              "failed for %T seconds. Last: %V\"}",
                              &code, d->wmcf->fail_span, &status)
                  - off.data;
    }

    /* the hook's side first, in its scope; then the record's */

    hk = ngx_pcalloc(d->pool, NGX_HTTP_WEBHOOKS_OUTCOME_NARGS
                              * sizeof(ngx_str_t));
    if (hk == NULL) {
        goto failed;
    }

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_HOOKS] = d->hooks;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].len = d->hooks.len;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data = ngx_pnalloc(d->pool,
                                                           d->hooks.len);
    if (hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data == NULL
        || d->hooks.len < sizeof("hooks") - 1)
    {
        goto failed;
    }

    /* "<scope>hooks" -> "<scope>subs" */
    p = ngx_cpymem(hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data, d->hooks.data,
                   d->hooks.len - (sizeof("hooks") - 1));
    p = ngx_cpymem(p, "subs", 4);
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].len =
                                p - hk[NGX_HTTP_WEBHOOKS_OUTCOME_SUBS].data;

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_HOOK] = d->hook;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_LAST_RESPONSE] = last;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_FAIL_SPAN] = d->wmcf->fail_span_text;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_OFF_RESPONSE] = off;

    if (ok) {
        ngx_str_set(&hk[NGX_HTTP_WEBHOOKS_OUTCOME_OUTCOME], "ok");

    } else {
        ngx_str_set(&hk[NGX_HTTP_WEBHOOKS_OUTCOME_OUTCOME], "failed");
    }

    p = ngx_pnalloc(d->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        goto failed;
    }

    hk[NGX_HTTP_WEBHOOKS_OUTCOME_NOW].data = p;
    hk[NGX_HTTP_WEBHOOKS_OUTCOME_NOW].len = ngx_sprintf(p, "%T", ngx_time())
                                            - p;

    args = ngx_palloc(d->pool, (NGX_HTTP_WEBHOOKS_DONE_NARGS + 2 * 8)
                               * sizeof(ngx_str_t));
    if (args == NULL) {
        goto failed;
    }

    args[NGX_HTTP_WEBHOOKS_DONE_DELIVERY] = d->entry.key;
    args[NGX_HTTP_WEBHOOKS_DONE_QUEUE] = d->wmcf->shards[d->entry.shard].queue;
    args[NGX_HTTP_WEBHOOKS_DONE_RETRY] = d->wmcf->shards[d->entry.shard].retry;
    args[NGX_HTTP_WEBHOOKS_DONE_PAYLOAD] = d->payload;
    args[NGX_HTTP_WEBHOOKS_DONE_ENTRY] = d->entry.id;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DONE_GROUP], NGX_HTTP_WEBHOOKS_GROUP);
    args[NGX_HTTP_WEBHOOKS_DONE_TTL] = d->wmcf->retention_text;
    args[NGX_HTTP_WEBHOOKS_DONE_OUTCOME] =
                                         hk[NGX_HTTP_WEBHOOKS_OUTCOME_OUTCOME];
    args[NGX_HTTP_WEBHOOKS_DONE_AGAIN] = due;

    /* the record's fields, 8 of them, and their values */
    n = NGX_HTTP_WEBHOOKS_DONE_FIELDS;

    ngx_str_set(&args[n], "status"); n++;
    args[n++] = status;
    ngx_str_set(&args[n], "status_code"); n++;
    args[n++] = code;
    ngx_str_set(&args[n], "duration"); n++;
    args[n++] = duration;
    ngx_str_set(&args[n], "url"); n++;
    args[n++] = d->url;
    ngx_str_set(&args[n], "delivered_at"); n++;

    args[n].data = ngx_pnalloc(d->pool, sizeof("2011-09-06T17:26:27Z"));
    if (args[n].data == NULL) {
        goto failed;
    }

    args[n].len = ngx_http_webhooks_time(args[n].data, d->sent_at)
                  - args[n].data;
    n++;

    if (sig1.len) {
        ngx_str_set(&args[n], "s1"); n++;
        args[n++] = sig1;
    }

    if (sig256.len) {
        ngx_str_set(&args[n], "s256"); n++;
        args[n++] = sig256;
    }

    if (form) {
        ngx_str_set(&args[n], "form"); n++;
        ngx_str_set(&args[n], "1"); n++;
    }

    /* "<response headers JSON>\n<response body>" */

    resp.len = d->response_headers.len + 1 + d->response_len;
    resp.data = ngx_pnalloc(d->pool, resp.len);
    if (resp.data == NULL) {
        goto failed;
    }

    p = ngx_cpymem(resp.data, d->response_headers.data,
                   d->response_headers.len);
    *p++ = '\n';

    if (d->response_len) {
        ngx_memcpy(p, d->response, d->response_len);
    }

    args[NGX_HTTP_WEBHOOKS_DONE_RESPONSE] = resp;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "webhooks delivery \"%V\": %V \"%V\"",
                   &d->entry.key, &code, &status);

    d->done = args;
    d->ndone = n;

    d->cmd = ngx_http_webhooks_redis_script(d->pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_OUTCOME,
                                            ngx_http_webhooks_outcome_done, d,
                                            NGX_HTTP_WEBHOOKS_OUTCOME_NKEYS,
                                            NGX_HTTP_WEBHOOKS_OUTCOME_NARGS,
                                            hk);
    if (d->cmd) {
        return;
    }

failed:

    /* not recorded: the entry is claimed and sent again later */
    ngx_http_webhooks_end(d);
}


static void
ngx_http_webhooks_outcome_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    d->cmd = NULL;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "webhooks: recording delivery \"%V\" failed: "
                          "\"%*s\"", &d->entry.key, (size_t) reply->len,
                          reply->str);
        }

        /* not recorded: the entry is claimed and sent again later */
        ngx_http_webhooks_end(d);
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER && reply->integer != 1) {

        /* deactivated, or deleted: no try again */
        ngx_str_set(&d->done[NGX_HTTP_WEBHOOKS_DONE_AGAIN], "");

        if (reply->integer == 2) {
            ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_DEACTIVATED, 1);
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "webhooks: hook %V deactivated: its deliveries "
                          "failed for %T seconds, the last to \"%V\"",
                          &d->hook, d->wmcf->fail_span, &d->parts.host);
        }
    }

    d->cmd = ngx_http_webhooks_redis_script(d->pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_DONE,
                                            ngx_http_webhooks_record_done, d,
                                            NGX_HTTP_WEBHOOKS_DONE_NKEYS,
                                            d->ndone, d->done);
    if (d->cmd == NULL) {
        ngx_http_webhooks_end(d);
    }
}


static void
ngx_http_webhooks_record_done(void *data, redisReply *reply)
{
    ngx_http_webhooks_delivery_t *d = data;

    d->cmd = NULL;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: recording delivery \"%V\" failed: \"%*s\"",
                      &d->entry.key, (size_t) reply->len, reply->str);
    }

    ngx_http_webhooks_end(d);
}


/*
 * Refused by a limit in the delivery location: the receiver got nothing,
 * so nothing is recorded but the time, and the delivery waits its turn
 * again, neither failed nor tried.
 */

static void
ngx_http_webhooks_throttle(ngx_http_webhooks_delivery_t *d)
{
    ngx_str_t  at;

    at.data = ngx_pnalloc(d->pool, sizeof("2011-09-06T17:26:27Z"));

    if (at.data) {
        at.len = ngx_http_webhooks_time(at.data, ngx_time()) - at.data;

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: delivery \"%V\" to \"%V\" throttled "
                      "(%i), put off", &d->entry.key, &d->parts.host,
                      d->rc);

        d->entry.throttle(&d->entry, &at);
    }

    /* else pending still: claimed again after the claim timeout */

    ngx_http_webhooks_end(d);
}


/* done with an entry whose delivery cannot be made any more */

static void
ngx_http_webhooks_ack(ngx_http_webhooks_delivery_t *d)
{
    ngx_uint_t  i;
    ngx_str_t   args[NGX_HTTP_WEBHOOKS_DONE_NARGS];

    /* no outcome: the entry is only acknowledged */
    for (i = 0; i < NGX_HTTP_WEBHOOKS_DONE_NARGS; i++) {
        ngx_str_set(&args[i], "");
    }

    /* a key of the shard all the same where the entry names no payload */
    args[NGX_HTTP_WEBHOOKS_DONE_DELIVERY] = d->entry.key;
    args[NGX_HTTP_WEBHOOKS_DONE_QUEUE] = d->wmcf->shards[d->entry.shard].queue;
    args[NGX_HTTP_WEBHOOKS_DONE_RETRY] = d->wmcf->shards[d->entry.shard].retry;
    args[NGX_HTTP_WEBHOOKS_DONE_PAYLOAD] = d->entry.payload.len
                                           ? d->entry.payload : d->entry.key;
    args[NGX_HTTP_WEBHOOKS_DONE_ENTRY] = d->entry.id;
    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_DONE_GROUP], NGX_HTTP_WEBHOOKS_GROUP);

    d->cmd = ngx_http_webhooks_redis_script(d->pool,
                                            NGX_HTTP_WEBHOOKS_SCRIPT_DONE,
                                            ngx_http_webhooks_record_done, d,
                                            NGX_HTTP_WEBHOOKS_DONE_NKEYS,
                                            NGX_HTTP_WEBHOOKS_DONE_NARGS,
                                            args);
    if (d->cmd == NULL) {
        ngx_http_webhooks_end(d);
    }
}


/*
 * When to try a failed delivery again, in ms since the epoch, or "": a
 * 4xx other than 408 and 429 is the receiver's final word.  The delays
 * are spread out so that deliveries that failed together are not all
 * tried again at once; Retry-After moves a try later, up to the longest
 * delay.
 */

static ngx_int_t
ngx_http_webhooks_again(ngx_http_webhooks_delivery_t *d, ngx_uint_t ok,
    ngx_str_t *due)
{
    ngx_msec_t   delay, max, *steps;
    ngx_uint_t   i;
    ngx_time_t  *tp;

    ngx_str_set(due, "");

    if (ok || !d->auto_retry || d->wmcf->retry->nelts < d->attempt) {
        return NGX_OK;
    }

    if (d->from_receiver && d->status >= 400 && d->status < 500
        && d->status != NGX_HTTP_REQUEST_TIME_OUT
        && d->status != NGX_HTTP_TOO_MANY_REQUESTS)
    {
        return NGX_OK;
    }

    steps = d->wmcf->retry->elts;
    delay = steps[d->attempt - 1];

    /* 80% to 120% of the delay */
    delay = delay / 100 * (80 + ngx_random() % 41)
            + delay % 100 * (80 + ngx_random() % 41) / 100;

    if (d->retry_after > 0) {
        max = 0;

        for (i = 0; i < d->wmcf->retry->nelts; i++) {
            max = ngx_max(max, steps[i]);
        }

        delay = ngx_max(delay,
                        ngx_min((ngx_msec_t) d->retry_after * 1000, max));
    }

    due->data = ngx_pnalloc(d->pool, NGX_INT64_LEN);
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


/* since a stream entry was added: its id starts with the time in ms */

static ngx_msec_t
ngx_http_webhooks_queued_for(ngx_str_t *id)
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


/* Retry-After in seconds, from either of its forms */

static time_t
ngx_http_webhooks_retry_after(ngx_http_request_t *r)
{
    time_t            t;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Retry-After") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After",
                               sizeof("Retry-After") - 1)
               != 0)
        {
            continue;
        }

        t = ngx_atotm(h[i].value.data, h[i].value.len);

        if (t == NGX_ERROR) {
            t = ngx_parse_http_time(h[i].value.data, h[i].value.len);

            if (t == NGX_ERROR) {
                return 0;
            }

            t -= ngx_time();
        }

        return t > 0 ? t : 0;
    }
}


static void
ngx_http_webhooks_end(ngx_http_webhooks_delivery_t *d)
{
    d->ended = 1;
    ngx_destroy_pool(d->pool);
}


static void
ngx_http_webhooks_delivery_cleanup(void *data)
{
    ngx_http_webhooks_delivery_t *d = data;

    if (d->deadline.timer_set) {
        ngx_del_timer(&d->deadline);
    }

    if (!d->ended) {
        /*
         * nginx closed the fake request itself (an internal error in the
         * subrequest) or something failed early: the entry stays pending
         */
        if (d->finish.posted) {
            ngx_delete_posted_event(&d->finish);
        }

        if (d->cmd) {
            ngx_http_webhooks_redis_cancel(d->cmd);
        }

        if (d->resolving) {
            ngx_resolve_name_done(d->resolving);
            d->resolving = NULL;
        }
    }

    if (!d->released) {
        d->released = 1;
        d->entry.done(&d->entry);
        ngx_http_webhooks_stats_in_flight(-1);
    }
}


static void
ngx_http_webhooks_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    ngx_http_webhooks_delivery_t *d = log->wdata;

    if (d->error || level > NGX_LOG_ERR) {
        return;
    }

    if (ngx_strlcasestrn(buf, buf + len, (u_char *) "timed out", 9 - 1)) {
        d->error = "timed out";

    } else if (ngx_strlcasestrn(buf, buf + len, (u_char *) "too big header",
                                14 - 1))
    {
        /* past proxy_buffer_size */
        d->error = "response headers too large";

    } else if (ngx_strlcasestrn(buf, buf + len,
                                (u_char *) "certificate verify", 18 - 1))
    {
        d->error = "Peer certificate cannot be authenticated with given "
                   "CA certificates";

    } else if (ngx_strlcasestrn(buf, buf + len, (u_char *) "SSL_do_handshake",
                                16 - 1))
    {
        d->error = "SSL handshake failed";

    } else if (ngx_strlcasestrn(buf, buf + len, (u_char *) "resolve", 7 - 1)
               || ngx_strlcasestrn(buf, buf + len, (u_char *) "resolver",
                                   8 - 1))
    {
        d->error = "failed to resolve host";

    } else if (ngx_strlcasestrn(buf, buf + len, (u_char *) "connect()", 9 - 1)
               || ngx_strlcasestrn(buf, buf + len,
                                   (u_char *) "no live upstreams", 17 - 1))
    {
        d->error = "failed to connect to host";

    } else if (ngx_strlcasestrn(buf, buf + len, (u_char *) "upstream", 8 - 1))
    {
        d->error = "invalid HTTP response";
    }
}


static u_char *
ngx_http_webhooks_log_handler(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char                        *p;
    ngx_http_log_ctx_t            *ctx;
    ngx_http_request_t            *r;
    ngx_http_webhooks_delivery_t  *d;

    ctx = log->data;
    r = ctx->request;
    p = buf;

    if (r == NULL) {
        return p;
    }

    d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    if (d) {
        p = ngx_snprintf(p, len, " while delivering webhook \"%V\" to \"%V\"",
                         &d->entry.key, &d->parts.host);
        len -= p - buf;
    }

    if (r->log_handler && ctx->current_request) {
        return r->log_handler(r, ctx->current_request, p, len);
    }

    return p;
}


/*
 * The descriptor is never in epoll: what comes is a timer, as the one
 * limit_req delays a request with, and it runs the request as nginx's
 * own connection handler would.
 */

static void
ngx_http_webhooks_fake_handler(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    c = ev->data;
    r = c->data;

    ngx_http_set_log_request(c->log, r);

    if (ev->delayed && ev->timedout) {
        ev->delayed = 0;
        ev->timedout = 0;
    }

    if (ev->write) {
        r->write_event_handler(r);

    } else {
        r->read_event_handler(r);
    }

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_webhooks_preaccess_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_delivery_t  *d;

    if (r != r->main) {
        d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

        if (d) {
            d->limits = 1;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_webhooks_precontent_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_delivery_t  *d;

    if (r != r->main) {
        d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

        if (d) {
            d->limits = 0;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_webhooks_header_filter(ngx_http_request_t *r)
{
    u_char                        *p;
    size_t                         len, klen, vlen;
    ngx_uint_t                     i, n;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *h, *kept[NGX_HTTP_WEBHOOKS_HEADERS_MAX];
    ngx_http_webhooks_delivery_t  *d;

    if (r == r->main) {
        return ngx_http_next_header_filter(r);
    }

    d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    if (d == NULL) {
        return ngx_http_next_header_filter(r);
    }

    d->status = r->headers_out.status;

    /* an error page of nginx's own is not the receiver's answer */

    if (r->err_status || r->upstream == NULL
        || r->upstream->headers_in.status_n == 0)
    {
        return NGX_OK;
    }

    d->from_receiver = 1;
    d->response_expected = r->upstream->headers_in.content_length_n;

    if (d->status == NGX_HTTP_TOO_MANY_REQUESTS
        || d->status == NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        d->retry_after = ngx_http_webhooks_retry_after(r);
    }

    /* {"Name":"value",...}: the first 50, escaped, each part cut */

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;
    len = 2;
    n = 0;

    for (i = 0; n < NGX_HTTP_WEBHOOKS_HEADERS_MAX; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        kept[n++] = &h[i];

        klen = ngx_http_webhooks_utf8_cut(h[i].key.data, h[i].key.len,
                                          NGX_HTTP_WEBHOOKS_HEADER_MAX);
        vlen = ngx_http_webhooks_utf8_cut(h[i].value.data, h[i].value.len,
                                          NGX_HTTP_WEBHOOKS_HEADER_MAX);

        len += klen + ngx_escape_json(NULL, h[i].key.data, klen)
               + vlen + ngx_escape_json(NULL, h[i].value.data, vlen)
               + sizeof("\"\":\"\",");
    }

    p = ngx_pnalloc(d->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    d->response_headers.data = p;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        klen = ngx_http_webhooks_utf8_cut(kept[i]->key.data,
                                          kept[i]->key.len,
                                          NGX_HTTP_WEBHOOKS_HEADER_MAX);
        vlen = ngx_http_webhooks_utf8_cut(kept[i]->value.data,
                                          kept[i]->value.len,
                                          NGX_HTTP_WEBHOOKS_HEADER_MAX);

        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, kept[i]->key.data, klen);
        *p++ = '"';
        *p++ = ':';
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, kept[i]->value.data, vlen);
        *p++ = '"';
    }

    *p++ = '}';
    d->response_headers.len = p - d->response_headers.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                         n, size, max;
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    ngx_http_webhooks_delivery_t  *d;

    if (r == r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    d = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    if (d == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    max = d->wmcf->response_max;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        d->response_read += ngx_buf_size(b);

        if (d->from_receiver && ngx_buf_in_memory(b) && b->last != b->pos
            && !d->response_cut)
        {
            size = b->last - b->pos;

            if (d->response == NULL) {
                /* one byte more tells where the cut falls */
                d->response = ngx_pnalloc(d->pool, max + 1);
                if (d->response == NULL) {
                    return NGX_ERROR;
                }
            }

            n = ngx_min(size, max + 1 - d->response_len);
            ngx_memcpy(d->response + d->response_len, b->pos, n);
            d->response_len += n;

            if (d->response_len > max) {
                d->response_len = ngx_http_webhooks_utf8_cut(d->response,
                                                     d->response_len, max);
                d->response_cut = 1;
            }
        }

        /* consumed: what is past the cap is dropped */
        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


/*
 * At most max bytes of text, cut where a UTF-8 character starts: the
 * log is JSON, in which a character cut short would lose the whole value
 */

static size_t
ngx_http_webhooks_utf8_cut(u_char *p, size_t len, size_t max)
{
    size_t  n;

    if (len <= max) {
        return len;
    }

    /* the first byte cut off continues a character: drop its start */

    for (n = max; n > 0 && max - n < 3 && (p[n] & 0xc0) == 0x80; n--) {
        /* void */
    }

    return ((p[n] & 0xc0) == 0xc0) ? n : max;
}


/* the delivery's variables: data is the offset of their ngx_str_t */

static ngx_int_t
ngx_http_webhooks_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     *s;
    ngx_http_webhooks_delivery_t  *d;

    d = (r != r->main) ? ngx_http_get_module_ctx(r, ngx_http_webhooks_module)
                       : NULL;

    if (d == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) d + data);

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * $webhooks_hook_id and $webhooks_scope in a delivery: whose delivery it
 * is, for limits per hook or per org or repo.  NGX_DECLINED when r is no
 * delivery, for the API's own values.
 */

ngx_int_t
ngx_http_webhooks_sender_hook_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    ngx_http_webhooks_delivery_t  *d;

    d = (r != r->main) ? ngx_http_get_module_ctx(r, ngx_http_webhooks_module)
                       : NULL;

    if (d == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_webhooks_variable(r, v,
                                 offsetof(ngx_http_webhooks_delivery_t, hook));
}


/* "org:<name>" or "repo:<owner>/<name>", from the delivery's hooks key */

ngx_int_t
ngx_http_webhooks_sender_scope(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    u_char                        *p, *last, *name;
    ngx_uint_t                     org;
    ngx_http_webhooks_delivery_t  *d;

    d = (r != r->main) ? ngx_http_get_module_ctx(r, ngx_http_webhooks_module)
                       : NULL;

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
