
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_api.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_hub.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_store.h"


/*
 * GitHub's PubSubHubbub hub: a form POST subscribes a callback to one
 * event of one repository, which is an ordinary repository hook.  The
 * hub finds the hook of the same callback and event, if there is one,
 * and hands over to the hooks API's own create, update and delete, so
 * the same rules hold; every success answers 204, as GitHub's hub does.
 */


#define NGX_HTTP_WEBHOOKS_HUB_DOCS                                           \
    "https://docs.github.com/webhooks/about-webhooks-for-repositories"


typedef struct {
    ngx_str_t                    mode;
    ngx_str_t                    topic;
    ngx_str_t                    callback;
    ngx_str_t                    secret;
    unsigned                     has_secret:1;
} ngx_http_webhooks_hub_form_t;


static void ngx_http_webhooks_hub_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_hub_run(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_hub_form(ngx_http_request_t *r,
    ngx_str_t *body, ngx_http_webhooks_hub_form_t *form);
static ngx_int_t ngx_http_webhooks_hub_multipart(ngx_http_request_t *r,
    ngx_str_t *body, ngx_http_webhooks_hub_form_t *form);
static ngx_int_t ngx_http_webhooks_hub_field(ngx_http_webhooks_hub_form_t *form,
    ngx_str_t *name, ngx_str_t **to);
static ngx_int_t ngx_http_webhooks_hub_topic(ngx_str_t *topic,
    ngx_str_t *repo, ngx_str_t *event, ngx_uint_t *json);
static void ngx_http_webhooks_hub_found(void *data, redisReply *reply);
static ngx_int_t ngx_http_webhooks_hub_saved(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_hub_fail(ngx_http_request_t *r,
    const char *field, const char *code, const char *message);
static ngx_int_t ngx_http_webhooks_hub_known_event(ngx_str_t *event);


/* the events a GitHub repository hook can take */

static const char  *ngx_http_webhooks_hub_events[] = {
    "branch_protection_configuration", "branch_protection_rule",
    "check_run", "check_suite", "code_scanning_alert", "commit_comment",
    "create", "custom_property_values", "delete", "dependabot_alert",
    "deploy_key", "deployment", "deployment_protection_rule",
    "deployment_review", "deployment_status", "discussion",
    "discussion_comment", "fork", "gollum", "installation_target",
    "issue_comment", "issues", "label", "member", "merge_group", "meta",
    "milestone", "package", "page_build", "ping", "project", "project_card",
    "project_column", "public", "pull_request", "pull_request_review",
    "pull_request_review_comment", "pull_request_review_thread", "push",
    "registry_package", "release", "repository", "repository_advisory",
    "repository_dispatch", "repository_import", "repository_ruleset",
    "repository_vulnerability_alert", "secret_scanning_alert",
    "secret_scanning_alert_location", "security_and_analysis", "star",
    "status", "sub_issues", "team_add", "watch", "workflow_dispatch",
    "workflow_job", "workflow_run", NULL
};


ngx_int_t
ngx_http_webhooks_hub_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_webhooks_loc_conf_t  *wlcf;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_webhooks_reply_error(r, NGX_HTTP_NOT_FOUND, "Not Found",
                                             NULL, NULL);
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);

    if (wlcf->body_max
        && r->headers_in.content_length_n > (off_t) wlcf->body_max)
    {
        return ngx_http_webhooks_reply_too_large(r, NGX_HTTP_WEBHOOKS_HUB_DOCS);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_webhooks_hub_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_webhooks_hub_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_webhooks_hub_run(r);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_webhooks_hub_run(ngx_http_request_t *r)
{
    json_t                         *v;
    ngx_int_t                       rc;
    ngx_str_t                       body, repo, event, ct;
    ngx_uint_t                      json;
    ngx_table_elt_t                *accept;
    ngx_http_webhooks_ctx_t        *ctx;
    ngx_http_webhooks_hub_form_t    form;
    ngx_http_webhooks_loc_conf_t   *wlcf;
    ngx_http_webhooks_main_conf_t  *wmcf;

    static ngx_str_t  accept_name = ngx_string("Accept");

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);
    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webhooks_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_webhooks_module);

    ctx->rt.op = NGX_HTTP_WEBHOOKS_OP_HUB;
    ctx->saved = ngx_http_webhooks_hub_saved;
    ctx->rt.doc_url = NGX_HTTP_WEBHOOKS_HUB_DOCS;

    if (ngx_http_webhooks_auth_identify(r, wlcf, &ctx->who) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->who.login.len == 0) {
        return ngx_http_webhooks_reply_error(r, NGX_HTTP_UNAUTHORIZED,
                                             "Requires authentication",
                                             ctx->rt.doc_url, NULL);
    }

    rc = ngx_http_webhooks_reply_read_body(r, &body, wlcf->body_max);

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_reply_too_large(r, ctx->rt.doc_url);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* GitHub's own example posts with curl -F: multipart/form-data */

    rc = (r->headers_in.content_type
          && ngx_strlcasestrn(r->headers_in.content_type->value.data,
                              r->headers_in.content_type->value.data
                              + r->headers_in.content_type->value.len,
                              (u_char *) "multipart/form-data", 19 - 1))
         ? ngx_http_webhooks_hub_multipart(r, &body, &form)
         : ngx_http_webhooks_hub_form(r, &body, &form);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_reply_error(r, NGX_HTTP_BAD_REQUEST,
                                             "Problems parsing the form",
                                             ctx->rt.doc_url, NULL);
    }

    if (form.mode.len == 0) {
        return ngx_http_webhooks_hub_fail(r, "hub.mode", "missing_field",
                                          NULL);
    }

    if (!(form.mode.len == 9
          && ngx_strncmp(form.mode.data, "subscribe", 9) == 0)
        && !(form.mode.len == 11
             && ngx_strncmp(form.mode.data, "unsubscribe", 11) == 0))
    {
        return ngx_http_webhooks_hub_fail(r, "hub.mode", "invalid",
                             "hub.mode must be \"subscribe\" or "
                             "\"unsubscribe\"");
    }

    if (form.topic.len == 0) {
        return ngx_http_webhooks_hub_fail(r, "hub.topic", "missing_field",
                                          NULL);
    }

    if (ngx_http_webhooks_hub_topic(&form.topic, &repo, &event, &json)
        != NGX_OK)
    {
        return ngx_http_webhooks_hub_fail(r, "hub.topic", "invalid",
                             "hub.topic must be a repository's events URL: "
                             "https://github.com/{owner}/{repo}/events/"
                             "{event}");
    }

    if (ngx_http_webhooks_hub_known_event(&event) != NGX_OK) {
        return ngx_http_webhooks_hub_fail(r, "hub.topic", "invalid",
                                          "hub.topic names no GitHub event");
    }

    if (form.callback.len == 0) {
        return ngx_http_webhooks_hub_fail(r, "hub.callback",
                                          "missing_field", NULL);
    }

    if (ngx_http_webhooks_hook_valid_url(&form.callback) != NGX_OK) {
        return ngx_http_webhooks_hub_fail(r, "hub.callback", "invalid",
                                 "hub.callback must be an http(s) URL");
    }

    /* as the hooks API keeps it: an IPv4 host as its dotted quad */

    rc = ngx_http_webhooks_address_url_canonical(r->pool, &form.callback,
                                                 &form.callback);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_hub_fail(r, "hub.callback", "invalid",
                                 "hub.callback must be an http(s) URL");
    }

    if (ngx_http_webhooks_router_scope(r->pool, NGX_HTTP_WEBHOOKS_REPO, &repo,
                                       &ctx->rt)
        != NGX_OK)
    {
        return ngx_http_webhooks_hub_fail(r, "hub.topic", "invalid",
                                          "hub.topic names no repository");
    }

    if (!ctx->who.admin) {
        return ngx_http_webhooks_reply_error(r, NGX_HTTP_NOT_FOUND, "Not Found",
                                             ctx->rt.doc_url, NULL);
    }

    /* the raw JSON when asked for it, else GitHub's hub default: a form */

    accept = ngx_http_webhooks_reply_header(r, &accept_name);

    if (json
        || (accept && ngx_strlcasestrn(accept->value.data,
                                       accept->value.data + accept->value.len,
                                       (u_char *) "application/json", 16 - 1)))
    {
        ngx_str_set(&ct, "json");

    } else {
        ngx_str_set(&ct, "form");
    }

    if (form.secret.data == NULL) {
        ngx_str_set(&form.secret, "");
    }

    /* the secret goes into JSON, which holds UTF-8 text only */

    v = json_stringn((const char *) form.secret.data, form.secret.len);
    if (v == NULL) {
        return ngx_http_webhooks_hub_fail(r, "hub.secret", "invalid",
                                          "hub.secret must be UTF-8 text");
    }

    json_decref(v);

    ctx->hub_event = event;
    ctx->hub_subscribe = (form.mode.len == 9);

    /* what the hooks API is handed: the hook a subscription makes */

    ctx->body = ngx_http_webhooks_json_own(r->pool,
                    json_pack("{s:s,s:b,s:[s%],s:{s:s%,s:s%,s:s%}}",
                              "name", "web", "active", 1,
                              "events", event.data, event.len,
                              "config",
                              "url", form.callback.data, form.callback.len,
                              "content_type", ct.data, ct.len,
                              "secret", form.secret.data, form.secret.len));
    if (ctx->body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_webhooks_scope_key(r->pool, &wmcf->prefix, &ctx->rt,
                                    "hooks", &ctx->hooks)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_request_wait(r, ctx,
               ngx_http_webhooks_redis_key_command(
                   ngx_http_webhooks_hub_found, r, "HGETALL", &ctx->hooks));
}


/* the hook of the same callback and event the caller may see, if any */

static void
ngx_http_webhooks_hub_found(void *data, redisReply *reply)
{
    ngx_http_request_t *r = data;

    size_t                    i, j;
    json_t                   *doc, *events, *e, *rest;
    uint64_t                  id;
    ngx_int_t                 rc;
    ngx_str_t                 url, callback, app, field;
    redisReply               *f;
    ngx_http_webhooks_ctx_t  *ctx;

    ctx = ngx_http_webhooks_request_reply_ctx(r, reply, REDIS_REPLY_ARRAY,
                                               &rc);
    if (ctx == NULL) {
        ngx_http_webhooks_reply_finish(r, rc);
        return;
    }

    (void) ngx_http_webhooks_json_str(json_object_get(ctx->body, "config"),
                                      "url", &callback);
    doc = NULL;
    f = NULL;
    id = 0;

    for (i = 0; i + 1 < reply->elements && id == 0; i += 2) {
        f = reply->element[i];

        if (f->type != REDIS_REPLY_STRING
            || reply->element[i + 1]->type != REDIS_REPLY_STRING
            || ngx_http_webhooks_router_parse_id((u_char *) f->str, f->len, &id)
               != NGX_OK)
        {
            id = 0;
            continue;
        }

        doc = ngx_http_webhooks_json_load(r->pool,
                                      (u_char *) reply->element[i + 1]->str,
                                      reply->element[i + 1]->len);

        if (doc == NULL
            || ngx_http_webhooks_json_str(json_object_get(doc, "config"),
                                          "url", &url) != NGX_OK
            || url.len != callback.len
            || ngx_strncmp(url.data, callback.data, url.len) != 0)
        {
            id = 0;
            continue;
        }

        (void) ngx_http_webhooks_json_str(json_object_get(doc, "creator"),
                                          "app", &app);

        if (!ngx_http_webhooks_auth_may_see(&ctx->who, &app)) {
            id = 0;
            continue;
        }

        events = json_object_get(doc, "events");

        /* a hook for every event takes this one too, when subscribing */

        json_array_foreach(events, j, e) {
            if ((ngx_strlen(json_string_value(e)) == ctx->hub_event.len
                 && ngx_strncmp(json_string_value(e), ctx->hub_event.data,
                                ctx->hub_event.len) == 0)
                || (ctx->hub_subscribe
                    && ngx_strcmp(json_string_value(e), "*") == 0))
            {
                break;
            }
        }

        if (j == json_array_size(events)) {
            id = 0;
        }
    }

    if (id == 0) {
        if (!ctx->hub_subscribe) {
            /* nothing to unsubscribe: as good as done */
            ngx_http_webhooks_reply_finish(r, ngx_http_webhooks_reply_send(r,
                                                 NGX_HTTP_NO_CONTENT, NULL));
            return;
        }

        rc = ngx_http_webhooks_api_create(r, ctx);

        if (rc != NGX_DONE) {
            ngx_http_webhooks_reply_finish(r, rc);
        }

        return;
    }

    field.data = (u_char *) f->str;
    field.len = f->len;

    ctx->rt.hook_id = id;
    ctx->rt.hook.len = field.len;
    ctx->rt.hook.data = ngx_pstrdup(r->pool, &field);

    if (ctx->rt.hook.data == NULL) {
        ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->hub_subscribe) {
        /*
         * The same subscription again: it is active, with the format and
         * secret asked for now.  Its events stay.
         */
        ctx->handler = ngx_http_webhooks_api_update;
        (void) json_object_del(ctx->body, "name");
        (void) json_object_del(ctx->body, "events");

    } else if (json_array_size(json_object_get(doc, "events")) == 1) {
        ctx->handler = ngx_http_webhooks_api_delete;

    } else {
        /* the callback takes other events too: keep those */
        rest = ngx_http_webhooks_json_own(r->pool,
                   json_pack("{s:[s%]}", "remove_events",
                             ctx->hub_event.data, ctx->hub_event.len));
        if (rest == NULL) {
            ngx_http_webhooks_reply_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->handler = ngx_http_webhooks_api_update;
        ctx->body = rest;
    }

    /* the hooks API reads the hook afresh and writes it compare-and-set */
    rc = ngx_http_webhooks_api_fetch(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_webhooks_reply_finish(r, rc);
    }
}


/* hub.mode, hub.topic, hub.callback, hub.secret, form-decoded */

static ngx_int_t
ngx_http_webhooks_hub_form(ngx_http_request_t *r, ngx_str_t *body,
    ngx_http_webhooks_hub_form_t *form)
{
    u_char     *p, *last, *amp, *eq, *dst, *src;
    size_t      i;
    ngx_str_t   name, value, *to;

    ngx_memzero(form, sizeof(ngx_http_webhooks_hub_form_t));

    p = body->data;
    last = p + body->len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = ngx_strlchr(p, amp, '=');

        name.data = p;
        name.len = (eq ? eq : amp) - p;
        value.data = eq ? eq + 1 : amp;
        value.len = amp - value.data;

        p = amp + 1;

        if (ngx_http_webhooks_hub_field(form, &name, &to) != NGX_OK) {
            continue;
        }

        /* '+' is a space in a form; then %XX */

        to->data = ngx_pnalloc(r->pool, value.len + 1);
        if (to->data == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < value.len; i++) {
            to->data[i] = (value.data[i] == '+') ? ' ' : value.data[i];
        }

        src = to->data;
        dst = to->data;
        ngx_unescape_uri(&dst, &src, value.len, 0);
        to->len = dst - to->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_hub_field(ngx_http_webhooks_hub_form_t *form,
    ngx_str_t *name, ngx_str_t **to)
{
    if (name->len == 8 && ngx_strncmp(name->data, "hub.mode", 8) == 0) {
        *to = &form->mode;

    } else if (name->len == 9
               && ngx_strncmp(name->data, "hub.topic", 9) == 0)
    {
        *to = &form->topic;

    } else if (name->len == 12
               && ngx_strncmp(name->data, "hub.callback", 12) == 0)
    {
        *to = &form->callback;

    } else if (name->len == 10
               && ngx_strncmp(name->data, "hub.secret", 10) == 0)
    {
        *to = &form->secret;
        form->has_secret = 1;

    } else {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * multipart/form-data, as curl -F sends it: parts separated by
 * "--<boundary>", each with a Content-Disposition naming the field, an
 * empty line, and the value up to the CRLF before the next separator
 */

static ngx_int_t
ngx_http_webhooks_hub_multipart(ngx_http_request_t *r, ngx_str_t *body,
    ngx_http_webhooks_hub_form_t *form)
{
    u_char     *p, *last, *end, *q, *b;
    ngx_str_t   boundary, name, *to;

    ngx_memzero(form, sizeof(ngx_http_webhooks_hub_form_t));

    p = r->headers_in.content_type->value.data;
    last = p + r->headers_in.content_type->value.len;

    b = ngx_strlcasestrn(p, last, (u_char *) "boundary=", 9 - 1);
    if (b == NULL) {
        return NGX_DECLINED;
    }

    b += 9;

    if (b < last && *b == '"') {
        b++;
        end = ngx_strlchr(b, last, '"');

    } else {
        for (end = b; end < last && *end != ';' && *end != ' '; end++) {
            /* void */
        }
    }

    if (end == NULL || end == b || end - b > 70) {
        return NGX_DECLINED;
    }

    /* "\r\n--" + boundary: the delimiter before every part but the first */

    boundary.len = 4 + (end - b);
    boundary.data = ngx_pnalloc(r->pool, boundary.len);
    if (boundary.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(boundary.data, "\r\n--", 4), b, end - b);

    if (body->len == 0) {
        /* no data to search: not even the closing delimiter */
        return NGX_DECLINED;
    }

    p = body->data;
    last = p + body->len;

    /* the first delimiter may come without its CRLF */
    p = ngx_strlcasestrn(p, last, boundary.data + 2, boundary.len - 2 - 1);

    while (p) {
        p += boundary.len - 2;

        if (last - p >= 2 && p[0] == '-' && p[1] == '-') {
            return NGX_OK;
        }

        q = ngx_strlcasestrn(p, last, (u_char *) "\r\n\r\n", 4 - 1);
        if (q == NULL) {
            return NGX_DECLINED;
        }

        /* name="..." in the part's headers */

        b = ngx_strlcasestrn(p, q, (u_char *) "name=\"", 6 - 1);
        if (b == NULL) {
            return NGX_DECLINED;
        }

        name.data = b + 6;
        end = ngx_strlchr(name.data, q, '"');
        if (end == NULL) {
            return NGX_DECLINED;
        }

        name.len = end - name.data;

        q += 4;
        end = ngx_strlcasestrn(q, last, boundary.data, boundary.len - 1);
        if (end == NULL) {
            return NGX_DECLINED;
        }

        if (ngx_http_webhooks_hub_field(form, &name, &to) == NGX_OK) {
            to->data = q;
            to->len = end - q;
        }

        p = end + 2;
    }

    return NGX_DECLINED;
}


/* http(s)://<host>/<owner>/<repo>/events/<event>[.json] */

static ngx_int_t
ngx_http_webhooks_hub_topic(ngx_str_t *topic, ngx_str_t *repo,
    ngx_str_t *event, ngx_uint_t *json)
{
    u_char  *p, *last, *slash;

    if (ngx_http_webhooks_hook_valid_url(topic) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* the topic is a piece of the body, not NUL-terminated */

    p = ngx_strnstr(topic->data, "://", topic->len) + 3;
    last = topic->data + topic->len;

    /* no query, no fragment: the path follows the host directly */

    if (ngx_strlchr(p, last, '?') || ngx_strlchr(p, last, '#')) {
        return NGX_DECLINED;
    }

    p = ngx_strlchr(p, last, '/');
    if (p == NULL) {
        return NGX_DECLINED;
    }

    repo->data = ++p;

    slash = ngx_strlchr(p, last, '/');
    if (slash == NULL) {
        return NGX_DECLINED;
    }

    slash = ngx_strlchr(slash + 1, last, '/');
    if (slash == NULL) {
        return NGX_DECLINED;
    }

    repo->len = slash - repo->data;
    p = slash + 1;

    if ((size_t) (last - p) < sizeof("events/") - 1 + 1
        || ngx_strncmp(p, "events/", sizeof("events/") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    event->data = p + sizeof("events/") - 1;
    event->len = last - event->data;

    *json = 0;

    if (event->len > 5
        && ngx_strncmp(last - 5, ".json", 5) == 0)
    {
        event->len -= 5;
        *json = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_hub_known_event(ngx_str_t *event)
{
    const char  **e;

    for (e = ngx_http_webhooks_hub_events; *e; e++) {
        if (ngx_strlen(*e) == event->len
            && ngx_strncmp(*e, event->data, event->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* every success of the hub's answers 204, as GitHub's hub does */

static ngx_int_t
ngx_http_webhooks_hub_saved(ngx_http_request_t *r,
    ngx_http_webhooks_ctx_t *ctx)
{
    return ngx_http_webhooks_reply_send(r, NGX_HTTP_NO_CONTENT, NULL);
}


static ngx_int_t
ngx_http_webhooks_hub_fail(ngx_http_request_t *r, const char *field,
    const char *code, const char *message)
{
    json_t  *errors;

    errors = ngx_http_webhooks_json_own(r->pool,
                 message ? json_pack("[{s:s,s:s,s:s,s:s}]", "resource", "Hub",
                                     "field", field, "code", code,
                                     "message", message)
                         : json_pack("[{s:s,s:s,s:s}]", "resource", "Hub",
                                     "field", field, "code", code));
    if (errors == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_WEBHOOKS_UNPROCESSABLE,
                                         "Validation Failed",
                                         NGX_HTTP_WEBHOOKS_HUB_DOCS, errors);
}
