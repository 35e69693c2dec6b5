
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * The route parser: "<METHOD> <path>", the path as the API location sees
 * it, e.g. "POST /repos/o/r/hooks/1/deliveries/2/attempts".
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_router.h"


static ngx_uint_t fuzz_method(u_char *p, size_t len);
static void fuzz_check_route(ngx_pool_t *pool, ngx_str_t *path,
    ngx_int_t rc, ngx_http_webhooks_route_t *rt);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *sp, *last;
    ngx_int_t                   rc;
    ngx_str_t                   path, name;
    ngx_uint_t                  method;
    ngx_pool_t                 *pool;
    ngx_http_request_t         *r;
    ngx_http_webhooks_route_t   rt;

    pool = fuzz_pool();

    /* a copy of exactly the input's size: reading past it is caught */
    path.len = size;
    path.data = ngx_pnalloc(pool, size ? size : 1);
    fuzz_assert(path.data != NULL);
    ngx_memcpy(path.data, data, size);

    last = path.data + path.len;
    sp = ngx_strlchr(path.data, last, ' ');
    method = NGX_HTTP_GET;

    if (sp) {
        method = fuzz_method(path.data, sp - path.data);
        path.len = last - (sp + 1);
        path.data = sp + 1;
    }

    r = fuzz_request(pool, method);
    r->uri = path;

    ngx_memzero(&rt, sizeof(ngx_http_webhooks_route_t));
    rc = ngx_http_webhooks_router_find(r, &path, &rt);
    fuzz_check_route(pool, &path, rc, &rt);

    /* the same bytes as an org, and as "owner/repo", the hub's way in */

    name = path;

    ngx_memzero(&rt, sizeof(ngx_http_webhooks_route_t));
    rc = ngx_http_webhooks_router_scope(pool, NGX_HTTP_WEBHOOKS_ORG, &name,
                                        &rt);
    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);
    fuzz_assert(rc != NGX_OK || ngx_strlchr(name.data, last, '/') == NULL);

    ngx_memzero(&rt, sizeof(ngx_http_webhooks_route_t));
    rc = ngx_http_webhooks_router_scope(pool, NGX_HTTP_WEBHOOKS_REPO, &name,
                                        &rt);
    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc == NGX_OK) {
        fuzz_assert(rt.key.len == name.len);
    }

    fuzz_done(pool);

    return 0;
}


static ngx_uint_t
fuzz_method(u_char *p, size_t len)
{
    ngx_uint_t  i;

    static struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS }
    };

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (methods[i].name.len == len
            && ngx_strncmp(methods[i].name.data, p, len) == 0)
        {
            return methods[i].method;
        }
    }

    return NGX_HTTP_UNKNOWN;
}


/* what a route promises the handlers that use it */

static void
fuzz_check_route(ngx_pool_t *pool, ngx_str_t *path, ngx_int_t rc,
    ngx_http_webhooks_route_t *rt)
{
    size_t     i;
    uint64_t   id;
    ngx_str_t  again;

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc != NGX_OK) {
        return;
    }

    fuzz_assert(rt->op >= NGX_HTTP_WEBHOOKS_OP_LIST
                && rt->op <= NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED);
    fuzz_assert(rt->scope == NGX_HTTP_WEBHOOKS_ORG
                || rt->scope == NGX_HTTP_WEBHOOKS_REPO);
    fuzz_assert(rt->doc_url != NULL);

    fuzz_assert(rt->name.len > 0);
    fuzz_assert(rt->name.data > path->data
                && rt->name.data + rt->name.len <= path->data + path->len);

    fuzz_assert(rt->key.len == rt->name.len);

    for (i = 0; i < rt->name.len; i++) {
        fuzz_assert(rt->key.data[i] == ngx_tolower(rt->name.data[i]));
    }

    if (rt->hook_id) {
        fuzz_assert(ngx_http_webhooks_router_parse_id(rt->hook.data,
                                                      rt->hook.len, &id)
                    == NGX_OK);
        fuzz_assert(id == rt->hook_id);
    }

    if (rt->delivery_id) {
        fuzz_assert(rt->hook_id != 0);
        fuzz_assert(ngx_http_webhooks_router_parse_id(rt->delivery.data,
                                                      rt->delivery.len, &id)
                    == NGX_OK);
        fuzz_assert(id == rt->delivery_id);
    }

    /*
     * an op on one hook has its id, a list or a create has none; a bulk
     * redelivery is for one hook or for all
     */

    fuzz_assert(rt->op == NGX_HTTP_WEBHOOKS_OP_REDELIVER_FAILED
                || (rt->hook_id == 0)
                   == (rt->op == NGX_HTTP_WEBHOOKS_OP_LIST
                       || rt->op == NGX_HTTP_WEBHOOKS_OP_CREATE));

    again = rt->name;
    fuzz_assert(ngx_http_webhooks_router_scope(pool, rt->scope, &again, rt)
                == NGX_OK);
}
