
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * The hub: "<Content-Type>\n<body>", an empty first line for none.  The
 * body is an urlencoded form, or multipart/form-data when the type says
 * so, with hub.mode, hub.topic (validated as a repository's events URL),
 * hub.callback and hub.secret.  The caller is an admin; redis is not
 * there, so a subscription that passes ends in a 503.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_hub.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *nl, *last;
    ngx_int_t            rc;
    ngx_pool_t          *pool;
    ngx_http_request_t  *r;

    pool = fuzz_pool();
    r = fuzz_request(pool, NGX_HTTP_POST);

    last = (u_char *) data + size;
    nl = ngx_strlchr((u_char *) data, last, '\n');

    if (nl && nl > data) {
        fuzz_header_in(r, "Content-Type", (u_char *) data, nl - data);
    }

    if (nl) {
        data = nl + 1;
    }

    fuzz_body(r, (u_char *) data, last - data);

    rc = ngx_http_webhooks_hub_handler(r);
    fuzz_assert(rc == NGX_DONE);

    if (fuzz_response.finalized == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        fprintf(stderr, "fuzz: the hub failed with a 500\n");
    }

    /* a form is refused or taken, never the server's failure */
    fuzz_assert(fuzz_response.finalized == NGX_OK);
    fuzz_assert(fuzz_response.headers == 1);
    fuzz_assert(fuzz_response.status == NGX_HTTP_BAD_REQUEST
                || fuzz_response.status == NGX_HTTP_WEBHOOKS_UNPROCESSABLE
                || fuzz_response.status == NGX_HTTP_SERVICE_UNAVAILABLE);

    fuzz_check_response();
    fuzz_done(pool);

    return 0;
}
