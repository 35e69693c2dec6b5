
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_secret.h"


/* a literal's bytes without its NUL */
#define ngx_http_webhooks_hook_text(p, s)  ngx_cpymem(p, s, sizeof(s) - 1)


/*
 * The stored hook is JSON, with its secret sealed as "secret_enc" when
 * webhooks_secret_key is set (ngx_http_webhooks_secret.c), else clear as
 * "secret":
 *
 *   {"name":"web","active":true,"events":["push"],
 *    "config":{"content_type":"json","insecure_ssl":"0","url":"...",
 *              "secret_enc":"v1...."},
 *    "created_at":"...","updated_at":"...",
 *    "creator":{"login":"octocat","app":""}}
 *
 * Validation follows GitHub: a value of the wrong type fails the whole
 * request at once ("Invalid request."), then every semantic problem is
 * listed in the "errors" of one "Validation Failed".
 */


static ngx_int_t ngx_http_webhooks_hook_type_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, const char *property, json_t *value,
    const char *type);
static ngx_int_t ngx_http_webhooks_hook_length_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, size_t len, size_t max);
static ngx_int_t ngx_http_webhooks_hook_config_merge(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *config, json_t *in,
    ngx_http_webhooks_fault_t *fault);
static ngx_int_t ngx_http_webhooks_hook_config_check(ngx_http_request_t *r,
    json_t *config, ngx_http_webhooks_fault_t *fault);
static ngx_int_t ngx_http_webhooks_hook_events(ngx_http_request_t *r,
    const char *property, json_t *in, json_t *events,
    ngx_http_webhooks_fault_t *fault);
static ngx_int_t ngx_http_webhooks_hook_check_name(ngx_http_request_t *r,
    json_t *body, ngx_uint_t required, ngx_http_webhooks_fault_t *fault);
static ngx_int_t ngx_http_webhooks_hook_check_active(ngx_http_request_t *r,
    json_t *body, json_t *hook, ngx_http_webhooks_fault_t *fault);
static json_t *ngx_http_webhooks_hook_timestamp(void);
static json_t *ngx_http_webhooks_hook_done(ngx_http_request_t *r, json_t *hook,
    ngx_http_webhooks_fault_t *fault);


static const char  *ngx_http_webhooks_hook_config_keys[] = {
    "url", "content_type", "secret", "insecure_ssl", NULL
};

/* org hooks also take credentials for the receiver, per GitHub's schema */
static const char  *ngx_http_webhooks_hook_org_config_keys[] = {
    "url", "content_type", "secret", "insecure_ssl", "username", "password",
    NULL
};


json_t *
ngx_http_webhooks_hook_create(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, ngx_http_webhooks_identity_t *who,
    json_t *body, ngx_http_webhooks_fault_t *fault)
{
    json_t  *hook, *config, *events, *in, *now;

    now = ngx_http_webhooks_hook_timestamp();
    if (now == NULL) {
        return NULL;
    }

    /* "o" hands now over, "O" takes one more reference to it */
    hook = ngx_http_webhooks_json_own(r->pool,
               json_pack("{s:s,s:b,s:[],s:{s:s,s:s},s:o,s:O,s:o}",
                         "name", "web", "active", 1, "events", "config",
                         "content_type", "form", "insecure_ssl", "0",
                         "created_at", now, "updated_at", now,
                         "creator", ngx_http_webhooks_auth_creator(who)));
    if (hook == NULL) {
        return NULL;
    }

    events = json_object_get(hook, "events");
    config = json_object_get(hook, "config");

    if (ngx_http_webhooks_hook_check_name(r, body,
                                          rt->scope == NGX_HTTP_WEBHOOKS_ORG,
                                          fault)
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_http_webhooks_hook_check_active(r, body, hook, fault) != NGX_OK) {
        return NULL;
    }

    in = json_object_get(body, "events");

    if (in == NULL) {
        if (json_array_append_new(events, json_string("push")) != 0) {
            return NULL;
        }

    } else if (ngx_http_webhooks_hook_events(r, "events", in, events, fault)
               != NGX_OK)
    {
        return NULL;
    }

    in = json_object_get(body, "config");

    if (in && ngx_http_webhooks_hook_config_merge(r, rt, config, in, fault)
              != NGX_OK)
    {
        return NULL;
    }

    if (fault->status == 0
        && ngx_http_webhooks_hook_config_check(r, config, fault) != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_webhooks_hook_done(r, hook, fault);
}


json_t *
ngx_http_webhooks_hook_update(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, json_t *body,
    ngx_http_webhooks_fault_t *fault)
{
    size_t   i, j;
    json_t  *in, *config, *events, *remove, *e, *kept;

    if (ngx_http_webhooks_hook_check_name(r, body, 0, fault) != NGX_OK
        || ngx_http_webhooks_hook_check_active(r, body, hook, fault) != NGX_OK)
    {
        return NULL;
    }

    in = json_object_get(body, "config");

    if (in) {
        /*
         * a config replaces the old one, but for its secrets: a client
         * that read the hook could not know them
         */
        config = json_pack("{s:s,s:s}", "content_type", "form",
                           "insecure_ssl", "0");

        if (config == NULL) {
            return NULL;
        }

        if (ngx_http_webhooks_secret_keep(json_object_get(hook, "config"),
                                          config)
            != NGX_OK)
        {
            json_decref(config);
            return NULL;
        }

        if (json_object_set_new(hook, "config", config) != 0) {
            return NULL;
        }

        if (ngx_http_webhooks_hook_config_merge(r, rt, config, in, fault)
            != NGX_OK)
        {
            return NULL;
        }
    }

    events = json_object_get(hook, "events");
    in = json_object_get(body, "events");

    if (in) {
        json_array_clear(events);

        if (ngx_http_webhooks_hook_events(r, "events", in, events, fault)
            != NGX_OK)
        {
            return NULL;
        }
    }

    if (rt->scope == NGX_HTTP_WEBHOOKS_REPO) {

        in = json_object_get(body, "add_events");

        if (in
            && ngx_http_webhooks_hook_events(r, "add_events", in, events,
                                             fault)
               != NGX_OK)
        {
            return NULL;
        }

        in = json_object_get(body, "remove_events");

        if (in) {
            remove = ngx_http_webhooks_json_own(r->pool, json_array());
            kept = ngx_http_webhooks_json_own(r->pool, json_array());

            if (remove == NULL || kept == NULL) {
                return NULL;
            }

            if (ngx_http_webhooks_hook_events(r, "remove_events", in, remove,
                                              fault)
                != NGX_OK)
            {
                return NULL;
            }

            json_array_foreach(events, i, e) {
                json_t  *x;

                json_array_foreach(remove, j, x) {
                    if (json_equal(e, x)) {
                        break;
                    }
                }

                if (j == json_array_size(remove)
                    && json_array_append(kept, e) != 0)
                {
                    return NULL;
                }
            }

            if (json_object_set(hook, "events", kept) != 0) {
                return NULL;
            }
        }
    }

    if (fault->status == 0
        && ngx_http_webhooks_hook_config_check(r,
                                               json_object_get(hook, "config"),
                                               fault)
           != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_webhooks_hook_done(r, hook, fault);
}


json_t *
ngx_http_webhooks_hook_update_config(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, json_t *body,
    ngx_http_webhooks_fault_t *fault)
{
    json_t  *config;

    config = json_object_get(hook, "config");

    if (ngx_http_webhooks_hook_config_merge(r, rt, config, body, fault)
        != NGX_OK)
    {
        return NULL;
    }

    if (fault->status == 0
        && ngx_http_webhooks_hook_config_check(r, config, fault) != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_webhooks_hook_done(r, hook, fault);
}


static json_t *
ngx_http_webhooks_hook_done(ngx_http_request_t *r, json_t *hook,
    ngx_http_webhooks_fault_t *fault)
{
    if (fault->status) {
        return NULL;
    }

    if (json_object_set_new(hook, "updated_at",
                            ngx_http_webhooks_hook_timestamp())
        != 0)
    {
        return NULL;
    }

    return hook;
}


static ngx_int_t
ngx_http_webhooks_hook_check_name(ngx_http_request_t *r, json_t *body,
    ngx_uint_t required, ngx_http_webhooks_fault_t *fault)
{
    json_t  *name;

    name = json_object_get(body, "name");

    if (name == NULL) {
        if (required) {
            return ngx_http_webhooks_hook_fault(r, fault, "missing_field",
                                                "name", NULL);
        }

        return NGX_OK;
    }

    if (!json_is_string(name)) {
        return ngx_http_webhooks_hook_type_fault(r, fault, "name", name,
                                                 "a string");
    }

    if (ngx_strcmp(json_string_value(name), "web") != 0) {
        return ngx_http_webhooks_hook_fault(r, fault, "invalid", "name",
                                            NULL);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_hook_check_active(ngx_http_request_t *r, json_t *body,
    json_t *hook, ngx_http_webhooks_fault_t *fault)
{
    json_t  *active;

    active = json_object_get(body, "active");

    if (active == NULL) {
        return NGX_OK;
    }

    if (!json_is_boolean(active)) {
        return ngx_http_webhooks_hook_type_fault(r, fault, "active", active,
                                                 "a boolean");
    }

    if (json_object_set(hook, "active", active) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Appends the events of "in" that "events" lacks yet.  Repeats collapse;
 * past NGX_HTTP_WEBHOOKS_EVENTS_MAX distinct events, which also bounds
 * the lookups, the whole request is refused.
 */

static ngx_int_t
ngx_http_webhooks_hook_events(ngx_http_request_t *r, const char *property,
    json_t *in, json_t *events, ngx_http_webhooks_fault_t *fault)
{
    u_char      *msg;
    size_t       i, j;
    json_t      *e, *x;
    ngx_str_t    name;
    ngx_uint_t   invalid;

    if (!json_is_array(in)) {
        return ngx_http_webhooks_hook_type_fault(r, fault, property, in,
                                                 "an array");
    }

    invalid = 0;

    json_array_foreach(in, i, e) {

        if (!json_is_string(e)) {
            return ngx_http_webhooks_hook_type_fault(r, fault, "items", e,
                                                     "a string");
        }

        name.data = (u_char *) json_string_value(e);
        name.len = json_string_length(e);

        if (ngx_http_webhooks_hook_valid_event(&name) != NGX_OK) {

            /* one error for all of them, not one per name */

            if (invalid++ == 0
                && ngx_http_webhooks_hook_fault(r, fault, "invalid",
                                                "events", NULL)
                   == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            continue;
        }

        json_array_foreach(events, j, x) {
            if (json_equal(e, x)) {
                break;
            }
        }

        if (j < json_array_size(events)) {
            continue;
        }

        if (j >= NGX_HTTP_WEBHOOKS_EVENTS_MAX) {
            msg = ngx_pnalloc(r->pool, sizeof("A hook cannot have more "
                                              "than  events")
                                       + NGX_INT_T_LEN);
            if (msg == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(msg, "A hook cannot have more than %ui events%Z",
                        (ngx_uint_t) NGX_HTTP_WEBHOOKS_EVENTS_MAX);

            return ngx_http_webhooks_hook_fault(r, fault, "custom", property,
                                                (char *) msg);
        }

        if (json_array_append(events, e) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_hook_valid_event(ngx_str_t *event)
{
    size_t  i;

    if (event->len == 1 && event->data[0] == '*') {
        return NGX_OK;
    }

    if (event->len == 0 || event->len > 64) {
        return NGX_DECLINED;
    }

    for (i = 0; i < event->len; i++) {
        if ((event->data[i] < 'a' || event->data[i] > 'z')
            && event->data[i] != '_')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* type-checks "in" and copies its members into "config" */

static ngx_int_t
ngx_http_webhooks_hook_config_merge(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *config, json_t *in,
    ngx_http_webhooks_fault_t *fault)
{
    u_char       *msg;
    size_t        n;
    json_t       *value;
    const char   *key, **k, **keys;

    if (!json_is_object(in)) {
        return ngx_http_webhooks_hook_type_fault(r, fault, "config", in,
                                                 "an object");
    }

    keys = (rt->scope == NGX_HTTP_WEBHOOKS_ORG)
           ? ngx_http_webhooks_hook_org_config_keys
           : ngx_http_webhooks_hook_config_keys;

    json_object_foreach(in, key, value) {

        for (k = keys; *k; k++) {
            if (ngx_strcmp(*k, key) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            msg = ngx_pnalloc(r->pool, sizeof("Invalid config attribute: ")
                                       + ngx_strlen(key));
            if (msg == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(msg, "Invalid config attribute: %s%Z", key);

            if (ngx_http_webhooks_hook_fault(r, fault, "custom", NULL,
                                             (char *) msg)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(key, "insecure_ssl") == 0) {

            if (json_is_integer(value) || json_is_real(value)) {
                if (json_number_value(value) == 0) {
                    value = json_string("0");

                } else if (json_number_value(value) == 1) {
                    value = json_string("1");

                } else {
                    if (ngx_http_webhooks_hook_fault(r, fault, "invalid",
                                                     "insecure_ssl", NULL)
                        == NGX_ERROR)
                    {
                        return NGX_ERROR;
                    }

                    continue;
                }

                if (json_object_set_new(config, key, value) != 0) {
                    return NGX_ERROR;
                }

                continue;
            }

            if (!json_is_string(value)) {
                return ngx_http_webhooks_hook_type_fault(r, fault, key, value,
                                                        "a string or a number");
            }

            if (ngx_strcmp(json_string_value(value), "0") != 0
                && ngx_strcmp(json_string_value(value), "1") != 0)
            {
                if (ngx_http_webhooks_hook_fault(r, fault, "invalid",
                                                 "insecure_ssl", NULL)
                    == NGX_ERROR)
                {
                    return NGX_ERROR;
                }

                continue;
            }

        } else if (!json_is_string(value)) {
            return ngx_http_webhooks_hook_type_fault(r, fault, key, value,
                                                     "a string");
        }

        if (ngx_strcmp(key, "secret") == 0
            || ngx_strcmp(key, "password") == 0)
        {
            if (ngx_http_webhooks_secret_masked(value)) {
                /* sent back as read: the stored one stays */
                continue;
            }

            /* a new one replaces the old, clear or sealed */
            ngx_http_webhooks_secret_drop(config, key);
        }

        if (ngx_strcmp(key, "secret") == 0
            || ngx_strcmp(key, "password") == 0
            || ngx_strcmp(key, "username") == 0)
        {
            if (json_string_length(value) == 0) {
                /* an empty secret means no secret */
                (void) json_object_del(config, key);
                continue;
            }

            n = ngx_utf8_length((u_char *) json_string_value(value),
                                json_string_length(value));

            if (n > NGX_HTTP_WEBHOOKS_SECRET_MAX) {
                return ngx_http_webhooks_hook_length_fault(r, fault, n,
                                              NGX_HTTP_WEBHOOKS_SECRET_MAX);
            }
        }

        if (json_object_set(config, key, value) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_hook_config_check(ngx_http_request_t *r, json_t *config,
    ngx_http_webhooks_fault_t *fault)
{
    u_char                          msg[NGX_HTTP_WEBHOOKS_URL_MAX + 128];
    ngx_int_t                       rc;
    ngx_str_t                       url, ct, canonical;
    ngx_http_webhooks_main_conf_t  *wmcf;

    if (ngx_http_webhooks_json_str(config, "url", &url) != NGX_OK
        || url.len == 0)
    {
        return ngx_http_webhooks_hook_fault(r, fault, "custom", NULL,
                                       "Config must contain URL for webhooks");
    }

    if (ngx_http_webhooks_hook_valid_url(&url) != NGX_OK) {
        return ngx_http_webhooks_hook_fault(r, fault, "custom", NULL,
                   "The URL you've entered is not valid. Please make sure "
                   "that you encode all special characters first");
    }

    /* an IPv4 host in any form is kept as the dotted quad it means */

    rc = ngx_http_webhooks_address_url_canonical(r->pool, &url, &canonical);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_webhooks_hook_fault(r, fault, "custom", NULL,
                   "The URL you've entered is not valid. Please make sure "
                   "that you encode all special characters first");
    }

    if (canonical.data != url.data) {
        if (json_object_set_new(config, "url",
                                ngx_http_webhooks_json_stringn(&canonical))
            != 0)
        {
            return NGX_ERROR;
        }

        url = canonical;
    }

    /* an address that deliveries may not reach is refused right away */

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhooks_module);

    if (ngx_http_webhooks_address_url_allowed(wmcf, &url, msg, sizeof(msg))
        != NGX_OK)
    {
        return ngx_http_webhooks_hook_fault(r, fault, "custom", NULL,
                                            (char *) msg);
    }

    (void) ngx_http_webhooks_json_str(config, "content_type", &ct);

    if (!(ct.len == 4 && ngx_strncmp(ct.data, "json", 4) == 0)
        && !(ct.len == 4 && ngx_strncmp(ct.data, "form", 4) == 0))
    {
        return ngx_http_webhooks_hook_fault(r, fault, "invalid",
                                            "content_type", NULL);
    }

    return NGX_OK;
}


/* an absolute http(s) URL with a host, in printable, encoded ASCII */

ngx_int_t
ngx_http_webhooks_hook_valid_url(ngx_str_t *url)
{
    u_char  *p, *last, *host, *end, *at;
    size_t   n;

    if (url->len > NGX_HTTP_WEBHOOKS_URL_MAX) {
        return NGX_DECLINED;
    }

    p = url->data;
    last = p + url->len;

    for ( /* void */ ; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || ngx_strchr("\"<>\\^`{|}", *p)) {
            return NGX_DECLINED;
        }
    }

    p = url->data;

    if (url->len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        p += 7;

    } else if (url->len > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        p += 8;

    } else {
        return NGX_DECLINED;
    }

    for (end = p; end < last && *end != '/' && *end != '?' && *end != '#';
         end++)
    {
        /* void */
    }

    /* userinfo, if any, ends at the last "@" of the authority */

    at = NULL;

    for (host = p; host < end; host++) {
        if (*host == '@') {
            at = host;
        }
    }

    host = at ? at + 1 : p;

    if (host == end) {
        return NGX_DECLINED;
    }

    if (*host == '[') {
        for (p = host + 1; p < end && *p != ']'; p++) {
            if (!(ngx_strchr("0123456789abcdefABCDEF:.", *p))) {
                return NGX_DECLINED;
            }
        }

        if (p == end || p == host + 1) {
            return NGX_DECLINED;
        }

        p++;

    } else {
        for (p = host; p < end && *p != ':'; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                  || *p == '_'))
            {
                return NGX_DECLINED;
            }
        }

        if (p == host) {
            return NGX_DECLINED;
        }
    }

    if (p < end) {
        if (*p++ != ':' || p == end || end - p > 5) {
            return NGX_DECLINED;
        }

        for (n = 0; p < end; p++) {
            if (*p < '0' || *p > '9') {
                return NGX_DECLINED;
            }

            n = n * 10 + (*p - '0');
        }

        if (n == 0 || n > 65535) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_hook_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, const char *code, const char *field,
    const char *message)
{
    json_t  *e;

    if (fault->errors == NULL) {
        fault->errors = ngx_http_webhooks_json_own(r->pool, json_array());
        if (fault->errors == NULL) {
            return NGX_ERROR;
        }
    }

    e = json_pack("{s:s}", "resource", "Hook");
    if (e == NULL) {
        return NGX_ERROR;
    }

    if ((field && json_object_set_new(e, "field", json_string(field)) != 0)
        || json_object_set_new(e, "code", json_string(code)) != 0
        || (message
            && json_object_set_new(e, "message", json_string(message)) != 0)
        || json_array_append_new(fault->errors, e) != 0)
    {
        return NGX_ERROR;
    }

    fault->status = NGX_HTTP_WEBHOOKS_UNPROCESSABLE;
    fault->message = "Validation Failed";

    return NGX_DECLINED;
}


/*
 * GitHub's schema check words it as "For 'properties/x', 1 is not ...",
 * with the value; never one that may hold a secret: a secret or password
 * of any type, a URL or config that is not a number (a URL carries
 * credentials, a config all of them).
 */

static ngx_int_t
ngx_http_webhooks_hook_type_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, const char *property, json_t *value,
    const char *type)
{
    char    *dump;
    size_t   len;
    u_char  *msg;

    if (ngx_strcmp(property, "secret") == 0
        || ngx_strcmp(property, "password") == 0
        || ((ngx_strcmp(property, "url") == 0
             || ngx_strcmp(property, "config") == 0)
            && (json_is_string(value) || json_is_array(value)
                || json_is_object(value))))
    {
        dump = NULL;
        value = NULL;

    } else {
        dump = json_is_null(value) ? NULL : json_dumps(value, JSON_ENCODE_ANY
                                                              | JSON_COMPACT);
    }

    len = dump ? ngx_strlen(dump) : sizeof("[FILTERED]") - 1;

    msg = ngx_pnalloc(r->pool, sizeof("Invalid request.\n\nFor 'properties/"
                                      "', ") + ngx_strlen(property)
                               + len + sizeof(" is not .")
                               + ngx_strlen(type));
    if (msg == NULL) {
        free(dump);
        return NGX_ERROR;
    }

    ngx_sprintf(msg, "Invalid request.\n\nFor '%s%s', %s is not %s.%Z",
                ngx_strcmp(property, "items") == 0 ? "" : "properties/",
                property,
                dump ? dump : (value ? "nil" : "[FILTERED]"), type);

    free(dump);

    fault->status = NGX_HTTP_WEBHOOKS_UNPROCESSABLE;
    fault->message = (char *) msg;
    fault->errors = NULL;

    return NGX_DECLINED;
}


/* GitHub's schema check of a string's maxLength */

static ngx_int_t
ngx_http_webhooks_hook_length_fault(ngx_http_request_t *r,
    ngx_http_webhooks_fault_t *fault, size_t len, size_t max)
{
    u_char  *msg;

    msg = ngx_pnalloc(r->pool, sizeof("Invalid request.\n\nOnly  characters "
                                      "are allowed;  were supplied.")
                               + 2 * NGX_SIZE_T_LEN);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(msg, "Invalid request.\n\nOnly %uz characters are allowed; "
                "%uz were supplied.%Z", max, len);

    fault->status = NGX_HTTP_WEBHOOKS_UNPROCESSABLE;
    fault->message = (char *) msg;
    fault->errors = NULL;

    return NGX_DECLINED;
}


static json_t *
ngx_http_webhooks_hook_timestamp(void)
{
    u_char  buf[sizeof("2011-09-06T17:26:27Z")];

    return json_stringn((char *) buf,
                        ngx_http_webhooks_json_time(buf, ngx_time()) - buf);
}

ngx_int_t
ngx_http_webhooks_hook_url(ngx_pool_t *pool, ngx_http_webhooks_route_t *rt,
    ngx_str_t *base, ngx_str_t *name, ngx_str_t *id, const char *tail,
    ngx_str_t *url)
{
    size_t   len;
    u_char  *p;

    len = base->len + sizeof("/repos//hooks/") + name->len + id->len
          + ngx_strlen(tail);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;
    url->len = ngx_sprintf(p, "%V/%s/%V/hooks%s%V%s", base,
                           rt->scope == NGX_HTTP_WEBHOOKS_ORG ? "orgs"
                                                              : "repos",
                           name, id->len ? "/" : "", id, tail)
               - p;

    return NGX_OK;
}


json_t *
ngx_http_webhooks_hook_config_render(json_t *hook)
{
    json_t      *config, *out, *v;
    const char  *key, **k;

    static const char  *order[] = {
        "content_type", "insecure_ssl", "secret", "url", "username",
        "password", NULL
    };

    config = json_object_get(hook, "config");

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    for (k = order; *k; k++) {
        key = *k;
        if (ngx_strcmp(key, "secret") == 0
            || ngx_strcmp(key, "password") == 0)
        {
            if (!ngx_http_webhooks_secret_is_set(config, key)) {
                continue;
            }

            /* never shown, only whether one is set */
            v = json_string(NGX_HTTP_WEBHOOKS_SECRET_MASK);

        } else {
            v = json_object_get(config, key);

            if (v == NULL) {
                continue;
            }

            json_incref(v);
        }

        if (json_object_set_new(out, key, v) != 0) {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}


/*
 * The public view of a hook, rendered when it is written and stored
 * beside it: the fields that are neither the id nor derived from the
 * request, in GitHub's order for the scope, without the braces.
 */

ngx_int_t
ngx_http_webhooks_hook_view(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook, ngx_str_t *view)
{
    json_t  *out;

    if (rt->scope == NGX_HTTP_WEBHOOKS_ORG) {
        out = json_pack("{s:O,s:O,s:O,s:o,s:O,s:O}",
                        "name", json_object_get(hook, "name"),
                        "events", json_object_get(hook, "events"),
                        "active", json_object_get(hook, "active"),
                        "config", ngx_http_webhooks_hook_config_render(hook),
                        "updated_at", json_object_get(hook, "updated_at"),
                        "created_at", json_object_get(hook, "created_at"));

    } else {
        out = json_pack("{s:O,s:O,s:O,s:o,s:O,s:O}",
                        "name", json_object_get(hook, "name"),
                        "active", json_object_get(hook, "active"),
                        "events", json_object_get(hook, "events"),
                        "config", ngx_http_webhooks_hook_config_render(hook),
                        "updated_at", json_object_get(hook, "updated_at"),
                        "created_at", json_object_get(hook, "created_at"));
    }

    if (ngx_http_webhooks_json_own(r->pool, out) == NULL
        || ngx_http_webhooks_json_dump(r->pool, out, view) != NGX_OK
        || view->len < 2)
    {
        return NGX_ERROR;
    }

    view->data++;
    view->len -= 2;

    return NGX_OK;
}


/*
 * The hook as GitHub shows it: its stored view and the URLs around it.
 * Copied piece by piece, not through ngx_sprintf(), which copies a long
 * format a byte at a time: this is the hot GET path's one big write.
 */

u_char *
ngx_http_webhooks_hook_output(u_char *p, ngx_http_webhooks_route_t *rt,
    ngx_str_t *base, ngx_str_t *name, ngx_str_t *id, ngx_str_t *view,
    ngx_str_t *last_response)
{
    u_char  *url;
    size_t   len;

    static ngx_str_t  unused =
        ngx_string("{\"code\":null,\"status\":\"unused\",\"message\":null}");

    if (last_response == NULL || last_response->len == 0) {
        last_response = &unused;
    }

    if (rt->scope == NGX_HTTP_WEBHOOKS_ORG) {
        p = ngx_http_webhooks_hook_text(p, "{\"id\":");
        p = ngx_cpymem(p, id->data, id->len);
        p = ngx_http_webhooks_hook_text(p, ",\"url\":\"");

    } else {
        p = ngx_http_webhooks_hook_text(p, "{\"type\":\"Repository\",\"id\":");
        p = ngx_cpymem(p, id->data, id->len);
        *p++ = ',';
        p = ngx_cpymem(p, view->data, view->len);
        p = ngx_http_webhooks_hook_text(p, ",\"url\":\"");
    }

    /* the hook's URL, written once, then copied before each suffix */

    url = p;
    p = ngx_cpymem(p, base->data, base->len);

    if (rt->scope == NGX_HTTP_WEBHOOKS_ORG) {
        p = ngx_http_webhooks_hook_text(p, "/orgs/");

    } else {
        p = ngx_http_webhooks_hook_text(p, "/repos/");
    }

    p = ngx_cpymem(p, name->data, name->len);
    p = ngx_http_webhooks_hook_text(p, "/hooks/");
    p = ngx_cpymem(p, id->data, id->len);
    len = p - url;

    if (rt->scope != NGX_HTTP_WEBHOOKS_ORG) {
        p = ngx_http_webhooks_hook_text(p, "\",\"test_url\":\"");
        p = ngx_cpymem(p, url, len);
        p = ngx_http_webhooks_hook_text(p, "/test");
    }

    p = ngx_http_webhooks_hook_text(p, "\",\"ping_url\":\"");
    p = ngx_cpymem(p, url, len);
    p = ngx_http_webhooks_hook_text(p, "/pings\",\"deliveries_url\":\"");
    p = ngx_cpymem(p, url, len);
    p = ngx_http_webhooks_hook_text(p, "/deliveries\",");

    if (rt->scope == NGX_HTTP_WEBHOOKS_ORG) {
        p = ngx_cpymem(p, view->data, view->len);
        return ngx_http_webhooks_hook_text(p,
                                           ",\"type\":\"Organization\"}");
    }

    p = ngx_http_webhooks_hook_text(p, "\"last_response\":");
    p = ngx_cpymem(p, last_response->data, last_response->len);
    *p++ = '}';

    return p;
}


size_t
ngx_http_webhooks_hook_output_len(ngx_str_t *base, ngx_str_t *name,
    ngx_str_t *id, ngx_str_t *view, ngx_str_t *last_response)
{
    /* four URLs, the fixed text, the view and the last response */
    return 4 * (base->len + name->len + id->len) + id->len + view->len
           + (last_response ? last_response->len : 0) + 384;
}
