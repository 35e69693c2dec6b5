
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * The query string of the list endpoints: the delivery log's cursor
 * (?cursor=v1_<id>), status and per_page as ngx_http_webhooks_deliveries
 * reads them, and per_page/page as the hooks list reads them.  Redis is
 * not there, so a query that passes ends in a 503.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_request.h"
#include "ngx_http_webhooks_deliveries.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t                 rc;
    ngx_uint_t                n;
    ngx_pool_t               *pool;
    ngx_http_request_t       *r;
    ngx_http_webhooks_ctx_t  *ctx;

    pool = fuzz_pool();
    r = fuzz_request(pool, NGX_HTTP_GET);

    r->args.len = size;
    r->args.data = ngx_pnalloc(pool, size ? size : 1);
    fuzz_assert(r->args.data != NULL);
    ngx_memcpy(r->args.data, data, size);

    n = ngx_http_webhooks_request_arg(r, "per_page", 8, 30);
    fuzz_assert(n >= 1);

    n = ngx_http_webhooks_request_arg(r, "page", 4, 1);
    fuzz_assert(n >= 1);

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_webhooks_ctx_t));
    fuzz_assert(ctx != NULL);

    ngx_http_set_ctx(r, ctx, ngx_http_webhooks_module);

    ctx->rt.op = NGX_HTTP_WEBHOOKS_OP_DELIVERIES;
    ctx->rt.scope = NGX_HTTP_WEBHOOKS_REPO;
    ngx_str_set(&ctx->rt.name, "Octocat/Hello-World");
    ngx_str_set(&ctx->rt.key, "octocat/hello-world");
    ctx->rt.hook_id = 1;
    ngx_str_set(&ctx->rt.hook, "1");
    ctx->rt.doc_url = "https://docs.github.com/rest/repos/webhooks";
    ngx_str_set(&ctx->who.login, "octocat");
    ctx->who.admin = 1;
    ngx_str_set(&ctx->base, "https://api.example.com");
    ctx->base_json = ctx->base;
    ctx->name = ctx->rt.name;

    rc = ngx_http_webhooks_deliveries_list(r, ctx);

    /* an answer was sent: a bad query, or no redis */
    fuzz_assert(rc == NGX_OK);
    fuzz_assert(fuzz_response.headers == 1);
    fuzz_assert(fuzz_response.status == NGX_HTTP_BAD_REQUEST
                || fuzz_response.status == NGX_HTTP_WEBHOOKS_UNPROCESSABLE
                || fuzz_response.status == NGX_HTTP_SERVICE_UNAVAILABLE);

    fuzz_check_response();
    fuzz_done(pool);

    return 0;
}
