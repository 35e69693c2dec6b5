
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_json_scan.h"
#include "ngx_http_webhooks_secret.h"


/*
 * With webhooks_secret_key, a hook's secret fields are kept sealed
 * (ngx_http_webhooks_aead.c) in a field of their own, never beside or
 * inside the clear one, so no secret a user picks can pass for a sealed
 * one:
 *
 *   "config":{..., "secret_enc":"v1.<key id>.<base64>"}
 *
 * The first key seals, every key listed opens.  The additional data is
 * "<hook id>:<field>".  Without a key, fields stay clear, and sealed
 * ones do not open.
 */


typedef struct {
    const char                  *clear;
    const char                  *sealed;
} ngx_http_webhooks_secret_field_t;


static const char *ngx_http_webhooks_secret_sealed(const char *field);
static ngx_int_t ngx_http_webhooks_secret_aad(ngx_pool_t *pool,
    ngx_str_t *id, const char *field, ngx_str_t *aad);


static ngx_http_webhooks_secret_field_t  ngx_http_webhooks_secret_fields[] = {
    { "secret", "secret_enc" },
    /* org hooks' credentials for the receiver */
    { "password", "password_enc" },
    { NULL, NULL }
};


/* seals the clear secret fields of a config about to be stored */

ngx_int_t
ngx_http_webhooks_secret_seal(ngx_pool_t *pool, ngx_log_t *log,
    ngx_array_t *keys, json_t *config, ngx_str_t *id)
{
    u_char                            *out;
    ssize_t                            n;
    json_t                            *v;
    ngx_str_t                          aad;
    ngx_http_webhooks_aead_key_t      *key;
    ngx_http_webhooks_secret_field_t  *f;

    if (keys == NULL) {
        return NGX_OK;
    }

    key = keys->elts;

    for (f = ngx_http_webhooks_secret_fields; f->clear; f++) {

        v = json_object_get(config, f->clear);
        if (!json_is_string(v)) {
            continue;
        }

        out = ngx_pnalloc(pool, ngx_http_webhooks_aead_sealed_size(
                                    json_string_length(v)));
        if (out == NULL
            || ngx_http_webhooks_secret_aad(pool, id, f->clear, &aad)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        n = ngx_http_webhooks_aead_seal(key, aad.data, aad.len,
                                        (u_char *) json_string_value(v),
                                        json_string_length(v), out);
        if (n < 0) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "webhooks: sealing the %s of hook %V failed",
                          f->clear, id);
            return NGX_ERROR;
        }

        if (json_object_set_new(config, f->sealed,
                                json_stringn((char *) out, n))
            != 0)
        {
            return NGX_ERROR;
        }

        (void) json_object_del(config, f->clear);
    }

    return NGX_OK;
}


/*
 * A secret field of a stored config, the config's checked JSON text
 * (ngx_http_webhooks_json_scan.c), clear or sealed: NGX_OK with its value
 * in the pool (empty when none is set), NGX_DECLINED with why it does not
 * open (plain text, no quotes: GitHub's delivery status words it), never
 * with anything of the secret.
 */

ngx_int_t
ngx_http_webhooks_secret_open(ngx_pool_t *pool, ngx_array_t *keys,
    ngx_str_t *config, const char *field, ngx_str_t *id, ngx_str_t *secret,
    ngx_str_t *why)
{
    u_char                              *p;
    size_t                               len;
    ssize_t                              n;
    ngx_int_t                            rc;
    ngx_str_t                            aad, sealed, clear;
    ngx_str_t                            v[2];
    const char                          *names[2];
    const u_char                        *kid;
    const ngx_http_webhooks_aead_key_t  *key;

    ngx_str_set(secret, "");

    names[0] = field;
    names[1] = ngx_http_webhooks_secret_sealed(field);

    (void) ngx_http_webhooks_json_scan_members(config, names, v,
                                               names[1] ? 2 : 1);

    rc = ngx_http_webhooks_json_scan_string(pool, &v[0], &clear);

    if (rc == NGX_OK) {
        /*
         * A copy of its own, which the caller wipes after use: unescaped,
         * it already is one, and a second would be left unwiped.
         */

        if (clear.len == 0) {
            return NGX_OK;
        }

        if (clear.data >= config->data
            && clear.data < config->data + config->len)
        {
            clear.data = ngx_pstrdup(pool, &clear);
            if (clear.data == NULL) {
                return NGX_ERROR;
            }
        }

        *secret = clear;

        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    rc = names[1] ? ngx_http_webhooks_json_scan_string(pool, &v[1], &sealed)
                  : NGX_DECLINED;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_OK;
    }

    len = sizeof("the  cannot be decrypted: key  is not configured in "
                 "webhooks_secret_key")
          + ngx_strlen(field) + NGX_HTTP_WEBHOOKS_AEAD_ID_LEN;

    why->data = ngx_pnalloc(pool, len);
    if (why->data == NULL) {
        return NGX_ERROR;
    }

    kid = ngx_http_webhooks_aead_id(sealed.data, sealed.len);

    if (kid == NULL) {
        p = ngx_sprintf(why->data, "the %s cannot be decrypted: "
                        "it is damaged", field);
        goto declined;
    }

    if (keys == NULL) {
        p = ngx_sprintf(why->data, "the %s cannot be decrypted: "
                        "no webhooks_secret_key", field);
        goto declined;
    }

    key = ngx_http_webhooks_aead_find(keys->elts, keys->nelts, sealed.data,
                                      sealed.len);
    if (key == NULL) {
        p = ngx_sprintf(why->data, "the %s cannot be decrypted: key %*s "
                        "is not configured in webhooks_secret_key",
                        field, (size_t) NGX_HTTP_WEBHOOKS_AEAD_ID_LEN, kid);
        goto declined;
    }

    if (ngx_http_webhooks_secret_aad(pool, id, field, &aad) != NGX_OK) {
        return NGX_ERROR;
    }

    secret->data = ngx_pnalloc(pool, sealed.len);
    if (secret->data == NULL) {
        return NGX_ERROR;
    }

    n = ngx_http_webhooks_aead_open(key, aad.data, aad.len, sealed.data,
                                    sealed.len, secret->data);
    if (n < 0) {
        ngx_str_set(secret, "");
        p = ngx_sprintf(why->data, "the %s cannot be decrypted: "
                        "it is damaged", field);
        goto declined;
    }

    secret->len = n;

    return NGX_OK;

declined:

    why->len = p - why->data;
    *p = '\0';

    return NGX_DECLINED;
}


/* whether a secret field is set, clear or sealed */

ngx_uint_t
ngx_http_webhooks_secret_is_set(json_t *config, const char *field)
{
    const char  *sealed;

    if (json_object_get(config, field)) {
        return 1;
    }

    sealed = ngx_http_webhooks_secret_sealed(field);

    return sealed && json_object_get(config, sealed);
}


/* a secret field given anew replaces the old one in either form */

void
ngx_http_webhooks_secret_drop(json_t *config, const char *field)
{
    const char  *sealed;

    (void) json_object_del(config, field);

    sealed = ngx_http_webhooks_secret_sealed(field);

    if (sealed) {
        (void) json_object_del(config, sealed);
    }
}


/* copies the secret fields of "from", clear or sealed, into "to" */

ngx_int_t
ngx_http_webhooks_secret_keep(json_t *from, json_t *to)
{
    json_t                            *v;
    ngx_http_webhooks_secret_field_t  *f;

    for (f = ngx_http_webhooks_secret_fields; f->clear; f++) {

        v = json_object_get(from, f->clear);
        if (v && json_object_set(to, f->clear, v) != 0) {
            return NGX_ERROR;
        }

        v = json_object_get(from, f->sealed);
        if (v && json_object_set(to, f->sealed, v) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the mask answers show: a client that sends back what it read */

ngx_uint_t
ngx_http_webhooks_secret_masked(json_t *value)
{
    return json_is_string(value)
           && ngx_strcmp(json_string_value(value),
                         NGX_HTTP_WEBHOOKS_SECRET_MASK)
              == 0;
}


/*
 * A secret file (a key, a password), read with the configuration into
 * buf, at most size bytes: by the master, so it may be readable by root
 * only; its text is never logged.  Returns the bytes read or NGX_ERROR.
 */

ssize_t
ngx_http_webhooks_secret_read(ngx_conf_t *cf, ngx_str_t *name, u_char *buf,
    size_t size)
{
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_err_t  err;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, size);
    err = ngx_errno;

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name->data);
    }

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           ngx_read_fd_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    return n;
}


/*
 * A key file, read once with the configuration: by the master, so it
 * may be readable by root only.  Its text is never logged.
 */

ngx_int_t
ngx_http_webhooks_secret_key_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_webhooks_aead_key_t *key)
{
    u_char     buf[128];
    ssize_t    n;
    ngx_int_t  rc;

    n = ngx_http_webhooks_secret_read(cf, name, buf, sizeof(buf));
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if ((size_t) n == sizeof(buf)
        || ngx_http_webhooks_aead_key(key, buf, n) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webhooks_secret_key\" file \"%s\" must hold "
                           "a key of 64 hex digits, as \"openssl rand -hex "
                           "32\" writes", name->data);
        rc = NGX_ERROR;
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    return rc;
}


/* a pool cleanup: the keys do not outlive their configuration */

void
ngx_http_webhooks_secret_wipe(void *data)
{
    ngx_array_t *keys = data;

    ngx_explicit_memzero(keys->elts, keys->nalloc * keys->size);
}


static const char *
ngx_http_webhooks_secret_sealed(const char *field)
{
    ngx_http_webhooks_secret_field_t  *f;

    for (f = ngx_http_webhooks_secret_fields; f->clear; f++) {
        if (ngx_strcmp(f->clear, field) == 0) {
            return f->sealed;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_webhooks_secret_aad(ngx_pool_t *pool, ngx_str_t *id,
    const char *field, ngx_str_t *aad)
{
    aad->data = ngx_pnalloc(pool, id->len + 1 + ngx_strlen(field));
    if (aad->data == NULL) {
        return NGX_ERROR;
    }

    aad->len = ngx_sprintf(aad->data, "%V:%s", id, field) - aad->data;

    return NGX_OK;
}
