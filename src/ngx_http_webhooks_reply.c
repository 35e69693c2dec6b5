
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <xxhash.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_reply.h"
#include "ngx_http_webhooks_json.h"


static ngx_int_t ngx_http_webhooks_reply_etag(ngx_http_request_t *r,
    ngx_str_t *body);


static ngx_str_t  ngx_http_webhooks_reply_content_type =
    ngx_string("application/json; charset=utf-8");
static ngx_str_t  ngx_http_webhooks_reply_media_type =
    ngx_string("github.v3; format=json");


ngx_int_t
ngx_http_webhooks_reply_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_reply_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;

    if (status == NGX_HTTP_WEBHOOKS_UNPROCESSABLE) {
        ngx_str_set(&r->headers_out.status_line,
                    "422 Unprocessable Entity");
    }

    if (ngx_http_webhooks_reply_add_header(r, "X-GitHub-Media-Type",
                                           &ngx_http_webhooks_reply_media_type)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* only a GET's 200 may become a 304 ("If-None-Match: *" too) */
    if (status != NGX_HTTP_OK || r->method != NGX_HTTP_GET
        || body == NULL || body->len == 0)
    {
        r->disable_not_modified = 1;
    }

    if (body == NULL || body->len == 0) {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;
        return ngx_http_send_header(r);
    }

    if (r->disable_not_modified == 0
        && ngx_http_webhooks_reply_etag(r, body) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.content_type = ngx_http_webhooks_reply_content_type;
    r->headers_out.content_type_len = ngx_http_webhooks_reply_content_type.len;
    r->headers_out.content_length_n = body->len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The weak tag of a GET's answer, from the body already built: what the
 * caller may see is all that it hashes.  nginx's not_modified filter
 * turns the answer into a 304 when If-None-Match names it.  XXH3's 128
 * bits tell versions apart as well as a digest does, at a tenth of
 * SHA-256's cost on the hot GET path: a tag need not resist forgery.
 */

static ngx_int_t
ngx_http_webhooks_reply_etag(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char               *p;
    ngx_table_elt_t      *h;
    XXH128_canonical_t    c;

    /* the high half first, big-endian: the digest's usual hex form */
    XXH128_canonicalFromHash(&c, XXH3_128bits(body->data, body->len));

    p = ngx_pnalloc(r->pool, sizeof("W/\"\"") - 1 + 2 * sizeof(c.digest));
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "ETag");
    h->value.data = p;

    p = ngx_cpymem(p, "W/\"", 3);
    p = ngx_hex_dump(p, c.digest, sizeof(c.digest));
    *p++ = '"';

    h->value.len = p - h->value.data;

    r->headers_out.etag = h;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_reply_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    ngx_str_t  body;

    if (ngx_http_webhooks_json_dump(r->pool, json, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_send(r, status, &body);
}


/* GitHub's error body: message, errors, documentation_url, status */

ngx_int_t
ngx_http_webhooks_reply_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *message, const char *doc_url, json_t *errors)
{
    u_char   buf[NGX_INT_T_LEN];
    json_t  *body;

    body = ngx_http_webhooks_json_own(r->pool, json_object());
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json_object_set_new(body, "message", json_string(message)) != 0
        || (errors
            && json_object_set(body, "errors", errors) != 0)
        || json_object_set_new(body, "documentation_url",
                               json_string(doc_url ? doc_url
                                           : NGX_HTTP_WEBHOOKS_DOCS))
           != 0
        || json_object_set_new(body, "status",
                  json_stringn((char *) buf,
                               ngx_sprintf(buf, "%ui", status) - buf))
           != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_send_json(r, status, body);
}


/* the last step of a request that waited for redis */

void
ngx_http_webhooks_reply_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_webhooks_reply_unavailable(ngx_http_request_t *r, const char *doc_url)
{
    static ngx_str_t  retry = ngx_string("1");

    if (ngx_http_webhooks_reply_add_header(r, "Retry-After", &retry)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "Service Unavailable", doc_url, NULL);
}


/* the queue is full: a client should wait longer than for an outage */

ngx_int_t
ngx_http_webhooks_reply_busy(ngx_http_request_t *r)
{
    static ngx_str_t  retry = ngx_string("30");

    if (ngx_http_webhooks_reply_add_header(r, "Retry-After", &retry)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "Service Unavailable", NULL, NULL);
}


/*
 * A body over webhooks_api_body_max.  One announced as such is not read,
 * nor asked for with "100 Continue", but discarded as nginx does it for
 * client_max_body_size; a chunked one was read already.
 */

ngx_int_t
ngx_http_webhooks_reply_too_large(ngx_http_request_t *r, const char *doc_url)
{
    ngx_int_t  rc;

    if (r->request_body == NULL) {
        r->expect_tested = 1;

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_webhooks_reply_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "Payload Too Large", doc_url, NULL);
}


/*
 * The request body in one piece; NGX_DECLINED, with nothing copied, when
 * it is over max bytes (0: no limit): a chunked body had no length to
 * be checked by before it was read.
 */

ngx_int_t
ngx_http_webhooks_reply_read_body(ngx_http_request_t *r, ngx_str_t *body,
    size_t max)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (max && len > max) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* a body larger than client_body_buffer_size */
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;

        } else if (b->last != b->pos) {
            /* the last buffer of a chunked body may be empty, with no memory */
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_webhooks_reply_header(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}
