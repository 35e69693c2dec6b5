
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>

#include "ngx_http_webhooks_headers.h"
#include "ngx_http_webhooks_reply.h"


/*
 * Headers GitHub puts on API answers: X-GitHub-Request-Id on every one,
 * X-GitHub-Api-Version-Selected once the requested version is known to be
 * one GitHub serves.
 */


#define NGX_HTTP_WEBHOOKS_REQUEST_ID_LEN                                   \
    sizeof("0000:0000:000000:000000:00000000")


static ngx_int_t ngx_http_webhooks_headers_request_id_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static u_char *ngx_http_webhooks_headers_hex(u_char *p, uint64_t n,
    ngx_uint_t width);


/* the newest first; the oldest is what a request without one gets */
static ngx_str_t  ngx_http_webhooks_headers_versions[] = {
    ngx_string("2026-03-10"),
    ngx_string("2022-11-28"),
    ngx_null_string
};

static ngx_str_t  ngx_http_webhooks_headers_version_header =
    ngx_string("X-GitHub-Api-Version");

static ngx_int_t  ngx_http_webhooks_headers_own_index = NGX_ERROR;


ngx_int_t
ngx_http_webhooks_headers_conf(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    static ngx_str_t  name = ngx_string("webhooks_request_id");

    var = ngx_http_add_variable(cf, &name, 0);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_webhooks_headers_request_id_variable;

    ngx_http_webhooks_headers_own_index = ngx_http_get_variable_index(cf,
                                                                      &name);
    if (ngx_http_webhooks_headers_own_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * GitHub's form, CB4A:2B4F:1A2B3C:1C3D4E:5F6A7B8C: 32 random bits drawn
 * once per process (hosts and workers apart), a 48-bit count of the
 * process's requests, and the time (restarts apart).  A random draw per
 * request would cost more than the rest of a GET of a hook.
 */

static ngx_int_t
ngx_http_webhooks_headers_request_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *p;

    static uint32_t   seed;
    static uint64_t   count;
    static ngx_pid_t  pid;

    if (pid != ngx_pid) {
        /* the first request of this process: not the master's draw */
        if (RAND_bytes((u_char *) &seed, sizeof(seed)) != 1) {
            seed = (uint32_t) ngx_random();
        }

        pid = ngx_pid;
        count = 0;
    }

    count++;

    p = ngx_pnalloc(r->pool, NGX_HTTP_WEBHOOKS_REQUEST_ID_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* "%04XD:%04XD:%06XL:%06XL:%08XD" without ngx_sprintf()'s cost */

    v->data = p;

    p = ngx_http_webhooks_headers_hex(p, seed >> 16, 4);
    *p++ = ':';
    p = ngx_http_webhooks_headers_hex(p, seed & 0xffff, 4);
    *p++ = ':';
    p = ngx_http_webhooks_headers_hex(p, (count >> 24) & 0xffffff, 6);
    *p++ = ':';
    p = ngx_http_webhooks_headers_hex(p, count & 0xffffff, 6);
    *p++ = ':';
    p = ngx_http_webhooks_headers_hex(p, (uint32_t) ngx_time(), 8);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* n's last width hex digits, upper case */

static u_char *
ngx_http_webhooks_headers_hex(u_char *p, uint64_t n, ngx_uint_t width)
{
    u_char  *end;

    static u_char  hex[] = "0123456789ABCDEF";

    end = p + width;

    while (width--) {
        p[width] = hex[n & 0xf];
        n >>= 4;
    }

    return end;
}


/*
 * The headers of every answer; NGX_DECLINED, with the version asked for,
 * when it is not one GitHub serves
 */

ngx_int_t
ngx_http_webhooks_headers_start(ngx_http_request_t *r,
    ngx_str_t *bad_version)
{
    ngx_str_t                  *ver, id;
    ngx_table_elt_t            *h;
    ngx_http_variable_value_t  *v;

    v = ngx_http_get_indexed_variable(r, ngx_http_webhooks_headers_own_index);

    if (v == NULL) {
        return NGX_ERROR;
    }

    if (!v->not_found) {
        id.data = v->data;
        id.len = v->len;

        if (ngx_http_webhooks_reply_add_header(r, "X-GitHub-Request-Id", &id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    ver = &ngx_http_webhooks_headers_versions[1];

    h = ngx_http_webhooks_reply_header(r,
                                   &ngx_http_webhooks_headers_version_header);

    if (h) {
        for (ver = ngx_http_webhooks_headers_versions; ver->len; ver++) {
            if (h->value.len == ver->len
                && ngx_strncmp(h->value.data, ver->data, ver->len) == 0)
            {
                break;
            }
        }

        if (ver->len == 0) {
            *bad_version = h->value;
            return NGX_DECLINED;
        }
    }

    return ngx_http_webhooks_reply_add_header(r,
                                       "X-GitHub-Api-Version-Selected", ver);
}
