
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_delivery.h"
#include "ngx_http_webhooks_router.h"
#include "ngx_http_webhooks_variables.h"


/*
 * What an API request will act on, for auth_request and logs: the route
 * of the main request, parsed as its content handler parses it, so that
 * an identity service decides on the scope the module then uses.  Names
 * are lowercase, as the module keys its data.  One handler per variable,
 * each reading the route.
 */

static ngx_int_t ngx_http_webhooks_variables_route(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt);
static ngx_int_t ngx_http_webhooks_variables_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len);
static ngx_int_t ngx_http_webhooks_variables_org(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webhooks_variables_owner(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webhooks_variables_repo(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webhooks_variables_scope(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webhooks_variables_hook_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webhooks_variables_operation(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_webhooks_variables_list[] = {

    { ngx_string("webhooks_org"), NULL,
      ngx_http_webhooks_variables_org, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhooks_owner"), NULL,
      ngx_http_webhooks_variables_owner, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhooks_repo"), NULL,
      ngx_http_webhooks_variables_repo, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhooks_scope"), NULL,
      ngx_http_webhooks_variables_scope, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhooks_hook_id"), NULL,
      ngx_http_webhooks_variables_hook_id, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhooks_operation"), NULL,
      ngx_http_webhooks_variables_operation, 0, NGX_HTTP_VAR_NOCACHEABLE,
      0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_webhooks_variables_add(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_webhooks_variables_list; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * NGX_DECLINED when the main request is not one the API would serve: an
 * auth_request subrequest runs before the content handler, so its parent
 * is parsed here, not read from the handler's context.
 */

static ngx_int_t
ngx_http_webhooks_variables_route(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt)
{
    ngx_str_t                      prefix;
    ngx_http_webhooks_loc_conf_t  *wlcf;

    r = r->main;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhooks_module);

    if (wlcf == NULL || !wlcf->api) {
        return NGX_DECLINED;
    }

    ngx_memzero(rt, sizeof(ngx_http_webhooks_route_t));

    return ngx_http_webhooks_router_request(r, rt, &prefix);
}


static ngx_int_t
ngx_http_webhooks_variables_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_variables_org(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || rt.scope != NGX_HTTP_WEBHOOKS_ORG) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webhooks_variables_set(r, v, rt.key.data, rt.key.len);
}


static ngx_int_t
ngx_http_webhooks_variables_owner(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *slash;
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || rt.scope != NGX_HTTP_WEBHOOKS_REPO) {
        v->not_found = 1;
        return NGX_OK;
    }

    slash = ngx_strlchr(rt.key.data, rt.key.data + rt.key.len, '/');

    return ngx_http_webhooks_variables_set(r, v, rt.key.data,
                                           slash - rt.key.data);
}


static ngx_int_t
ngx_http_webhooks_variables_repo(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *slash;
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || rt.scope != NGX_HTTP_WEBHOOKS_REPO) {
        v->not_found = 1;
        return NGX_OK;
    }

    slash = ngx_strlchr(rt.key.data, rt.key.data + rt.key.len, '/') + 1;

    return ngx_http_webhooks_variables_set(r, v, slash,
                                           rt.key.data + rt.key.len - slash);
}


/* "org:<org>" or "repo:<owner>/<repo>" */

static ngx_int_t
ngx_http_webhooks_variables_scope(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *p;
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    /* in a delivery subrequest: the delivered hook's */

    rc = ngx_http_webhooks_delivery_scope(r, v);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, sizeof("repo:") - 1 + rt.key.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%s:%V",
                         rt.scope == NGX_HTTP_WEBHOOKS_ORG ? "org" : "repo",
                         &rt.key)
             - p;

    return ngx_http_webhooks_variables_set(r, v, p, v->len);
}


static ngx_int_t
ngx_http_webhooks_variables_hook_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    rc = ngx_http_webhooks_delivery_hook_id(r, v);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || rt.hook_id == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webhooks_variables_set(r, v, rt.hook.data, rt.hook.len);
}


/* GitHub's operationId, e.g. "repos/list-webhooks" */

static ngx_int_t
ngx_http_webhooks_variables_operation(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                  rc;
    ngx_http_webhooks_route_t  rt;

    rc = ngx_http_webhooks_variables_route(r, &rt);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webhooks_variables_set(r, v, rt.operation.data,
                                           rt.operation.len);
}
