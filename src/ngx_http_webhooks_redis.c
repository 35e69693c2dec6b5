
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/async.h>
#include <openssl/sha.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_stats.h"


/*
 * One hiredis async context per worker, its socket wrapped in an
 * ngx_connection_t.  Commands of all requests are pipelined on it.
 * Replies come back in order, so the oldest command in flight bounds
 * the time we wait: one timer covers them all, and a command that
 * times out drops the connection, which fails every command in flight
 * and reconnects with backoff.
 */


#define NGX_HTTP_WEBHOOKS_REDIS_DOWN        0
#define NGX_HTTP_WEBHOOKS_REDIS_CONNECTING  1
#define NGX_HTTP_WEBHOOKS_REDIS_UP          2
#define NGX_HTTP_WEBHOOKS_REDIS_CLOSING     3

#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MAX  2000


struct ngx_http_webhooks_redis_cmd_s {
    ngx_queue_t                          queue;
    ngx_http_webhooks_redis_handler_pt   handler;
    void                                *data;
    ngx_http_webhooks_redis_t           *rd;
    ngx_msec_t                           deadline;
    ngx_msec_t                           timeout;
    ngx_msec_t                           sent;       /* for the stats */

    /* kept to resend EVALSHA as EVAL after NOSCRIPT */
    ngx_http_webhooks_redis_script_t    *script;
    int                                  argc;
    const char                         **argv;
    size_t                              *argvlen;
};


struct ngx_http_webhooks_redis_s {
    redisAsyncContext                   *ac;
    ngx_connection_t                    *conn;
    ngx_log_t                           *log;
    ngx_pool_t                          *pool;
    ngx_http_webhooks_main_conf_t       *wmcf;

    ngx_event_t                          timer;
    ngx_event_t                          reconnect;
    ngx_msec_t                           backoff;
    ngx_uint_t                           state;
    unsigned                             flushing:1;
    unsigned                             closed:1;

    ngx_queue_t                          busy;
    ngx_queue_t                          free;

    ngx_http_webhooks_redis_script_t    *scripts;
    ngx_uint_t                           nscripts;
};


static void ngx_http_webhooks_redis_connect(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_drop(ngx_http_webhooks_redis_t *rd,
    const char *why);
static void ngx_http_webhooks_redis_schedule(ngx_http_webhooks_redis_t *rd);
static void ngx_http_webhooks_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_webhooks_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_webhooks_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_read_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_write_handler(ngx_event_t *ev);
static void ngx_http_webhooks_redis_add_read(void *privdata);
static void ngx_http_webhooks_redis_del_read(void *privdata);
static void ngx_http_webhooks_redis_add_write(void *privdata);
static void ngx_http_webhooks_redis_del_write(void *privdata);
static void ngx_http_webhooks_redis_cleanup(void *privdata);
static ngx_int_t ngx_http_webhooks_redis_send(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
static void ngx_http_webhooks_redis_load_scripts(
    ngx_http_webhooks_redis_t *rd);


/* the connection of the API and of short commands, one per worker */
static ngx_http_webhooks_redis_t  *ngx_http_webhooks_redis;


ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_create(ngx_cycle_t *cycle,
    ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts)
{
    ngx_http_webhooks_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_webhooks_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->log = cycle->log;
    rd->pool = cycle->pool;
    rd->wmcf = wmcf;
    rd->scripts = scripts;
    rd->nscripts = nscripts;
    rd->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;

    ngx_queue_init(&rd->busy);
    ngx_queue_init(&rd->free);

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

    return ngx_http_webhooks_redis ? NGX_OK : NGX_ERROR;
}


void
ngx_http_webhooks_redis_close(ngx_http_webhooks_redis_t *rd)
{
    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    /* no more reconnects: the worker is going away */
    rd->closed = 1;

    if (rd->ac) {
        /* fails whatever is in flight and releases the connection */
        redisAsyncFree(rd->ac);
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }
}


void
ngx_http_webhooks_redis_done(ngx_cycle_t *cycle)
{
    if (ngx_http_webhooks_redis) {
        ngx_http_webhooks_redis_close(ngx_http_webhooks_redis);
        ngx_http_webhooks_redis = NULL;
    }
}


/* the connection commands and scripts go on by default */

ngx_http_webhooks_redis_t *
ngx_http_webhooks_redis_main(void)
{
    return ngx_http_webhooks_redis;
}


ngx_int_t
ngx_http_webhooks_redis_available(ngx_http_webhooks_redis_t *rd)
{
    return rd != NULL && rd->ac != NULL
           && (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP
               || rd->state == NGX_HTTP_WEBHOOKS_REDIS_CONNECTING);
}


static void
ngx_http_webhooks_redis_connect(ngx_http_webhooks_redis_t *rd)
{
    u_char                         *p;
    u_char                          host[NGX_SOCKADDR_STRLEN + 1];
    ngx_url_t                      *u;
    ngx_connection_t               *c;
    redisAsyncContext              *ac;
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = rd->wmcf;
    u = &wmcf->redis_url;

    if (u->family == AF_UNIX) {
        /* ngx_parse_url() keeps the path after "unix:" in u->host */
        p = ngx_cpymem(host, u->host.data, ngx_min(u->host.len,
                                                   NGX_SOCKADDR_STRLEN));
        *p = '\0';
        ac = redisAsyncConnectUnix((char *) host);

    } else {
        /* a numeric address: hiredis must not resolve names in a worker */
        p = host + ngx_sock_ntop(u->addrs[0].sockaddr, u->addrs[0].socklen,
                                 host, NGX_SOCKADDR_STRLEN, 0);
        *p = '\0';
        ac = redisAsyncConnect((char *) host, (int) u->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\": out of memory",
                      &wmcf->redis_addr);
        ngx_http_webhooks_redis_schedule(rd);
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" connect failed: %s",
                      &wmcf->redis_addr, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_webhooks_redis_schedule(rd);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_webhooks_redis_schedule(rd);
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_webhooks_redis_read_handler;
    c->write->handler = ngx_http_webhooks_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ac = ac;
    rd->conn = c;
    rd->state = NGX_HTTP_WEBHOOKS_REDIS_CONNECTING;

    ac->data = rd;
    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_webhooks_redis_add_read;
    ac->ev.delRead = ngx_http_webhooks_redis_del_read;
    ac->ev.addWrite = ngx_http_webhooks_redis_add_write;
    ac->ev.delWrite = ngx_http_webhooks_redis_del_write;
    ac->ev.cleanup = ngx_http_webhooks_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_webhooks_redis_connected);

    /* the first writable event tells that connect() is done */
    ngx_http_webhooks_redis_add_write(rd);

    ngx_add_timer(&rd->timer, wmcf->redis_connect_timeout);

    /* queued first, so scripts exist before any EVALSHA is read */
    ngx_http_webhooks_redis_load_scripts(rd);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "webhooks redis connecting fd:%d", ac->c.fd);
}


static void
ngx_http_webhooks_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_webhooks_redis_t  *rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: redis \"%V\" connect failed: %s",
                      &rd->wmcf->redis_addr, ac->errstr);
        /* hiredis frees the context next; the cleanup hook follows */
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "webhooks: connected to redis \"%V\"",
                  &rd->wmcf->redis_addr);

    rd->state = NGX_HTTP_WEBHOOKS_REDIS_UP;
    rd->backoff = NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN;

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_CONNECTS, 1);

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    if (!ngx_queue_empty(&rd->busy)) {
        ngx_http_webhooks_redis_cmd_t  *cmd;

        cmd = ngx_queue_data(ngx_queue_head(&rd->busy),
                             ngx_http_webhooks_redis_cmd_t, queue);
        ngx_add_timer(&rd->timer, cmd->deadline > ngx_current_msec
                                  ? cmd->deadline - ngx_current_msec : 1);
    }
}


static void
ngx_http_webhooks_redis_load_scripts(ngx_http_webhooks_redis_t *rd)
{
    ngx_uint_t   i;
    const char  *argv[3];
    size_t       argvlen[3];

    for (i = 0; i < rd->nscripts; i++) {
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = (const char *) rd->scripts[i].body.data;
        argvlen[2] = rd->scripts[i].body.len;

        /* a lost reply only means EVALSHA falls back to EVAL */
        (void) redisAsyncCommandArgv(rd->ac, NULL, NULL, 3, argv, argvlen);
    }
}


static void
ngx_http_webhooks_redis_schedule(ngx_http_webhooks_redis_t *rd)
{
    if (rd->closed || ngx_exiting || ngx_quit || ngx_terminate) {
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

    if (rd->ac == NULL) {
        ngx_http_webhooks_redis_connect(rd);
    }
}


static void
ngx_http_webhooks_redis_drop(ngx_http_webhooks_redis_t *rd, const char *why)
{
    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "webhooks: redis \"%V\" %s, reconnecting",
                  &rd->wmcf->redis_addr, why);

    rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;

    /* runs every pending callback with a NULL reply, then the cleanup */
    redisAsyncFree(rd->ac);
}


static void
ngx_http_webhooks_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_webhooks_redis_t  *rd = ev->data;

    if (rd->ac == NULL) {
        return;
    }

    ngx_http_webhooks_redis_drop(rd,
                         rd->state == NGX_HTTP_WEBHOOKS_REDIS_CONNECTING
                         ? "connect timed out" : "command timed out");
}


static void
ngx_http_webhooks_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    ngx_http_webhooks_redis_t  *rd = c->data;

    if (rd->ac) {
        redisAsyncHandleRead(rd->ac);
    }
}


static void
ngx_http_webhooks_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c = ev->data;
    ngx_http_webhooks_redis_t  *rd = c->data;

    if (rd->ac) {
        rd->flushing = 1;
        redisAsyncHandleWrite(rd->ac);

        /* the context may be gone: hiredis frees it on a write error */
        rd->flushing = 0;
    }
}


/*
 * Level-triggered events: hiredis reads at most 16K per call, and
 * a pending rest must wake us again.
 */

static void
ngx_http_webhooks_redis_add_read(void *privdata)
{
    ngx_http_webhooks_redis_t  *rd = privdata;

    if (rd->conn && !rd->conn->read->active) {
        if (ngx_add_event(rd->conn->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                          "webhooks: redis read event failed");
        }
    }
}


static void
ngx_http_webhooks_redis_del_read(void *privdata)
{
    ngx_http_webhooks_redis_t  *rd = privdata;

    if (rd->conn && rd->conn->read->active) {
        (void) ngx_del_event(rd->conn->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_webhooks_redis_add_write(void *privdata)
{
    ngx_http_webhooks_redis_t  *rd = privdata;

    if (rd->conn == NULL) {
        return;
    }

    /*
     * Once connected, commands are flushed when this pass of the event
     * loop is over: whatever the requests of this pass issued goes out
     * in one write.  Only a full socket waits for a write event.
     */

    if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP && !rd->flushing) {
        if (!rd->conn->write->posted) {
            ngx_post_event(rd->conn->write, &ngx_posted_events);
        }

        return;
    }

    if (!rd->conn->write->active) {
        if (ngx_add_event(rd->conn->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                          "webhooks: redis write event failed");
        }
    }
}


static void
ngx_http_webhooks_redis_del_write(void *privdata)
{
    ngx_http_webhooks_redis_t  *rd = privdata;

    if (rd->conn && rd->conn->write->active) {
        (void) ngx_del_event(rd->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis is about to close the socket and free the context */

static void
ngx_http_webhooks_redis_cleanup(void *privdata)
{
    ngx_http_webhooks_redis_t  *rd = privdata;
    ngx_connection_t           *c;

    c = rd->conn;

    if (!rd->closed
        && (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP
            || rd->state == NGX_HTTP_WEBHOOKS_REDIS_CLOSING))
    {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "webhooks: lost connection to redis \"%V\"",
                      &rd->wmcf->redis_addr);
    }

    if (c) {
        ngx_http_webhooks_redis_del_read(rd);
        ngx_http_webhooks_redis_del_write(rd);

        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }

        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    rd->conn = NULL;
    rd->ac = NULL;
    rd->state = NGX_HTTP_WEBHOOKS_REDIS_DOWN;

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    ngx_http_webhooks_redis_schedule(rd);
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

    if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
        ngx_queue_insert_tail(&rd->free, &cmd->queue);
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

    if (ngx_http_webhooks_redis_send(rd, cmd) != NGX_OK) {
        ngx_queue_insert_tail(&rd->free, &cmd->queue);
        return NULL;
    }

    return cmd;
}


static ngx_int_t
ngx_http_webhooks_redis_send(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    if (rd->ac == NULL
        || redisAsyncCommandArgv(rd->ac, ngx_http_webhooks_redis_reply, cmd,
                                 cmd->argc, cmd->argv, cmd->argvlen)
           != REDIS_OK)
    {
        return NGX_ERROR;
    }

    cmd->deadline = ngx_current_msec + rd->wmcf->redis_timeout
                    + cmd->timeout;
    cmd->sent = ngx_current_msec;

    ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_COMMANDS, 1);

    ngx_queue_insert_tail(&rd->busy, &cmd->queue);

    if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP && !rd->timer.timer_set) {
        ngx_add_timer(&rd->timer, rd->wmcf->redis_timeout + cmd->timeout);
    }

    return NGX_OK;
}


void
ngx_http_webhooks_redis_cancel(ngx_http_webhooks_redis_cmd_t *cmd)
{
    /* the reply still arrives in order; it is just not handed over */
    cmd->handler = NULL;
    cmd->data = NULL;
    cmd->argv = NULL;
}


static void
ngx_http_webhooks_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_webhooks_redis_t      *rd;
    ngx_http_webhooks_redis_cmd_t  *cmd, *head;

    cmd = privdata;
    rd = cmd->rd;

    ngx_queue_remove(&cmd->queue);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_http_webhooks_stats_inc(NGX_HTTP_WEBHOOKS_STAT_REDIS_ERRORS, 1);

    } else if (cmd->timeout == 0) {
        /* a blocking read's wait is not a round trip */
        ngx_http_webhooks_stats_observe(NGX_HTTP_WEBHOOKS_HIST_REDIS,
                                        ngx_current_msec - cmd->sent);
    }

    if (reply == NULL) {
        /* the context is going away: nothing more may be sent on it */
        if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP) {
            rd->state = NGX_HTTP_WEBHOOKS_REDIS_CLOSING;
        }

    } else if (rd->state == NGX_HTTP_WEBHOOKS_REDIS_UP) {

        if (rd->timer.timer_set) {
            ngx_del_timer(&rd->timer);
        }

        if (!ngx_queue_empty(&rd->busy)) {
            head = ngx_queue_data(ngx_queue_head(&rd->busy),
                                  ngx_http_webhooks_redis_cmd_t, queue);
            ngx_add_timer(&rd->timer, head->deadline > ngx_current_msec
                                      ? head->deadline - ngx_current_msec
                                      : 1);
        }
    }

    if (reply
        && reply->type == REDIS_REPLY_ERROR
        && cmd->script
        && cmd->handler
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* scripts were flushed behind our back: send the body instead */
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = 4;
        cmd->argv[1] = (const char *) cmd->script->body.data;
        cmd->argvlen[1] = cmd->script->body.len;
        cmd->script = NULL;

        if (ngx_http_webhooks_redis_send(rd, cmd) == NGX_OK) {
            return;
        }

        reply = NULL;
    }

    if (cmd->handler) {
        cmd->handler(cmd->data, reply);
    }

    ngx_queue_insert_tail(&rd->free, &cmd->queue);
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
