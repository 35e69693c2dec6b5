
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * A payload as the sender takes it from redis, encoded for a hook of
 * content_type "form" ("payload=<urlencoded JSON>") and signed.  The
 * encoding must decode back to the payload, as the receiver decodes it.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_sign.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *dst, *src;
    size_t       i;
    ngx_str_t    json, out, secret;
    ngx_pool_t  *pool;
    u_char       sha1[NGX_HTTP_WEBHOOKS_SHA1_LEN];
    u_char       sha256[NGX_HTTP_WEBHOOKS_SHA256_LEN];

    pool = fuzz_pool();

    json.len = size;
    json.data = ngx_pnalloc(pool, size ? size : 1);
    fuzz_assert(json.data != NULL);
    ngx_memcpy(json.data, data, size);

    fuzz_assert(ngx_http_webhooks_sign_form_encode(pool, &json, &out)
                == NGX_OK);

    fuzz_assert(out.len >= sizeof("payload=") - 1);
    fuzz_assert(out.len <= sizeof("payload=") - 1 + 3 * size);
    fuzz_assert(ngx_strncmp(out.data, "payload=", 8) == 0);

    /* only unreserved characters, "+" and "%XX" go on the wire */

    for (i = 8; i < out.len; i++) {
        fuzz_assert(ngx_strchr("&=", out.data[i]) == NULL);
        fuzz_assert(out.data[i] > 0x20 && out.data[i] < 0x7f);
    }

    /* a form decoder: "+" is a space, then %XX */

    src = ngx_pnalloc(pool, out.len);
    fuzz_assert(src != NULL);

    for (i = 8; i < out.len; i++) {
        src[i - 8] = (out.data[i] == '+') ? ' ' : out.data[i];
    }

    dst = ngx_pnalloc(pool, out.len);
    fuzz_assert(dst != NULL);

    {
        u_char  *d = dst, *s = src;

        ngx_unescape_uri(&d, &s, out.len - 8, 0);

        fuzz_assert((size_t) (d - dst) == size);
        fuzz_assert(size == 0 || ngx_memcmp(dst, data, size) == 0);
    }

    /* the signatures, the first bytes being the secret */

    secret.data = json.data;
    secret.len = ngx_min(size, 16);

    fuzz_assert(ngx_http_webhooks_sign(&secret, &out, sha1, sha256)
                == NGX_OK);
    fuzz_assert(ngx_strncmp(sha1, "sha1=", 5) == 0);
    fuzz_assert(ngx_strncmp(sha256, "sha256=", 7) == 0);

    fuzz_done(pool);

    return 0;
}
