
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_webhooks_sign.h"


/* a random (version 4) UUID, as GitHub's X-GitHub-Delivery */

ngx_int_t
ngx_http_webhooks_sign_guid(u_char *buf)
{
    u_char  b[16];

    if (RAND_bytes(b, sizeof(b)) != 1) {
        return NGX_ERROR;
    }

    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;

    ngx_hex_dump(buf, b, 4);
    buf[8] = '-';
    ngx_hex_dump(buf + 9, b + 4, 2);
    buf[13] = '-';
    ngx_hex_dump(buf + 14, b + 6, 2);
    buf[18] = '-';
    ngx_hex_dump(buf + 19, b + 8, 2);
    buf[23] = '-';
    ngx_hex_dump(buf + 24, b + 10, 6);

    return NGX_OK;
}


/*
 * X-Hub-Signature ("sha1=...") and X-Hub-Signature-256 ("sha256=...")
 * over the exact bytes sent.
 */

ngx_int_t
ngx_http_webhooks_sign(ngx_str_t *secret, ngx_str_t *body, u_char *sha1,
    u_char *sha256)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;

    if (HMAC(EVP_sha1(), secret->data, (int) secret->len, body->data,
             body->len, md, &len)
        == NULL)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_cpymem(sha1, "sha1=", 5), md, len);

    if (HMAC(EVP_sha256(), secret->data, (int) secret->len, body->data,
             body->len, md, &len)
        == NULL)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_cpymem(sha256, "sha256=", 7), md, len);

    return NGX_OK;
}


/* "payload=<the JSON, form-encoded>" for content_type "form" */

ngx_int_t
ngx_http_webhooks_sign_form_encode(ngx_pool_t *pool, ngx_str_t *json,
    ngx_str_t *out)
{
    u_char  *p, *s, *last, ch;

    static u_char  hex[] = "0123456789ABCDEF";

    out->data = ngx_pnalloc(pool, sizeof("payload=") - 1 + 3 * json->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, "payload=", sizeof("payload=") - 1);

    for (s = json->data, last = s + json->len; s < last; s++) {
        ch = *s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'
            || ch == '_' || ch == '*')
        {
            *p++ = ch;

        } else if (ch == ' ') {
            *p++ = '+';

        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 0xf];
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}
