
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_subrequest.h"


/*
 * A request with no client: a subrequest to a location of a server, so
 * that nginx makes it (proxy_pass, TLS, timeouts, limits) and nothing
 * here connects anywhere by itself.  It knows nothing of what it sends.
 *
 * The subrequest gets a parent of its own: a request on a connection
 * whose descriptor is the worker's /dev/null, shared (nginx never
 * closes it), and whose events count as already added, so that the
 * upstream module adds none, and nginx's own close path works on it if
 * the request is ever terminated.
 * Filters keep the response (capped) from going anywhere; the upstream's
 * state, and where it keeps nothing a writer on the connection's log,
 * tell why an attempt failed.
 */


/* the deadline when the caller sets none: GitHub's 10 s and a margin */
#define NGX_HTTP_WEBHOOKS_SUBREQUEST_AUTO    15000
#define NGX_HTTP_WEBHOOKS_SUBREQUEST_MARGIN  5000


/* what is kept of a response's headers, as GitLab does */
#define NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADERS_MAX  50
#define NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_MAX   1024


static ngx_int_t ngx_http_webhooks_subrequest_post(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_webhooks_subrequest_parent_handler(
    ngx_http_request_t *r);
static void ngx_http_webhooks_subrequest_finish_handler(ngx_event_t *ev);
static void ngx_http_webhooks_subrequest_deadline_handler(ngx_event_t *ev);
static void ngx_http_webhooks_subrequest_outcome(
    ngx_http_webhooks_subrequest_t *sr);
static void ngx_http_webhooks_subrequest_log_writer(ngx_log_t *log,
    ngx_uint_t level, u_char *buf, size_t len);
static u_char *ngx_http_webhooks_subrequest_log_handler(ngx_log_t *log,
    u_char *buf, size_t len);
static void ngx_http_webhooks_subrequest_fake_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_webhooks_subrequest_preaccess_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_subrequest_precontent_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_subrequest_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_webhooks_subrequest_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);
static void ngx_http_webhooks_subrequest_retry_after(
    ngx_http_webhooks_subrequest_t *sr, ngx_http_request_t *r);
static size_t ngx_http_webhooks_subrequest_utf8_cut(u_char *p, size_t len,
    size_t max);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_socket_t  ngx_http_webhooks_subrequest_devnull = (ngx_socket_t) -1;

static struct sockaddr_in  ngx_http_webhooks_subrequest_sin;


/*
 * Where a subrequest is: between these two it is with the limits
 * (limit_req, limit_conn), whose refusal is no failure.  Handlers
 * registered last run first in their phase.
 */

ngx_int_t
ngx_http_webhooks_subrequest_phases(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhooks_subrequest_preaccess_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhooks_subrequest_precontent_handler;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_subrequest_filters(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_webhooks_subrequest_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_webhooks_subrequest_body_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_subrequest_init(ngx_cycle_t *cycle)
{
    ngx_http_webhooks_subrequest_devnull = open("/dev/null", O_RDWR);

    if (ngx_http_webhooks_subrequest_devnull == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "webhooks: open(\"/dev/null\") failed");
        return NGX_ERROR;
    }

    ngx_http_webhooks_subrequest_sin.sin_family = AF_INET;
    ngx_http_webhooks_subrequest_sin.sin_addr.s_addr =
                                                    htonl(INADDR_LOOPBACK);

    return NGX_OK;
}


void
ngx_http_webhooks_subrequest_done(ngx_cycle_t *cycle)
{
    if (ngx_http_webhooks_subrequest_devnull != (ngx_socket_t) -1) {
        (void) close(ngx_http_webhooks_subrequest_devnull);
        ngx_http_webhooks_subrequest_devnull = (ngx_socket_t) -1;
    }
}


/*
 * Sends what sr says: NGX_OK means sr->handler is called with the
 * outcome, unless the pool goes first.  The fake connection's pool is
 * sr->pool: if nginx closes the request itself, the pool goes with it.
 */

ngx_int_t
ngx_http_webhooks_subrequest_send(ngx_http_webhooks_subrequest_t *sr)
{
    ngx_uint_t                   i;
    ngx_buf_t                   *b;
    ngx_log_t                   *log, *real;
    ngx_keyval_t                *kv;
    ngx_chain_t                 *cl;
    ngx_table_elt_t             *h;
    ngx_connection_t            *c;
    ngx_http_request_t          *r, *sub;
    ngx_http_log_ctx_t          *lctx;
    ngx_http_connection_t       *hc;
    ngx_http_request_body_t     *rb;
    ngx_http_post_subrequest_t  *ps;

    sr->finish.handler = ngx_http_webhooks_subrequest_finish_handler;
    sr->finish.data = sr;
    sr->finish.log = ngx_cycle->log;

    sr->deadline.handler = ngx_http_webhooks_subrequest_deadline_handler;
    sr->deadline.data = sr;
    sr->deadline.log = ngx_cycle->log;

    log = ngx_pcalloc(sr->pool, sizeof(ngx_log_t));
    lctx = ngx_pcalloc(sr->pool, sizeof(ngx_http_log_ctx_t));
    hc = ngx_pcalloc(sr->pool, sizeof(ngx_http_connection_t));

    if (log == NULL || lctx == NULL || hc == NULL) {
        return NGX_ERROR;
    }

    *log = *ngx_cycle->log;
    log->data = lctx;
    log->handler = ngx_http_webhooks_subrequest_log_handler;
    log->action = NULL;

    /*
     * Every fake connection has the worker's one /dev/null: nginx closes
     * a connection's socket unless it is shared, and a connection without
     * one (-1) is "already closed" to it
     */

    c = ngx_get_connection(ngx_http_webhooks_subrequest_devnull, log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->shared = 1;

    sr->conn = c;
    lctx->connection = c;
    hc->conf_ctx = sr->conf_ctx;

    c->data = hc;
    c->pool = sr->pool;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->start_time = ngx_current_msec;
    c->log_error = NGX_ERROR_INFO;
    c->sockaddr = (struct sockaddr *) &ngx_http_webhooks_subrequest_sin;
    c->socklen = sizeof(struct sockaddr_in);
    c->local_sockaddr = c->sockaddr;
    c->local_socklen = c->socklen;
    ngx_str_set(&c->addr_text, "127.0.0.1");

    /* never in epoll: the upstream module must not try to add them */
    c->read->active = 1;
    c->write->active = 1;
    c->write->ready = 1;
    c->read->handler = ngx_http_webhooks_subrequest_fake_handler;
    c->write->handler = ngx_http_webhooks_subrequest_fake_handler;
    c->read->log = log;
    c->write->log = log;
    c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;

    r = ngx_http_create_request(c);
    if (r == NULL) {
        ngx_close_connection(c);
        sr->conn = NULL;
        return NGX_ERROR;
    }

    c->data = r;
    sr->request = r;

    /*
     * ngx_http_create_request() gave the connection the location's error
     * log; the writer in front of it learns why an attempt failed
     */

    real = ngx_palloc(sr->pool, sizeof(ngx_log_t));
    if (real == NULL) {
        goto failed;
    }

    *real = *c->log;
    c->log->next = real;
    c->log->writer = ngx_http_webhooks_subrequest_log_writer;
    c->log->wdata = sr;

    if (c->log->log_level < NGX_LOG_ERR) {
        c->log->log_level = NGX_LOG_ERR;
    }

    r->method = sr->method;
    r->method_name = sr->method_name;
    r->http_version = NGX_HTTP_VERSION_11;
    r->uri = sr->uri;
    r->unparsed_uri = sr->uri;
    r->valid_unparsed_uri = 1;
    r->logged = 1;
    r->write_event_handler = ngx_http_webhooks_subrequest_parent_handler;

    ngx_http_set_ctx(r, sr, ngx_http_webhooks_module);

    if (ngx_list_init(&r->headers_in.headers, r->pool, 12,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        goto failed;
    }

    kv = sr->headers->elts;

    for (i = 0; i < sr->headers->nelts; i++) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            goto failed;
        }

        h->key = kv[i].key;
        h->value = kv[i].value;
        h->lowcase_key = ngx_pnalloc(r->pool, h->key.len);
        if (h->lowcase_key == NULL) {
            goto failed;
        }

        h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    /* the body, as if the client had sent it */

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (rb == NULL || b == NULL || cl == NULL) {
        goto failed;
    }

    b->pos = sr->body.data;
    b->last = sr->body.data + sr->body.len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->rest = 0;
    r->request_body = rb;
    r->headers_in.content_length_n = sr->body.len;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_webhooks_subrequest_post;
    ps->data = sr;

    sr->rc = NGX_OK;
    sr->response_expected = -1;

    if (ngx_http_subrequest(r, &sr->uri, NULL, &sub, ps, 0) != NGX_OK) {
        goto failed;
    }

    sub->method = sr->method;
    sub->method_name = r->method_name;

    ngx_http_set_ctx(sub, sr, ngx_http_webhooks_module);

    /* whatever the location does, the attempt ends by then */

    sr->sub = sub;
    sr->started = ngx_current_msec;

    ngx_add_timer(&sr->deadline, sr->timeout
                                 ? sr->timeout
                                 : NGX_HTTP_WEBHOOKS_SUBREQUEST_AUTO);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "webhooks subrequest to \"%V\"%V", &sr->uri,
                   &sr->context);

    ngx_http_run_posted_requests(c);

    return NGX_OK;

failed:

    r->logged = 1;
    ngx_http_free_request(r, 0);
    c->pool = NULL;
    ngx_close_connection(c);
    sr->conn = NULL;
    sr->request = NULL;

    return NGX_ERROR;
}


/* for the pool's cleanup: the handler is not called any more */

void
ngx_http_webhooks_subrequest_cancel(ngx_http_webhooks_subrequest_t *sr)
{
    if (sr->deadline.timer_set) {
        ngx_del_timer(&sr->deadline);
    }

    if (sr->finish.posted) {
        ngx_delete_posted_event(&sr->finish);
    }
}


/* the caller's data in one of its subrequests, else NULL */

void *
ngx_http_webhooks_subrequest_data(ngx_http_request_t *r)
{
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);

    return sr ? sr->data : NULL;
}


/* a variable of the caller's: data is the offset of its ngx_str_t */

ngx_int_t
ngx_http_webhooks_subrequest_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char     *p;
    ngx_str_t  *s;

    p = ngx_http_webhooks_subrequest_data(r);

    if (p == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) (p + data);

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_subrequest_post(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_webhooks_subrequest_t *sr = data;

    /* the first error counts: an error page may finalize it again */
    if (sr->rc == NGX_OK && rc != NGX_OK && rc != NGX_AGAIN
        && rc != NGX_DONE)
    {
        sr->rc = rc;

        /* refused by a limit, before any upstream: not the receiver's */
        sr->throttled = (sr->limits && r->upstream == NULL
                         && rc >= NGX_HTTP_BAD_REQUEST);
    }

    return rc;
}


static void
ngx_http_webhooks_subrequest_parent_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_subrequest_t  *sr;

    if (r->count > 1) {
        /* the subrequest is not over */
        return;
    }

    sr = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    /* tear down outside of ngx_http_run_posted_requests() */
    if (!sr->finish.posted) {
        ngx_post_event(&sr->finish, &ngx_posted_events);
    }
}


static void
ngx_http_webhooks_subrequest_finish_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_subrequest_t *sr = ev->data;

    ngx_connection_t  *c;

    c = sr->conn;

    if (sr->deadline.timer_set) {
        ngx_del_timer(&sr->deadline);
    }

    ngx_http_webhooks_subrequest_outcome(sr);

    sr->request->logged = 1;
    ngx_http_free_request(sr->request, 0);

    /* the pool is the caller's until it is done with the outcome */
    c->pool = NULL;
    ngx_close_connection(c);

    sr->conn = NULL;
    sr->request = NULL;
    sr->sub = NULL;

    sr->handler(sr);
}


/*
 * A subrequest past its deadline, whatever holds it (a limit's delay,
 * an upstream that trickles, a module that never finalizes): what it
 * holds is released through the request's cleanups, as
 * ngx_http_terminate_request() does, and the request is freed here,
 * never finalized again.
 */

static void
ngx_http_webhooks_subrequest_deadline_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_subrequest_t *sr = ev->data;

    ngx_msec_t                 limit, elapsed;
    ngx_http_request_t        *r;
    ngx_http_cleanup_t        *cln;
    ngx_http_upstream_conf_t  *ucf;

    r = sr->request;

    if (r == NULL || sr->finish.posted) {
        return;
    }

    elapsed = ngx_current_msec - sr->started;

    /* none set: an upstream gets its own timeouts in full, and a margin */

    if (sr->timeout == 0 && sr->sub->upstream && sr->sub->upstream->conf) {
        ucf = sr->sub->upstream->conf;
        limit = ucf->connect_timeout + ucf->send_timeout + ucf->read_timeout
                + NGX_HTTP_WEBHOOKS_SUBREQUEST_MARGIN;

        if (elapsed < limit) {
            ngx_add_timer(ev, limit - elapsed);
            return;
        }
    }

    if (r->blocked) {
        /* a thread or AIO works for it: not freed under its feet */
        ngx_add_timer(ev, 100);
        return;
    }

    sr->rc = NGX_HTTP_GATEWAY_TIME_OUT;
    sr->answered = 0;
    sr->error = NGX_HTTP_WEBHOOKS_SUBREQUEST_DEADLINE;

    /* an upstream cleanup finalizes the subrequest: a reference for it */
    r->count++;

    cln = r->cleanup;
    r->cleanup = NULL;

    while (cln) {
        if (cln->handler) {
            cln->handler(cln->data);
        }

        cln = cln->next;
    }

    ngx_http_webhooks_subrequest_finish_handler(&sr->finish);
}


/*
 * Why no answer came: ngx_http_upstream_next() leaves it in the
 * upstream's state (504 for a timeout, the request never sent when no
 * connection was made, a full buffer for a header too large).  nginx
 * keeps no trace of a TLS failure, nor of what cut an answer short once
 * its header was passed on (upstream flushes instead of finalizing with
 * an error), nor of proxy_pass's own resolving: for those the first
 * error it logged is all there is.
 */

static void
ngx_http_webhooks_subrequest_outcome(ngx_http_webhooks_subrequest_t *sr)
{
    ngx_http_upstream_t  *u;

    if (sr->error == NGX_HTTP_WEBHOOKS_SUBREQUEST_DEADLINE) {
        return;
    }

    sr->error = sr->logged;

    if (sr->logged == NGX_HTTP_WEBHOOKS_SUBREQUEST_CERTIFICATE
        || sr->logged == NGX_HTTP_WEBHOOKS_SUBREQUEST_HANDSHAKE)
    {
        return;
    }

    u = sr->sub ? sr->sub->upstream : NULL;

    if (sr->answered || u == NULL || u->state == NULL
        || u->headers_in.status_n)
    {
        return;
    }

    if (u->state->status == NGX_HTTP_GATEWAY_TIME_OUT) {
        sr->error = NGX_HTTP_WEBHOOKS_SUBREQUEST_TIMEOUT;

    } else if (!u->request_sent) {
        sr->error = NGX_HTTP_WEBHOOKS_SUBREQUEST_CONNECT;

    } else if (u->buffer.start && u->buffer.last == u->buffer.end) {
        /* past proxy_buffer_size */
        sr->error = NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_TOO_BIG;

    } else {
        sr->error = NGX_HTTP_WEBHOOKS_SUBREQUEST_INVALID;
    }
}


/* the first error logged, for what the upstream's state does not say */

static void
ngx_http_webhooks_subrequest_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len)
{
    ngx_http_webhooks_subrequest_t *sr = log->wdata;

    u_char  *last;

    if (sr->logged || level > NGX_LOG_ERR) {
        return;
    }

    last = buf + len;

    if (ngx_strlcasestrn(buf, last, (u_char *) "timed out", 9 - 1)) {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_TIMEOUT;

    } else if (ngx_strlcasestrn(buf, last, (u_char *) "too big header",
                                14 - 1))
    {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_TOO_BIG;

    } else if (ngx_strlcasestrn(buf, last,
                                (u_char *) "certificate verify", 18 - 1))
    {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_CERTIFICATE;

    } else if (ngx_strlcasestrn(buf, last, (u_char *) "SSL_do_handshake",
                                16 - 1)
               || ngx_strlcasestrn(buf, last, (u_char *) "in SSL handshake",
                                   16 - 1))
    {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_HANDSHAKE;

    } else if (ngx_strlcasestrn(buf, last, (u_char *) "resolve", 7 - 1)) {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_RESOLVE;

    } else if (ngx_strlcasestrn(buf, last, (u_char *) "connect()", 9 - 1)
               || ngx_strlcasestrn(buf, last,
                                   (u_char *) "no live upstreams", 17 - 1))
    {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_CONNECT;

    } else if (ngx_strlcasestrn(buf, last, (u_char *) "upstream", 8 - 1)) {
        sr->logged = NGX_HTTP_WEBHOOKS_SUBREQUEST_INVALID;
    }
}


static u_char *
ngx_http_webhooks_subrequest_log_handler(ngx_log_t *log, u_char *buf,
    size_t len)
{
    u_char                          *p;
    ngx_http_log_ctx_t              *ctx;
    ngx_http_request_t              *r;
    ngx_http_webhooks_subrequest_t  *sr;

    ctx = log->data;
    r = ctx->request;
    p = buf;

    if (r == NULL) {
        return p;
    }

    sr = ngx_http_get_module_ctx(r, ngx_http_webhooks_module);

    if (sr) {
        p = ngx_snprintf(p, len, "%V", &sr->context);
        len -= p - buf;
    }

    if (r->log_handler && ctx->current_request) {
        return r->log_handler(r, ctx->current_request, p, len);
    }

    return p;
}


/*
 * The descriptor is never in epoll: what comes is a timer, as the one
 * limit_req delays a request with, and it runs the request as nginx's
 * own connection handler would.
 */

static void
ngx_http_webhooks_subrequest_fake_handler(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    c = ev->data;
    r = c->data;

    ngx_http_set_log_request(c->log, r);

    if (ev->delayed && ev->timedout) {
        ev->delayed = 0;
        ev->timedout = 0;
    }

    if (ev->write) {
        r->write_event_handler(r);

    } else {
        r->read_event_handler(r);
    }

    ngx_http_run_posted_requests(c);
}


/* one of ours: a subrequest whose parent is a fake request, or NULL */

ngx_http_webhooks_subrequest_t *
ngx_http_webhooks_subrequest_get(ngx_http_request_t *r)
{
    if (r == r->main) {
        return NULL;
    }

    return ngx_http_get_module_ctx(r, ngx_http_webhooks_module);
}


static ngx_int_t
ngx_http_webhooks_subrequest_preaccess_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);

    if (sr) {
        sr->limits = 1;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_webhooks_subrequest_precontent_handler(ngx_http_request_t *r)
{
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);

    if (sr) {
        sr->limits = 0;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_webhooks_subrequest_header_filter(ngx_http_request_t *r)
{
    u_char                          *p;
    size_t                           len, klen, vlen;
    ngx_uint_t                       i, n;
    ngx_list_part_t                 *part;
    ngx_table_elt_t                 *h;
    ngx_table_elt_t                 *kept[
                                    NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADERS_MAX];
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);
    if (sr == NULL) {
        return ngx_http_next_header_filter(r);
    }

    sr->status = r->headers_out.status;

    /* an error page of nginx's own is not the upstream's answer */

    if (r->err_status || r->upstream == NULL
        || r->upstream->headers_in.status_n == 0)
    {
        return NGX_OK;
    }

    sr->answered = 1;
    sr->response_expected = r->upstream->headers_in.content_length_n;

    if (sr->status == NGX_HTTP_TOO_MANY_REQUESTS
        || sr->status == NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        ngx_http_webhooks_subrequest_retry_after(sr, r);
    }

    /* {"Name":"value",...}: the first 50, escaped, each part cut */

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;
    len = 2;
    n = 0;

    for (i = 0; n < NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADERS_MAX; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        kept[n++] = &h[i];

        klen = ngx_http_webhooks_subrequest_utf8_cut(h[i].key.data,
                                      h[i].key.len,
                                      NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_MAX);
        vlen = ngx_http_webhooks_subrequest_utf8_cut(h[i].value.data,
                                      h[i].value.len,
                                      NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_MAX);

        len += klen + ngx_escape_json(NULL, h[i].key.data, klen)
               + vlen + ngx_escape_json(NULL, h[i].value.data, vlen)
               + sizeof("\"\":\"\",");
    }

    p = ngx_pnalloc(sr->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    sr->response_headers.data = p;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        klen = ngx_http_webhooks_subrequest_utf8_cut(kept[i]->key.data,
                                      kept[i]->key.len,
                                      NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_MAX);
        vlen = ngx_http_webhooks_subrequest_utf8_cut(kept[i]->value.data,
                                      kept[i]->value.len,
                                      NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_MAX);

        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, kept[i]->key.data, klen);
        *p++ = '"';
        *p++ = ':';
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, kept[i]->value.data, vlen);
        *p++ = '"';
    }

    *p++ = '}';
    sr->response_headers.len = p - sr->response_headers.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_subrequest_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    size_t                           n, size, max;
    ngx_buf_t                       *b;
    ngx_chain_t                     *cl;
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);
    if (sr == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    max = sr->response_max;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        sr->response_read += ngx_buf_size(b);

        if (sr->answered && ngx_buf_in_memory(b) && b->last != b->pos
            && !sr->response_cut)
        {
            size = b->last - b->pos;

            if (sr->response == NULL) {
                /* one byte more tells where the cut falls */
                sr->response = ngx_pnalloc(sr->pool, max + 1);
                if (sr->response == NULL) {
                    return NGX_ERROR;
                }
            }

            n = ngx_min(size, max + 1 - sr->response_len);
            ngx_memcpy(sr->response + sr->response_len, b->pos, n);
            sr->response_len += n;

            if (sr->response_len > max) {
                sr->response_len = ngx_http_webhooks_subrequest_utf8_cut(
                                       sr->response, sr->response_len, max);
                sr->response_cut = 1;
            }
        }

        /* consumed: what is past the cap is dropped */
        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


/* the first Retry-After, as it came: the request's memory goes first */

static void
ngx_http_webhooks_subrequest_retry_after(ngx_http_webhooks_subrequest_t *sr,
    ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Retry-After") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After",
                               sizeof("Retry-After") - 1)
               != 0)
        {
            continue;
        }

        sr->retry_after.data = ngx_pstrdup(sr->pool, &h[i].value);

        if (sr->retry_after.data) {
            sr->retry_after.len = h[i].value.len;
        }

        return;
    }
}


/*
 * At most max bytes of text, cut where a UTF-8 character starts: the
 * log is JSON, in which a character cut short would lose the whole value
 */

static size_t
ngx_http_webhooks_subrequest_utf8_cut(u_char *p, size_t len, size_t max)
{
    size_t  n;

    if (len <= max) {
        return len;
    }

    /* the first byte cut off continues a character: drop its start */

    for (n = max; n > 0 && max - n < 3 && (p[n] & 0xc0) == 0x80; n--) {
        /* void */
    }

    return ((p[n] & 0xc0) == 0xc0) ? n : max;
}
