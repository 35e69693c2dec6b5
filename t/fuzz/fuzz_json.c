
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * The intake's JSON reading without a tree against jansson's: the check
 * takes exactly what json_loadb takes (but for NUL bytes, which it always
 * refuses), and every short member of an object it finds is the member
 * jansson finds, string and integer alike.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_json_scan.h"


static void fuzz_json_members(ngx_pool_t *pool, json_t *doc, ngx_str_t *text);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy;
    json_t      *doc;
    ngx_int_t    rc;
    ngx_str_t    text;
    ngx_pool_t  *pool;

    pool = fuzz_pool();

    /* exactly size bytes (NGX_DEBUG_PALLOC): ASan sees reads past them */

    copy = ngx_pnalloc(pool, size ? size : 1);
    fuzz_assert(copy != NULL);
    ngx_memcpy(copy, data, size);

    rc = ngx_http_webhooks_json_scan_check(pool, copy, size);
    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    /*
     * a NUL byte is never JSON; jansson skips one read again after a
     * number ("{\"a\":1\0}"), the check refuses them all
     */

    if (ngx_strlchr(copy, copy + size, '\0')) {
        fuzz_assert(rc == NGX_DECLINED);
        fuzz_done(pool);
        return 0;
    }

    doc = json_loadb((const char *) copy, size, 0, NULL);

    fuzz_assert((rc == NGX_OK) == (doc != NULL));

    text.data = copy;
    text.len = size;

    if (doc) {
        fuzz_assert(ngx_http_webhooks_json_scan_object(&text)
                    == (json_is_object(doc) != 0));
        fuzz_json_members(pool, doc, &text);
        json_decref(doc);
    }

    fuzz_done(pool);

    return 0;
}


static void
fuzz_json_members(ngx_pool_t *pool, json_t *doc, ngx_str_t *text)
{
    size_t       len;
    json_t      *v, *w;
    ngx_uint_t   i, nkeys;
    ngx_str_t    values[NGX_HTTP_WEBHOOKS_JSON_SCAN_KEYS];
    const char  *keys[NGX_HTTP_WEBHOOKS_JSON_SCAN_KEYS];
    ngx_int_t    rc;
    ngx_str_t    span, s, n;
    const char  *key;
    u_char       buf[NGX_INT64_LEN + 1];

    if (!json_is_object(doc)) {
        fuzz_assert(ngx_http_webhooks_json_scan_member(text, "a", &span)
                    == NGX_DECLINED);
        return;
    }

    fuzz_assert(ngx_http_webhooks_json_scan_member(text, "no such member",
                                                   &span)
                == (json_object_get(doc, "no such member") ? NGX_OK
                                                           : NGX_DECLINED));

    /* several at once, in one pass, find the same as one at a time */

    nkeys = 0;
    keys[nkeys++] = "absent";

    json_object_foreach(doc, key, v) {
        if (nkeys < NGX_HTTP_WEBHOOKS_JSON_SCAN_KEYS
            && ngx_strlen(key) <= 21)
        {
            keys[nkeys++] = key;
        }
    }

    fuzz_assert(ngx_http_webhooks_json_scan_members(text, keys, values, nkeys)
                == NGX_OK);
    fuzz_assert((values[0].len != 0)
                == (json_object_get(doc, "absent") != NULL));

    for (i = 1; i < nkeys; i++) {
        fuzz_assert(ngx_http_webhooks_json_scan_member(text, keys[i], &span)
                    == NGX_OK);
        fuzz_assert(span.data == values[i].data && span.len == values[i].len);
    }

    json_object_foreach(doc, key, v) {
        if (ngx_strlen(key) > 21) {
            continue;
        }

        rc = ngx_http_webhooks_json_scan_member(text, key, &span);
        fuzz_assert(rc == NGX_OK);

        /* the same value: jansson reads the text found the same way */

        w = json_loadb((const char *) span.data, span.len, JSON_DECODE_ANY,
                       NULL);
        fuzz_assert(w != NULL);
        fuzz_assert(json_equal(v, w));
        json_decref(w);

        rc = ngx_http_webhooks_json_scan_string(pool, &span, &s);

        if (json_is_string(v)) {
            fuzz_assert(rc == NGX_OK);
            fuzz_assert(s.len == json_string_length(v));
            fuzz_assert(s.len == 0
                        || ngx_memcmp(s.data, json_string_value(v), s.len)
                           == 0);

        } else {
            fuzz_assert(rc == NGX_DECLINED);
        }

        ngx_http_webhooks_json_scan_integer(&span, &n);

        if (json_is_integer(v)) {
            /* libc's: nginx's %L negates INT64_MIN */
            len = snprintf((char *) buf, sizeof(buf), "%" PRId64,
                           (int64_t) json_integer_value(v));
            fuzz_assert(n.len == len);
            fuzz_assert(ngx_memcmp(n.data, buf, n.len) == 0);

        } else {
            fuzz_assert(n.len == 0);
        }

        if (json_is_object(v)) {
            fuzz_json_members(pool, v, &span);
        }
    }
}
