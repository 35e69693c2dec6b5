
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <openssl/sha.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_redis_conn.h"
#include "ngx_http_webhooks_stats.h"


/*
 * One connection per worker (and one for the queue's blocking reads),
 * an ngx_peer_connection_t driven by nginx's own event handlers: nginx
 * does the I/O, TLS included; hiredis only formats commands and parses
 * replies (redisReader).  Commands of all requests are pipelined on it
 * and their replies come back in order: callbacks wait in a FIFO.  The
 * oldest command in flight bounds the time we wait: one timer covers
 * them all, and a command that times out drops the connection, which
 * fails every command in flight and reconnects with backoff.
 *
 * Each connection opens with a handshake command (PING, or AUTH when a
 * password is set) and counts as up only once it is answered: every
 * command queued meanwhile is refused with the connection if Redis
 * refuses us.
 *
 * What the commands of one pass of the event loop format is written in
 * one go when the pass is over (the flush event, posted): the socket's
 * own write event only matters once a write has left bytes behind.
 *
 * A handle may have a router instead of a connection (Redis Cluster):
 * it is called back, never by name (see ngx_http_webhooks_redis_conn.h).
 */


#define NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE    16384
#define NGX_HTTP_WEBHOOKS_REDIS_OUT_KEEP     65536


static void ngx_http_webhooks_redis_schedule(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_arm(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_deadline(ngx_http_webhooks_redis_t *rd,
    ngx_msec_t deadline);
static void ngx_http_webhooks_redis_handshake(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_ready(void *data, redisReply *reply);
static void ngx_http_webhooks_redis_up(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_ask(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_master(void *data, redisReply *reply);
static void ngx_http_webhooks_redis_role(void *data, redisReply *reply);
static ngx_http_webhooks_redis_t *ngx_http_webhooks_redis_new(
    ngx_cycle_t *cycle, ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts,
    ngx_uint_t watch);
static void ngx_http_webhooks_redis_subscribed(void *data, redisReply *reply);
static void ngx_http_webhooks_redis_switched(ngx_http_webhooks_redis_t *rd,
    redisReply *reply);
static ngx_int_t ngx_http_webhooks_redis_test_connect(ngx_connection_t *c);
static void ngx_http_webhooks_redis_established(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_read_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_write_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_flush_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_webhooks_redis_flush(ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_process(
    ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_reply(ngx_http_webhooks_redis_t *rd,
    redisReply *reply);
static void ngx_http_webhooks_redis_waited(void *data, redisReply *reply);
static ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_alloc(
    ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_append(ngx_http_webhooks_redis_t *rd,
    int argc, const char **argv, const size_t *argvlen);
static u_char *ngx_http_webhooks_redis_count(u_char *p, u_char type,
    size_t n);
static void ngx_http_webhooks_redis_load_scripts(
    ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_starttls(
    ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_tls_done(ngx_connection_t *c);
static ngx_uint_t ngx_http_webhooks_redis_is_addr(ngx_str_t *name);


/* the connection of the API and of short commands, one per worker */
static ngx_http_webhooks_redis_t  *ngx_http_webhooks_redis;

/* Redis Cluster: what makes a handle route its commands */
static ngx_http_webhooks_redis_router_pt  ngx_http_webhooks_redis_router;

/* with Sentinel: who tells of failovers, and whom to tell */
static ngx_http_webhooks_redis_t  *ngx_http_webhooks_redis_watcher;
static ngx_queue_t                 ngx_http_webhooks_redis_all;


ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_create(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts)
{
    return ngx_http_webhooks_redis_new(cycle, wmcf, scripts, nscripts, 0);
}


static ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_new(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts,
    ngx_uint_t watch)
{
    ngx_http_webhooks_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_webhooks_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    if (ngx_http_webhooks_redis_setup(rd, cycle->pool, cycle->log, wmcf,
                                      scripts, nscripts)
        != NGX_OK)
    {
        return NULL;
    }

    rd->watch = watch;

    if (ngx_http_webhooks_redis_router && !watch) {
        /* a handle: the router's connections connect, it routes */
        if (ngx_http_webhooks_redis_router(rd) != NGX_OK) {
            return NULL;
        }

        return rd;
    }

    ngx_http_webhooks_redis_connect(rd);

    return rd;
}


/* a connection, not yet connected: the handle's own, or a router's */

ngx_int_t
ngx_http_webhooks_redis_setup(ngx_http_webhooks_redis_t *rd,
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts)
{
    rd->in = ngx_palloc(pool, NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE);
    if (rd->in == NULL) {
        return NGX_ERROR;
    }

    rd->log = log;
    rd->pool = pool;
    rd->wmcf = wmcf;
    rd->scripts = scripts;
    rd->nscripts = nscripts;
    rd->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;

    ngx_queue_init(&rd->busy);
    ngx_queue_init(&rd->free);

    if (ngx_http_webhooks_redis_all.next == NULL) {
        ngx_queue_init(&ngx_http_webhooks_redis_all);
    }

    ngx_queue_insert_tail(&ngx_http_webhooks_redis_all, &rd->link);

    /*
     * Not cancelable: a worker that is shutting down waits for the
     * replies its requests are owed, for webhooks_redis_timeout at most.
     */
    rd->timer.handler = ngx_http_webhooks_redis_timer_handler;
    rd->timer.data = rd;
    rd->timer.log = log;

    rd->reconnect.handler = ngx_http_webhooks_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = log;
    rd->reconnect.cancelable = 1;

    rd->flush.handler = ngx_http_webhooks_redis_flush_handler;
    rd->flush.data = rd;
    rd->flush.log = log;

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_redis_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts,
    ngx_http_webhooks_redis_router_pt router)
{
    /* every handle of this worker made from now on routes through it */
    ngx_http_webhooks_redis_router = router;

    ngx_http_webhooks_redis = ngx_http_webhooks_redis_create(cycle, wmcf,
                                                             scripts,
                                                             nscripts);
    if (ngx_http_webhooks_redis == NULL) {
        return NGX_ERROR;
    }

    if (wmcf->redis_sentinels) {
        ngx_http_webhooks_redis_watcher = ngx_http_webhooks_redis_new(cycle,
                                                           wmcf, NULL, 0, 1);
        if (ngx_http_webhooks_redis_watcher == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_webhooks_redis_close(ngx_http_webhooks_redis_t *rd)
{
    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    /* no more reconnects: the worker is going away */
    rd->closed = 1;

    ngx_queue_remove(&rd->link);

    if (rd->finalize) {
        rd->finalize(rd);
        return;
    }

    if (rd->conn) {
        /* fails whatever is in flight and releases the connection */
        ngx_http_webhooks_redis_drop(rd, 0, NULL);
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    if (rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_size = 0;
        rd->out_pos = 0;
        rd->out_len = 0;
    }
}


void
ngx_http_webhooks_redis_done(ngx_cycle_t *cycle)
{
    if (ngx_http_webhooks_redis) {
        ngx_http_webhooks_redis_close(ngx_http_webhooks_redis);
        ngx_http_webhooks_redis = NULL;
    }

    if (ngx_http_webhooks_redis_watcher) {
        ngx_http_webhooks_redis_close(ngx_http_webhooks_redis_watcher);
        ngx_http_webhooks_redis_watcher = NULL;
    }
}


/* the connection commands and scripts go on by default */

ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_main(void)
{
    return ngx_http_webhooks_redis;
}


ngx_http_webhooks_redis_stats_t *
ngx_http_webhooks_redis_stats(ngx_http_webhooks_redis_t *rd)
{
    return rd ? &rd->stats : NULL;
}


ngx_int_t
ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_t *rd)
{
    if (rd && rd->available) {
        return rd->available(rd);
    }

    return rd != NULL && rd->conn != NULL && !rd->asking && !rd->watch
           && (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP
               || rd->state == NGX_HTTP_WEBHOOKS_REDIS_CONNECTING);
}


void
ngx_http_webhooks_redis_connect(ngx_http_webhooks_redis_t *rd)
{
    size_t                          argvlen[2];
    ngx_int_t                       rc;
    const char                     *argv[2];
    ngx_str_t                       host;
    ngx_url_t                      *u;
    ngx_addr_t                     *addr;
    ngx_connection_t               *c;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = rd->wmcf;

    ngx_memzero(&rd->peer, sizeof(ngx_peer_connection_t));

    /* the addresses were resolved with the configuration, not here */

    if (wmcf->redis_sentinels && (rd->watch || !rd->have_master)) {
        u = wmcf->redis_sentinels->elts;
        u = &u[rd->sentinel++ % wmcf->redis_sentinels->nelts];
        addr = &u->addrs[0];

        rd->peer.sockaddr = addr->sockaddr;
        rd->peer.socklen = addr->socklen;
        rd->name = u->url;
        rd->asking = !rd->watch;

        host = u->host;

        /* "[::1]": the address, without the brackets of the URL */
        if (host.len > 2 && host.data[0] == '[') {
            host.data++;
            host.len -= 2;
        }

        rd->ssl_name.data = rd->host;
        rd->ssl_name.len = ngx_min(host.len, NGX_SOCKADDR_STRLEN);
        *ngx_cpymem(rd->host, host.data, rd->ssl_name.len) = '\0';

    } else if (wmcf->redis_sentinels) {
        rd->peer.sockaddr = &rd->master.sockaddr;
        rd->peer.socklen = rd->master_len;
        rd->name.data = rd->master_text;
        rd->name.len = ngx_sock_ntop(&rd->master.sockaddr, rd->master_len,
                                     rd->master_text, NGX_SOCKADDR_STRLEN, 1);
        rd->asking = 0;

        /* the master's address, as the sentinels named it */
        rd->ssl_name.data = rd->host;
        rd->ssl_name.len = ngx_sock_ntop(&rd->master.sockaddr,
                                         rd->master_len, rd->host,
                                         NGX_SOCKADDR_STRLEN, 0);
        rd->host[rd->ssl_name.len] = '\0';

    } else if (rd->master_len) {
        /* a router's connection, at the address it gave (a cluster node) */
        rd->peer.sockaddr = &rd->master.sockaddr;
        rd->peer.socklen = rd->master_len;
        rd->name.data = rd->master_text;
        rd->name.len = ngx_sock_ntop(&rd->master.sockaddr, rd->master_len,
                                     rd->master_text, NGX_SOCKADDR_STRLEN, 1);

    } else {
        u = &wmcf->redis_url;
        addr = &u->addrs[rd->attempt++ % u->naddrs];

        rd->peer.sockaddr = addr->sockaddr;
        rd->peer.socklen = addr->socklen;
        rd->name = wmcf->redis_addr;
    }

    if (wmcf->redis_ssl_name.len || wmcf->redis_sentinels == NULL) {
        rd->ssl_name = wmcf->redis_ssl_name;
    }

    rd->peer.name = &rd->name;
    rd->peer.get = ngx_event_get_peer;
    rd->peer.log = rd->log;
    rd->peer.log_error = NGX_ERROR_ERR;

    rd->reader = redisReaderCreate();
    if (rd->reader == NULL) {
        ngx_http_webhooks_redis_schedule(rd);
        return;
    }

    rd->stats.connects++;

    rc = ngx_event_connect_peer(&rd->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" connect failed", &rd->name);

        if (rd->peer.connection) {
            ngx_close_connection(rd->peer.connection);
            rd->peer.connection = NULL;
        }

        rd->asking = 0;
        rd->have_master = 0;

        redisReaderFree(rd->reader);
        rd->reader = NULL;
        ngx_http_webhooks_redis_schedule(rd);
        return;
    }

    c = rd->peer.connection;

    /*
     * Commands are pipelined: Nagle would hold each write back until the
     * one before is acknowledged, that is answered, one batch in flight
     */

    if (c->tcp_nodelay == NGX_TCP_NODELAY_UNSET
        && ngx_tcp_nodelay(c) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, rd->log, ngx_socket_errno,
                      "webhooks: redis \"%V\": TCP_NODELAY failed",
                      &rd->name);
    }

    c->data = rd;
    c->read->handler = ngx_http_webhooks_redis_read_handler;
    c->write->handler = ngx_http_webhooks_redis_write_handler;
    c->log = rd->log;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->conn = c;
    rd->connected = 0;
    rd->state = NGX_HTTP_WEBHOOKS_REDIS_CONNECTING;
    rd->out_pos = 0;
    rd->out_len = 0;

    ngx_add_timer(&rd->timer, wmcf->redis_connect_timeout);

    if (rd->watch) {
        argv[0] = "SUBSCRIBE";
        argvlen[0] = 9;
        argv[1] = "+switch-master";
        argvlen[1] = sizeof("+switch-master") - 1;

        (void) ngx_http_webhooks_redis_internal(rd,
                                          ngx_http_webhooks_redis_subscribed,
                                          2, argv, argvlen);

    } else if (rd->asking) {
        ngx_http_webhooks_redis_ask(rd);

    } else {
        /* the first command: nothing is read before Redis accepts us */
        ngx_http_webhooks_redis_handshake(rd);

        /* queued next, so scripts exist before any EVALSHA is read */
        ngx_http_webhooks_redis_load_scripts(rd);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "webhooks redis connecting fd:%d", c->fd);

    if (rc == NGX_OK) {
        ngx_http_webhooks_redis_established(rd);
    }
}


/* PING, or AUTH: the reply tells whether Redis takes our commands */

static void
ngx_http_webhooks_redis_handshake(ngx_http_webhooks_redis_t *rd)
{
    int                             argc;
    const char                     *argv[3];
    size_t                          argvlen[3];
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = rd->wmcf;

    if (wmcf->redis_password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (wmcf->redis_user.len) {
            argv[argc] = (const char *) wmcf->redis_user.data;
            argvlen[argc++] = wmcf->redis_user.len;
        }

        argv[argc] = (const char *) wmcf->redis_password.data;
        argvlen[argc++] = wmcf->redis_password.len;

    } else {
        argc = 1;
        argv[0] = "PING";
        argvlen[0] = 4;
    }

    if (ngx_http_webhooks_redis_internal(rd, ngx_http_webhooks_redis_ready,
                                         argc, argv, argvlen)
        == NULL)
    {
        return;
    }

    /* the first bytes of the buffer: wiped once they are written */
    rd->out_secret = wmcf->redis_password.len ? rd->out_len : 0;

    if (wmcf->redis_sentinels) {
        /* a sentinel's word is checked: the server must say it is master */
        argv[0] = "ROLE";
        argvlen[0] = 4;

        (void) ngx_http_webhooks_redis_internal(rd,
                                                ngx_http_webhooks_redis_role,
                                                1, argv, argvlen);
    }
}


ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_internal(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_handler_pt handler, int argc, const char **argv,
    size_t *argvlen)
{
    ngx_http_webhooks_redis_cmd_t  *cmd;

    cmd = ngx_http_webhooks_redis_alloc(rd);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = rd;
    cmd->rd = rd;
    cmd->argc = argc;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
        ngx_http_webhooks_redis_release(rd, cmd);
        return NULL;
    }

    cmd->argv = NULL;
    cmd->argvlen = NULL;

    return cmd;
}


/* SENTINEL get-master-addr-by-name: where the master is now */

static void
ngx_http_webhooks_redis_ask(ngx_http_webhooks_redis_t *rd)
{
    const char  *argv[3];
    size_t       argvlen[3];

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) rd->wmcf->redis_master_name.data;
    argvlen[2] = rd->wmcf->redis_master_name.len;

    (void) ngx_http_webhooks_redis_internal(rd,
                                            ngx_http_webhooks_redis_master,
                                            3, argv, argvlen);
}


static void
ngx_http_webhooks_redis_master(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_t  *rd = data;

    in_addr_t                   inaddr;
    ngx_int_t                   port;
    redisReply                 *host, *p;
    ngx_http_webhooks_main_conf_t  *wmcf;

    if (reply == NULL) {
        return;
    }

    wmcf = rd->wmcf;

    /* whatever happens, this connection has said what it had to */
    rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis sentinel \"%V\" names no master "
                      "\"%V\"%s%*s", &rd->name, &wmcf->redis_master_name,
                      reply->type == REDIS_REPLY_ERROR ? ": " : "",
                      reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len
                                                       : (size_t) 0,
                      reply->str ? reply->str : "");
        return;
    }

    host = reply->element[0];
    p = reply->element[1];

    port = ngx_atoi((u_char *) p->str, p->len);

    ngx_memzero(&rd->master, sizeof(ngx_sockaddr_t));

    inaddr = ngx_inet_addr((u_char *) host->str, host->len);

    if (inaddr != INADDR_NONE) {
        rd->master.sockaddr_in.sin_family = AF_INET;
        rd->master.sockaddr_in.sin_addr.s_addr = inaddr;
        rd->master_len = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
    } else if (ngx_inet6_addr((u_char *) host->str, host->len,
                              rd->master.sockaddr_in6.sin6_addr.s6_addr)
               == NGX_OK)
    {
        rd->master.sockaddr_in6.sin6_family = AF_INET6;
        rd->master_len = sizeof(struct sockaddr_in6);
#endif

    } else {
        port = NGX_ERROR;
    }

    if (port < 1 || port > 65535) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis sentinel \"%V\" named master "
                      "\"%V\" at an invalid address", &rd->name,
                      &wmcf->redis_master_name);
        return;
    }

    ngx_inet_set_port(&rd->master.sockaddr, (in_port_t) port);

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "webhooks: redis sentinel \"%V\": master \"%V\" is "
                  "%*s:%*s", &rd->name, &wmcf->redis_master_name,
                  (size_t) host->len, host->str, (size_t) p->len, p->str);

    rd->have_master = 1;
    rd->switching = 1;
}


static void
ngx_http_webhooks_redis_role(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_t  *rd = data;

    redisReply  *role;

    if (reply == NULL || rd->state == NGX_HTTP_WEBHOOKS_REDIS_DOWN) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
        role = reply->element[0];

        if (role->type == REDIS_REPLY_STRING && role->len == 6
            && ngx_strncmp(role->str, "master", 6) == 0)
        {
            ngx_http_webhooks_redis_up(rd);
            return;
        }

        if (role->type == REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "webhooks: redis \"%V\" is not the master: its "
                          "role is \"%*s\"", &rd->name,
                          (size_t) role->len, role->str);
        }

    } else {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" refused ROLE%s%*s", &rd->name,
                      reply->type == REDIS_REPLY_ERROR ? ": " : "",
                      reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len
                                                       : (size_t) 0,
                      reply->str ? reply->str : "");
    }

    rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;
}


static void
ngx_http_webhooks_redis_subscribed(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_t  *rd = data;

    if (reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis sentinel \"%V\" refused SUBSCRIBE%s%*s",
                      &rd->name, reply->type == REDIS_REPLY_ERROR ? ": " : "",
                      reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len
                                                       : (size_t) 0,
                      reply->str ? reply->str : "");
        rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;
        return;
    }

    ngx_http_webhooks_redis_up(rd);
}


/*
 * "+switch-master <name> <old ip> <old port> <new ip> <new port>": every
 * connection of this worker to the old master is dropped and finds the
 * new one through the sentinels, without waiting for a READONLY.
 */

static void
ngx_http_webhooks_redis_switched(ngx_http_webhooks_redis_t *rd,
    redisReply *reply)
{
    ngx_str_t                  *name;
    ngx_queue_t                *q, *next;
    redisReply                 *msg;
    ngx_http_webhooks_redis_t  *other;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    msg = reply->element[2];
    name = &rd->wmcf->redis_master_name;

    if ((size_t) msg->len <= name->len
        || ngx_strncmp(msg->str, name->data, name->len) != 0
        || msg->str[name->len] != ' ')
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "webhooks: redis sentinel \"%V\": +switch-master %*s",
                  &rd->name, (size_t) msg->len, msg->str);

    for (q = ngx_queue_head(&ngx_http_webhooks_redis_all);
         q != ngx_queue_sentinel(&ngx_http_webhooks_redis_all);
         q = next)
    {
        next = ngx_queue_next(q);
        other = ngx_queue_data(q, ngx_http_webhooks_redis_t, link);

        if (other->watch || other->conn == NULL || other->asking) {
            continue;
        }

        other->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;
        ngx_http_webhooks_redis_drop(other, NGX_LOG_NOTICE, "was failed over");
    }
}


static void
ngx_http_webhooks_redis_ready(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_t  *rd = data;

    ngx_http_webhooks_main_conf_t  *wmcf;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        wmcf = rd->wmcf;

        if (wmcf->redis_user.len) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "webhooks: redis \"%V\" refused AUTH as user "
                          "\"%V\": %*s", &rd->name, &wmcf->redis_user,
                          (size_t) reply->len, reply->str);

        } else {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "webhooks: redis \"%V\" refused %s: %*s",
                          &rd->name,
                          wmcf->redis_password.len
                          ? "AUTH"
                          : "PING (no \"webhooks_redis_password_file\")",
                          (size_t) reply->len, reply->str);
        }

        rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;
        return;
    }

    if (rd->wmcf->redis_sentinels == NULL) {
        ngx_http_webhooks_redis_up(rd);
    }
}


static void
ngx_http_webhooks_redis_up(ngx_http_webhooks_redis_t *rd)
{
    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "webhooks: connected to redis \"%V\"", &rd->name);

    rd->state = NGX_HTTP_WEBHOOKS_REDIS_UP;
    rd->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_CONNECTS, 1);

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }
}


static void
ngx_http_webhooks_redis_load_scripts(ngx_http_webhooks_redis_t *rd)
{
    ngx_uint_t                      i;
    const char                     *argv[3];
    size_t                          argvlen[3];
    ngx_http_webhooks_redis_cmd_t  *cmd;

    for (i = 0; i < rd->nscripts; i++) {
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = (const char *) rd->scripts[i].body.data;
        argvlen[2] = rd->scripts[i].body.len;

        cmd = ngx_http_webhooks_redis_alloc(rd);
        if (cmd == NULL) {
            return;
        }

        /* a lost reply only means EVALSHA falls back to EVAL */
        cmd->rd = rd;
        cmd->argc = 3;
        cmd->argv = argv;
        cmd->argvlen = argvlen;

        if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
            ngx_http_webhooks_redis_release(rd, cmd);
            return;
        }

        cmd->argv = NULL;
        cmd->argvlen = NULL;
    }
}


static void
ngx_http_webhooks_redis_schedule(ngx_http_webhooks_redis_t *rd)
{
    if (rd->closed || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (rd->lost && rd->lost(rd) == NGX_DECLINED) {
        /* connected again once its router needs it */
        return;
    }

    if (rd->switching) {
        /* from the sentinel to the master it named: no backoff */
        rd->switching = 0;

        if (!rd->reconnect.timer_set) {
            ngx_add_timer(&rd->reconnect, 1);
        }

        return;
    }

    if (!rd->reconnect.timer_set) {
        ngx_add_timer(&rd->reconnect, rd->backoff);
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_RECONNECTS, 1);
    }

    rd->backoff = ngx_min(rd->backoff * 2,
                          NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MAX);
}


static void
ngx_http_webhooks_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_t  *rd = ev->data;

    if (rd->conn == NULL) {
        ngx_http_webhooks_redis_connect(rd);
    }
}


/*
 * Closes the connection and fails every command in flight with a NULL
 * reply, in order; a handler may issue new commands: they are refused.
 */

void
ngx_http_webhooks_redis_drop(ngx_http_webhooks_redis_t *rd, ngx_uint_t level,
    const char *why)
{
    ngx_queue_t                    *q;
    ngx_connection_t               *c;
    ngx_http_webhooks_redis_cmd_t  *cmd;

    if (why) {
        ngx_log_error(level, rd->log, 0,
                      "webhooks: redis \"%V\" %s, reconnecting",
                      &rd->name, why);
    }

    c = rd->conn;

    /* a master lost may have failed over: the sentinels are asked again */
    if (!rd->asking && !rd->switching) {
        rd->have_master = 0;
    }

    rd->asking = 0;

    rd->conn = NULL;
    rd->connected = 0;
    rd->blocked = 0;
    rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;
    rd->stats.drops++;

    if (rd->flush.posted) {
        ngx_delete_posted_event(&rd->flush);
    }

    if (c) {
        if (c->ssl) {
            /* a quiet close: nothing is waited for on a dropped link */
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }

        if (c->pool) {
            ngx_destroy_pool(c->pool);
            c->pool = NULL;
        }

        ngx_close_connection(c);
    }

    if (rd->reader) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    if (rd->out_secret) {
        ngx_explicit_memzero(rd->out, rd->out_secret);
        rd->out_secret = 0;
    }

    rd->out_pos = 0;
    rd->out_len = 0;

    /*
     * A big buffer goes now, not after the commands below are failed or
     * sent again: a router's resend or a handler's next command is
     * written into it meanwhile (freed after, its bytes would be sent
     * from NULL: "send() failed (14: Bad address)").
     */

    if (rd->out_size > NGX_HTTP_WEBHOOKS_REDIS_OUT_KEEP) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_size = 0;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    rd->timer.cancelable = 0;

    while (!ngx_queue_empty(&rd->busy)) {
        q = ngx_queue_head(&rd->busy);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_webhooks_redis_cmd_t, queue);

        if (cmd->wait) {
            /* answered here: its WAIT has nothing to hand over */
            cmd->wait->handler = NULL;
            cmd->wait = NULL;
        }

        if (rd->dropped && rd->dropped(rd, cmd) == NGX_OK) {
            /* its router sends it again, here or elsewhere */
            continue;
        }

        rd->current = cmd;

        /* a command the link took down with it failed */
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS, 1);

        if (cmd->handler) {
            cmd->handler(cmd->data, NULL);
        }

        rd->current = NULL;

        ngx_http_webhooks_redis_release(rd, cmd);
    }

    ngx_http_webhooks_redis_schedule(rd);
}


/*
 * The connect timeout while connecting, else the oldest deadline: the
 * timer is moved only when it would fire after the command now oldest;
 * it fires early otherwise and is set again (see timer_handler()), so a
 * reply costs no timer delete and add.  With nothing in flight it stays
 * but does not keep a worker that is shutting down.
 */

static void
ngx_http_webhooks_redis_arm(ngx_http_webhooks_redis_t *rd)
{
    ngx_http_webhooks_redis_cmd_t  *head;

    if (rd->state != NGX_HTTP_WEBHOOKS_REDIS_UP) {
        return;
    }

    if (ngx_queue_empty(&rd->busy)) {
        rd->timer.cancelable = 1;
        return;
    }

    head = ngx_queue_data(ngx_queue_head(&rd->busy),
                          ngx_http_webhooks_redis_cmd_t, queue);

    ngx_http_webhooks_redis_deadline(rd, head->deadline);
}


/* the timer fires at the deadline given, or earlier */

static void
ngx_http_webhooks_redis_deadline(ngx_http_webhooks_redis_t *rd,
    ngx_msec_t deadline)
{
    rd->timer.cancelable = 0;

    if (rd->timer.timer_set) {
        if ((ngx_msec_int_t) (rd->timer.timer.key - deadline) <= 0) {
            return;
        }

        /* not ngx_add_timer()'s lazy move: it may leave it later */
        ngx_del_timer(&rd->timer);
    }

    ngx_add_timer(&rd->timer, (ngx_msec_int_t) (deadline - ngx_current_msec)
                              > 0 ? deadline - ngx_current_msec : 1);
}


static void
ngx_http_webhooks_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_t  *rd = ev->data;

    ngx_http_webhooks_redis_cmd_t  *head;

    if (rd->conn == NULL) {
        return;
    }

    if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP) {

        if (ngx_queue_empty(&rd->busy)) {
            rd->timer.cancelable = 0;
            return;
        }

        head = ngx_queue_data(ngx_queue_head(&rd->busy),
                              ngx_http_webhooks_redis_cmd_t, queue);

        if ((ngx_msec_int_t) (head->deadline - ngx_current_msec) > 0) {
            /* set for a command answered since */
            ngx_http_webhooks_redis_deadline(rd, head->deadline);
            return;
        }
    }

    rd->stats.timeouts++;

    ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                         rd->state == NGX_HTTP_WEBHOOKS_REDIS_CONNECTING
                         ? "connect timed out" : "command timed out");
}


static ngx_int_t
ngx_http_webhooks_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    /* Solaris gives the error in errno, others in err */
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        c->log->action = "connecting to redis";
        (void) ngx_connection_error(c, err, "connect() failed");
        c->log->action = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the socket is connected: the commands queued meanwhile go out */

static void
ngx_http_webhooks_redis_established(ngx_http_webhooks_redis_t *rd)
{
    if (rd->wmcf->redis_ssl_ctx && rd->conn->ssl == NULL) {
        (void) ngx_http_webhooks_redis_starttls(rd);
        return;
    }

    rd->connected = 1;

    if (ngx_http_webhooks_redis_flush(rd) != NGX_OK) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "write failed");
    }
}


/* an IPv4 or IPv6 address, not a name: no SNI, checked as an IP name */

static ngx_uint_t
ngx_http_webhooks_redis_is_addr(ngx_str_t *name)
{
#if (NGX_HAVE_INET6)
    u_char  addr[16];

    if (ngx_inet6_addr(name->data, name->len, addr) == NGX_OK) {
        return 1;
    }
#endif

    return ngx_inet_addr(name->data, name->len) != INADDR_NONE;
}


static ngx_int_t
ngx_http_webhooks_redis_starttls(ngx_http_webhooks_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_str_t         *name;
    ngx_connection_t  *c;

    c = rd->conn;

    if (c->pool == NULL) {
        /* ngx_ssl_create_connection() allocates from it */
        c->pool = ngx_create_pool(512, rd->log);
        if (c->pool == NULL) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "out of memory");
            return NGX_ERROR;
        }
    }

    if (ngx_ssl_create_connection(rd->wmcf->redis_ssl_ctx, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "TLS setup failed");
        return NGX_ERROR;
    }

    name = &rd->ssl_name;

    /* SNI carries names, never addresses (RFC 6066) */

    if (!ngx_http_webhooks_redis_is_addr(name)
        && SSL_set_tlsext_host_name(c->ssl->connection, (char *) name->data)
           == 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, rd->log, 0,
                      "SSL_set_tlsext_host_name(\"%s\") failed",
                      name->data);
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "TLS setup failed");
        return NGX_ERROR;
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_webhooks_redis_tls_done;
        return NGX_AGAIN;
    }

    ngx_http_webhooks_redis_tls_done(c);

    return NGX_OK;
}


/*
 * A server whose certificate does not verify is dropped like one that
 * does not answer: nothing is ever sent to it, in clear or otherwise.
 */

static void
ngx_http_webhooks_redis_tls_done(ngx_connection_t *c)
{
    long                            rc;
    ngx_str_t                      *name;
    X509                           *cert;
    ngx_http_webhooks_redis_t      *rd;
    ngx_http_webhooks_main_conf_t  *wmcf;

    rd = c->data;
    wmcf = rd->wmcf;

    c->read->handler = ngx_http_webhooks_redis_read_handler;
    c->write->handler = ngx_http_webhooks_redis_write_handler;

    if (!c->ssl->handshaked) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "TLS handshake failed");
        return;
    }

    if (wmcf->redis_ssl_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "webhooks: redis \"%V\" certificate verify error: "
                          "(%l:%s)", &rd->name, rc,
                          X509_verify_cert_error_string(rc));
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                                         "certificate not trusted");
            return;
        }

        name = &rd->ssl_name;

        cert = SSL_get_peer_certificate(c->ssl->connection);
        if (cert == NULL) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                                         "sent no certificate");
            return;
        }

        /* an address is checked against the certificate's IP names */

        if (ngx_http_webhooks_redis_is_addr(name)) {
            rc = X509_check_ip_asc(cert, (char *) name->data, 0) == 1
                 ? NGX_OK : NGX_ERROR;

        } else {
            rc = ngx_ssl_check_host(c, name);
        }

        X509_free(cert);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "webhooks: redis \"%V\" certificate does not "
                          "match \"%V\"", &rd->name, name);
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                                         "certificate not trusted");
            return;
        }
    }

    rd->connected = 1;

    if (ngx_http_webhooks_redis_flush(rd) != NGX_OK) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "write failed");
    }
}


static void
ngx_http_webhooks_redis_read_handler(ngx_event_t *ev)
{
    ssize_t                     n;
    ngx_connection_t           *c = ev->data;
    ngx_http_webhooks_redis_t  *rd = c->data;

    if (!rd->connected) {
        if (ngx_http_webhooks_redis_test_connect(c) != NGX_OK) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "connect failed");
            return;
        }

        ngx_http_webhooks_redis_established(rd);

        /* gone, or busy with its TLS handshake */
        if (rd->conn != c || !rd->connected) {
            return;
        }
    }

    /* edge-triggered: read until the socket is empty */

    while (c->read->ready) {
        n = c->recv(c, rd->in, NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                                         "closed the connection");
            return;
        }

        if (redisReaderFeed(rd->reader, (const char *) rd->in, n)
            != REDIS_OK)
        {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "out of memory");
            return;
        }

        if (ngx_http_webhooks_redis_process(rd) != NGX_OK || rd->conn != c) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ALERT, "read event failed");
    }
}


static void
ngx_http_webhooks_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    ngx_http_webhooks_redis_t  *rd = c->data;

    if (!rd->connected) {
        if (ngx_http_webhooks_redis_test_connect(c) != NGX_OK) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "connect failed");
            return;
        }

        ngx_http_webhooks_redis_established(rd);
        return;
    }

    /* edge-triggered, it comes with every read too: see flush_handler() */
    if (!rd->blocked) {
        return;
    }

    if (ngx_http_webhooks_redis_flush(rd) != NGX_OK) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "write failed");
    }
}


/* the end of a pass of the event loop: its commands go out together */

static void
ngx_http_webhooks_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_t  *rd = ev->data;

    if (rd->conn == NULL || !rd->connected || rd->blocked) {
        return;
    }

    if (ngx_http_webhooks_redis_flush(rd) != NGX_OK) {
        ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "write failed");
    }
}


static ngx_int_t
ngx_http_webhooks_redis_flush(ngx_http_webhooks_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->conn;

    while (rd->out_pos < rd->out_len) {
        n = c->send(c, rd->out + rd->out_pos, rd->out_len - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        rd->out_pos += n;
    }

    if (rd->out_secret && rd->out_pos >= rd->out_secret) {
        /* the password is not kept in memory longer than it must */
        ngx_explicit_memzero(rd->out, rd->out_secret);
        rd->out_secret = 0;
    }

    /* bytes left behind go once the socket's write event says so */
    rd->blocked = (rd->out_pos < rd->out_len);

    if (rd->out_pos == rd->out_len) {
        rd->out_pos = 0;
        rd->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* hands every complete reply over; NGX_ERROR: the connection is gone */

static ngx_int_t
ngx_http_webhooks_redis_process(ngx_http_webhooks_redis_t *rd)
{
    void              *reply;
    ngx_connection_t  *c;

    c = rd->conn;

    for ( ;; ) {
        if (redisReaderGetReply(rd->reader, &reply) != REDIS_OK) {
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR, "protocol error");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (ngx_queue_empty(&rd->busy) && rd->watch) {
            ngx_http_webhooks_redis_switched(rd, reply);
            freeReplyObject(reply);
            continue;
        }

        if (ngx_queue_empty(&rd->busy)) {
            freeReplyObject(reply);
            ngx_http_webhooks_redis_drop(rd, NGX_LOG_ERR,
                                         "sent an unexpected reply");
            return NGX_ERROR;
        }

        if (ngx_http_webhooks_redis_reply(rd, reply) != NGX_DONE) {
            freeReplyObject(reply);
        }

        if (rd->conn != c) {
            return NGX_ERROR;
        }

        if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_DOWN) {
            /* the handshake was refused; ready() said why */
            ngx_http_webhooks_redis_drop(rd, 0, NULL);
            return NGX_ERROR;
        }
    }
}


static ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_alloc(ngx_http_webhooks_redis_t *rd)
{
    ngx_queue_t                    *q;
    ngx_http_webhooks_redis_cmd_t  *cmd;

    /* commands are recycled: their number is bounded by peak load */

    if (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_webhooks_redis_cmd_t, queue);

    } else {
        cmd = ngx_palloc(rd->pool, sizeof(ngx_http_webhooks_redis_cmd_t));
        if (cmd == NULL) {
            return NULL;
        }
    }

    ngx_memzero(cmd, sizeof(ngx_http_webhooks_redis_cmd_t));

    return cmd;
}


ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_command(ngx_http_webhooks_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    return ngx_http_webhooks_redis_command_on(ngx_http_webhooks_redis, 0,
                                              handler, data, argc, argv,
                                              argvlen);
}


/* "GET key", "INCR key" */

ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_key_command(ngx_http_webhooks_redis_handler_pt handler,
    void *data, const char *name, ngx_str_t *key)
{
    size_t       argvlen[2];
    const char  *argv[2];

    argv[0] = name;
    argvlen[0] = ngx_strlen(name);
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;

    return ngx_http_webhooks_redis_command(handler, data, 2, argv, argvlen);
}


/* timeout 0 is webhooks_redis_timeout; blocking reads add their time */

ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_command_on(ngx_http_webhooks_redis_t *rd,
    ngx_msec_t timeout, ngx_http_webhooks_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_webhooks_redis_cmd_t  *cmd;

    if (!ngx_http_webhooks_redis_available(rd)) {
        return NULL;
    }

    cmd = ngx_http_webhooks_redis_alloc(rd);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->rd = rd;
    cmd->timeout = timeout;
    cmd->argc = argc;
    cmd->argv = (const char **) argv;
    cmd->argvlen = (size_t *) argvlen;

    if (rd->submit) {
        return rd->submit(rd, cmd) == NGX_OK ? cmd : NULL;
    }

    if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
        ngx_http_webhooks_redis_release(rd, cmd);
        return NULL;
    }

    /* argv may live on the caller's stack; only scripts are resent */
    cmd->argv = NULL;
    cmd->argvlen = NULL;

    return cmd;
}


ngx_http_webhooks_redis_cmd_t *
ngx_http_webhooks_redis_script(ngx_pool_t *pool, ngx_uint_t script,
    ngx_http_webhooks_redis_handler_pt handler, void *data, ngx_uint_t nkeys,
    ngx_uint_t nargs, ngx_str_t *args)
{
    u_char                         *p;
    size_t                         *argvlen;
    ngx_uint_t                      i;
    const char                    **argv;
    ngx_http_webhooks_redis_t      *rd;
    ngx_http_webhooks_redis_cmd_t  *cmd;

    rd = ngx_http_webhooks_redis;

    if (!ngx_http_webhooks_redis_available(rd) || script >= rd->nscripts) {
        return NULL;
    }

    argv = ngx_palloc(pool, (nargs + 3) * sizeof(char *));
    argvlen = ngx_palloc(pool, (nargs + 3) * sizeof(size_t));
    p = ngx_pnalloc(pool, NGX_INT_T_LEN);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NULL;
    }

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (const char *) rd->scripts[script].sha1;
    argvlen[1] = 40;
    argv[2] = (const char *) p;
    argvlen[2] = ngx_sprintf(p, "%ui", nkeys) - p;

    for (i = 0; i < nargs; i++) {
        argv[i + 3] = (const char *) args[i].data;
        argvlen[i + 3] = args[i].len;
    }

    cmd = ngx_http_webhooks_redis_alloc(rd);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->rd = rd;
    cmd->script = &rd->scripts[script];
    cmd->argc = (int) (nargs + 3);
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    if (rd->submit) {
        /* its WAIT goes with it where the router sends it */
        return rd->submit(rd, cmd) == NGX_OK ? cmd : NULL;
    }

    if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
        ngx_http_webhooks_redis_release(rd, cmd);
        return NULL;
    }

    if (ngx_http_webhooks_redis_wait(rd, cmd) != NGX_OK) {
        /* what is not known to be replicated is not claimed */
        ngx_http_webhooks_redis_cancel(cmd);
        return NULL;
    }

    return cmd;
}


/*
 * Formats the command in RESP at the end of what is waiting to be
 * written, "*<argc>\r\n" then "$<len>\r\n<arg>\r\n" for each argument,
 * as redisFormatCommandArgv() would, without its sprintf and its copy.
 */

static ngx_int_t
ngx_http_webhooks_redis_append(ngx_http_webhooks_redis_t *rd, int argc,
    const char **argv, const size_t *argvlen)
{
    int      i;
    size_t   len, size, pending;
    u_char  *out, *p;

    /* at most: each count with its type byte and CRLF, each CRLF after */
    len = (argc + 1) * (1 + NGX_SIZE_T_LEN + 2);

    for (i = 0; i < argc; i++) {
        len += argvlen[i] + 2;
    }

    pending = rd->out_len - rd->out_pos;

    if (rd->out_len + len > rd->out_size) {

        size = ngx_max(rd->out_size, 4096);

        while (size < pending + len) {
            size *= 2;
        }

        if (rd->out_pos == 0 && size == rd->out_size) {
            /* fits once the bytes sent make room: none were */
            size *= 2;
        }

        out = rd->out;

        if (size > rd->out_size) {
            out = ngx_alloc(size, rd->log);
            if (out == NULL) {
                return NGX_ERROR;
            }
        }

        /* a write TLS retries may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */
        if (pending) {
            ngx_memmove(out, rd->out + rd->out_pos, pending);
        }

        if (rd->out_secret) {
            /*
             * the password's unsent bytes moved to the front with the
             * rest; no copy of it stays behind
             */

            if (out != rd->out) {
                ngx_explicit_memzero(rd->out, rd->out_secret);

            } else if (rd->out_secret > pending) {
                ngx_explicit_memzero(rd->out + pending,
                                     rd->out_secret - pending);
            }

            rd->out_secret = (rd->out_secret > rd->out_pos)
                             ? rd->out_secret - rd->out_pos : 0;
        }

        if (out != rd->out) {
            if (rd->out) {
                ngx_free(rd->out);
            }

            rd->out = out;
            rd->out_size = size;
        }

        rd->out_pos = 0;
        rd->out_len = pending;
    }

    p = ngx_http_webhooks_redis_count(rd->out + rd->out_len, '*', argc);

    for (i = 0; i < argc; i++) {
        p = ngx_http_webhooks_redis_count(p, '$', argvlen[i]);

        /* an empty ngx_str_t may have no data at all */
        if (argvlen[i]) {
            p = ngx_cpymem(p, argv[i], argvlen[i]);
        }

        *p++ = CR;
        *p++ = LF;
    }

    rd->out_len = p - rd->out;

    return NGX_OK;
}


/* "*3\r\n", "$7\r\n": a type byte, a decimal count, CRLF */

static u_char *
ngx_http_webhooks_redis_count(u_char *p, u_char type, size_t n)
{
    u_char  *d, digits[NGX_SIZE_T_LEN];

    d = digits + NGX_SIZE_T_LEN;

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    *p++ = type;
    p = ngx_cpymem(p, d, digits + NGX_SIZE_T_LEN - d);
    *p++ = CR;
    *p++ = LF;

    return p;
}


ngx_int_t
ngx_http_webhooks_redis_send(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_connection_t  *c;

    c = rd->conn;

    if (c == NULL
        || ngx_http_webhooks_redis_append(rd, cmd->argc, cmd->argv,
                                          cmd->argvlen)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rd->stats.commands++;

    /* a command a router sends again keeps the time it was given first */
    cmd->deadline = cmd->expire ? cmd->expire
                                : ngx_current_msec + rd->wmcf->redis_timeout
                                  + cmd->timeout;
    cmd->sent = ngx_current_msec;

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_COMMANDS, 1);

    ngx_queue_insert_tail(&rd->busy, &cmd->queue);

    if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP) {
        ngx_http_webhooks_redis_deadline(rd, cmd->deadline);
    }

    /*
     * Commands are flushed when this pass of the event loop is over:
     * whatever the requests of this pass issued goes out in one write.
     */

    if (rd->connected && !rd->blocked && !rd->flush.posted) {
        ngx_post_event(&rd->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


void
ngx_http_webhooks_redis_cancel(ngx_http_webhooks_redis_cmd_t *cmd)
{
    /* the reply still arrives in order; it is just not handed over */
    cmd->handler = NULL;
    cmd->data = NULL;

    if (cmd->copy == NULL) {
        /* the caller's, about to go; a copy is still sent after MOVED */
        cmd->argv = NULL;
    }
}


/* NGX_DONE: the reply is held until its WAIT is answered */

static ngx_int_t
ngx_http_webhooks_redis_reply(ngx_http_webhooks_redis_t *rd,
    redisReply *reply)
{
    ngx_queue_t                    *q;
    ngx_http_webhooks_redis_cmd_t  *cmd;

    q = ngx_queue_head(&rd->busy);
    ngx_queue_remove(q);
    cmd = ngx_queue_data(q, ngx_http_webhooks_redis_cmd_t, queue);

    rd->stats.replies++;

    if (reply->type == REDIS_REPLY_ERROR && rd->error
        && rd->error(rd, cmd, reply) == NGX_OK)
    {
        /* redirected, or to be sent again: not an answer */
        ngx_http_webhooks_redis_arm(rd);
        return NGX_OK;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS, 1);

    } else if (cmd->timeout == 0) {
        /* a blocking read's wait is not a round trip */
        ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_REDIS,
                                        ngx_current_msec - cmd->sent);
    }

    if (reply->type == REDIS_REPLY_ERROR
        && ngx_strncmp(reply->str, "READONLY", 8) == 0)
    {
        /* a replica now, maybe after a failover: found again, and 503 */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" is read-only", &rd->name);
        rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;
        reply = NULL;
    }

    if (reply
        && reply->type == REDIS_REPLY_ERROR
        && cmd->script
        && (cmd->handler || cmd->copy)
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* scripts were flushed behind our back: send the body instead */
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = 4;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;
        cmd->script = NULL;

        if (cmd->wait) {
            /* the WAIT sent after EVALSHA is for nothing now */
            cmd->wait->handler = NULL;
            cmd->wait = NULL;
        }

        if (ngx_http_webhooks_redis_send(rd, cmd) == NGX_OK) {

            if (ngx_http_webhooks_redis_wait(rd, cmd) != NGX_OK) {
                /*
                 * sent, so it stays in line for its reply, but what is
                 * not known to be replicated is not claimed: NULL now
                 */
                rd->current = cmd;

                if (cmd->handler) {
                    cmd->handler(cmd->data, NULL);
                }

                rd->current = NULL;

                ngx_http_webhooks_redis_cancel(cmd);
            }

            ngx_http_webhooks_redis_arm(rd);
            return NGX_OK;
        }

        reply = NULL;
    }

    if (cmd->wait && reply && reply->type != REDIS_REPLY_ERROR) {
        /* answered once enough replicas have the write too */
        cmd->held = reply;
        ngx_http_webhooks_redis_arm(rd);
        return NGX_DONE;
    }

    if (cmd->wait) {
        cmd->wait->handler = NULL;
        cmd->wait = NULL;
    }

    rd->current = cmd;

    if (cmd->handler) {
        cmd->handler(cmd->data, reply);
    }

    rd->current = NULL;

    ngx_http_webhooks_redis_release(rd, cmd);

    ngx_http_webhooks_redis_arm(rd);

    return NGX_OK;
}


/*
 * WAIT numreplicas timeout, pipelined right after a script: Redis
 * answers it once that many replicas have every write of this
 * connection so far, the script's included, or when time is up.
 */

ngx_int_t
ngx_http_webhooks_redis_wait(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    u_char                          n[NGX_INT_T_LEN], ms[NGX_INT_T_LEN];
    size_t                          argvlen[3];
    const char                     *argv[3];
    ngx_http_webhooks_redis_cmd_t  *wait;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = rd->wmcf;

    if (wmcf->redis_wait_replicas == 0) {
        return NGX_OK;
    }

    wait = ngx_http_webhooks_redis_alloc(rd);
    if (wait == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "WAIT";
    argvlen[0] = 4;
    argv[1] = (const char *) n;
    argvlen[1] = ngx_sprintf(n, "%ui", wmcf->redis_wait_replicas) - n;
    argv[2] = (const char *) ms;
    argvlen[2] = ngx_sprintf(ms, "%M", wmcf->redis_wait_timeout) - ms;

    wait->handler = ngx_http_webhooks_redis_waited;
    wait->data = cmd;
    wait->rd = rd;
    wait->timeout = wmcf->redis_wait_timeout;
    wait->argc = 3;
    wait->argv = argv;
    wait->argvlen = argvlen;

    if (ngx_http_webhooks_redis_send(rd, wait) != NGX_OK) {
        ngx_queue_insert_tail(&rd->free, &wait->queue);
        return NGX_ERROR;
    }

    wait->argv = NULL;
    wait->argvlen = NULL;

    cmd->wait = wait;

    return NGX_OK;
}


static void
ngx_http_webhooks_redis_waited(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_cmd_t *cmd = data;

    redisReply                     *held;
    ngx_http_webhooks_redis_t      *rd;
    ngx_http_webhooks_main_conf_t  *wmcf;

    rd = cmd->rd;
    wmcf = rd->wmcf;

    if (cmd->wait != rd->current) {
        return;
    }

    held = cmd->held;

    cmd->wait = NULL;
    cmd->held = NULL;

    if (reply
        && (reply->type != REDIS_REPLY_INTEGER
            || reply->integer < (long long) wmcf->redis_wait_replicas))
    {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "webhooks: redis \"%V\": %L of %ui replicas took a "
                      "write in %M ms, answering 503", &rd->name,
                      reply->type == REDIS_REPLY_INTEGER
                      ? (int64_t) reply->integer : (int64_t) -1,
                      wmcf->redis_wait_replicas, wmcf->redis_wait_timeout);
        reply = NULL;
    }

    if (cmd->handler) {
        cmd->handler(cmd->data, reply ? held : NULL);
    }

    if (held) {
        freeReplyObject(held);
    }

    ngx_http_webhooks_redis_release(rd, cmd);
}


ngx_int_t
ngx_http_webhooks_redis_script_sha1(ngx_http_webhooks_redis_script_t *script)
{
    u_char  md[SHA_DIGEST_LENGTH];

    if (SHA1(script->body.data, script->body.len, md) == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(script->sha1, md, SHA_DIGEST_LENGTH);
    script->sha1[40] = '\0';

    return NGX_OK;
}


void
ngx_http_webhooks_redis_release(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    if (cmd->copy) {
        ngx_free(cmd->copy);
        cmd->copy = NULL;
    }

    ngx_queue_insert_tail(&rd->free, &cmd->queue);
}


/* the caller's argv may live on its stack: a command sent again needs one */

ngx_int_t
ngx_http_webhooks_redis_copy(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    int            i;
    size_t         size, *argvlen;
    u_char        *p;
    const char   **argv;

    size = cmd->argc * (sizeof(char *) + sizeof(size_t));

    for (i = 0; i < cmd->argc; i++) {
        size += cmd->argvlen[i];
    }

    p = ngx_alloc(size, rd->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv = (const char **) p;
    argvlen = (size_t *) (p + cmd->argc * sizeof(char *));
    cmd->copy = p;

    p += cmd->argc * (sizeof(char *) + sizeof(size_t));

    for (i = 0; i < cmd->argc; i++) {
        argv[i] = (const char *) p;
        argvlen[i] = cmd->argvlen[i];
        p = ngx_cpymem(p, cmd->argv[i], cmd->argvlen[i]);
    }

    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}
