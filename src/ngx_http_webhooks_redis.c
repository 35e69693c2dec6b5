
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <openssl/sha.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_redis_slot.h"
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
 */


#define NGX_HTTP_WEBHOOKS_REDIS_DOWN        0
#define NGX_HTTP_WEBHOOKS_REDIS_CONNECTING  1
#define NGX_HTTP_WEBHOOKS_REDIS_UP          2

#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MAX  2000

#define NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE    16384
#define NGX_HTTP_WEBHOOKS_REDIS_OUT_KEEP     65536

/* Redis Cluster: nodes one handle may know, the pause between retries */
#define NGX_HTTP_WEBHOOKS_REDIS_NODES        250
#define NGX_HTTP_WEBHOOKS_REDIS_RETRY        100


struct ngx_http_webhooks_redis_cmd_s {
    ngx_queue_t                          queue;
    ngx_http_webhooks_redis_handler_pt   handler;
    void                                *data;
    ngx_http_webhooks_redis_t           *rd;
    ngx_msec_t                           deadline;
    ngx_msec_t                           timeout;
    ngx_msec_t                           sent;       /* for the stats */

    /* webhooks_redis_wait_replicas: the WAIT sent after it, its reply */
    ngx_http_webhooks_redis_cmd_t       *wait;
    redisReply                          *held;

    /* kept to resend EVALSHA as EVAL after NOSCRIPT */
    ngx_http_webhooks_redis_script_t    *script;
    int                                  argc;
    const char                         **argv;
    size_t                              *argvlen;

    /*
     * Redis Cluster: the command is copied (malloc'ed) to be sent again
     * after a redirect or a lost node, until it expires; its slot, or
     * KEYLESS, or ALL masters
     */
    u_char                              *copy;
    ngx_msec_t                           expire;
    ngx_int_t                            slot;
};


/* a handle's view of the cluster: its nodes and who serves each slot */

typedef struct {
    ngx_http_webhooks_redis_t           *node[NGX_HTTP_WEBHOOKS_REDIS_NODES];
    ngx_uint_t                           nnodes;

    /* index in node[] plus one; 0: unknown */
    u_char                               slots[NGX_HTTP_WEBHOOKS_REDIS_SLOTS];

    /* commands waiting for a map, a node, or the end of a TRYAGAIN */
    ngx_queue_t                          pending;
    ngx_event_t                          retry;
    ngx_event_t                          refresh;
    ngx_msec_t                           refreshed;

    unsigned                             known:1;
    unsigned                             refreshing:1;
} ngx_http_webhooks_redis_cluster_t;


struct ngx_http_webhooks_redis_s {
    ngx_peer_connection_t                peer;
    ngx_connection_t                    *conn;
    redisReader                         *reader;
    ngx_log_t                           *log;
    ngx_pool_t                          *pool;
    ngx_http_webhooks_main_conf_t       *wmcf;

    /* what is formatted and not yet written; malloc'ed: it grows */
    u_char                              *out;
    size_t                               out_pos;
    size_t                               out_len;
    size_t                               out_size;
    size_t                               out_secret;

    u_char                              *in;

    ngx_event_t                          timer;
    ngx_event_t                          reconnect;
    ngx_event_t                          flush;
    ngx_msec_t                           backoff;
    ngx_uint_t                           state;
    ngx_uint_t                           attempt;
    unsigned                             connected:1;
    unsigned                             blocked:1;
    unsigned                             closed:1;

    /* Sentinel: asking one, the master it named, going there now */
    unsigned                             asking:1;
    unsigned                             have_master:1;
    unsigned                             switching:1;
    ngx_uint_t                           sentinel;
    ngx_sockaddr_t                       master;
    socklen_t                            master_len;
    u_char                               master_text[NGX_SOCKADDR_STRLEN];

    /* the server connected to now, for logs; the name its certificate
     * must hold, NUL-terminated */
    ngx_str_t                            name;
    ngx_str_t                            ssl_name;
    u_char                               host[NGX_SOCKADDR_STRLEN + 1];

    /* a subscriber to the sentinels' +switch-master, not for commands */
    unsigned                             watch:1;
    ngx_queue_t                          link;

    ngx_queue_t                          busy;
    ngx_queue_t                          free;

    /* the command whose reply is being handed over */
    ngx_http_webhooks_redis_cmd_t       *current;

    ngx_http_webhooks_redis_script_t    *scripts;
    ngx_uint_t                           nscripts;

    /*
     * Redis Cluster: a handle has no connection of its own, but one per
     * node it sends to (owner is the handle); the seed connects to the
     * addresses of webhooks_redis_pass, a node to the one of the map
     */
    ngx_http_webhooks_redis_cluster_t   *cluster;
    ngx_http_webhooks_redis_t           *owner;
    ngx_uint_t                           nslots;
    unsigned                             seed:1;

    ngx_http_webhooks_redis_stats_t      stats;
};


static void ngx_http_webhooks_redis_connect(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_drop(ngx_http_webhooks_redis_t *rd,
    ngx_uint_t level, const char *why);
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
static ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_internal(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_handler_pt handler,
    int argc, const char **argv, size_t *argvlen);
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
static ngx_int_t ngx_http_webhooks_redis_wait(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
static void ngx_http_webhooks_redis_waited(void *data, redisReply *reply);
static ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_alloc(
    ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_append(ngx_http_webhooks_redis_t *rd,
    int argc, const char **argv, const size_t *argvlen);
static u_char *ngx_http_webhooks_redis_count(u_char *p, u_char type,
    size_t n);
static ngx_int_t ngx_http_webhooks_redis_send(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
static void ngx_http_webhooks_redis_load_scripts(
    ngx_http_webhooks_redis_t *rd);
static ngx_int_t ngx_http_webhooks_redis_starttls(
    ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_tls_done(ngx_connection_t *c);
static ngx_uint_t ngx_http_webhooks_redis_is_addr(ngx_str_t *name);
static void ngx_http_webhooks_redis_release(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
static ngx_int_t ngx_http_webhooks_redis_copy(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
static ngx_int_t ngx_http_webhooks_redis_cluster_init(
    ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_cluster_close(
    ngx_http_webhooks_redis_t *rd);
static ngx_http_webhooks_redis_t *ngx_http_webhooks_redis_cluster_node(
    ngx_http_webhooks_redis_t *rd, const char *host, size_t hlen,
    ngx_int_t port, ngx_uint_t connect);
static ngx_int_t ngx_http_webhooks_redis_cluster_setup(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_t *node);
static ngx_http_webhooks_redis_t *ngx_http_webhooks_redis_cluster_addr(
    ngx_http_webhooks_redis_t *rd, const char *text, size_t len);
static ngx_int_t ngx_http_webhooks_redis_cluster_submit(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_cmd_t *cmd);
static ngx_int_t ngx_http_webhooks_redis_cluster_route(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_cmd_t *cmd);
static ngx_int_t ngx_http_webhooks_redis_cluster_send(
    ngx_http_webhooks_redis_t *node, ngx_http_webhooks_redis_cmd_t *cmd,
    ngx_uint_t asking);
static void ngx_http_webhooks_redis_cluster_all(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_t *skip, ngx_http_webhooks_redis_cmd_t *cmd);
static void ngx_http_webhooks_redis_cluster_later(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_cmd_t *cmd);
static ngx_int_t ngx_http_webhooks_redis_cluster_error(
    ngx_http_webhooks_redis_t *node, ngx_http_webhooks_redis_cmd_t *cmd,
    redisReply *reply);
static void ngx_http_webhooks_redis_cluster_fail(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_cmd_t *cmd);
static void ngx_http_webhooks_redis_cluster_refresh(
    ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_cluster_slots(void *data,
    redisReply *reply);
static void ngx_http_webhooks_redis_cluster_count(
    ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_cluster_retry_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_cluster_refresh_handler(ngx_event_t *ev);


/* the connection of the API and of short commands, one per worker */
static ngx_http_webhooks_redis_t  *ngx_http_webhooks_redis;

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

    rd->in = ngx_palloc(cycle->pool, NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE);
    if (rd->in == NULL) {
        return NULL;
    }

    rd->log = cycle->log;
    rd->pool = cycle->pool;
    rd->wmcf = wmcf;
    rd->scripts = scripts;
    rd->nscripts = nscripts;
    rd->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;
    rd->watch = watch;

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
    rd->timer.log = cycle->log;

    rd->reconnect.handler = ngx_http_webhooks_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = cycle->log;
    rd->reconnect.cancelable = 1;

    rd->flush.handler = ngx_http_webhooks_redis_flush_handler;
    rd->flush.data = rd;
    rd->flush.log = cycle->log;

    if (wmcf->redis_cluster && !watch) {
        /* a handle: its nodes connect, it routes */
        if (ngx_http_webhooks_redis_cluster_init(rd) != NGX_OK) {
            return NULL;
        }

        return rd;
    }

    ngx_http_webhooks_redis_connect(rd);

    return rd;
}


ngx_int_t
ngx_http_webhooks_redis_init(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts)
{
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

    if (rd->cluster) {
        ngx_http_webhooks_redis_cluster_close(rd);
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
ngx_http_webhooks_redis_cluster_on(void)
{
    return ngx_http_webhooks_redis && ngx_http_webhooks_redis->cluster;
}


ngx_int_t
ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_t *rd)
{
    if (rd && rd->cluster) {
        /* commands wait for the map, for their timeout at most */
        return !rd->closed
               && (rd->cluster->known
                   || rd->cluster->node[0]->conn != NULL);
    }

    return rd != NULL && rd->conn != NULL && !rd->asking && !rd->watch
           && (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP
               || rd->state == NGX_HTTP_WEBHOOKS_REDIS_CONNECTING);
}


static void
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

    } else if (rd->owner && !rd->seed) {
        /* a cluster node, at the address the map gave */
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


static ngx_http_webhooks_redis_cmd_t *
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

    if (rd->owner) {
        /* the map may have changed: a failover, a node gone */
        ngx_http_webhooks_redis_cluster_refresh(rd->owner);

        if (!rd->seed && rd->nslots == 0) {
            /* serves no slot: connected again once the map names it */
            return;
        }
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

static void
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

        if (cmd->copy && rd->owner && !rd->owner->closed
            && (ngx_msec_int_t) (cmd->expire - ngx_current_msec) > 0)
        {
            /* sent again, to this node or the one that replaced it */
            ngx_http_webhooks_redis_cluster_later(rd->owner, cmd);
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

    if (rd->out_size > NGX_HTTP_WEBHOOKS_REDIS_OUT_KEEP) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_size = 0;
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

    if (rd->cluster) {
        return ngx_http_webhooks_redis_cluster_submit(rd, cmd) == NGX_OK
               ? cmd : NULL;
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

    if (rd->cluster) {
        /* its WAIT goes to the master that takes it: see cluster_send() */
        return ngx_http_webhooks_redis_cluster_submit(rd, cmd) == NGX_OK
               ? cmd : NULL;
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


static ngx_int_t
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

    /* a cluster command sent again keeps the time it was given first */
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

    if (reply->type == REDIS_REPLY_ERROR && cmd->copy && rd->owner
        && ngx_http_webhooks_redis_cluster_error(rd, cmd, reply) == NGX_OK)
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

static ngx_int_t
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


static void
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

static ngx_int_t
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


/*
 * Redis Cluster.  A handle keeps its own connection to every master it
 * sends to, so that a blocking read ties up only the connection of the
 * node it went to.  The map comes from CLUSTER SLOTS, asked of any node
 * (first of the seed: the address of webhooks_redis_pass), again after
 * MOVED, a lost node or CLUSTERDOWN.  A command goes to the master of
 * the slot of its key; one that cannot go now, or is told TRYAGAIN,
 * CLUSTERDOWN or LOADING, or whose node is lost, waits and is sent again
 * until its time is up.
 */

static ngx_int_t
ngx_http_webhooks_redis_cluster_init(ngx_http_webhooks_redis_t *rd)
{
    ngx_http_webhooks_redis_t          *seed;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = ngx_pcalloc(rd->pool, sizeof(ngx_http_webhooks_redis_cluster_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&cl->pending);

    cl->retry.handler = ngx_http_webhooks_redis_cluster_retry_handler;
    cl->retry.data = rd;
    cl->retry.log = rd->log;

    cl->refresh.handler = ngx_http_webhooks_redis_cluster_refresh_handler;
    cl->refresh.data = rd;
    cl->refresh.log = rd->log;
    cl->refresh.cancelable = 1;

    rd->cluster = cl;

    seed = ngx_pcalloc(rd->pool, sizeof(ngx_http_webhooks_redis_t));
    if (seed == NULL) {
        return NGX_ERROR;
    }

    cl->node[0] = seed;
    cl->nnodes = 1;

    seed->owner = rd;
    seed->seed = 1;

    if (ngx_http_webhooks_redis_cluster_setup(rd, seed) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_webhooks_redis_connect(seed);

    return NGX_OK;
}


/*
 * The node at host:port, made if new, connected if asked to.  Nodes of
 * the map are connected when a command goes to them, except by a handle
 * with scripts: it loads them on every master at once.
 */

static ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_cluster_node(ngx_http_webhooks_redis_t *rd,
    const char *host, size_t hlen, ngx_int_t port, ngx_uint_t connect)
{
    in_addr_t                           inaddr;
    ngx_uint_t                          i;
    ngx_sockaddr_t                      sa;
    socklen_t                           len;
    ngx_http_webhooks_redis_t          *node;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    ngx_memzero(&sa, sizeof(ngx_sockaddr_t));

    inaddr = ngx_inet_addr((u_char *) host, hlen);

    if (inaddr != INADDR_NONE) {
        sa.sockaddr_in.sin_family = AF_INET;
        sa.sockaddr_in.sin_addr.s_addr = inaddr;
        len = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
    } else if (ngx_inet6_addr((u_char *) host, hlen,
                              sa.sockaddr_in6.sin6_addr.s6_addr)
               == NGX_OK)
    {
        sa.sockaddr_in6.sin6_family = AF_INET6;
        len = sizeof(struct sockaddr_in6);
#endif

    } else {
        port = 0;
        len = 0;
    }

    if (port < 1 || port > 65535) {
        /* a name would need a resolver: nodes announce addresses */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis cluster node at an invalid "
                      "address \"%*s\":%i", hlen, host, port);
        return NULL;
    }

    ngx_inet_set_port(&sa.sockaddr, (in_port_t) port);

    for (i = 1; i < cl->nnodes; i++) {
        node = cl->node[i];

        if (node->master_len == len
            && ngx_cmp_sockaddr(&node->master.sockaddr, len,
                                &sa.sockaddr, len, 1)
               == NGX_OK)
        {
            goto found;
        }
    }

    if (cl->nnodes == NGX_HTTP_WEBHOOKS_REDIS_NODES) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis cluster has more than %d nodes",
                      NGX_HTTP_WEBHOOKS_REDIS_NODES - 1);
        return NULL;
    }

    node = ngx_pcalloc(rd->pool, sizeof(ngx_http_webhooks_redis_t));
    if (node == NULL) {
        return NULL;
    }

    node->master = sa;
    node->master_len = len;

    if (ngx_http_webhooks_redis_cluster_setup(rd, node) != NGX_OK) {
        return NULL;
    }

    cl->node[cl->nnodes++] = node;

found:

    if (connect && node->conn == NULL && !node->reconnect.timer_set
        && !node->closed)
    {
        ngx_http_webhooks_redis_connect(node);
    }

    return node;
}


static ngx_int_t
ngx_http_webhooks_redis_cluster_setup(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_t *node)
{
    node->in = ngx_palloc(rd->pool, NGX_HTTP_WEBHOOKS_REDIS_READ_SIZE);
    if (node->in == NULL) {
        return NGX_ERROR;
    }

    node->owner = rd;

    node->log = rd->log;
    node->pool = rd->pool;
    node->wmcf = rd->wmcf;
    node->scripts = rd->scripts;
    node->nscripts = rd->nscripts;
    node->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;

    ngx_queue_init(&node->busy);
    ngx_queue_init(&node->free);
    ngx_queue_insert_tail(&ngx_http_webhooks_redis_all, &node->link);

    node->timer.handler = ngx_http_webhooks_redis_timer_handler;
    node->timer.data = node;
    node->timer.log = rd->log;

    node->reconnect.handler = ngx_http_webhooks_redis_reconnect_handler;
    node->reconnect.data = node;
    node->reconnect.log = rd->log;
    node->reconnect.cancelable = 1;

    node->flush.handler = ngx_http_webhooks_redis_flush_handler;
    node->flush.data = node;
    node->flush.log = rd->log;

    return NGX_OK;
}


/* "127.0.0.1:7001" of MOVED and ASK, "[::1]:7001" too */

static ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_cluster_addr(ngx_http_webhooks_redis_t *rd,
    const char *text, size_t len)
{
    size_t  colon;

    for (colon = len; colon > 0 && text[colon - 1] != ':'; colon--) {
        /* void */
    }

    if (colon < 2) {
        return NULL;
    }

    if (text[0] == '[' && text[colon - 2] == ']') {
        return ngx_http_webhooks_redis_cluster_node(rd, text + 1, colon - 3,
                   ngx_atoi((u_char *) text + colon, len - colon), 1);
    }

    return ngx_http_webhooks_redis_cluster_node(rd, text, colon - 1,
               ngx_atoi((u_char *) text + colon, len - colon), 1);
}


static void
ngx_http_webhooks_redis_cluster_close(ngx_http_webhooks_redis_t *rd)
{
    ngx_uint_t                          i;
    ngx_queue_t                        *q;
    ngx_http_webhooks_redis_cmd_t      *cmd;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    if (cl->refresh.timer_set) {
        ngx_del_timer(&cl->refresh);
    }

    if (cl->retry.timer_set) {
        ngx_del_timer(&cl->retry);
    }

    /* the handle is closed: what the nodes fail is not sent again */

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->node[i]->log) {
            ngx_http_webhooks_redis_close(cl->node[i]);
        }
    }

    while (!ngx_queue_empty(&cl->pending)) {
        q = ngx_queue_head(&cl->pending);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_webhooks_redis_cmd_t, queue);

        ngx_http_webhooks_redis_cluster_fail(rd, cmd);
    }
}


static ngx_int_t
ngx_http_webhooks_redis_cluster_submit(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_int_t  key;

    if (ngx_http_webhooks_redis_copy(rd, cmd) != NGX_OK) {
        ngx_http_webhooks_redis_release(rd, cmd);
        return NGX_ERROR;
    }

    cmd->expire = ngx_current_msec + rd->wmcf->redis_timeout + cmd->timeout;

    if (cmd->expire == 0) {
        cmd->expire = 1;
    }

    key = ngx_http_webhooks_redis_slot_key(cmd->argc, cmd->argv,
                                           cmd->argvlen);

    cmd->slot = key < 0 ? key
                : (ngx_int_t) ngx_http_webhooks_redis_slot(
                      (u_char *) cmd->argv[key], cmd->argvlen[key]);

    if (ngx_http_webhooks_redis_cluster_route(rd, cmd) != NGX_OK) {
        ngx_http_webhooks_redis_cluster_later(rd, cmd);
    }

    return NGX_OK;
}


/* NGX_DECLINED: no node can take the command now */

static ngx_int_t
ngx_http_webhooks_redis_cluster_route(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_uint_t                          n, slot;
    ngx_http_webhooks_redis_t          *node;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    if (!cl->known) {
        return NGX_DECLINED;
    }

    /* keyless: any master, the one of a slot picked at random */
    slot = cmd->slot >= 0 ? (ngx_uint_t) cmd->slot
                          : (ngx_uint_t) ngx_random()
                            % NGX_HTTP_WEBHOOKS_REDIS_SLOTS;

    n = cl->slots[slot];

    if (n == 0 && cmd->slot < 0) {
        /* a slot no one serves: the first master known */
        for (n = 1; n <= cl->nnodes && cl->node[n - 1]->nslots == 0; n++) {
            /* void */
        }

        if (n > cl->nnodes) {
            n = 0;
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    node = cl->node[n - 1];

    if (node->conn == NULL && !node->reconnect.timer_set && !node->closed) {
        /* first used, or idle since it served no slot */
        ngx_http_webhooks_redis_connect(node);
    }

    if (node->conn == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_webhooks_redis_cluster_send(node, cmd, 0) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (cmd->slot == NGX_HTTP_WEBHOOKS_REDIS_ALL) {
        ngx_http_webhooks_redis_cluster_all(rd, node, cmd);
    }

    return NGX_OK;
}


/* on one node, after ASKING if told ASK; a script's WAIT follows it */

static ngx_int_t
ngx_http_webhooks_redis_cluster_send(ngx_http_webhooks_redis_t *node,
    ngx_http_webhooks_redis_cmd_t *cmd, ngx_uint_t asking)
{
    size_t       argvlen[1];
    const char  *argv[1];

    if (node->conn == NULL || node->state == NGX_HTTP_WEBHOOKS_REDIS_DOWN) {
        return NGX_DECLINED;
    }

    if (asking) {
        argv[0] = "ASKING";
        argvlen[0] = 6;

        if (ngx_http_webhooks_redis_internal(node, NULL, 1, argv, argvlen)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    cmd->rd = node;

    if (ngx_http_webhooks_redis_send(node, cmd) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cmd->script && ngx_http_webhooks_redis_wait(node, cmd) != NGX_OK) {
        /*
         * out of memory: what is not known to be replicated is not
         * claimed; as with a lost node, the command is sent again
         */
        ngx_http_webhooks_redis_drop(node, NGX_LOG_ERR, "WAIT not sent");
    }

    return NGX_OK;
}


/* SCRIPT ...: to every master; the caller hears from one */

static void
ngx_http_webhooks_redis_cluster_all(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_t *skip, ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_uint_t                          i;
    ngx_http_webhooks_redis_t          *node;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    for (i = 0; i < cl->nnodes; i++) {
        node = cl->node[i];

        if (node == skip || node->nslots == 0 || node->conn == NULL) {
            continue;
        }

        (void) ngx_http_webhooks_redis_internal(node, NULL, cmd->argc,
                                                cmd->argv, cmd->argvlen);
    }
}


static void
ngx_http_webhooks_redis_cluster_later(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    cmd->rd = rd;

    ngx_queue_insert_tail(&cl->pending, &cmd->queue);

    if (!cl->retry.timer_set) {
        ngx_add_timer(&cl->retry, NGX_HTTP_WEBHOOKS_REDIS_RETRY);
    }
}


/*
 * "MOVED 3999 127.0.0.1:6381": the slot is served there now, the map is
 * asked for again; "ASK 3999 127.0.0.1:6381": this command only goes
 * there, after ASKING.  NGX_DECLINED: the error is the command's answer.
 */

static ngx_int_t
ngx_http_webhooks_redis_cluster_error(ngx_http_webhooks_redis_t *node,
    ngx_http_webhooks_redis_cmd_t *cmd, redisReply *reply)
{
    char                               *p, *sp, *last;
    ngx_int_t                           slot;
    ngx_uint_t                          i, ask;
    ngx_http_webhooks_redis_t          *rd, *to;
    ngx_http_webhooks_redis_cluster_t  *cl;

    rd = node->owner;
    cl = rd->cluster;

    ask = 0;

    if (reply->len > 6 && ngx_strncmp(reply->str, "MOVED ", 6) == 0) {
        p = reply->str + 6;

    } else if (reply->len > 4 && ngx_strncmp(reply->str, "ASK ", 4) == 0) {
        p = reply->str + 4;
        ask = 1;

    } else if ((reply->len >= 8 && ngx_strncmp(reply->str, "TRYAGAIN", 8) == 0)
               || (reply->len >= 11
                   && ngx_strncmp(reply->str, "CLUSTERDOWN", 11) == 0)
               || (reply->len >= 7
                   && ngx_strncmp(reply->str, "LOADING", 7) == 0)
               || (reply->len >= 10
                   && ngx_strncmp(reply->str, "MASTERDOWN", 10) == 0))
    {
        p = NULL;

    } else {
        return NGX_DECLINED;
    }

    if (cmd->wait) {
        /* sent again, with a WAIT of its own */
        cmd->wait->handler = NULL;
        cmd->wait = NULL;
    }

    if ((ngx_msec_int_t) (cmd->expire - ngx_current_msec) <= 0) {
        ngx_log_error(NGX_LOG_ERR, node->log, 0,
                      "webhooks: redis \"%V\" still answers \"%*s\" when "
                      "the command's time is up", &node->name,
                      (size_t) reply->len, reply->str);
        ngx_http_webhooks_redis_cluster_fail(rd, cmd);
        return NGX_OK;
    }

    if (p == NULL) {
        ngx_log_error(NGX_LOG_INFO, node->log, 0,
                      "webhooks: redis \"%V\": %*s, trying again",
                      &node->name, (size_t) reply->len, reply->str);

        if (reply->str[0] == 'C') {
            ngx_http_webhooks_redis_cluster_refresh(rd);
        }

        ngx_http_webhooks_redis_cluster_later(rd, cmd);
        return NGX_OK;
    }

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_REDIRECTS, 1);

    last = reply->str + reply->len;
    sp = (char *) ngx_strlchr((u_char *) p, (u_char *) last, ' ');

    slot = sp ? ngx_atoi((u_char *) p, sp - p) : NGX_ERROR;

    to = (slot >= 0 && slot < NGX_HTTP_WEBHOOKS_REDIS_SLOTS)
         ? ngx_http_webhooks_redis_cluster_addr(rd, sp + 1, last - sp - 1)
         : NULL;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, node->log, 0,
                   "webhooks redis %s slot:%i from \"%V\"",
                   ask ? "ask" : "moved", slot, &node->name);

    if (to == NULL) {
        ngx_http_webhooks_redis_cluster_later(rd, cmd);
        return NGX_OK;
    }

    if (ask) {
        if (ngx_http_webhooks_redis_cluster_send(to, cmd, 1) != NGX_OK) {
            ngx_http_webhooks_redis_cluster_later(rd, cmd);
        }

        return NGX_OK;
    }

    for (i = 0; i < cl->nnodes && cl->node[i] != to; i++) { /* void */ }

    if (cl->slots[slot]) {
        cl->node[cl->slots[slot] - 1]->nslots--;
    }

    cl->slots[slot] = (u_char) (i + 1);
    to->nslots++;

    /* a slot moved: more may have, or a master failed over */
    ngx_http_webhooks_redis_cluster_refresh(rd);

    if (ngx_http_webhooks_redis_cluster_send(to, cmd, 0) != NGX_OK) {
        ngx_http_webhooks_redis_cluster_later(rd, cmd);
    }

    return NGX_OK;
}


static void
ngx_http_webhooks_redis_cluster_fail(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS, 1);

    if (cmd->handler) {
        cmd->handler(cmd->data, NULL);
    }

    ngx_http_webhooks_redis_release(rd, cmd);
}


static void
ngx_http_webhooks_redis_cluster_retry_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_t *rd = ev->data;

    ngx_queue_t                         q, *l;
    ngx_uint_t                          stuck;
    ngx_http_webhooks_redis_cmd_t      *cmd;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    /* what cannot go now goes back to the (new) pending list */

    ngx_queue_init(&q);

    if (!ngx_queue_empty(&cl->pending)) {
        q = cl->pending;
        q.next->prev = &q;
        q.prev->next = &q;
        ngx_queue_init(&cl->pending);
    }

    stuck = 0;

    while (!ngx_queue_empty(&q)) {
        l = ngx_queue_head(&q);
        ngx_queue_remove(l);
        cmd = ngx_queue_data(l, ngx_http_webhooks_redis_cmd_t, queue);

        if ((ngx_msec_int_t) (cmd->expire - ngx_current_msec) <= 0) {
            ngx_http_webhooks_redis_cluster_fail(rd, cmd);
            continue;
        }

        if (ngx_http_webhooks_redis_cluster_route(rd, cmd) != NGX_OK) {
            stuck = 1;
            ngx_http_webhooks_redis_cluster_later(rd, cmd);
        }
    }

    if (stuck) {
        /* its master may be gone, replaced by a replica */
        ngx_http_webhooks_redis_cluster_refresh(rd);
    }
}


/* CLUSTER SLOTS asked of a node that is up, the seed else */

static void
ngx_http_webhooks_redis_cluster_refresh(ngx_http_webhooks_redis_t *rd)
{
    size_t                              argvlen[2];
    ngx_uint_t                          i, n;
    const char                         *argv[2];
    ngx_http_webhooks_redis_t          *node;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    if (cl->refreshing || rd->closed) {
        return;
    }

    /* not more than one in NGX_HTTP_WEBHOOKS_REDIS_RETRY ms */

    if (cl->known
        && ngx_current_msec - cl->refreshed < NGX_HTTP_WEBHOOKS_REDIS_RETRY)
    {
        if (!cl->refresh.timer_set) {
            ngx_add_timer(&cl->refresh, NGX_HTTP_WEBHOOKS_REDIS_RETRY);
        }

        return;
    }

    node = NULL;
    n = ngx_random();

    for (i = 0; i < cl->nnodes; i++) {
        node = cl->node[(n + i) % cl->nnodes];

        if (node->conn && node->state == NGX_HTTP_WEBHOOKS_REDIS_UP) {
            break;
        }

        node = NULL;
    }

    if (node == NULL) {
        node = cl->node[0];

        if (node->conn == NULL) {
            /* asked once the seed is connected again */
            if (!cl->refresh.timer_set) {
                ngx_add_timer(&cl->refresh, NGX_HTTP_WEBHOOKS_REDIS_RETRY);
            }

            return;
        }
    }

    argv[0] = "CLUSTER";
    argvlen[0] = 7;
    argv[1] = "SLOTS";
    argvlen[1] = 5;

    if (ngx_http_webhooks_redis_internal(node,
                                         ngx_http_webhooks_redis_cluster_slots,
                                         2, argv, argvlen)
        == NULL)
    {
        return;
    }

    cl->refreshing = 1;
    cl->refreshed = ngx_current_msec;
}


static void
ngx_http_webhooks_redis_cluster_refresh_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_cluster_refresh(ev->data);
}


/*
 * [[start, end, [ip, port, id, ...], replica, ...], ...]: the map, all
 * of it; a node named with no address ("" or "?") is the one asked.
 */

static void
ngx_http_webhooks_redis_cluster_slots(void *data, redisReply *reply)
{
    ngx_http_webhooks_redis_t *node = data;

    ngx_int_t                           start, end, port;
    ngx_uint_t                          i, n, masters;
    redisReply                         *e, *m;
    ngx_http_webhooks_redis_t          *rd, *to;
    ngx_http_webhooks_redis_cluster_t  *cl;

    rd = node->owner;
    cl = rd->cluster;

    cl->refreshing = 0;

    if (reply == NULL || rd->closed) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" gave no cluster map%s%*s",
                      &node->name,
                      reply->type == REDIS_REPLY_ERROR ? ": " : "",
                      reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len
                                                       : (size_t) 0,
                      reply->str ? reply->str : "");

        if (!cl->refresh.timer_set) {
            ngx_add_timer(&cl->refresh, NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MAX);
        }

        return;
    }

    ngx_memzero(cl->slots, sizeof(cl->slots));

    masters = 0;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
            || e->element[0]->type != REDIS_REPLY_INTEGER
            || e->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[2]->type != REDIS_REPLY_ARRAY
            || e->element[2]->elements < 2
            || e->element[2]->element[0]->type != REDIS_REPLY_STRING
            || e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        start = (ngx_int_t) e->element[0]->integer;
        end = (ngx_int_t) e->element[1]->integer;
        m = e->element[2];
        port = (ngx_int_t) m->element[1]->integer;

        if (start < 0 || end >= NGX_HTTP_WEBHOOKS_REDIS_SLOTS || start > end) {
            continue;
        }

        if (m->element[0]->len == 0
            || (m->element[0]->len == 1 && m->element[0]->str[0] == '?'))
        {
            to = node->seed ? NULL : node;

        } else {
            to = ngx_http_webhooks_redis_cluster_node(rd,
                     m->element[0]->str, m->element[0]->len, port, 0);
        }

        if (to == NULL) {
            continue;
        }

        for (n = 0; n < cl->nnodes && cl->node[n] != to; n++) { /* void */ }

        ngx_memset(&cl->slots[start], (u_char) (n + 1), end - start + 1);
    }

    ngx_http_webhooks_redis_cluster_count(rd);

    for (n = 0; n < cl->nnodes; n++) {
        to = cl->node[n];

        if (to->nslots == 0 || to->seed) {
            continue;
        }

        masters++;

        if (rd->nscripts && to->conn == NULL && !to->reconnect.timer_set
            && !to->closed)
        {
            /* new, or idle since it served no slot: scripts go there now */
            ngx_http_webhooks_redis_connect(to);
        }
    }

    if (!cl->known) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "webhooks: redis cluster of %ui masters, map from "
                      "\"%V\"", masters, &node->name);
    }

    cl->known = masters > 0;

    /* whatever waited for the map goes now */

    if (!ngx_queue_empty(&cl->pending)) {
        if (cl->retry.timer_set) {
            ngx_del_timer(&cl->retry);
        }

        ngx_add_timer(&cl->retry, 1);
    }
}


static void
ngx_http_webhooks_redis_cluster_count(ngx_http_webhooks_redis_t *rd)
{
    ngx_uint_t                          i;
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->cluster;

    for (i = 0; i < cl->nnodes; i++) {
        cl->node[i]->nslots = 0;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_REDIS_SLOTS; i++) {
        if (cl->slots[i]) {
            cl->node[cl->slots[i] - 1]->nslots++;
        }
    }
}
