
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_router.h"


#define NGX_HTTP_WEBHOOKS_SEGMENTS  8


/*
 * "#" in a pattern stands for a hook id, a second one for a delivery id.
 */

typedef struct {
    ngx_uint_t                   scope;
    ngx_uint_t                   method;
    const char                  *pattern;
    ngx_uint_t                   op;
    const char                  *doc_url;
    const char                  *operation;    /* GitHub's operationId */
} ngx_http_webhooks_route_def_t;


#define ORG   NGX_HTTP_WEBHOOKS_ORG
#define REPO  NGX_HTTP_WEBHOOKS_REPO
#define ODOC  "https://docs.github.com/rest/orgs/webhooks#"
#define RDOC  "https://docs.github.com/rest/repos/webhooks#"
/* not GitHub's: its REST docs at large, as for any other error */
#define XDOC  "https://docs.github.com/rest"

static ngx_http_webhooks_route_def_t  ngx_http_webhooks_router_routes[] = {

    { ORG, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks", NGX_HTTP_WEBHOOKS_OP_LIST,
      ODOC "list-organization-webhooks",
      "orgs/list-webhooks" },
    { ORG, NGX_HTTP_POST, "hooks", NGX_HTTP_WEBHOOKS_OP_CREATE,
      ODOC "create-an-organization-webhook",
      "orgs/create-webhook" },
    { ORG, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#", NGX_HTTP_WEBHOOKS_OP_GET,
      ODOC "get-an-organization-webhook",
      "orgs/get-webhook" },
    { ORG, NGX_HTTP_PATCH, "hooks/#", NGX_HTTP_WEBHOOKS_OP_UPDATE,
      ODOC "update-an-organization-webhook",
      "orgs/update-webhook" },
    { ORG, NGX_HTTP_DELETE, "hooks/#", NGX_HTTP_WEBHOOKS_OP_DELETE,
      ODOC "delete-an-organization-webhook",
      "orgs/delete-webhook" },
    { ORG, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/config",
      NGX_HTTP_WEBHOOKS_OP_GET_CONFIG,
      ODOC "get-a-webhook-configuration-for-an-organization",
      "orgs/get-webhook-config-for-org" },
    { ORG, NGX_HTTP_PATCH, "hooks/#/config",
      NGX_HTTP_WEBHOOKS_OP_UPDATE_CONFIG,
      ODOC "update-a-webhook-configuration-for-an-organization",
      "orgs/update-webhook-config-for-org" },
    { ORG, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/deliveries",
      NGX_HTTP_WEBHOOKS_OP_DELIVERIES,
      ODOC "list-deliveries-for-an-organization-webhook",
      "orgs/list-webhook-deliveries" },
    { ORG, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/deliveries/#",
      NGX_HTTP_WEBHOOKS_OP_DELIVERY,
      ODOC "get-a-webhook-delivery-for-an-organization-webhook",
      "orgs/get-webhook-delivery" },
    { ORG, NGX_HTTP_POST, "hooks/#/deliveries/#/attempts",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER,
      ODOC "redeliver-a-delivery-for-an-organization-webhook",
      "orgs/redeliver-webhook-delivery" },
    { ORG, NGX_HTTP_POST, "hooks/#/pings", NGX_HTTP_WEBHOOKS_OP_PING,
      ODOC "ping-an-organization-webhook",
      "orgs/ping-webhook" },

    { REPO, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks", NGX_HTTP_WEBHOOKS_OP_LIST,
      RDOC "list-repository-webhooks",
      "repos/list-webhooks" },
    { REPO, NGX_HTTP_POST, "hooks", NGX_HTTP_WEBHOOKS_OP_CREATE,
      RDOC "create-a-repository-webhook",
      "repos/create-webhook" },
    { REPO, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#", NGX_HTTP_WEBHOOKS_OP_GET,
      RDOC "get-a-repository-webhook",
      "repos/get-webhook" },
    { REPO, NGX_HTTP_PATCH, "hooks/#", NGX_HTTP_WEBHOOKS_OP_UPDATE,
      RDOC "update-a-repository-webhook",
      "repos/update-webhook" },
    { REPO, NGX_HTTP_DELETE, "hooks/#", NGX_HTTP_WEBHOOKS_OP_DELETE,
      RDOC "delete-a-repository-webhook",
      "repos/delete-webhook" },
    { REPO, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/config",
      NGX_HTTP_WEBHOOKS_OP_GET_CONFIG,
      RDOC "get-a-webhook-configuration-for-a-repository",
      "repos/get-webhook-config-for-repo" },
    { REPO, NGX_HTTP_PATCH, "hooks/#/config",
      NGX_HTTP_WEBHOOKS_OP_UPDATE_CONFIG,
      RDOC "update-a-webhook-configuration-for-a-repository",
      "repos/update-webhook-config-for-repo" },
    { REPO, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/deliveries",
      NGX_HTTP_WEBHOOKS_OP_DELIVERIES,
      RDOC "list-deliveries-for-a-repository-webhook",
      "repos/list-webhook-deliveries" },
    { REPO, NGX_HTTP_GET|NGX_HTTP_HEAD, "hooks/#/deliveries/#",
      NGX_HTTP_WEBHOOKS_OP_DELIVERY,
      RDOC "get-a-delivery-for-a-repository-webhook",
      "repos/get-webhook-delivery" },
    { REPO, NGX_HTTP_POST, "hooks/#/deliveries/#/attempts",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER,
      RDOC "redeliver-a-delivery-for-a-repository-webhook",
      "repos/redeliver-webhook-delivery" },
    { REPO, NGX_HTTP_POST, "hooks/#/pings", NGX_HTTP_WEBHOOKS_OP_PING,
      RDOC "ping-a-repository-webhook",
      "repos/ping-webhook" },
    { REPO, NGX_HTTP_POST, "hooks/#/tests", NGX_HTTP_WEBHOOKS_OP_TEST,
      RDOC "test-the-push-repository-webhook",
      "repos/test-push-webhook" },

    { 0, 0, NULL, 0, NULL, NULL }
};


/*
 * Operations of this module's own live below "/_webhooks/", a first
 * segment no GitHub path has, so that they never take a GitHub meaning.
 */

static ngx_http_webhooks_route_def_t  ngx_http_webhooks_router_ext_routes[] = {

    { ORG, NGX_HTTP_POST, "redeliveries",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED, XDOC,
      "webhooks/redeliver-failed-for-org" },
    { ORG, NGX_HTTP_POST, "hooks/#/redeliveries",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED, XDOC,
      "webhooks/redeliver-failed-for-org" },
    { REPO, NGX_HTTP_POST, "redeliveries",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED, XDOC,
      "webhooks/redeliver-failed-for-repo" },
    { REPO, NGX_HTTP_POST, "hooks/#/redeliveries",
      NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED, XDOC,
      "webhooks/redeliver-failed-for-repo" },

    { 0, 0, NULL, 0, NULL, NULL }
};

#undef ORG
#undef REPO
#undef ODOC
#undef RDOC
#undef XDOC


static ngx_int_t ngx_http_webhooks_router_raw_path(ngx_http_request_t *r);
static void ngx_http_webhooks_router_path(ngx_http_request_t *r,
    ngx_str_t *path, ngx_str_t *prefix);
static ngx_int_t ngx_http_webhooks_router_valid_name(ngx_str_t *name,
    size_t max);
static ngx_int_t ngx_http_webhooks_router_match(
    ngx_http_webhooks_route_def_t *def, ngx_str_t *seg, ngx_uint_t nseg,
    ngx_http_webhooks_route_t *rt);


/*
 * The route a request of a webhooks_api location names: its $uri past the
 * location's prefix, and only if its raw URI names the same path.  Both
 * the content handler and the variables an auth service gets use this.
 */

ngx_int_t
ngx_http_webhooks_router_request(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, ngx_str_t *prefix)
{
    ngx_str_t  path;

    if (ngx_http_webhooks_router_raw_path(r) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_http_webhooks_router_path(r, &path, prefix);

    return ngx_http_webhooks_router_find(r, &path, rt);
}


/*
 * What a client sent must be what we act on: an identity service that
 * reads the raw path would otherwise decide on another org or repo than
 * nginx's normalised $uri names.  No dot segment, no empty one, no
 * encoded dot or slash.
 */

static ngx_int_t
ngx_http_webhooks_router_raw_path(ngx_http_request_t *r)
{
    u_char  *p, *last, *seg;
    size_t   dots;

    p = r->unparsed_uri.data;
    last = p + r->unparsed_uri.len;

    if (p == last || *p != '/') {
        return NGX_DECLINED;
    }

    seg = ++p;
    dots = 0;

    for ( ;; p++) {

        if (p == last || *p == '/' || *p == '?') {

            /* "", "." or ".." */
            if ((size_t) (p - seg) == dots && dots <= 2) {
                return NGX_DECLINED;
            }

            if (p == last || *p == '?') {
                return NGX_OK;
            }

            seg = p + 1;
            dots = 0;
            continue;
        }

        switch (*p) {

        case '.':
            dots++;
            break;

        case '#':
            return NGX_DECLINED;

        case '%':
            if (last - p >= 3 && p[1] == '2'
                && ((p[2] | 0x20) == 'e' || (p[2] | 0x20) == 'f'))
            {
                return NGX_DECLINED;
            }

            break;
        }
    }
}


/* the path past the location's prefix: "/api/v3/orgs/x" -> "/orgs/x" */

static void
ngx_http_webhooks_router_path(ngx_http_request_t *r, ngx_str_t *path,
    ngx_str_t *prefix)
{
    size_t                     len;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    *path = r->uri;
    prefix->data = r->uri.data;
    prefix->len = 0;

#if (NGX_PCRE)
    if (clcf->regex) {
        return;
    }
#endif

    len = clcf->name.len;

    if (len && clcf->name.data[len - 1] == '/') {
        len--;
    }

    if (len && r->uri.len > len
        && ngx_strncmp(r->uri.data, clcf->name.data, len) == 0
        && r->uri.data[len] == '/')
    {
        prefix->len = len;
        path->data += len;
        path->len -= len;
    }
}


ngx_int_t
ngx_http_webhooks_router_find(ngx_http_request_t *r, ngx_str_t *path,
    ngx_http_webhooks_route_t *rt)
{
    u_char                         *p, *last;
    ngx_str_t                       seg[NGX_HTTP_WEBHOOKS_SEGMENTS + 1];
    ngx_uint_t                      n, first, scope, ext;
    ngx_http_webhooks_route_def_t  *def;

    p = path->data;
    last = p + path->len;

    if (p == last || *p != '/') {
        return NGX_DECLINED;
    }

    /* split "/a/b/c" into segments; an empty one never matches */

    n = 0;

    while (p < last) {
        if (n == NGX_HTTP_WEBHOOKS_SEGMENTS + 1) {
            return NGX_DECLINED;
        }

        seg[n].data = ++p;

        while (p < last && *p != '/') {
            p++;
        }

        seg[n].len = p - seg[n].data;

        if (seg[n].len == 0) {
            return NGX_DECLINED;
        }

        n++;
    }

    ext = (n > 1 && seg[0].len == 9
           && ngx_strncmp(seg[0].data, "_webhooks", 9) == 0);

    if (ext) {
        ngx_memmove(&seg[0], &seg[1], (n - 1) * sizeof(ngx_str_t));
        n--;

    } else if (n > NGX_HTTP_WEBHOOKS_SEGMENTS) {
        return NGX_DECLINED;
    }

    if (n >= 3 && seg[0].len == 4 && ngx_strncmp(seg[0].data, "orgs", 4) == 0)
    {
        scope = NGX_HTTP_WEBHOOKS_ORG;
        first = 2;

        if (ngx_http_webhooks_router_valid_name(&seg[1],
                                                NGX_HTTP_WEBHOOKS_LOGIN_MAX)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        rt->name = seg[1];

    } else if (n >= 4 && seg[0].len == 5
               && ngx_strncmp(seg[0].data, "repos", 5) == 0)
    {
        scope = NGX_HTTP_WEBHOOKS_REPO;
        first = 3;

        if (ngx_http_webhooks_router_valid_name(&seg[1],
                                                NGX_HTTP_WEBHOOKS_LOGIN_MAX)
               != NGX_OK
            || ngx_http_webhooks_router_valid_name(&seg[2],
                                                   NGX_HTTP_WEBHOOKS_REPO_MAX)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        /* the two segments are adjacent in the path */
        rt->name.data = seg[1].data;
        rt->name.len = seg[2].data + seg[2].len - seg[1].data;

    } else {
        return NGX_DECLINED;
    }

    def = ext ? ngx_http_webhooks_router_ext_routes
              : ngx_http_webhooks_router_routes;

    for ( /* void */ ; def->pattern; def++) {

        if (def->scope != scope || !(def->method & r->method)) {
            continue;
        }

        if (ngx_http_webhooks_router_match(def, &seg[first], n - first, rt)
            == NGX_OK)
        {
            break;
        }
    }

    if (def->pattern == NULL) {
        return NGX_DECLINED;
    }

    rt->op = def->op;
    rt->doc_url = def->doc_url;
    rt->operation.data = (u_char *) def->operation;
    rt->operation.len = ngx_strlen(def->operation);

    if (ngx_http_webhooks_router_scope(r->pool, scope, &rt->name, rt)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rt->hook_id) {
        rt->hook.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (rt->hook.data == NULL) {
            return NGX_ERROR;
        }

        rt->hook.len = ngx_sprintf(rt->hook.data, "%uL", rt->hook_id)
                       - rt->hook.data;
    }

    if (rt->delivery_id) {
        rt->delivery.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (rt->delivery.data == NULL) {
            return NGX_ERROR;
        }

        rt->delivery.len = ngx_sprintf(rt->delivery.data, "%uL",
                                       rt->delivery_id)
                           - rt->delivery.data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_router_match(ngx_http_webhooks_route_def_t *def,
    ngx_str_t *seg, ngx_uint_t nseg, ngx_http_webhooks_route_t *rt)
{
    size_t       len;
    uint64_t     id[2];
    ngx_uint_t   i, n;
    const char  *p, *e;

    id[0] = 0;
    id[1] = 0;
    n = 0;
    p = def->pattern;

    for (i = 0; i < nseg; i++) {

        if (*p == '\0') {
            return NGX_DECLINED;
        }

        e = ngx_strchr(p, '/');
        len = e ? (size_t) (e - p) : ngx_strlen(p);

        if (len == 1 && *p == '#') {
            if (n == 2
                || ngx_http_webhooks_router_parse_id(seg[i].data, seg[i].len,
                                                     &id[n++])
                   != NGX_OK)
            {
                return NGX_DECLINED;
            }

        } else if (len != seg[i].len
                   || ngx_strncmp(p, seg[i].data, len) != 0)
        {
            return NGX_DECLINED;
        }

        p += len;

        if (*p == '/') {
            p++;
        }
    }

    if (*p != '\0') {
        return NGX_DECLINED;
    }

    rt->hook_id = id[0];
    rt->delivery_id = id[1];

    return NGX_OK;
}


/*
 * An org, or a repository as "owner/repo": NGX_DECLINED for a name
 * GitHub would not have.
 */

ngx_int_t
ngx_http_webhooks_router_scope(ngx_pool_t *pool, ngx_uint_t scope,
    ngx_str_t *name, ngx_http_webhooks_route_t *rt)
{
    u_char     *slash;
    ngx_str_t   part;

    if (scope == NGX_HTTP_WEBHOOKS_ORG) {
        if (ngx_http_webhooks_router_valid_name(name,
                                                NGX_HTTP_WEBHOOKS_LOGIN_MAX)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

    } else {
        slash = ngx_strlchr(name->data, name->data + name->len, '/');
        if (slash == NULL) {
            return NGX_DECLINED;
        }

        part.data = name->data;
        part.len = slash - name->data;

        if (ngx_http_webhooks_router_valid_name(&part,
                                                NGX_HTTP_WEBHOOKS_LOGIN_MAX)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        part.data = slash + 1;
        part.len = name->data + name->len - part.data;

        if (ngx_http_webhooks_router_valid_name(&part,
                                                NGX_HTTP_WEBHOOKS_REPO_MAX)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    rt->scope = scope;
    rt->name = *name;

    rt->key.len = name->len;
    rt->key.data = ngx_pnalloc(pool, name->len);
    if (rt->key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(rt->key.data, name->data, name->len);

    return NGX_OK;
}


/* a positive decimal that fits in 63 bits; anything else is not found */

ngx_int_t
ngx_http_webhooks_router_parse_id(u_char *p, size_t len, uint64_t *id)
{
    uint64_t  v;

    if (len == 0 || len > 19) {
        return NGX_DECLINED;
    }

    v = 0;

    while (len--) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }

        v = v * 10 + (*p++ - '0');
    }

    if (v == 0 || v > (uint64_t) INT64_MAX) {
        return NGX_DECLINED;
    }

    *id = v;

    return NGX_OK;
}


/*
 * GitHub logins and repository names: letters, digits, "-", "_", ".", no
 * longer than GitHub allows, so that a longer one is not found
 */

static ngx_int_t
ngx_http_webhooks_router_valid_name(ngx_str_t *name, size_t max)
{
    size_t  i;
    u_char  ch;

    if (name->len == 0 || name->len > max) {
        return NGX_DECLINED;
    }

    if (name->data[0] == '.') {
        return NGX_DECLINED;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
            || ch == '.')
        {
            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}
