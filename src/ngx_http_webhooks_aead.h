
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_AEAD_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_AEAD_H_INCLUDED_


/*
 * Plain C on purpose, without nginx types: util/rekey.c builds this
 * file too, so that the module and the tool seal secrets one way.
 */

#include <sys/types.h>
#include <stddef.h>


#define NGX_HTTP_WEBHOOKS_AEAD_KEY_LEN    32
#define NGX_HTTP_WEBHOOKS_AEAD_ID_LEN     8       /* hex digits */
#define NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN  12
#define NGX_HTTP_WEBHOOKS_AEAD_TAG_LEN    16

/* the longest secret sealed: lengths stay ints for OpenSSL */
#define NGX_HTTP_WEBHOOKS_AEAD_MAX        (16 * 1024 * 1024)

/* "v1.<key id>." then base64 of nonce, ciphertext and tag, then NUL */
#define ngx_http_webhooks_aead_sealed_size(n)                                 \
    (sizeof("v1..") - 1 + NGX_HTTP_WEBHOOKS_AEAD_ID_LEN                       \
     + 4 * (((n) + NGX_HTTP_WEBHOOKS_AEAD_NONCE_LEN                           \
             + NGX_HTTP_WEBHOOKS_AEAD_TAG_LEN + 2) / 3)                       \
     + 1)

/* a sealed text of n bytes opens into no more than n bytes */


typedef struct {
    u_char   key[NGX_HTTP_WEBHOOKS_AEAD_KEY_LEN];
    /* hex of the first 4 bytes of the key's SHA-256 */
    u_char   id[NGX_HTTP_WEBHOOKS_AEAD_ID_LEN];
} ngx_http_webhooks_aead_key_t;


int ngx_http_webhooks_aead_key(ngx_http_webhooks_aead_key_t *key,
    const u_char *text, size_t len);
const u_char *ngx_http_webhooks_aead_id(const u_char *sealed, size_t len);
const ngx_http_webhooks_aead_key_t *ngx_http_webhooks_aead_find(
    const ngx_http_webhooks_aead_key_t *keys, size_t n, const u_char *sealed,
    size_t len);
ssize_t ngx_http_webhooks_aead_seal(const ngx_http_webhooks_aead_key_t *key,
    const u_char *aad, size_t aad_len, const u_char *in, size_t len,
    u_char *out);
ssize_t ngx_http_webhooks_aead_open(const ngx_http_webhooks_aead_key_t *key,
    const u_char *aad, size_t aad_len, const u_char *sealed, size_t len,
    u_char *out);
void ngx_http_webhooks_aead_wipe(void *p, size_t len);


#endif /* _NGX_HTTP_WEBHOOKS_AEAD_H_INCLUDED_ */
