
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_http_webhooks_sign.h"


/*
 * Random bytes for GUIDs drawn 4 KB at a time: a draw costs about as
 * much as the intake's own work on an event.  Per process: the master's
 * bytes are never a worker's.
 */

#define NGX_HTTP_WEBHOOKS_SIGN_RANDOM  4096


static ngx_int_t ngx_http_webhooks_sign_mac(ngx_uint_t i, ngx_str_t *secret,
    ngx_str_t *body, u_char *md, size_t *len);


static u_char      ngx_http_webhooks_sign_random[NGX_HTTP_WEBHOOKS_SIGN_RANDOM];
static size_t      ngx_http_webhooks_sign_random_pos =
                                                 NGX_HTTP_WEBHOOKS_SIGN_RANDOM;
static ngx_pid_t   ngx_http_webhooks_sign_random_pid;

/* HMAC-SHA1 and HMAC-SHA256, fetched once per process */
static EVP_MAC_CTX  *ngx_http_webhooks_sign_macs[2];
static ngx_pid_t     ngx_http_webhooks_sign_macs_pid;
static char         *ngx_http_webhooks_sign_digests[2] = { "SHA1", "SHA256" };


/* a random (version 4) UUID, as GitHub's X-GitHub-Delivery */

ngx_int_t
ngx_http_webhooks_sign_guid(u_char *buf)
{
    u_char  *b;

    if (ngx_http_webhooks_sign_random_pid != ngx_pid
        || ngx_http_webhooks_sign_random_pos + 16
           > NGX_HTTP_WEBHOOKS_SIGN_RANDOM)
    {
        if (RAND_bytes(ngx_http_webhooks_sign_random,
                       NGX_HTTP_WEBHOOKS_SIGN_RANDOM)
            != 1)
        {
            return NGX_ERROR;
        }

        ngx_http_webhooks_sign_random_pid = ngx_pid;
        ngx_http_webhooks_sign_random_pos = 0;
    }

    b = ngx_http_webhooks_sign_random + ngx_http_webhooks_sign_random_pos;
    ngx_http_webhooks_sign_random_pos += 16;

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

    /* drawn once only */
    ngx_memzero(b, 16);

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
    u_char  md[EVP_MAX_MD_SIZE];
    size_t  len;

    if (ngx_http_webhooks_sign_mac(0, secret, body, md, &len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_cpymem(sha1, "sha1=", 5), md, len);

    if (ngx_http_webhooks_sign_mac(1, secret, body, md, &len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_cpymem(sha256, "sha256=", 7), md, len);

    return NGX_OK;
}


/*
 * An HMAC with a context kept by the process: HMAC() fetches the
 * algorithm and makes a context on each call.  The key is forgotten
 * after use, the context keyed again with an empty one.
 */

static ngx_int_t
ngx_http_webhooks_sign_mac(ngx_uint_t i, ngx_str_t *secret, ngx_str_t *body,
    u_char *md, size_t *len)
{
    EVP_MAC      *mac;
    ngx_int_t     rc;
    ngx_uint_t    n;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    if (ngx_http_webhooks_sign_macs_pid != ngx_pid) {
        /* a fork's copies of the parent's, if any */

        for (n = 0; n < 2; n++) {
            EVP_MAC_CTX_free(ngx_http_webhooks_sign_macs[n]);
            ngx_http_webhooks_sign_macs[n] = NULL;
        }

        ngx_http_webhooks_sign_macs_pid = ngx_pid;
    }

    ctx = ngx_http_webhooks_sign_macs[i];

    if (ctx == NULL) {
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (mac == NULL) {
            return NGX_ERROR;
        }

        ctx = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);

        if (ctx == NULL) {
            return NGX_ERROR;
        }

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       ngx_http_webhooks_sign_digests[i], 0);
        params[1] = OSSL_PARAM_construct_end();

        if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
            EVP_MAC_CTX_free(ctx);
            return NGX_ERROR;
        }

        ngx_http_webhooks_sign_macs[i] = ctx;
    }

    rc = (EVP_MAC_init(ctx, secret->data, secret->len, NULL) == 1
          && EVP_MAC_update(ctx, body->data, body->len) == 1
          && EVP_MAC_final(ctx, md, len, EVP_MAX_MD_SIZE) == 1)
         ? NGX_OK : NGX_ERROR;

    if (EVP_MAC_init(ctx, (u_char *) "", 0, NULL) != 1) {
        /* made again next time rather than keep the key */
        EVP_MAC_CTX_free(ctx);
        ngx_http_webhooks_sign_macs[i] = NULL;
    }

    return rc;
}


void
ngx_http_webhooks_sign_done(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    /* the random bytes are wiped whoever drew them */

    ngx_explicit_memzero(ngx_http_webhooks_sign_random,
                         NGX_HTTP_WEBHOOKS_SIGN_RANDOM);
    ngx_http_webhooks_sign_random_pid = 0;

    if (ngx_http_webhooks_sign_macs_pid != ngx_pid) {
        return;
    }

    for (i = 0; i < 2; i++) {
        EVP_MAC_CTX_free(ngx_http_webhooks_sign_macs[i]);
        ngx_http_webhooks_sign_macs[i] = NULL;
    }
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
