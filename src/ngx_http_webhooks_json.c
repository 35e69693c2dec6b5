
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_json.h"


typedef struct {
    u_char  *p;       /* NULL: count only */
    size_t   len;
} ngx_http_webhooks_json_out_t;


static void ngx_http_webhooks_json_cleanup(void *data);
static ngx_int_t ngx_http_webhooks_json_ruby(json_t *json,
    ngx_http_webhooks_json_out_t *o);
static void ngx_http_webhooks_json_put(ngx_http_webhooks_json_out_t *o,
    const char *s, size_t n);


/* what an inspected value shows for these members, as GitHub's logs do */
static const char  ngx_http_webhooks_json_filtered[] = "\"[FILTERED]\"";


/* jansson allocates with malloc: the pool's end releases the value */

json_t *
ngx_http_webhooks_json_own(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    if (json == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NULL;
    }

    cln->handler = ngx_http_webhooks_json_cleanup;
    cln->data = json;

    return json;
}


static void
ngx_http_webhooks_json_cleanup(void *data)
{
    json_decref(data);
}


json_t *
ngx_http_webhooks_json_load(ngx_pool_t *pool, u_char *data, size_t len)
{
    json_error_t  error;

    return ngx_http_webhooks_json_own(pool,
               json_loadb((const char *) data, len, 0, &error));
}


/* a request body: any JSON value, for its type to be told apart */

json_t *
ngx_http_webhooks_json_load_any(ngx_pool_t *pool, u_char *data, size_t len)
{
    json_error_t  error;

    return ngx_http_webhooks_json_own(pool,
               json_loadb((const char *) data, len, JSON_DECODE_ANY, &error));
}


/*
 * A value as GitHub's schema errors show it (Ruby's inspect): nil,
 * [1, 2, 3], {"a"=>1}.  Secret members show as "[FILTERED]".  The first
 * pass, without a buffer, only counts.
 */

ngx_int_t
ngx_http_webhooks_json_inspect(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out)
{
    ngx_http_webhooks_json_out_t  o;

    o.p = NULL;
    o.len = 0;

    if (ngx_http_webhooks_json_ruby(json, &o) != NGX_OK) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, o.len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    o.p = out->data;
    o.len = 0;

    if (ngx_http_webhooks_json_ruby(json, &o) != NGX_OK) {
        return NGX_ERROR;
    }

    out->len = o.len;

    return NGX_OK;
}


static void
ngx_http_webhooks_json_put(ngx_http_webhooks_json_out_t *o, const char *s,
    size_t n)
{
    if (o->p) {
        o->p = ngx_cpymem(o->p, s, n);
    }

    o->len += n;
}


static ngx_int_t
ngx_http_webhooks_json_ruby(json_t *json, ngx_http_webhooks_json_out_t *o)
{
    char        *dump, *e;
    size_t       i;
    json_t      *v, *k;
    ngx_int_t    rc;
    const char  *key;

    switch (json_typeof(json)) {

    case JSON_NULL:
        ngx_http_webhooks_json_put(o, "nil", 3);
        return NGX_OK;

    case JSON_ARRAY:
        ngx_http_webhooks_json_put(o, "[", 1);

        json_array_foreach(json, i, v) {
            if (i) {
                ngx_http_webhooks_json_put(o, ", ", 2);
            }

            if (ngx_http_webhooks_json_ruby(v, o) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        ngx_http_webhooks_json_put(o, "]", 1);
        return NGX_OK;

    case JSON_OBJECT:
        ngx_http_webhooks_json_put(o, "{", 1);
        i = 0;

        json_object_foreach(json, key, v) {
            if (i++) {
                ngx_http_webhooks_json_put(o, ", ", 2);
            }

            k = json_string(key);
            if (k == NULL) {
                return NGX_ERROR;
            }

            rc = ngx_http_webhooks_json_ruby(k, o);
            json_decref(k);

            if (rc != NGX_OK) {
                return NGX_ERROR;
            }

            ngx_http_webhooks_json_put(o, "=>", 2);

            if (ngx_strcmp(key, "secret") == 0
                || ngx_strcmp(key, "password") == 0)
            {
                ngx_http_webhooks_json_put(o, ngx_http_webhooks_json_filtered,
                                 sizeof(ngx_http_webhooks_json_filtered) - 1);
                continue;
            }

            if (ngx_http_webhooks_json_ruby(v, o) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        ngx_http_webhooks_json_put(o, "}", 1);
        return NGX_OK;

    default:
        break;
    }

    dump = json_dumps(json, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (dump == NULL) {
        return NGX_ERROR;
    }

    /* Ruby writes a float with a fraction: 1.0, 1.0e+20 */

    e = json_is_real(json) && strchr(dump, '.') == NULL
        ? strchr(dump, 'e') : NULL;

    if (e) {
        ngx_http_webhooks_json_put(o, dump, e - dump);
        ngx_http_webhooks_json_put(o, ".0", 2);
        ngx_http_webhooks_json_put(o, e, ngx_strlen(e));

    } else {
        ngx_http_webhooks_json_put(o, dump, ngx_strlen(dump));

        if (json_is_real(json) && strchr(dump, '.') == NULL) {
            ngx_http_webhooks_json_put(o, ".0", 2);
        }
    }

    free(dump);

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_json_dump(ngx_pool_t *pool, json_t *json, ngx_str_t *out)
{
    return ngx_http_webhooks_json_dumpf(pool, json, 0, out);
}


/*
 * JSON_REAL_PRECISION(15) writes a number read from a short decimal as
 * that decimal again (0.03, not jansson's 0.029999999999999999)
 */

ngx_int_t
ngx_http_webhooks_json_dumpf(ngx_pool_t *pool, json_t *json, size_t flags,
    ngx_str_t *out)
{
    size_t  len;

    flags |= JSON_COMPACT | JSON_ENCODE_ANY;

    len = json_dumpb(json, NULL, 0, flags);
    if (len == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = json_dumpb(json, (char *) out->data, len, flags);

    return out->len == len ? NGX_OK : NGX_ERROR;
}


json_t *
ngx_http_webhooks_json_stringn(ngx_str_t *s)
{
    return json_stringn((const char *) s->data, s->len);
}


/* NGX_DECLINED when the member is absent or not a string */

ngx_int_t
ngx_http_webhooks_json_str(json_t *object, const char *key, ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(object, key);
    if (!json_is_string(v)) {
        ngx_str_null(value);
        return NGX_DECLINED;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/* GitHub's timestamps: 2011-09-06T17:26:27Z */

u_char *
ngx_http_webhooks_json_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


/*
 * An int64 as text: nginx's "%L" negates a negative value, which INT64_MIN
 * does not survive (undefined behaviour), so the magnitude goes unsigned.
 */

u_char *
ngx_http_webhooks_json_int64(u_char *p, int64_t i)
{
    if (i >= 0) {
        return ngx_sprintf(p, "%uL", (uint64_t) i);
    }

    *p++ = '-';

    return ngx_sprintf(p, "%uL", (uint64_t) 0 - (uint64_t) i);
}


/* a JSON integer as text, "" when absent */

ngx_int_t
ngx_http_webhooks_json_number(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    if (!json_is_integer(v)) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    out->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_webhooks_json_int64(out->data,
                                            json_integer_value(v))
               - out->data;

    return NGX_OK;
}
