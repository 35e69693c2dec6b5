
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * What the harnesses need of nginx besides the core sources util/fuzz
 * builds from Debian's nginx source package (build/fuzz/nginx-src): a
 * log, a request made from a pool, and the few http
 * core functions the module calls on the way out (send the header, the
 * body, finalize), which here record the response instead.  Whatever
 * else the module refers to is stubbed by util/fuzz (build/fuzz/stubs.c)
 * and aborts, naming itself, if a harness ever reaches it.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_store.h"


#define FUZZ_MODULES  8
#define FUZZ_INDEX    1


static u_char *fuzz_log_error(ngx_log_t *log, u_char *buf, size_t len);


fuzz_response_t                 fuzz_response;
ngx_http_webhooks_main_conf_t   fuzz_wmcf;
ngx_http_webhooks_loc_conf_t    fuzz_wlcf;

static ngx_open_file_t          fuzz_log_file;
static ngx_log_t                fuzz_log;
static ngx_http_complex_value_t fuzz_login;
static ngx_http_complex_value_t fuzz_admin;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_conf_t  cf;

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    for (ngx_pagesize_shift = 0; (1 << ngx_pagesize_shift) < ngx_pagesize;
         ngx_pagesize_shift++)
    {
        /* void */
    }

    fuzz_log_file.fd = ngx_stderr;
    fuzz_log.file = &fuzz_log_file;

    /* debug lines are formatted, so their arguments are checked too */
    fuzz_log.log_level = NGX_LOG_DEBUG_CORE | NGX_LOG_DEBUG_HTTP
                         | NGX_LOG_DEBUG_EVENT;
    fuzz_log.handler = fuzz_log_error;

    ngx_time_init();

    ngx_http_webhooks_module.ctx_index = FUZZ_INDEX;

    ngx_str_set(&fuzz_wmcf.prefix, "webhooks:");

    /* the built-in deny list, which hook URLs are checked against */
    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = fuzz_pool();
    cf.log = &fuzz_log;
    fuzz_wmcf.guard.ports = NGX_CONF_UNSET_PTR;
    fuzz_assert(ngx_http_webhooks_address_init(&cf, &fuzz_wmcf) == NGX_OK);

    /* the queue shards' keys, which the delivery log's keys are made of */
    fuzz_assert(ngx_http_webhooks_shards(cf.pool, &fuzz_wmcf) == NGX_OK);

    /* the caller: an admin user, as the tests' demo identities */
    ngx_str_set(&fuzz_login.value, "octocat");
    ngx_str_set(&fuzz_admin.value, "1");

    fuzz_wlcf.api = 1;
    fuzz_wlcf.hub = 1;
    fuzz_wlcf.login = &fuzz_login;
    fuzz_wlcf.admin = &fuzz_admin;
    fuzz_wlcf.max_hooks = NGX_HTTP_WEBHOOKS_MAX_HOOKS;

    return 0;
}


static u_char *
fuzz_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    return buf;
}


ngx_pool_t *
fuzz_pool(void)
{
    ngx_pool_t  *pool;

    pool = ngx_create_pool(1024, &fuzz_log);
    fuzz_assert(pool != NULL);

    return pool;
}


ngx_http_request_t *
fuzz_request(ngx_pool_t *pool, ngx_uint_t method)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    ngx_memzero(&fuzz_response, sizeof(fuzz_response_t));
    fuzz_response.finalized = FUZZ_NOT_FINALIZED;

    c = ngx_pcalloc(pool, sizeof(ngx_connection_t));
    r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    fuzz_assert(c != NULL && r != NULL);

    c->log = &fuzz_log;
    c->pool = pool;

    r->connection = c;
    r->pool = pool;
    r->main = r;
    r->count = 1;
    r->method = method;

    r->ctx = ngx_pcalloc(pool, FUZZ_MODULES * sizeof(void *));
    r->main_conf = ngx_pcalloc(pool, FUZZ_MODULES * sizeof(void *));
    r->srv_conf = ngx_pcalloc(pool, FUZZ_MODULES * sizeof(void *));
    r->loc_conf = ngx_pcalloc(pool, FUZZ_MODULES * sizeof(void *));
    fuzz_assert(r->ctx && r->main_conf && r->srv_conf && r->loc_conf);

    r->main_conf[FUZZ_INDEX] = &fuzz_wmcf;
    r->loc_conf[FUZZ_INDEX] = &fuzz_wlcf;

    fuzz_assert(ngx_list_init(&r->headers_in.headers, pool, 4,
                              sizeof(ngx_table_elt_t))
                == NGX_OK);
    fuzz_assert(ngx_list_init(&r->headers_out.headers, pool, 4,
                              sizeof(ngx_table_elt_t))
                == NGX_OK);

    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;

    return r;
}


ngx_int_t
fuzz_header_in(ngx_http_request_t *r, char *name, u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    fuzz_assert(h != NULL);

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = ngx_pnalloc(r->pool, len + 1);
    fuzz_assert(h->value.data != NULL);

    /* nginx keeps header values NUL-terminated */
    *ngx_cpymem(h->value.data, value, len) = '\0';
    h->value.len = len;
    h->lowcase_key = h->key.data;

    if (ngx_strcasecmp(h->key.data, (u_char *) "Content-Type") == 0) {
        r->headers_in.content_type = h;
    }

    return NGX_OK;
}


/* the body as read by ngx_http_read_client_request_body, in one buffer */

ngx_int_t
fuzz_body(ngx_http_request_t *r, u_char *data, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    r->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    fuzz_assert(r->request_body != NULL);

    if (len == 0) {
        return NGX_OK;
    }

    b = ngx_create_temp_buf(r->pool, len);
    cl = ngx_alloc_chain_link(r->pool);
    fuzz_assert(b != NULL && cl != NULL);

    b->last = ngx_cpymem(b->pos, data, len);
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    r->request_body->bufs = cl;
    r->headers_in.content_length_n = len;

    return NGX_OK;
}


/* whatever the module sends is GitHub's JSON, or nothing */

void
fuzz_check_response(void)
{
    json_t        *doc;
    json_error_t   error;

    fuzz_assert(fuzz_response.headers <= 1);

    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz: %d %.*s\n", (int) fuzz_response.status,
                (int) fuzz_response.body.len, fuzz_response.body.data);
    }

    if (fuzz_response.body.len == 0) {
        return;
    }

    fuzz_assert(fuzz_response.headers == 1);

    doc = json_loadb((char *) fuzz_response.body.data,
                     fuzz_response.body.len, 0, &error);
    if (doc == NULL) {
        fprintf(stderr, "fuzz: the response is no JSON (%s): %.*s\n",
                error.text, (int) fuzz_response.body.len,
                fuzz_response.body.data);
    }

    fuzz_assert(doc != NULL);
    json_decref(doc);
}


void
fuzz_done(ngx_pool_t *pool)
{
    ngx_destroy_pool(pool);
}


void
fuzz_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "fuzz: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}


/* nginx's log, to stderr; an alert or worse is a bug found */

void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    errstr[NGX_MAX_ERROR_STR];

    last = errstr + NGX_MAX_ERROR_STR;

    va_start(args, fmt);
    p = ngx_vslprintf(errstr, last, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_slprintf(p, last, " (%d)", err);
    }

    if (level > NGX_LOG_ERR) {
        return;
    }

    fprintf(stderr, "fuzz: [%s] %.*s\n",
            level <= NGX_LOG_CRIT ? "alert" : "error", (int) (p - errstr),
            errstr);

    if (level <= NGX_LOG_CRIT) {
        abort();
    }
}


ngx_int_t
ngx_http_send_header(ngx_http_request_t *r)
{
    if (r->header_sent) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "header already sent");
        return NGX_ERROR;
    }

    if (r->err_status) {
        r->headers_out.status = r->err_status;
    }

    r->header_sent = 1;

    fuzz_response.headers++;
    fuzz_response.status = r->headers_out.status;

    return NGX_OK;
}


ngx_int_t
ngx_http_output_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char       *p, *old;
    size_t        len;
    ngx_chain_t  *cl;

    fuzz_assert(r->header_sent);

    len = fuzz_response.body.len;

    for (cl = in; cl; cl = cl->next) {
        fuzz_assert(!cl->buf->in_file);
        len += cl->buf->last - cl->buf->pos;
    }

    p = ngx_pnalloc(r->pool, len);
    fuzz_assert(p != NULL || len == 0);

    old = fuzz_response.body.data;
    fuzz_response.body.data = p;

    if (old) {
        p = ngx_cpymem(p, old, fuzz_response.body.len);
    }

    for (cl = in; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    fuzz_response.body.len = len;

    return NGX_OK;
}


void
ngx_http_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    fuzz_assert(fuzz_response.finalized == FUZZ_NOT_FINALIZED);
    fuzz_response.finalized = rc;
}


void
ngx_http_run_posted_requests(ngx_connection_t *c)
{
}


ngx_int_t
ngx_http_discard_request_body(ngx_http_request_t *r)
{
    return NGX_OK;
}


/* the body is there already, as when nginx has read it */

ngx_int_t
ngx_http_read_client_request_body(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post_handler)
{
    fuzz_assert(r->request_body != NULL);

    r->main->count++;
    post_handler(r);

    return NGX_OK;
}


ngx_int_t
ngx_http_complex_value(ngx_http_request_t *r, ngx_http_complex_value_t *val,
    ngx_str_t *value)
{
    fuzz_assert(val->lengths == NULL);

    *value = val->value;

    return NGX_OK;
}
