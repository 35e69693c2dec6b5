
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_secret.h"


/*
 * What the Redis connections need from the configuration, prepared once,
 * by the master: the password read from its file, the TLS context.
 */


#define NGX_HTTP_WEBHOOKS_REDIS_PASSWORD_MAX  1024


static ngx_int_t ngx_http_webhooks_redis_conf_password(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf);
static void ngx_http_webhooks_redis_conf_wipe(void *data);
static ngx_int_t ngx_http_webhooks_redis_conf_ssl(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf);


ngx_int_t
ngx_http_webhooks_redis_conf(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    if (ngx_http_webhooks_redis_conf_password(cf, wmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_redis_conf_ssl(cf, wmcf);
}


/*
 * The password file is read once with the configuration: by the master,
 * so it may be readable by root only.  Its text is never logged, and
 * "nginx -T" prints only its name.
 */

static ngx_int_t
ngx_http_webhooks_redis_conf_password(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    u_char              buf[NGX_HTTP_WEBHOOKS_REDIS_PASSWORD_MAX + 1];
    size_t              n;
    ssize_t             rc;
    ngx_str_t          *name;
    ngx_pool_cleanup_t *cln;

    if (wmcf->redis_password_file.data == NULL) {
        if (wmcf->redis_user.data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webhooks_redis_user\" needs "
                               "\"webhooks_redis_password_file\"");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    name = &wmcf->redis_password_file;

    rc = ngx_http_webhooks_secret_read(cf, name, buf, sizeof(buf));
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* one line: what an editor or "echo" adds after it is not part of it */

    n = rc;

    while (n && (buf[n - 1] == LF || buf[n - 1] == CR)) {
        n--;
    }

    if (n == 0 || (size_t) rc == sizeof(buf)
        || ngx_strlchr(buf, buf + n, LF) || ngx_strlchr(buf, buf + n, CR))
    {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webhooks_redis_password_file\" \"%s\" must "
                           "hold one line of 1 to %d bytes", name->data,
                           NGX_HTTP_WEBHOOKS_REDIS_PASSWORD_MAX);
        return NGX_ERROR;
    }

    wmcf->redis_password.data = ngx_pnalloc(cf->pool, n);
    if (wmcf->redis_password.data == NULL) {
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    ngx_memcpy(wmcf->redis_password.data, buf, n);
    wmcf->redis_password.len = n;

    ngx_explicit_memzero(buf, sizeof(buf));

    /* the password does not outlive its configuration */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_webhooks_redis_conf_wipe;
    cln->data = &wmcf->redis_password;

    return NGX_OK;
}


static void
ngx_http_webhooks_redis_conf_wipe(void *data)
{
    ngx_str_t *s = data;

    ngx_explicit_memzero(s->data, s->len);
}


/* TLS set up as the proxy module does for its upstreams */

static ngx_int_t
ngx_http_webhooks_redis_conf_ssl(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    u_char              *p;
    ngx_str_t           *name;
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    if (!wmcf->redis_ssl) {
        return NGX_OK;
    }

    if (wmcf->redis_url.family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webhooks_redis_ssl\" needs a TCP address in "
                           "\"webhooks_redis_pass\"");
        return NGX_ERROR;
    }

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    /* a write TLS must retry may come from a buffer that grew meanwhile */
    SSL_CTX_set_mode(ssl->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (wmcf->redis_ssl_certificate.len) {
        if (wmcf->redis_ssl_certificate_key.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no \"webhooks_redis_ssl_certificate_key\" "
                               "for \"webhooks_redis_ssl_certificate\" "
                               "\"%V\"", &wmcf->redis_ssl_certificate);
            return NGX_ERROR;
        }

        if (ngx_ssl_certificate(cf, ssl, &wmcf->redis_ssl_certificate,
                                &wmcf->redis_ssl_certificate_key, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (wmcf->redis_ssl_verify) {
        if (wmcf->redis_ssl_trusted_certificate.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no \"webhooks_redis_ssl_trusted_certificate\""
                               " for \"webhooks_redis_ssl_verify\"");
            return NGX_ERROR;
        }

        if (ngx_ssl_trusted_certificate(cf, ssl,
                                        &wmcf->redis_ssl_trusted_certificate,
                                        2)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /*
     * The name checked in the certificate: the host of redis_pass; with
     * Sentinel, each sentinel's and the master's address, if none is set.
     */

    name = &wmcf->redis_ssl_name;

    if (name->len == 0 && wmcf->redis_sentinels == NULL) {
        *name = wmcf->redis_url.host;

        /* "[::1]": the address, without the brackets of the URL */
        if (name->len > 2 && name->data[0] == '[') {
            name->data++;
            name->len -= 2;
        }
    }

    if (name->len) {
        p = ngx_pnalloc(cf->pool, name->len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_cpymem(p, name->data, name->len) = '\0';
        name->data = p;
    }

    wmcf->redis_ssl_ctx = ssl;

    return NGX_OK;
}
