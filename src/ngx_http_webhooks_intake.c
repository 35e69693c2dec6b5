
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
 */


#define NGX_HTTP_WEBHOOKS_PAYLOAD_MAX  (25 * 1024 * 1024)
#define NGX_HTTP_WEBHOOKS_IDEM_MAX     255


typedef struct {
    u_char                          guid[NGX_HTTP_WEBHOOKS_GUID_LEN];
    ngx_http_webhooks_redis_cmd_t  *cmd;
} ngx_http_webhooks_intake_ctx_t;


static void ngx_http_webhooks_intake_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_intake_run(ngx_http_request_t *r,
    ngx_http_webhooks_intake_ctx_t *ctx);
static void ngx_http_webhooks_intake_done(void *data, redisReply *reply);
static void ngx_http_webhooks_intake_cleanup(void *data);
static ngx_int_t ngx_http_webhooks_intake_fail(ngx_http_request_t *r,
    ngx_uint_t status, const char *message, const char *resource,
    const char *field, const char *code);
static ngx_int_t ngx_http_webhooks_intake_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_int_t ngx_http_webhooks_intake_replay(ngx_http_request_t *r,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_object(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);
static ngx_int_t ngx_http_webhooks_scope(ngx_http_request_t *r,
    ngx_uint_t scope, ngx_str_t *name, ngx_str_t *hooks, ngx_str_t *prefix);


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
    u_char                         *p;
    json_t                         *payload, *repo, *org, *sender, *owner;
    ngx_int_t                       rc;
    ngx_str_t                       body, event, full, login, name, what;
    ngx_str_t                       args[NGX_HTTP_WEBHOOKS_INTAKE_NARGS];
    ngx_uint_t                      i;
    ngx_table_elt_t                *h;
    ngx_http_cleanup_t             *cln;
    ngx_http_webhooks_redis_cmd_t  *cmd;
    ngx_http_webhooks_main_conf_t  *wmcf;

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

    for (i = 0; i < NGX_HTTP_WEBHOOKS_INTAKE_NARGS; i++) {
        ngx_str_set(&args[i], "");
    }

    rc = ngx_http_webhooks_intake_key(r,
                                      &args[NGX_HTTP_WEBHOOKS_INTAKE_IDEM_KEY]);

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

    payload = ngx_http_webhooks_json_load(r->pool, body.data, body.len);

    if (payload == NULL || !json_is_object(payload)) {
        return ngx_http_webhooks_intake_fail(r, NGX_HTTP_BAD_REQUEST,
                                             "Problems parsing JSON",
                                             NULL, NULL, NULL);
    }

    /* the repository: "full_name", or the owner's login and the name */

    repo = json_object_get(payload, "repository");

    if (json_is_object(repo)) {
        if (ngx_http_webhooks_json_str(repo, "full_name", &full) != NGX_OK) {
            owner = json_object_get(repo, "owner");

            if (ngx_http_webhooks_json_str(owner, "login", &login) != NGX_OK
                || ngx_http_webhooks_json_str(repo, "name", &name) != NGX_OK)
            {
                goto no_repo;
            }

            full.len = login.len + 1 + name.len;
            full.data = ngx_pnalloc(r->pool, full.len);
            if (full.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_sprintf(full.data, "%V/%V", &login, &name);
        }

        if (ngx_http_webhooks_scope(r, NGX_HTTP_WEBHOOKS_REPO, &full,
                                    &args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_HOOKS],
                                    &args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_PREFIX])
            != NGX_OK)
        {
            return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "repository", "invalid");
        }

        if (ngx_http_webhooks_json_number(r->pool, json_object_get(repo, "id"),
                                        &args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_ID])
               != NGX_OK
            || ngx_http_webhooks_object(r->pool, repo,
                                    &args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_OBJECT])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        args[NGX_HTTP_WEBHOOKS_INTAKE_REPOSITORY_ID] =
                                        args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_ID];
    }

no_repo:

    org = json_object_get(payload, "organization");

    if (ngx_http_webhooks_json_str(org, "login", &login) == NGX_OK) {

        if (ngx_http_webhooks_scope(r, NGX_HTTP_WEBHOOKS_ORG, &login,
                                    &args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_HOOKS],
                                    &args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_PREFIX])
            != NGX_OK)
        {
            return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "organization", "invalid");
        }

        if (ngx_http_webhooks_json_number(r->pool, json_object_get(org, "id"),
                                         &args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_ID])
               != NGX_OK
            || ngx_http_webhooks_object(r->pool, org,
                                     &args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_OBJECT])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_HOOKS].len == 0
        && args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_HOOKS].len == 0)
    {
        return ngx_http_webhooks_intake_fail(r,
                                       NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                       "Validation Failed", "Event",
                                       "repository", "missing_field");
    }

    sender = json_object_get(payload, "sender");

    if (ngx_http_webhooks_json_str(sender, "login", &login) == NGX_OK
        && ngx_http_webhooks_json_str(sender, "type", &name) == NGX_OK)
    {
        what.len = sizeof("user:") - 1 + login.len;
        what.data = ngx_pnalloc(r->pool, what.len);
        if (what.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(what.data, "user:%V", &login);

        if (ngx_http_webhooks_key(r->pool, &wmcf->prefix, &what,
                                  &args[NGX_HTTP_WEBHOOKS_INTAKE_SENDER_KEY])
               != NGX_OK
            || ngx_http_webhooks_object(r->pool, sender,
                                  &args[NGX_HTTP_WEBHOOKS_INTAKE_SENDER_OBJECT])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_webhooks_sign_guid(ctx->guid) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    what.len = sizeof("event:") - 1 + NGX_HTTP_WEBHOOKS_GUID_LEN;
    what.data = ngx_pnalloc(r->pool, what.len);
    if (what.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(what.data, "event:%*s", (size_t) NGX_HTTP_WEBHOOKS_GUID_LEN,
                ctx->guid);

    if (ngx_http_webhooks_key(r->pool, &wmcf->prefix, &what,
                              &args[NGX_HTTP_WEBHOOKS_INTAKE_PAYLOAD_KEY])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * a key the event has not is named by the bare prefix, never written:
     * an empty name would fall outside an ACL user's key pattern
     */

    if (args[NGX_HTTP_WEBHOOKS_INTAKE_IDEM_KEY].len) {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_IDEM], "1");

    } else {
        args[NGX_HTTP_WEBHOOKS_INTAKE_IDEM_KEY] = wmcf->prefix;
    }

    if (args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_HOOKS].len == 0) {
        args[NGX_HTTP_WEBHOOKS_INTAKE_REPO_HOOKS] = wmcf->prefix;
    }

    if (args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_HOOKS].len == 0) {
        args[NGX_HTTP_WEBHOOKS_INTAKE_ORG_HOOKS] = wmcf->prefix;
    }

    args[NGX_HTTP_WEBHOOKS_INTAKE_QUEUE] = wmcf->queue;
    args[NGX_HTTP_WEBHOOKS_INTAKE_SEQ] = wmcf->delivery_seq;
    args[NGX_HTTP_WEBHOOKS_INTAKE_RETRY] = wmcf->retry_key;
    args[NGX_HTTP_WEBHOOKS_INTAKE_QUEUE_MAX] = wmcf->reliability.queue_max_text;

    args[NGX_HTTP_WEBHOOKS_INTAKE_GUID].data = ctx->guid;
    args[NGX_HTTP_WEBHOOKS_INTAKE_GUID].len = NGX_HTTP_WEBHOOKS_GUID_LEN;
    args[NGX_HTTP_WEBHOOKS_INTAKE_EVENT] = event;
    args[NGX_HTTP_WEBHOOKS_INTAKE_PAYLOAD] = body;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + sizeof("2011-09-06T17:26:27Z"));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[NGX_HTTP_WEBHOOKS_INTAKE_TTL].data = p;
    args[NGX_HTTP_WEBHOOKS_INTAKE_TTL].len =
                               ngx_sprintf(p, "%T", wmcf->sender.retention) - p;
    p += args[NGX_HTTP_WEBHOOKS_INTAKE_TTL].len;

    args[NGX_HTTP_WEBHOOKS_INTAKE_NOW].data = p;
    args[NGX_HTTP_WEBHOOKS_INTAKE_NOW].len =
                                 ngx_http_webhooks_json_time(p, ngx_time()) - p;

    if (ngx_http_webhooks_json_str(payload, "action",
                                   &args[NGX_HTTP_WEBHOOKS_INTAKE_ACTION])
        != NGX_OK)
    {
        ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_ACTION], "");
    }

    if (ngx_http_webhooks_json_number(r->pool,
               json_object_get(json_object_get(payload, "installation"),
                               "id"),
               &args[NGX_HTTP_WEBHOOKS_INTAKE_INSTALLATION_ID])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&args[NGX_HTTP_WEBHOOKS_INTAKE_REDELIVERY], "0");

    cmd = ngx_http_webhooks_redis_script(r->pool,
                                         NGX_HTTP_WEBHOOKS_SCRIPT_INTAKE,
                                         ngx_http_webhooks_intake_done, r,
                                         NGX_HTTP_WEBHOOKS_INTAKE_NKEYS,
                                         NGX_HTTP_WEBHOOKS_INTAKE_NARGS, args);

    if (cmd == NULL) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE,
                                    1);
        return ngx_http_webhooks_reply_unavailable(r, NULL);
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        ngx_http_webhooks_redis_cancel(cmd);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_webhooks_intake_cleanup;
    cln->data = ctx;
    ctx->cmd = cmd;

    r->read_event_handler = ngx_http_test_reading;

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
}


static void
ngx_http_webhooks_intake_done(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    u_char                          *p;
    ngx_str_t                        body;
    ngx_http_webhooks_intake_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
    ctx->cmd = NULL;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        ngx_http_webhooks_reply_finish(r,
                                     ngx_http_webhooks_intake_replay(r, reply));
        return;
    }

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webhooks: intake failed: \"%*s\"",
                          (size_t) reply->len, reply->str);
        }

        /* never 202 for what may not have been kept */
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS_UNAVAILABLE,
                                    1);
        ngx_http_webhooks_reply_finish(r,
                                ngx_http_webhooks_reply_unavailable(r, NULL));
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

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_EVENTS, 1);
    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_QUEUED,
                                (ngx_uint_t) reply->integer);

    p = ngx_pnalloc(r->pool, sizeof("{\"guid\":\"\",\"deliveries\":}")
                             + NGX_HTTP_WEBHOOKS_GUID_LEN + NGX_INT64_LEN);
    if (p == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"guid\":\"%*s\",\"deliveries\":%L}",
                           (size_t) NGX_HTTP_WEBHOOKS_GUID_LEN, ctx->guid,
                           (int64_t) reply->integer)
               - p;

    ngx_http_webhooks_reply_finish(r,
                   ngx_http_webhooks_reply_send(r, NGX_HTTP_ACCEPTED, &body));
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


static ngx_int_t
ngx_http_webhooks_object(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    if (!json_is_object(v)) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    return ngx_http_webhooks_json_dump(pool, v, out);
}


/* the hooks hash and the key prefix of a repo or an org named in a payload */

static ngx_int_t
ngx_http_webhooks_scope(ngx_http_request_t *r, ngx_uint_t scope,
    ngx_str_t *name, ngx_str_t *hooks, ngx_str_t *prefix)
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
                                    hooks)
           != NGX_OK
        || ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &rt, "",
                                       prefix)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
