
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ngx_http_webhooks_aead.h"


/*
 * Secrets sealed with AES-256-GCM:
 *
 *   v1.<key id>.<base64 of a random 96-bit nonce, the ciphertext and the
 *   128-bit tag>
 *
 * The key id, 8 hex digits of the key's SHA-256, picks the key among
 * those configured; the caller's additional data (the hook and the
 * field) binds a sealed text to where it is kept, so that it cannot be
 * moved to another hook or field.  The scratch buffers come from
 * malloc(): util/rekey has no nginx pools.
 */


#define NGX_HTTP_WEBHOOKS_AEAD_HEAD                                          \
    (sizeof("v1..") - 1 + NGX_HTTP_WEBHOOKS_AEAD_ID_LEN)
#define NGX_HTTP_WEBHOOKS_AEAD_OVER                                          \
    (NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN + NGX_HTTP_WEBHOOKS_AEAD_TAG_LEN)


static int ngx_http_webhooks_aead_hex(u_char c);


/* 64 hex digits, then nothing but white space: "openssl rand -hex 32" */

int
ngx_http_webhooks_aead_key(ngx_http_webhooks_aead_key_t *key,
    const u_char *text, size_t len)
{
    int      hi, lo;
    size_t   i;
    u_char   md[SHA256_DIGEST_LENGTH];

    static const u_char  hex[] = "0123456789abcdef";

    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'
                   || text[len - 1] == ' ' || text[len - 1] == '\t'))
    {
        len--;
    }

    if (len != 2 * NGX_HTTP_WEBHOOKS_AEAD_KEY_LEN) {
        return -1;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_AEAD_KEY_LEN; i++) {
        hi = ngx_http_webhooks_aead_hex(text[2 * i]);
        lo = ngx_http_webhooks_aead_hex(text[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            ngx_http_webhooks_aead_wipe(key->key, sizeof(key->key));
            return -1;
        }

        key->key[i] = (u_char) (hi << 4 | lo);
    }

    if (SHA256(key->key, sizeof(key->key), md) == NULL) {
        return -1;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_AEAD_ID_LEN / 2; i++) {
        key->id[2 * i] = hex[md[i] >> 4];
        key->id[2 * i + 1] = hex[md[i] & 0xf];
    }

    return 0;
}


/* the key id of a sealed text, NULL if it is not one */

const u_char *
ngx_http_webhooks_aead_id(const u_char *sealed, size_t len)
{
    size_t  i;

    if (len <= NGX_HTTP_WEBHOOKS_AEAD_HEAD
        || memcmp(sealed, "v1.", 3) != 0
        || sealed[NGX_HTTP_WEBHOOKS_AEAD_HEAD - 1] != '.')
    {
        return NULL;
    }

    for (i = 3; i < NGX_HTTP_WEBHOOKS_AEAD_HEAD - 1; i++) {
        if (ngx_http_webhooks_aead_hex(sealed[i]) < 0
            || (sealed[i] >= 'A' && sealed[i] <= 'F'))
        {
            return NULL;
        }
    }

    return sealed + 3;
}


const ngx_http_webhooks_aead_key_t *
ngx_http_webhooks_aead_find(const ngx_http_webhooks_aead_key_t *keys,
    size_t n, const u_char *sealed, size_t len)
{
    size_t        i;
    const u_char  *id;

    id = ngx_http_webhooks_aead_id(sealed, len);
    if (id == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (memcmp(keys[i].id, id, NGX_HTTP_WEBHOOKS_AEAD_ID_LEN) == 0) {
            return &keys[i];
        }
    }

    return NULL;
}


/*
 * Seals len bytes into out, which holds
 * ngx_http_webhooks_aead_sealed_size(len) bytes; returns the length of
 * the text, without its NUL, or -1.
 */

ssize_t
ngx_http_webhooks_aead_seal(const ngx_http_webhooks_aead_key_t *key,
    const u_char *aad, size_t aad_len, const u_char *in, size_t len,
    u_char *out)
{
    int              n, ok;
    u_char          *raw, *p;
    ssize_t          rc;
    EVP_CIPHER_CTX  *ctx;

    if (len > NGX_HTTP_WEBHOOKS_AEAD_MAX
        || aad_len > NGX_HTTP_WEBHOOKS_AEAD_MAX)
    {
        return -1;
    }

    raw = malloc(len + NGX_HTTP_WEBHOOKS_AEAD_OVER);
    if (raw == NULL) {
        return -1;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        free(raw);
        return -1;
    }

    /* a fresh random nonce each time: 2^32 seals per key stay safe */

    p = raw + NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN;

    ok = RAND_bytes(raw, NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN) == 1
         && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->key, raw)
            == 1
         && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) == 1
         && EVP_EncryptUpdate(ctx, p, &n, in, (int) len) == 1
         && (size_t) n == len
         && EVP_EncryptFinal_ex(ctx, p + len, &n) == 1
         && n == 0
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                NGX_HTTP_WEBHOOKS_AEAD_TAG_LEN, p + len)
            == 1;

    EVP_CIPHER_CTX_free(ctx);

    rc = -1;

    if (ok) {
        memcpy(out, "v1.", 3);
        memcpy(out + 3, key->id, NGX_HTTP_WEBHOOKS_AEAD_ID_LEN);
        out[NGX_HTTP_WEBHOOKS_AEAD_HEAD - 1] = '.';

        rc = NGX_HTTP_WEBHOOKS_AEAD_HEAD
             + EVP_EncodeBlock(out + NGX_HTTP_WEBHOOKS_AEAD_HEAD, raw,
                               (int) (len + NGX_HTTP_WEBHOOKS_AEAD_OVER));
    }

    free(raw);

    return rc;
}


/*
 * Opens a sealed text into out, which holds len bytes; returns the
 * length of the secret, or -1 when the text is malformed, or sealed
 * with another key or for another place, or altered.
 */

ssize_t
ngx_http_webhooks_aead_open(const ngx_http_webhooks_aead_key_t *key,
    const u_char *aad, size_t aad_len, const u_char *sealed, size_t len,
    u_char *out)
{
    int              n, m, ok;
    u_char          *raw;
    size_t           b64;
    EVP_CIPHER_CTX  *ctx;

    if (ngx_http_webhooks_aead_id(sealed, len) == NULL
        || memcmp(sealed + 3, key->id, NGX_HTTP_WEBHOOKS_AEAD_ID_LEN) != 0
        || aad_len > NGX_HTTP_WEBHOOKS_AEAD_MAX)
    {
        return -1;
    }

    sealed += NGX_HTTP_WEBHOOKS_AEAD_HEAD;
    b64 = len - NGX_HTTP_WEBHOOKS_AEAD_HEAD;

    if (b64 % 4 || b64 > 4 * (NGX_HTTP_WEBHOOKS_AEAD_MAX / 3 + 64)) {
        return -1;
    }

    raw = malloc(b64 / 4 * 3);
    if (raw == NULL) {
        return -1;
    }

    /* EVP_DecodeBlock() counts the padding as bytes decoded */

    n = EVP_DecodeBlock(raw, sealed, (int) b64);

    if (n >= 0 && sealed[b64 - 1] == '=') {
        n -= (sealed[b64 - 2] == '=') ? 2 : 1;
    }

    if (n < (int) NGX_HTTP_WEBHOOKS_AEAD_OVER) {
        free(raw);
        return -1;
    }

    n -= NGX_HTTP_WEBHOOKS_AEAD_OVER;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        free(raw);
        return -1;
    }

    ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->key, raw)
            == 1
         && EVP_DecryptUpdate(ctx, NULL, &m, aad, (int) aad_len) == 1
         && EVP_DecryptUpdate(ctx, out,
                              &m, raw + NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN, n)
            == 1
         && m == n
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                NGX_HTTP_WEBHOOKS_AEAD_TAG_LEN,
                                raw + NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN + n)
            == 1
         && EVP_DecryptFinal_ex(ctx, out + n, &m) == 1;

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    if (!ok) {
        /* nothing of an unauthenticated text is left for anyone */
        ngx_http_webhooks_aead_wipe(out, n);
        return -1;
    }

    return n;
}


void
ngx_http_webhooks_aead_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}


static int
ngx_http_webhooks_aead_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
