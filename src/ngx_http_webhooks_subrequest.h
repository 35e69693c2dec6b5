
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_SUBREQUEST_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_SUBREQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_webhooks_subrequest_s
    ngx_http_webhooks_subrequest_t;

typedef void (*ngx_http_webhooks_subrequest_handler_pt)(
    ngx_http_webhooks_subrequest_t *sr);


/* why nothing, or not all, came back */
typedef enum {
    NGX_HTTP_WEBHOOKS_SUBREQUEST_OK = 0,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_TIMEOUT,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_HEADER_TOO_BIG,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_CERTIFICATE,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_HANDSHAKE,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_RESOLVE,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_CONNECT,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_INVALID,
    NGX_HTTP_WEBHOOKS_SUBREQUEST_DEADLINE
} ngx_http_webhooks_subrequest_error_e;


/*
 * A request sent through a location of a server, with no client: the
 * caller fills in what to send and a handler, which gets the outcome
 * once, unless the caller's pool goes first (then nothing is called).
 */
struct ngx_http_webhooks_subrequest_s {
    /* what to send: all of it lives as long as the pool */
    ngx_pool_t                      *pool;
    ngx_http_conf_ctx_t             *conf_ctx;     /* the server */
    ngx_uint_t                       method;
    ngx_str_t                        method_name;
    ngx_str_t                        uri;
    ngx_array_t                     *headers;      /* of ngx_keyval_t */
    ngx_str_t                        body;
    ngx_msec_t                       timeout;      /* 0: the upstream's */
    size_t                           response_max; /* kept of the body */
    ngx_str_t                        context;      /* of log lines */
    ngx_addr_t                      *peer;         /* for a balancer */
    ngx_str_t                        peer_name;    /* its TLS name */
    ngx_http_webhooks_subrequest_handler_pt  handler;
    void                            *data;

    /* the outcome */
    ngx_int_t                        rc;           /* the first error */
    ngx_uint_t                       status;
    ngx_uint_t                       error;        /* _error_e */
    ngx_str_t                        response_headers;   /* JSON */
    ngx_str_t                        retry_after;  /* as it came */
    u_char                          *response;
    size_t                           response_len;
    off_t                            response_expected;  /* -1: unsaid */
    off_t                            response_read;
    ngx_msec_t                       started;

    unsigned                         answered:1;   /* by the upstream */
    unsigned                         throttled:1;  /* by a limit */
    unsigned                         response_cut:1;

    /* the subrequest's own */
    ngx_connection_t                *conn;
    ngx_http_request_t              *request;
    ngx_http_request_t              *sub;
    ngx_event_t                      finish;
    ngx_event_t                      deadline;
    ngx_uint_t                       logged;       /* _error_e, from log */
    unsigned                         limits:1;     /* preaccess phase */
};


ngx_int_t ngx_http_webhooks_subrequest_phases(ngx_conf_t *cf);
ngx_int_t ngx_http_webhooks_subrequest_filters(ngx_conf_t *cf);
ngx_int_t ngx_http_webhooks_subrequest_init(ngx_cycle_t *cycle);
void ngx_http_webhooks_subrequest_done(ngx_cycle_t *cycle);

ngx_int_t ngx_http_webhooks_subrequest_send(
    ngx_http_webhooks_subrequest_t *sr);
void ngx_http_webhooks_subrequest_cancel(ngx_http_webhooks_subrequest_t *sr);
void *ngx_http_webhooks_subrequest_data(ngx_http_request_t *r);
ngx_http_webhooks_subrequest_t *ngx_http_webhooks_subrequest_get(
    ngx_http_request_t *r);
ngx_int_t ngx_http_webhooks_subrequest_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#endif /* _NGX_HTTP_WEBHOOKS_SUBREQUEST_H_INCLUDED_ */
