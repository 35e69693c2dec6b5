
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_intake.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_json_scan.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_router.h"
#include "ngx_http_webhooks_sign.h"
#include "ngx_http_webhooks_store.h"
#include "ngx_http_webhooks_stats.h"


/*
 * POST an event: X-GitHub-Event names it, the body is the payload as
 * receivers get it.  The payload names its targets: the repository's
 * hooks and the organization's.  202 only once every delivery is in
 * Redis.
 *
 * Each scope is taken in with two steps, one per Redis Cluster slot: the
 * hooks that take the event are read from the scope's subscription index
 * (a plain HMGET; subs.lua when it is not built yet or there are objects
 * to keep), intake.lua queues their deliveries in the scope's shard, in
 * one call with the other events of the same pass of the event loop in
 * that shard.  Under an Idempotency-Key, idem.lua first claims the key
 * for the event's GUID and at last records the count; a request cut
 * short between steps is taken in again under the same GUID, and each
 * step done does nothing twice.
 */


#define NGX_HTTP_WEBHOOKS_PAYLOAD_MAX  (25 * 1024 * 1024)
#define NGX_HTTP_WEBHOOKS_IDEM_MAX     255


/*
 * An event's fields, as a step is made of them (ctx->args), the scope's
 * filled in per step:
 */

#define NGX_HTTP_WEBHOOKS_INTAKE_E_PAYLOAD_KEY      0
#define NGX_HTTP_WEBHOOKS_INTAKE_E_SEEN             1
#define NGX_HTTP_WEBHOOKS_INTAKE_E_LASTPUSH         2
#define NGX_HTTP_WEBHOOKS_INTAKE_E_GUID             3
#define NGX_HTTP_WEBHOOKS_INTAKE_E_EVENT            4
#define NGX_HTTP_WEBHOOKS_INTAKE_E_NOW              5
#define NGX_HTTP_WEBHOOKS_INTAKE_E_ACTION           6
#define NGX_HTTP_WEBHOOKS_INTAKE_E_REPOSITORY_ID    7
#define NGX_HTTP_WEBHOOKS_INTAKE_E_INSTALLATION_ID  8
#define NGX_HTTP_WEBHOOKS_INTAKE_E_REDELIVERY       9
#define NGX_HTTP_WEBHOOKS_INTAKE_E_HOOKS            10
#define NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_TYPE      11
#define NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_ID        12
#define NGX_HTTP_WEBHOOKS_INTAKE_E_IDEM             13
#define NGX_HTTP_WEBHOOKS_INTAKE_E_PUSH             14
#define NGX_HTTP_WEBHOOKS_INTAKE_E_N                15
#define NGX_HTTP_WEBHOOKS_INTAKE_E_ARGS             16

/*
 * intake.lua's calls: the scopes' steps that came to it in one pass of
 * the event loop, per queue shard, in one call each (at most BATCH),
 * made from a posted event once the pass is over.  A step's args in the
 * call, after the shard's (src/lua/intake.lua, ARGV[5..]):
 */

#define NGX_HTTP_WEBHOOKS_INTAKE_S_PAYLOAD_KEY      0
#define NGX_HTTP_WEBHOOKS_INTAKE_S_SEEN             1
#define NGX_HTTP_WEBHOOKS_INTAKE_S_LASTPUSH         2
#define NGX_HTTP_WEBHOOKS_INTAKE_S_GUID             3
#define NGX_HTTP_WEBHOOKS_INTAKE_S_HOOKS            4
#define NGX_HTTP_WEBHOOKS_INTAKE_S_SHARED           5
#define NGX_HTTP_WEBHOOKS_INTAKE_S_SEND             6
#define NGX_HTTP_WEBHOOKS_INTAKE_S_IDEM             7
#define NGX_HTTP_WEBHOOKS_INTAKE_S_PUSH             8
#define NGX_HTTP_WEBHOOKS_INTAKE_S_N                9
#define NGX_HTTP_WEBHOOKS_INTAKE_S_ARGS             10  /* then the hooks */

/*
 * The payload goes ahead of the call, a plain SET (Lua would copy and
 * hash it), for this long, or not at all where a key is there already:
 * the call keeps it for the retention when it takes the event in.
 */
#define NGX_HTTP_WEBHOOKS_INTAKE_PAYLOAD_HOLD       "60"

#define NGX_HTTP_WEBHOOKS_INTAKE_BATCH              64


typedef struct {
    ngx_str_t                       subs[NGX_HTTP_WEBHOOKS_SUBS_NARGS];
    ngx_str_t                       tag;        /* "r:<repo>", "o:<org>" */
    ngx_str_t                       prefix;     /* the scope's keys' */
    ngx_str_t                       hooks;
    ngx_str_t                       target_type;
    ngx_str_t                       target_id;
    ngx_http_webhooks_shard_t      *shard;
} ngx_http_webhooks_intake_scope_t;


typedef struct ngx_http_webhooks_intake_ctx_s {
    u_char                          guid[NGX_HTTP_WEBHOOKS_GUID_LEN];
    ngx_http_webhooks_redis_cmd_t  *cmd;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_INTAKE_E_ARGS];
    ngx_str_t                      *step_args;  /* intake.lua's */
    ngx_uint_t                      nstep;
    ngx_str_t                       payload;
    unsigned                        keep:1;     /* the payload, ahead */
    ngx_http_request_t             *r;
    ngx_queue_t                     waiting;    /* for an intake.lua call */
    struct ngx_http_webhooks_intake_ctx_s  **batched;  /* its place in one */
    ngx_str_t                       idem[NGX_HTTP_WEBHOOKS_IDEM_NARGS];
    ngx_http_webhooks_intake_scope_t  scopes[2];
    ngx_uint_t                      nscopes;
    ngx_uint_t                      step;
    int64_t                         queued;
    unsigned                        resumed:1;
    unsigned                        waits:1;    /* in waiting */
} ngx_http_webhooks_intake_ctx_t;


typedef struct {
    ngx_pool_t                      *pool;
    ngx_uint_t                       n;
    ngx_http_webhooks_intake_ctx_t  *ctx[NGX_HTTP_WEBHOOKS_INTAKE_BATCH];
} ngx_http_webhooks_intake_batch_t;


static void ngx_http_webhooks_intake_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_intake_run(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_intake_next(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_intake_send(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx, ngx_uint_t script,
    ngx_http_webhooks_redis_handler_pt handler, ngx_uint_t nkeys,
    ngx_uint_t nargs, ngx_str_t *args);
static void ngx_http_webhooks_intake_idem_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_intake_subs_done(void *data,
    redisReply *reply);
static void ngx_http_webhooks_intake_subs_read(void *data,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_intake_shared(ngx_pool_t *pool,
    ngx_str_t *f, ngx_str_t *shared, ngx_str_t *send);
static void ngx_http_webhooks_intake_queue(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx, ngx_str_t *subs, ngx_uint_t n);
static void ngx_http_webhooks_intake_flush_handler(ngx_event_t *ev);
static void ngx_http_webhooks_intake_flush(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_uint_t shard,
    ngx_queue_t *waiting);
static ngx_int_t ngx_http_webhooks_intake_payload(
    ngx_http_webhooks_intake_ctx_t *ctx);
static void ngx_http_webhooks_intake_reply(void *data, redisReply *reply);
static void ngx_http_webhooks_intake_done(void *data, redisReply *reply);
static void ngx_http_webhooks_intake_finished(void *data, redisReply *reply);
static ngx_int_t ngx_http_webhooks_intake_accepted(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_intake_failed(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_webhooks_intake_cleanup(void *data);
static ngx_int_t ngx_http_webhooks_intake_fail(ngx_http_request_t *r,
    ngx_uint_t status, const char *message, const char *resource,
    const char *field, const char *code);
static ngx_int_t ngx_http_webhooks_intake_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_int_t ngx_http_webhooks_intake_replay(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_object(ngx_pool_t *pool, ngx_str_t *v,
    ngx_str_t *out);
static ngx_int_t ngx_http_webhooks_intake_str(ngx_pool_t *pool,
    ngx_str_t *object, const char *key, ngx_str_t *value);
static void ngx_http_webhooks_intake_number(ngx_str_t *object,
    const char *key, ngx_str_t *value);
static ngx_uint_t ngx_http_webhooks_intake_kept(ngx_str_t *key,
    ngx_uint_t written);
static ngx_int_t ngx_http_webhooks_scope(ngx_http_request_t *r,
    ngx_uint_t scope, ngx_str_t *name, ngx_http_webhooks_intake_scope_t *sc);


/*
 * The objects an event tells of (its repository, organization, sender)
 * are kept in Redis for 10 minutes, for pings.  A worker that wrote one
 * less than 5 minutes ago neither dumps nor sends it again: it is there
 * for 5 more at least.  Per worker, by key; a slot another key took over
 * only costs a write.
 */

#define NGX_HTTP_WEBHOOKS_INTAKE_KEPT      256
#define NGX_HTTP_WEBHOOKS_INTAKE_KEPT_KEY  192
#define NGX_HTTP_WEBHOOKS_INTAKE_KEPT_FOR  300

typedef struct {
    u_char                          key[NGX_HTTP_WEBHOOKS_INTAKE_KEPT_KEY];
    size_t                          len;
    time_t                          at;
} ngx_http_webhooks_intake_kept_t;

static ngx_http_webhooks_intake_kept_t
    ngx_http_webhooks_intake_kept_objects[NGX_HTTP_WEBHOOKS_INTAKE_KEPT];


/* what the intake reads of an event and of its repository, in one pass */

#define NGX_HTTP_WEBHOOKS_INTAKE_KEYS       5
#define NGX_HTTP_WEBHOOKS_INTAKE_REPO_KEYS  4

static const char  *ngx_http_webhooks_intake_event_keys[] = {
    "repository", "organization", "sender", "action", "installation"
};

static const char  *ngx_http_webhooks_intake_repo_keys[] = {
    "full_name", "owner", "name", "id"
};

/* per worker; a worker process starts with them empty */
static ngx_queue_t
    ngx_http_webhooks_intake_waiting[NGX_HTTP_WEBHOOKS_SHARDS];
static ngx_event_t  ngx_http_webhooks_intake_flush_event;


static ngx_str_t  ngx_http_webhooks_event_header =
    ngx_string("X-GitHub-Event");
static ngx_str_t  ngx_http_webhooks_idem_header =
    ngx_string("Idempotency-Key");


ngx_int_t
ngx_http_webhooks_intake_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_webhooks_reply_error(r, NGX_HTTP_NOT_FOUND, "Not Found",
                                             NULL, NULL);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_WEBHOOKS_PAYLOAD_MAX) {
        /* GitHub does not send payloads over 25 MB */
        r->keepalive = 0;
        return ngx_http_webhooks_intake_fail(r,
                                    NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "Payload Too Large", NULL, NULL, NULL);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webhooks_intake_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_webhooks_module);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_webhooks_intake_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_webhooks_intake_body(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    rc = ngx_http_webhooks_intake_run(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_webhooks_intake_run(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx)
{
    u_char                            *p;
    ngx_int_t                          rc;
    ngx_str_t                          body, event, full, login, name, what;
    ngx_str_t                          repo, org, sender;
    ngx_str_t                          top[NGX_HTTP_WEBHOOKS_INTAKE_KEYS];
    ngx_str_t                          in[NGX_HTTP_WEBHOOKS_INTAKE_REPO_KEYS];
    ngx_str_t                          objects[2];
    ngx_str_t                          sender_object, idem;
    ngx_str_t                         *args;
    ngx_uint_t                         i;
    ngx_table_elt_t                   *h;
    ngx_http_cleanup_t                *cln;
    ngx_http_webhooks_main_conf_t     *wmcf;
    ngx_http_webhooks_intake_scope_t  *sc;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    h = ngx_http_webhooks_reply_header(r, &ngx_http_webhooks_event_header);

    if (h == NULL || h->value.len == 0) {
        return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "X-GitHub-Event", "missing_field");
    }

    event = h->value;

    if (ngx_http_webhooks_hook_valid_event(&event) != NGX_OK
        || (event.len == 1 && event.data[0] == '*'))
    {
        return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "X-GitHub-Event", "invalid");
    }

    args = ctx->args;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_INTAKE_E_ARGS; i++) {
        ngx_str_set(&args[i], "");
    }

    ngx_str_set(&idem, "");

    rc = ngx_http_webhooks_intake_key(r, &idem);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "Idempotency-Key", "invalid");
    }

    rc = ngx_http_webhooks_reply_read_body(r, &body,
                                           NGX_HTTP_WEBHOOKS_PAYLOAD_MAX);

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_intake_fail(r,
                                    NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "Payload Too Large", NULL, NULL, NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* checked as jansson would parse it; only the members needed are read */

    rc = ngx_http_webhooks_json_scan_check(r->pool, body.data, body.len);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK || !ngx_http_webhooks_json_scan_object(&body)) {
        return ngx_http_webhooks_intake_fail(r, NGX_HTTP_BAD_REQUEST,
                                             "Problems parsing JSON",
                                             NULL, NULL, NULL);
    }

    (void) ngx_http_webhooks_json_scan_members(&body,
                                         ngx_http_webhooks_intake_event_keys,
                                         top, NGX_HTTP_WEBHOOKS_INTAKE_KEYS);

    /* the repository: "full_name", or the owner's login and the name */

    repo = top[0];

    if (ngx_http_webhooks_json_scan_object(&repo)) {
        (void) ngx_http_webhooks_json_scan_members(&repo,
                                          ngx_http_webhooks_intake_repo_keys,
                                          in,
                                          NGX_HTTP_WEBHOOKS_INTAKE_REPO_KEYS);

        rc = ngx_http_webhooks_json_scan_string(r->pool, &in[0], &full);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_webhooks_intake_str(r->pool, &in[1], "login",
                                              &login);
            if (rc == NGX_OK) {
                rc = ngx_http_webhooks_json_scan_string(r->pool, &in[2],
                                                        &name);
            }

            if (rc == NGX_DECLINED) {
                goto no_repo;
            }

            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            full.len = login.len + 1 + name.len;
            full.data = ngx_pnalloc(r->pool, full.len);
            if (full.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_sprintf(full.data, "%V/%V", &login, &name);
        }

        sc = &ctx->scopes[ctx->nscopes];

        if (ngx_http_webhooks_scope(r, NGX_HTTP_WEBHOOKS_REPO, &full, sc)
            != NGX_OK)
        {
            return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "repository", "invalid");
        }

        ngx_http_webhooks_json_scan_integer(&in[3], &sc->target_id);

        objects[ctx->nscopes] = repo;
        ngx_str_set(&sc->target_type, "repository");
        args[NGX_HTTP_WEBHOOKS_INTAKE_E_REPOSITORY_ID] = sc->target_id;

        if (event.len == 4 && ngx_strncmp(event.data, "push", 4) == 0) {
            ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_E_PUSH], "1");
        }

        ctx->nscopes++;
    }

no_repo:

    org = top[1];

    rc = ngx_http_webhooks_intake_str(r->pool, &org, "login", &login);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {

        sc = &ctx->scopes[ctx->nscopes];

        if (ngx_http_webhooks_scope(r, NGX_HTTP_WEBHOOKS_ORG, &login, sc)
            != NGX_OK)
        {
            return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "organization", "invalid");
        }

        ngx_http_webhooks_intake_number(&org, "id", &sc->target_id);

        objects[ctx->nscopes] = org;
        ngx_str_set(&sc->target_type, "organization");

        ctx->nscopes++;
    }

    if (ctx->nscopes == 0) {
        return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "repository", "missing_field");
    }

    /* the sender's object is kept in each scope, for its pings */

    sender = top[2];
    ngx_str_set(&sender_object, "");

    rc = ngx_http_webhooks_intake_str(r->pool, &sender, "login", &login);
    if (rc == NGX_OK) {
        rc = ngx_http_webhooks_intake_str(r->pool, &sender, "type", &name);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_str_set(&login, "");
        ngx_str_null(&sender);
    }

    what.len = sizeof("user:") - 1 + login.len;
    what.data = ngx_pnalloc(r->pool, what.len);
    if (what.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(what.data, "user:%V", &login);

    for (i = 0; i < ctx->nscopes; i++) {
        sc = &ctx->scopes[i];

        if (ngx_http_webhooks_key(r->pool, &sc->prefix, &what,
                                  &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER])
               != NGX_OK
            || ngx_http_webhooks_key(r->pool, &sc->prefix,
                                  &(ngx_str_t) ngx_string("object"),
                                  &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT])
               != NGX_OK
            || ngx_http_webhooks_key(r->pool, &sc->prefix,
                                  &(ngx_str_t) ngx_string("subs"),
                                  &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SUBS])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sc->subs[NGX_HTTP_WEBHOOKS_SUBS_HOOKS] = sc->hooks;
        sc->subs[NGX_HTTP_WEBHOOKS_SUBS_EVENT] = event;
        ngx_str_set(&sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT_JSON], "");
        ngx_str_set(&sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER_OBJECT], "");

        /* each object dumped only when this worker did not keep it lately */

        if (!ngx_http_webhooks_intake_kept(
                                 &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT], 0)
            && ngx_http_webhooks_object(r->pool, &objects[i],
                             &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT_JSON])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (sender.len
            && !ngx_http_webhooks_intake_kept(
                                 &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER], 0))
        {
            if (sender_object.len == 0
                && ngx_http_webhooks_object(r->pool, &sender, &sender_object)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER_OBJECT] = sender_object;
        }
    }

    if (ngx_http_webhooks_sign_guid(ctx->guid) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID].data = ctx->guid;
    args[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID].len = NGX_HTTP_WEBHOOKS_GUID_LEN;
    args[NGX_HTTP_WEBHOOKS_INTAKE_E_EVENT] = event;
    ctx->payload = body;

    p = ngx_pnalloc(r->pool, sizeof("2011-09-06T17:26:27Z"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_INTAKE_E_NOW].data = p;
    args[NGX_HTTP_WEBHOOKS_INTAKE_E_NOW].len =
                                 ngx_http_webhooks_json_time(p, ngx_time()) - p;

    rc = ngx_http_webhooks_json_scan_string(r->pool, &top[3],
                                      &args[NGX_HTTP_WEBHOOKS_INTAKE_E_ACTION]);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_E_ACTION], "");
    }

    ngx_http_webhooks_intake_number(&top[4], "id",
                               &args[NGX_HTTP_WEBHOOKS_INTAKE_E_INSTALLATION_ID]);

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_E_REDELIVERY], "0");

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_webhooks_intake_cleanup;
    cln->data = ctx;

    r->read_event_handler = ngx_http_test_reading;

    if (idem.len == 0) {
        return ngx_http_webhooks_intake_next(r, ctx);
    }

    /* the key first: a new event, one to take in again, or a replay */

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_E_IDEM], "1");

    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_IDEM_KEY] = idem;
    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_GUID] =
                                          args[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID];
    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_EVENT] = event;
    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_PAYLOAD] = body;
    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_TTL] = wmcf->sender.retention_text;
    ngx_str_set(&ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_DELIVERIES], "");

    return ngx_http_webhooks_intake_send(r, ctx, NGX_HTTP_WEBHOOKS_SCRIPT_IDEM,
                                         ngx_http_webhooks_intake_idem_done,
                                         NGX_HTTP_WEBHOOKS_IDEM_NKEYS,
                                         NGX_HTTP_WEBHOOKS_IDEM_NARGS,
                                         ctx->idem);
}


/*
 * The next step: a scope's subscribers, or the count under the key;
 * NGX_DONE once sent, else the status to finalize with.
 */

static ngx_int_t
ngx_http_webhooks_intake_next(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx)
{
    u_char                            *p;
    size_t                             argvlen[5];
    const char                        *argv[5];
    ngx_http_webhooks_intake_scope_t  *sc;

    if (ctx->step < ctx->nscopes) {
        sc = &ctx->scopes[ctx->step];

        if (sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT_JSON].len == 0
            && sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER_OBJECT].len == 0)
        {
            /* nothing to write: a plain read of the index, once built */

            argv[0] = "HMGET";
            argvlen[0] = 5;
            argv[1] = (const char *) sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SUBS].data;
            argvlen[1] = sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SUBS].len;
            argv[2] = (const char *)
                                 sc->subs[NGX_HTTP_WEBHOOKS_SUBS_EVENT].data;
            argvlen[2] = sc->subs[NGX_HTTP_WEBHOOKS_SUBS_EVENT].len;
            argv[3] = "*";
            argvlen[3] = 1;
            argv[4] = "_";
            argvlen[4] = 1;

            ctx->cmd = ngx_http_webhooks_redis_command(
                                           ngx_http_webhooks_intake_subs_read,
                                           r, 5, argv, argvlen);
            if (ctx->cmd == NULL) {
                ngx_http_webhooks_stats_inc(
                              NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE, 1);
                return ngx_http_webhooks_reply_unavailable(r, NULL);
            }

            return NGX_DONE;
        }

        return ngx_http_webhooks_intake_send(r, ctx,
                                       NGX_HTTP_WEBHOOKS_SCRIPT_SUBS,
                                       ngx_http_webhooks_intake_subs_done,
                                       NGX_HTTP_WEBHOOKS_SUBS_NKEYS,
                                       NGX_HTTP_WEBHOOKS_SUBS_NARGS,
                                       sc->subs);
    }

    if (ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_IDEM_KEY].len == 0) {
        return ngx_http_webhooks_intake_accepted(r, ctx);
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_DELIVERIES].data = p;
    ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_DELIVERIES].len =
                                         ngx_sprintf(p, "%L", ctx->queued) - p;
    ngx_str_set(&ctx->idem[NGX_HTTP_WEBHOOKS_IDEM_PAYLOAD], "");

    return ngx_http_webhooks_intake_send(r, ctx, NGX_HTTP_WEBHOOKS_SCRIPT_IDEM,
                                         ngx_http_webhooks_intake_finished,
                                         NGX_HTTP_WEBHOOKS_IDEM_NKEYS,
                                         NGX_HTTP_WEBHOOKS_IDEM_NARGS,
                                         ctx->idem);
}


/* NGX_DONE once sent, else the status to finalize with */

static ngx_int_t
ngx_http_webhooks_intake_send(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx, ngx_uint_t script,
    ngx_http_webhooks_redis_handler_pt handler, ngx_uint_t nkeys,
    ngx_uint_t nargs, ngx_str_t *args)
{
    ctx->cmd = ngx_http_webhooks_redis_script(r->pool, script, handler, r,
                                              nkeys, nargs, args);
    if (ctx->cmd == NULL) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE,
                                    1);
        return ngx_http_webhooks_reply_unavailable(r, NULL);
    }

    return NGX_DONE;
}


static void
ngx_http_webhooks_intake_cleanup(void *data)
{
    ngx_http_webhooks_intake_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_http_webhooks_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }

    if (ctx->waits) {
        ngx_queue_remove(&ctx->waiting);
        ctx->waits = 0;
    }

    if (ctx->batched) {
        /* its args are gone: its place in a call under way is emptied */
        *ctx->batched = NULL;
        ctx->batched = NULL;
    }
}


static void
ngx_http_webhooks_intake_idem_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                        rc;
    redisReply                      *kind;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_failed(r, reply));
        return;
    }

    kind = reply->element[0];

    if (kind->len == 6 && ngx_strncmp(kind->str, "resume", 6) == 0) {

        /* cut short before: taken in again under its GUID */

        if (reply->elements != 2
            || reply->element[1]->type != REDIS_REPLY_STRING
            || reply->element[1]->len != NGX_HTTP_WEBHOOKS_GUID_LEN)
        {
            ngx_http_webhooks_reply_finish(r,
                                ngx_http_webhooks_reply_unavailable(r, NULL));
            return;
        }

        ngx_memcpy(ctx->guid, reply->element[1]->str,
                   NGX_HTTP_WEBHOOKS_GUID_LEN);
        ctx->resumed = 1;

    } else if (!(kind->len == 3 && ngx_strncmp(kind->str, "new", 3) == 0)) {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_replay(r, reply));
        return;
    }

    rc = ngx_http_webhooks_intake_next(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


/*
 * The scope's subscription index read plainly: HMGET of the event, "*"
 * and "_", whose lines "<id> <url>" make what subs.lua answers; when the
 * index is not built ("_" missing), subs.lua builds it.
 */

static void
ngx_http_webhooks_intake_subs_read(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                            *p, *last, *nl, *sp;
    ngx_int_t                          rc;
    ngx_str_t                          v, *subs;
    ngx_uint_t                         i, j, n, max;
    redisReply                        *e;
    ngx_http_webhooks_intake_ctx_t    *ctx;
    ngx_http_webhooks_intake_scope_t  *sc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3)
    {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_failed(r, reply));
        return;
    }

    if (reply->element[2]->type != REDIS_REPLY_STRING) {
        sc = &ctx->scopes[ctx->step];
        rc = ngx_http_webhooks_intake_send(r, ctx,
                                       NGX_HTTP_WEBHOOKS_SCRIPT_SUBS,
                                       ngx_http_webhooks_intake_subs_done,
                                       NGX_HTTP_WEBHOOKS_SUBS_NKEYS,
                                       NGX_HTTP_WEBHOOKS_SUBS_NARGS,
                                       sc->subs);
        if (rc != NGX_DONE) {
            ngx_http_webhooks_reply_finish(r, rc);
        }

        return;
    }

    /* at most a line per 4 bytes ("1 x\n"), two strings a line */

    max = 0;

    for (i = 0; i < 2; i++) {
        if (reply->element[i]->type == REDIS_REPLY_STRING) {
            max += reply->element[i]->len / 2 + 2;
        }
    }

    subs = ngx_palloc(r->pool, max * sizeof(ngx_str_t));
    if (subs == NULL && max) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = 0;

    for (i = 0; i < 2; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            continue;
        }

        /* the reply goes away with this handler: what is sent is kept */

        v.len = e->len;
        v.data = ngx_pnalloc(r->pool, v.len);
        if (v.data == NULL && v.len) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(v.data, e->str, v.len);
        last = v.data + v.len;

        for (p = v.data; p < last; p = nl + 1) {
            nl = ngx_strlchr(p, last, '\n');
            if (nl == NULL) {
                nl = last;
            }

            sp = ngx_strlchr(p, nl, ' ');
            if (sp == NULL || sp == p || sp + 1 == nl) {
                continue;
            }

            /* a hook that takes the event and "*" goes once */

            for (j = 0; j < n; j += 2) {
                if (subs[j].len == (size_t) (sp - p)
                    && ngx_strncmp(subs[j].data, p, sp - p) == 0)
                {
                    break;
                }
            }

            if (j < n) {
                continue;
            }

            subs[n].data = p;
            subs[n++].len = sp - p;
            subs[n].data = sp + 1;
            subs[n++].len = nl - sp - 1;
        }
    }

    ngx_http_webhooks_intake_queue(r, ctx, subs, n);
}


/* a scope's subscribers, as subs.lua answers: the index built */

static void
ngx_http_webhooks_intake_subs_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    size_t                             i;
    ngx_str_t                         *subs, tag;
    ngx_http_webhooks_intake_ctx_t    *ctx;
    ngx_http_webhooks_intake_scope_t  *sc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements % 2)
    {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_failed(r, reply));
        return;
    }

    sc = &ctx->scopes[ctx->step];

    /* written: not again for a while */

    if (sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT_JSON].len) {
        (void) ngx_http_webhooks_intake_kept(
                                  &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_OBJECT], 1);
    }

    if (sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER_OBJECT].len) {
        (void) ngx_http_webhooks_intake_kept(
                                  &sc->subs[NGX_HTTP_WEBHOOKS_SUBS_SENDER], 1);
    }

    subs = ngx_palloc(r->pool, (reply->elements + 1) * sizeof(ngx_str_t));
    if (subs == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the reply goes away with this handler: what is sent is kept */

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]->type != REDIS_REPLY_STRING) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        tag.data = (u_char *) reply->element[i]->str;
        tag.len = reply->element[i]->len;

        subs[i].len = tag.len;
        subs[i].data = ngx_pstrdup(r->pool, &tag);
        if (subs[i].data == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_http_webhooks_intake_queue(r, ctx, subs, reply->elements);
}


/*
 * What the deliveries of a step share, made here once so that
 * intake.lua encodes nothing: the queued record's fields from "hooks"
 * to "auto", in lib/record.lua's FIELDS order, as the JSON of
 * lib/record.lua's rshared, and what their requests say, as
 * lib/send.lua's send() has it.
 */

static ngx_int_t
ngx_http_webhooks_intake_shared(ngx_pool_t *pool, ngx_str_t *f,
    ngx_str_t *shared, ngx_str_t *send)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    v[16];
    ngx_uint_t   i;

    static ngx_uint_t  fields[] = {
        NGX_HTTP_WEBHOOKS_INTAKE_E_HOOKS,
        NGX_HTTP_WEBHOOKS_INTAKE_E_GUID,
        NGX_HTTP_WEBHOOKS_INTAKE_E_EVENT,
        NGX_HTTP_WEBHOOKS_INTAKE_E_ACTION,
        NGX_HTTP_WEBHOOKS_INTAKE_E_REPOSITORY_ID,
        NGX_HTTP_WEBHOOKS_INTAKE_E_INSTALLATION_ID,
        NGX_HTTP_WEBHOOKS_INTAKE_E_REDELIVERY,
        NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_TYPE,
        NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_ID,
        NGX_HTTP_WEBHOOKS_INTAKE_E_PAYLOAD_KEY,
        NGX_HTTP_WEBHOOKS_INTAKE_E_NOW
    };

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        v[i] = f[fields[i]];
    }

    /* status, status_code, duration, attempt, auto */
    ngx_str_set(&v[i], "queued"); i++;
    ngx_str_set(&v[i], "0"); i++;
    ngx_str_set(&v[i], "0"); i++;
    ngx_str_set(&v[i], "1"); i++;
    ngx_str_set(&v[i], "1"); i++;

    len = 0;

    for (i = 0; i < 16; i++) {
        len += sizeof("\"\",") - 1 + v[i].len
               + ngx_escape_json(NULL, v[i].data, v[i].len);
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    shared->data = p;

    for (i = 0; i < 16; i++) {
        if (i) {
            *p++ = ',';
        }

        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, v[i].data, v[i].len);
        *p++ = '"';
    }

    shared->len = p - shared->data;

    /* "<guid> <event> <attempt> <auto> <target type> <target id>" */

    len = f[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID].len
          + f[NGX_HTTP_WEBHOOKS_INTAKE_E_EVENT].len
          + f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_TYPE].len
          + f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_ID].len + sizeof(" 1 1  ");

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    send->data = p;
    send->len = ngx_sprintf(p, "%V %V 1 1 %V %V",
                            &f[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID],
                            &f[NGX_HTTP_WEBHOOKS_INTAKE_E_EVENT],
                            &f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_TYPE],
                            &f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_ID])
                - p;

    return NGX_OK;
}


/* a scope's subscribers: their deliveries queued in its shard */

static void
ngx_http_webhooks_intake_queue(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx, ngx_str_t *subs, ngx_uint_t n)
{
    u_char                            *p;
    ngx_str_t                         *args, tag;
    ngx_str_t                          f[NGX_HTTP_WEBHOOKS_INTAKE_E_ARGS];
    ngx_uint_t                         i;
    ngx_queue_t                       *w;
    ngx_event_t                       *ev;
    ngx_http_webhooks_main_conf_t     *wmcf;
    ngx_http_webhooks_intake_scope_t  *sc;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);
    sc = &ctx->scopes[ctx->step];

    /* the event's fields, with the scope's */

    ngx_memcpy(f, ctx->args,
               NGX_HTTP_WEBHOOKS_INTAKE_E_ARGS * sizeof(ngx_str_t));

    /* "event:<guid>", "seen:<guid>:<r|o>", "lastpush:<r|o>:<name>" */

    tag.data = ngx_pnalloc(r->pool, NGX_HTTP_WEBHOOKS_GUID_LEN + 3);
    if (tag.data == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    tag.len = ngx_sprintf(tag.data, "%*s:%c",
                          (size_t) NGX_HTTP_WEBHOOKS_GUID_LEN, ctx->guid,
                          sc->tag.data[0])
              - tag.data;

    if (ngx_http_webhooks_shard_key(r->pool, sc->shard, "event:",
                           &f[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID],
                           &f[NGX_HTTP_WEBHOOKS_INTAKE_E_PAYLOAD_KEY])
           != NGX_OK
        || ngx_http_webhooks_shard_key(r->pool, sc->shard, "seen:", &tag,
                           &f[NGX_HTTP_WEBHOOKS_INTAKE_E_SEEN])
           != NGX_OK
        || ngx_http_webhooks_shard_key(r->pool, sc->shard, "lastpush:",
                           &sc->tag, &f[NGX_HTTP_WEBHOOKS_INTAKE_E_LASTPUSH])
           != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    f[NGX_HTTP_WEBHOOKS_INTAKE_E_HOOKS] = sc->hooks;
    f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_TYPE] = sc->target_type;
    f[NGX_HTTP_WEBHOOKS_INTAKE_E_TARGET_ID] = sc->target_id;

    if (sc->tag.data[0] != 'r') {
        ngx_str_set(&f[NGX_HTTP_WEBHOOKS_INTAKE_E_PUSH], "");
    }

    /* the step's args */

    args = ngx_palloc(r->pool, (NGX_HTTP_WEBHOOKS_INTAKE_S_ARGS + n)
                               * sizeof(ngx_str_t));
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (args == NULL || p == NULL
        || ngx_http_webhooks_intake_shared(r->pool, f,
                               &args[NGX_HTTP_WEBHOOKS_INTAKE_S_SHARED],
                               &args[NGX_HTTP_WEBHOOKS_INTAKE_S_SEND])
           != NGX_OK)
    {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    args[NGX_HTTP_WEBHOOKS_INTAKE_S_PAYLOAD_KEY] =
                                    f[NGX_HTTP_WEBHOOKS_INTAKE_E_PAYLOAD_KEY];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_SEEN] = f[NGX_HTTP_WEBHOOKS_INTAKE_E_SEEN];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_LASTPUSH] =
                                    f[NGX_HTTP_WEBHOOKS_INTAKE_E_LASTPUSH];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_GUID] = f[NGX_HTTP_WEBHOOKS_INTAKE_E_GUID];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_HOOKS] =
                                    f[NGX_HTTP_WEBHOOKS_INTAKE_E_HOOKS];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_IDEM] = f[NGX_HTTP_WEBHOOKS_INTAKE_E_IDEM];
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_PUSH] = f[NGX_HTTP_WEBHOOKS_INTAKE_E_PUSH];

    args[NGX_HTTP_WEBHOOKS_INTAKE_S_N].data = p;
    args[NGX_HTTP_WEBHOOKS_INTAKE_S_N].len = ngx_sprintf(p, "%ui", n / 2) - p;

    if (n) {
        ngx_memcpy(&args[NGX_HTTP_WEBHOOKS_INTAKE_S_ARGS], subs,
                   n * sizeof(ngx_str_t));
    }

    ctx->step_args = args;
    ctx->nstep = NGX_HTTP_WEBHOOKS_INTAKE_S_ARGS + n;
    ctx->r = r;
    ctx->keep = (n || args[NGX_HTTP_WEBHOOKS_INTAKE_S_PUSH].len);

    /* with the other steps of this pass in the shard, once it is over */

    w = ngx_http_webhooks_intake_waiting;
    ev = &ngx_http_webhooks_intake_flush_event;

    if (w[0].prev == NULL) {
        for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
            ngx_queue_init(&w[i]);
        }

        ev->handler = ngx_http_webhooks_intake_flush_handler;
        ev->log = ngx_cycle->log;
    }

    ev->data = wmcf;

    ngx_queue_insert_tail(&w[sc->shard - wmcf->shards], &ctx->waiting);
    ctx->waits = 1;

    if (!ev->posted) {
        ngx_post_event(ev, &ngx_posted_events);
    }
}


static void
ngx_http_webhooks_intake_flush_handler(ngx_event_t *ev)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_WEBHOOKS_SHARDS; i++) {
        while (!ngx_queue_empty(&ngx_http_webhooks_intake_waiting[i])) {
            ngx_http_webhooks_intake_flush(ev->data, i,
                                        &ngx_http_webhooks_intake_waiting[i]);
        }
    }
}


/*
 * One intake.lua call for up to NGX_HTTP_WEBHOOKS_INTAKE_BATCH of the
 * steps waiting in a shard.  Their args stay in their requests' pools
 * until the reply, or until a request goes (its place is emptied).
 */

static void
ngx_http_webhooks_intake_flush(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_uint_t shard, ngx_queue_t *waiting)
{
    ngx_str_t                         *args;
    ngx_uint_t                         n, nargs;
    ngx_pool_t                        *pool;
    ngx_queue_t                       *q;
    ngx_http_webhooks_intake_ctx_t    *ctx;
    ngx_http_webhooks_intake_batch_t  *b;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    b = pool ? ngx_pcalloc(pool, sizeof(ngx_http_webhooks_intake_batch_t))
             : NULL;

    nargs = NGX_HTTP_WEBHOOKS_INTAKE_NARGS;
    n = 0;

    for (q = ngx_queue_head(waiting);
         q != ngx_queue_sentinel(waiting)
         && n < NGX_HTTP_WEBHOOKS_INTAKE_BATCH;
         q = ngx_queue_next(q))
    {
        ctx = ngx_queue_data(q, ngx_http_webhooks_intake_ctx_t, waiting);
        nargs += ctx->nstep;
        n++;
    }

    args = b ? ngx_palloc(pool, nargs * sizeof(ngx_str_t)) : NULL;

    if (args) {
        b->pool = pool;
        args[NGX_HTTP_WEBHOOKS_INTAKE_QUEUE] = wmcf->shards[shard].queue;
        args[NGX_HTTP_WEBHOOKS_INTAKE_SEQ] = wmcf->shards[shard].seq;
        args[NGX_HTTP_WEBHOOKS_INTAKE_RETRY] = wmcf->shards[shard].retry;
        args[NGX_HTTP_WEBHOOKS_INTAKE_TTL] = wmcf->sender.retention_text;
        args[NGX_HTTP_WEBHOOKS_INTAKE_SHARD] = wmcf->shards[shard].number;
        args[NGX_HTTP_WEBHOOKS_INTAKE_SHARDS] = wmcf->nshards;
        args[NGX_HTTP_WEBHOOKS_INTAKE_QUEUE_MAX] =
                                        wmcf->reliability.queue_max_text;
        nargs = NGX_HTTP_WEBHOOKS_INTAKE_NARGS;
    }

    while (n--) {
        q = ngx_queue_head(waiting);
        ngx_queue_remove(q);

        ctx = ngx_queue_data(q, ngx_http_webhooks_intake_ctx_t, waiting);
        ctx->waits = 0;

        if (args == NULL) {
            ngx_http_webhooks_intake_done(ctx->r, NULL);
            continue;
        }

        if (ctx->keep && ngx_http_webhooks_intake_payload(ctx) != NGX_OK) {
            ngx_http_webhooks_intake_done(ctx->r, NULL);
            continue;
        }

        ngx_memcpy(&args[nargs], ctx->step_args,
                   ctx->nstep * sizeof(ngx_str_t));
        nargs += ctx->nstep;

        ctx->batched = &b->ctx[b->n];
        b->ctx[b->n++] = ctx;
    }

    if (args == NULL || b->n == 0) {
        if (pool) {
            ngx_destroy_pool(pool);
        }

        return;
    }

    if (ngx_http_webhooks_redis_script(pool, NGX_HTTP_WEBHOOKS_SCRIPT_INTAKE,
                                       ngx_http_webhooks_intake_reply,
                                       b, NGX_HTTP_WEBHOOKS_INTAKE_NKEYS,
                                       nargs, args)
        == NULL)
    {
        ngx_http_webhooks_intake_reply(b, NULL);
    }
}


/* the payload of a step, ahead of its call: its reply tells nothing */

static ngx_int_t
ngx_http_webhooks_intake_payload(ngx_http_webhooks_intake_ctx_t *ctx)
{
    size_t        argvlen[6];
    ngx_str_t    *key;
    const char   *argv[6];

    key = &ctx->step_args[NGX_HTTP_WEBHOOKS_INTAKE_S_PAYLOAD_KEY];

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;
    argv[2] = (const char *) ctx->payload.data;
    argvlen[2] = ctx->payload.len;
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = NGX_HTTP_WEBHOOKS_INTAKE_PAYLOAD_HOLD;
    argvlen[4] = sizeof(NGX_HTTP_WEBHOOKS_INTAKE_PAYLOAD_HOLD) - 1;
    argv[5] = "NX";
    argvlen[5] = 2;

    return ngx_http_webhooks_redis_command(NULL, NULL, 6, argv, argvlen)
           ? NGX_OK : NGX_ERROR;
}


/* each step's count to its request, or what failed them all */

static void
ngx_http_webhooks_intake_reply(void *data, redisReply *reply)
{
    ngx_http_webhooks_intake_batch_t *b = data;

    ngx_uint_t                       i;
    redisReply                      *one;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements != b->n)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: intake answered %uz counts for %ui events",
                      reply->elements, b->n);
        reply = NULL;
    }

    for (i = 0; i < b->n; i++) {
        ctx = b->ctx[i];

        if (ctx == NULL) {
            /* its request went */
            continue;
        }

        ctx->batched = NULL;

        one = (reply && reply->type == REDIS_REPLY_ARRAY)
              ? reply->element[i] : reply;

        ngx_http_webhooks_intake_done(ctx->r, one);
    }

    ngx_destroy_pool(b->pool);
}


static void
ngx_http_webhooks_intake_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_int_t                        rc;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_failed(r, reply));
        return;
    }

    if (reply->integer < 0) {
        /* more queued than Redis is meant to keep: come back later */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "webhooks: the delivery queue is full, event refused");
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS_QUEUE_FULL,
                                    1);
        ngx_http_webhooks_reply_finish(r, ngx_http_webhooks_reply_busy(r));
        return;
    }

    ctx->queued += reply->integer;
    ctx->step++;

    rc = ngx_http_webhooks_intake_next(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


static void
ngx_http_webhooks_intake_finished(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    ngx_http_webhooks_intake_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_webhooks_reply_finish(r,
                                 ngx_http_webhooks_intake_failed(r, reply));
        return;
    }

    ngx_http_webhooks_reply_finish(r,
                                   ngx_http_webhooks_intake_accepted(r, ctx));
}


/* never 202 for what may not have been kept */

static ngx_int_t
ngx_http_webhooks_intake_failed(ngx_http_request_t *r, redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: intake failed: \"%*s\"",
                      (size_t) reply->len, reply->str);
    }

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE, 1);

    return ngx_http_webhooks_reply_unavailable(r, NULL);
}


static ngx_int_t
ngx_http_webhooks_intake_accepted(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   body, yes;

    /* another request under the key took it in first, or began to */

    if (ctx->resumed) {
        ngx_str_set(&yes, "true");

        if (ngx_http_webhooks_reply_add_header(r, "Idempotent-Replayed", &yes)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS, 1);
    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_QUEUED,
                                (ngx_uint_t) ctx->queued);

    p = ngx_pnalloc(r->pool, sizeof("{\"guid\":\"\",\"deliveries\":}")
                             + NGX_HTTP_WEBHOOKS_GUID_LEN + NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"guid\":\"%*s\",\"deliveries\":%L}",
                           (size_t) NGX_HTTP_WEBHOOKS_GUID_LEN, ctx->guid,
                           ctx->queued)
               - p;

    return ngx_http_webhooks_reply_send(r, NGX_HTTP_ACCEPTED, &body);
}


/*
 * Idempotency-Key: 1 to 255 visible ASCII characters, bare or as the
 * quoted string of draft-ietf-httpapi-idempotency-key-header.  Absent is
 * fine: the key stays "".
 */

static ngx_int_t
ngx_http_webhooks_intake_key(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char                         *p, *last;
    ngx_str_t                       v, what;
    ngx_table_elt_t                *h;
    ngx_http_webhooks_main_conf_t  *wmcf;

    h = ngx_http_webhooks_reply_header(r, &ngx_http_webhooks_idem_header);

    if (h == NULL) {
        return NGX_OK;
    }

    v = h->value;

    if (v.len >= 2 && v.data[0] == '"' && v.data[v.len - 1] == '"') {
        v.data++;
        v.len -= 2;
    }

    if (v.len == 0 || v.len > NGX_HTTP_WEBHOOKS_IDEM_MAX) {
        return NGX_DECLINED;
    }

    last = v.data + v.len;

    for (p = v.data; p < last; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '"') {
            return NGX_DECLINED;
        }
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    what.len = sizeof("idempotency:") - 1 + v.len;
    what.data = ngx_pnalloc(r->pool, what.len);
    if (what.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(what.data, "idempotency:%V", &v);

    return ngx_http_webhooks_key(r->pool, &wmcf->prefix, &what, key);
}


/* the same key again: the first answer, or 422 for another event */

static ngx_int_t
ngx_http_webhooks_intake_replay(ngx_http_request_t *r, redisReply *reply)
{
    u_char      *p;
    ngx_str_t    body, yes;
    redisReply  *guid, *n;

    if (reply->elements == 1) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webhooks: Idempotency-Key reused with another event");

        return ngx_http_webhooks_intake_fail(r,
                          NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                          "Idempotency-Key was already used for another event",
                          "Event", "Idempotency-Key", "already_exists");
    }

    if (reply->elements != 3
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[2]->type != REDIS_REPLY_INTEGER)
    {
        return ngx_http_webhooks_reply_unavailable(r, NULL);
    }

    guid = reply->element[1];
    n = reply->element[2];

    p = ngx_pnalloc(r->pool, sizeof("{\"guid\":\"\",\"deliveries\":}")
                             + guid->len + NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"guid\":\"%*s\",\"deliveries\":%L}",
                           (size_t) guid->len, guid->str,
                           (int64_t) n->integer)
               - p;

    ngx_str_set(&yes, "true");

    if (ngx_http_webhooks_reply_add_header(r, "Idempotent-Replayed", &yes)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_send(r, NGX_HTTP_ACCEPTED, &body);
}


static ngx_int_t
ngx_http_webhooks_intake_fail(ngx_http_request_t *r, ngx_uint_t status,
    const char *message, const char *resource, const char *field,
    const char *code)
{
    ngx_int_t   rc;
    json_t     *errors;

    ngx_http_webhooks_stats_inc(status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                                ? NGX_HTTP_WEBHOOKS_STAT_EVENTS_TOO_LARGE
                                : NGX_HTTP_WEBHOOKS_STAT_EVENTS_INVALID, 1);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    errors = NULL;

    if (resource) {
        errors = ngx_http_webhooks_json_own(r->pool,
                     json_pack("[{s:s,s:s,s:s}]", "resource", resource,
                               "field", field, "code", code));
        if (errors == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_webhooks_reply_error(r, status, message, NULL, errors);
}


/* whether key was written lately; with written, that it just was */

static ngx_uint_t
ngx_http_webhooks_intake_kept(ngx_str_t *key, ngx_uint_t written)
{
    uint32_t                          h;
    ngx_http_webhooks_intake_kept_t  *k;

    if (key->len > NGX_HTTP_WEBHOOKS_INTAKE_KEPT_KEY) {
        return 0;
    }

    h = ngx_crc32_short(key->data, key->len);
    k = &ngx_http_webhooks_intake_kept_objects[h
                                             % NGX_HTTP_WEBHOOKS_INTAKE_KEPT];

    if (written) {
        k->len = ngx_cpymem(k->key, key->data, key->len) - k->key;
        k->at = ngx_time();
        return 1;
    }

    return k->len == key->len
           && ngx_strncmp(k->key, key->data, key->len) == 0
           && ngx_time() - k->at < NGX_HTTP_WEBHOOKS_INTAKE_KEPT_FOR;
}


static ngx_int_t
ngx_http_webhooks_object(ngx_pool_t *pool, ngx_str_t *v, ngx_str_t *out)
{
    json_t  *object;

    if (!ngx_http_webhooks_json_scan_object(v)) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    /* dumped as jansson writes it: compact, members in their order */

    object = ngx_http_webhooks_json_load(pool, v->data, v->len);
    if (object == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_json_dump(pool, object, out);
}


/* a member of a checked object that is a string: NGX_DECLINED if not */

static ngx_int_t
ngx_http_webhooks_intake_str(ngx_pool_t *pool, ngx_str_t *object,
    const char *key, ngx_str_t *value)
{
    ngx_str_t  v;

    if (ngx_http_webhooks_json_scan_member(object, key, &v) != NGX_OK) {
        ngx_str_null(value);
        return NGX_DECLINED;
    }

    return ngx_http_webhooks_json_scan_string(pool, &v, value);
}


/* a member of a checked object that is an integer, as text; "" if not */

static void
ngx_http_webhooks_intake_number(ngx_str_t *object, const char *key,
    ngx_str_t *value)
{
    ngx_str_t  v;

    (void) ngx_http_webhooks_json_scan_member(object, key, &v);

    ngx_http_webhooks_json_scan_integer(&v, value);
}


/* the hooks hash, the key prefix and the shard of a repo or an org */

static ngx_int_t
ngx_http_webhooks_scope(ngx_http_request_t *r, ngx_uint_t scope,
    ngx_str_t *name, ngx_http_webhooks_intake_scope_t *sc)
{
    ngx_http_webhooks_route_t       rt;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    ngx_memzero(&rt, sizeof(ngx_http_webhooks_route_t));

    if (ngx_http_webhooks_router_scope(r->pool, scope, name, &rt)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &rt, "hooks",
                                    &sc->hooks)
           != NGX_OK
        || ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &rt, "",
                                       &sc->prefix)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sc->tag.len = 2 + rt.key.len;
    sc->tag.data = ngx_pnalloc(r->pool, sc->tag.len);
    if (sc->tag.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(sc->tag.data, "%c:%V",
                scope == NGX_HTTP_WEBHOOKS_ORG ? 'o' : 'r', &rt.key);

    sc->shard = ngx_http_webhooks_scope_shard(wmcf, &rt);

    return NGX_OK;
}
