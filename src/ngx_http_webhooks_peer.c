
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_peer.h"
#include "ngx_http_webhooks_subrequest.h"


/*
 * A balancer for the upstream of a delivery location: a delivery's one
 * peer is the address the SSRF guard checked for its hook, and the
 * connection may stay open for the next delivery there:
 *
 *     upstream webhooks_delivery {
 *         webhooks_delivery_peer keepalive=64;
 *     }
 *
 *     proxy_pass $webhooks_delivery_scheme://webhooks_delivery
 *                $webhooks_delivery_uri;      (one word, split here)
 *
 * nginx's own "keepalive" would hand a kept connection to any request
 * for the same address.  Here a connection is kept for its address, the
 * location that made it (its TLS verification and client certificate)
 * and, over TLS, the host of the hook it was made for: a certificate
 * checked for one name never carries a delivery meant for another.
 */


#define NGX_HTTP_WEBHOOKS_PEER_NAME  256


typedef struct ngx_http_webhooks_peer_conf_s  ngx_http_webhooks_peer_conf_t;

/* an idle connection, or a free place for one */
typedef struct {
    ngx_queue_t                      queue;
    ngx_http_webhooks_peer_conf_t   *conf;
    ngx_connection_t                *connection;
    void                            *location;  /* its upstream conf */
    socklen_t                        socklen;
    ngx_sockaddr_t                   sockaddr;
    ngx_uint_t                       ssl;
    size_t                           name_len;
    u_char                           name[NGX_HTTP_WEBHOOKS_PEER_NAME];
} ngx_http_webhooks_peer_idle_t;


/* per upstream block, and so per worker once forked */
struct ngx_http_webhooks_peer_conf_s {
    ngx_uint_t                       keepalive;  /* idle ones at most */
    ngx_msec_t                       timeout;
    ngx_uint_t                       requests;
    ngx_queue_t                      idle;       /* most recent first */
    ngx_queue_t                      free;
};


/* per request */
typedef struct {
    ngx_http_webhooks_peer_conf_t   *conf;
    ngx_http_upstream_t             *upstream;
    ngx_addr_t                      *addr;
    ngx_str_t                        name;
} ngx_http_webhooks_peer_data_t;


static ngx_int_t ngx_http_webhooks_peer_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_webhooks_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_webhooks_peer_get(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_webhooks_peer_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_uint_t ngx_http_webhooks_peer_ssl(ngx_http_upstream_t *u,
    ngx_connection_t *c);
static void ngx_http_webhooks_peer_dummy_handler(ngx_event_t *ev);
static void ngx_http_webhooks_peer_close_handler(ngx_event_t *ev);
static void ngx_http_webhooks_peer_close(ngx_connection_t *c);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_webhooks_peer_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_webhooks_peer_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


/* webhooks_delivery_peer [keepalive=n] [keepalive_timeout=t]
 *                        [keepalive_requests=n] */

char *
ngx_http_webhooks_peer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                      *value, s;
    ngx_int_t                       n;
    ngx_uint_t                      i;
    ngx_msec_t                      t;
    ngx_http_upstream_server_t     *us;
    ngx_http_webhooks_peer_conf_t  *pcf;
    ngx_http_upstream_srv_conf_t   *uscf;

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);

    if (uscf->peer.init_upstream == ngx_http_webhooks_peer_init_upstream) {
        return "is duplicate";
    }

    if (uscf->peer.init_upstream) {
        return "cannot go with \"keepalive\" or another balancer: "
               "its keepalive= keeps connections";
    }

    pcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhooks_peer_conf_t));
    if (pcf == NULL) {
        return NGX_CONF_ERROR;
    }

    pcf->timeout = 4000;
    pcf->requests = 1000;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "keepalive=", 10) == 0) {
            n = ngx_atoi(value[i].data + 10, value[i].len - 10);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            pcf->keepalive = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "keepalive_timeout=", 18) == 0) {
            s.data = value[i].data + 18;
            s.len = value[i].len - 18;

            t = ngx_parse_time(&s, 0);
            if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
                goto invalid;
            }

            pcf->timeout = t;
            continue;
        }

        if (ngx_strncmp(value[i].data, "keepalive_requests=", 19) == 0) {
            n = ngx_atoi(value[i].data + 19, value[i].len - 19);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            pcf->requests = n;
            continue;
        }

        goto invalid;
    }

    /* the block needs a server; this one is never connected to */

    us = ngx_array_push(uscf->servers);
    if (us == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(us, sizeof(ngx_http_upstream_server_t));
    us->name = cmd->name;

    uscf->peer.init_upstream = ngx_http_webhooks_peer_init_upstream;
    uscf->peer.data = pcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_webhooks_peer_init_upstream(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                      i;
    ngx_http_webhooks_peer_idle_t  *idle;
    ngx_http_webhooks_peer_conf_t  *pcf;

    /* "keepalive" after it would keep connections by address alone */

    if (us->peer.init_upstream != ngx_http_webhooks_peer_init_upstream) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhooks_delivery_peer\" in upstream \"%V\" in "
                      "%s:%ui cannot go with \"keepalive\" or another "
                      "balancer: its keepalive= keeps connections",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    /* "zone" would take peer.data for a list of servers */

    if (us->shm_zone) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhooks_delivery_peer\" in upstream \"%V\" in "
                      "%s:%ui cannot go with \"zone\"",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    if (us->servers->nelts != 1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "upstream \"%V\" in %s:%ui has \"server\" and "
                      "\"webhooks_delivery_peer\": each delivery goes to "
                      "its hook's address, so it takes no \"server\"",
                      &us->host, us->file_name, us->line);
        return NGX_ERROR;
    }

    pcf = us->peer.data;
    us->peer.init = ngx_http_webhooks_peer_init;

    ngx_queue_init(&pcf->idle);
    ngx_queue_init(&pcf->free);

    if (pcf->keepalive == 0) {
        return NGX_OK;
    }

    idle = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_webhooks_peer_idle_t) * pcf->keepalive);
    if (idle == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < pcf->keepalive; i++) {
        idle[i].conf = pcf;
        ngx_queue_insert_head(&pcf->free, &idle[i].queue);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t             *u;
    ngx_http_webhooks_peer_data_t   *pd;
    ngx_http_webhooks_subrequest_t  *sr;

    sr = ngx_http_webhooks_subrequest_get(r);

    if (sr == NULL || sr->peer == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhooks: upstream \"%V\" has webhooks_delivery_peer: "
                      "it takes deliveries only", &us->host);
        return NGX_ERROR;
    }

    pd = ngx_palloc(r->pool, sizeof(ngx_http_webhooks_peer_data_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    u = r->upstream;

    pd->conf = us->peer.data;
    pd->upstream = u;
    pd->addr = sr->peer;
    pd->name = sr->peer_name;

    u->peer.data = pd;
    u->peer.get = ngx_http_webhooks_peer_get;
    u->peer.free = ngx_http_webhooks_peer_free;
    u->peer.tries = 1;
#if (NGX_HTTP_SSL)
    u->peer.set_session = ngx_http_webhooks_peer_set_session;
    u->peer.save_session = ngx_http_webhooks_peer_save_session;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_peer_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_webhooks_peer_data_t *pd = data;

    ngx_uint_t                      ssl;
    ngx_queue_t                    *q;
    ngx_connection_t               *c;
    ngx_http_webhooks_peer_idle_t  *idle;

    pc->cached = 0;
    pc->connection = NULL;
    pc->sockaddr = pd->addr->sockaddr;
    pc->socklen = pd->addr->socklen;
    pc->name = &pd->addr->name;

    ssl = ngx_http_webhooks_peer_ssl(pd->upstream, NULL);

    for (q = ngx_queue_head(&pd->conf->idle);
         q != ngx_queue_sentinel(&pd->conf->idle);
         q = ngx_queue_next(q))
    {
        idle = ngx_queue_data(q, ngx_http_webhooks_peer_idle_t, queue);

        if (idle->location != pd->upstream->conf
            || idle->ssl != ssl
            || ngx_memn2cmp((u_char *) &idle->sockaddr,
                            (u_char *) pc->sockaddr,
                            idle->socklen, pc->socklen)
               != 0)
        {
            continue;
        }

        if (ssl
            && (idle->name_len != pd->name.len
                || ngx_strncasecmp(idle->name, pd->name.data,
                                   pd->name.len)
                   != 0))
        {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_head(&pd->conf->free, q);

        c = idle->connection;

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        return NGX_DONE;
    }

    return NGX_OK;
}


static void
ngx_http_webhooks_peer_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_webhooks_peer_data_t *pd = data;

    ngx_queue_t                    *q;
    ngx_connection_t               *c;
    ngx_http_upstream_t            *u;
    ngx_http_webhooks_peer_idle_t  *idle;
    ngx_http_webhooks_peer_conf_t  *pcf;

    pcf = pd->conf;
    u = pd->upstream;
    c = pc->connection;

    /*
     * One peer: no other to try after a failure (nginx itself gives a
     * kept connection that failed one more, with a new one)
     */
    pc->tries = 0;

    if (pcf->keepalive == 0
        || (state & NGX_PEER_FAILED)
        || c == NULL
        || c->read->eof
        || c->read->error
        || c->read->timedout
        || c->write->error
        || c->write->timedout
        || c->requests >= pcf->requests
        || !u->keepalive
        || !u->request_body_sent
        || ngx_terminate
        || ngx_exiting
        || pd->name.len > NGX_HTTP_WEBHOOKS_PEER_NAME)
    {
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        return;
    }

    if (ngx_queue_empty(&pcf->free)) {
        /* the least recently used goes */
        q = ngx_queue_last(&pcf->idle);
        ngx_queue_remove(q);

        idle = ngx_queue_data(q, ngx_http_webhooks_peer_idle_t, queue);
        ngx_http_webhooks_peer_close(idle->connection);

    } else {
        q = ngx_queue_head(&pcf->free);
        ngx_queue_remove(q);

        idle = ngx_queue_data(q, ngx_http_webhooks_peer_idle_t, queue);
    }

    ngx_queue_insert_head(&pcf->idle, q);

    idle->connection = c;
    idle->location = u->conf;
    idle->ssl = ngx_http_webhooks_peer_ssl(u, c);
    idle->socklen = pc->socklen;
    ngx_memcpy(&idle->sockaddr, pc->sockaddr, pc->socklen);
    idle->name_len = pd->name.len;
    ngx_memcpy(idle->name, pd->name.data, pd->name.len);

    pc->connection = NULL;

    c->read->delayed = 0;
    ngx_add_timer(c->read, pcf->timeout);

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_webhooks_peer_dummy_handler;
    c->read->handler = ngx_http_webhooks_peer_close_handler;

    c->data = idle;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    if (c->read->ready) {
        ngx_http_webhooks_peer_close_handler(c->read);
    }
}


/* whether the request goes, or the connection went, over TLS */

static ngx_uint_t
ngx_http_webhooks_peer_ssl(ngx_http_upstream_t *u, ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)
    return c ? (c->ssl != NULL) : u->ssl;
#else
    return 0;
#endif
}


static void
ngx_http_webhooks_peer_dummy_handler(ngx_event_t *ev)
{
}


/* an idle connection that the receiver closed, wrote to, or outlived */

static void
ngx_http_webhooks_peer_close_handler(ngx_event_t *ev)
{
    int                             n;
    char                            buf[1];
    ngx_connection_t               *c;
    ngx_http_webhooks_peer_idle_t  *idle;

    c = ev->data;

    if (!c->close && !c->read->timedout) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            ev->ready = 0;

            if (ngx_handle_read_event(c->read, 0) == NGX_OK) {
                return;
            }
        }
    }

    idle = c->data;

    ngx_http_webhooks_peer_close(c);

    ngx_queue_remove(&idle->queue);
    ngx_queue_insert_head(&idle->conf->free, &idle->queue);
}


static void
ngx_http_webhooks_peer_close(ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;

        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_webhooks_peer_close;
            return;
        }
    }

#endif

    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}


#if (NGX_HTTP_SSL)

/* a new connection makes a new TLS session: kept ones are reused */

static ngx_int_t
ngx_http_webhooks_peer_set_session(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_http_webhooks_peer_save_session(ngx_peer_connection_t *pc, void *data)
{
}

#endif
