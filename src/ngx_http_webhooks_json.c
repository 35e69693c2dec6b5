
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_json.h"


static void ngx_http_webhooks_json_cleanup(void *data);


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


ngx_int_t
ngx_http_webhooks_json_dump(ngx_pool_t *pool, json_t *json, ngx_str_t *out)
{
    size_t  len;

    len = json_dumpb(json, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (len == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = json_dumpb(json, (char *) out->data, len,
                          JSON_COMPACT | JSON_ENCODE_ANY);

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
ngx_http_webhooks_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


/* a JSON integer as text, "" when absent */

ngx_int_t
ngx_http_webhooks_number(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    if (!json_is_integer(v)) {
        ngx_str_set(out, "");
        return NGX_OK;
    }

    out->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_sprintf(out->data, "%L", (int64_t) json_integer_value(v))
               - out->data;

    return NGX_OK;
}
