
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


/*
 * The single-server client's insides, for a router that spreads a
 * handle's commands over connections of its own (Redis Cluster, see
 * ngx_http_webhooks_redis_cluster.c).  The client never calls a router
 * by name: it calls the callbacks the router set on the handle and on
 * the connections it made.
 *
 * Part of the client, below its public header, whose types it fills
 * in: included after ngx_http_webhooks_redis.h, by redis.c and a router.
 */

#ifndef _NGX_HTTP_WEBHOOKS_REDIS_H_INCLUDED_
#error "ngx_http_webhooks_redis.h goes before ngx_http_webhooks_redis_conn.h"
#endif


#define NGX_HTTP_WEBHOOKS_REDIS_DOWN        0
#define NGX_HTTP_WEBHOOKS_REDIS_CONNECTING  1
#define NGX_HTTP_WEBHOOKS_REDIS_UP          2

#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_WEBHOOKS_REDIS_BACKOFF_MAX  2000


/* a handle routing its commands: NGX_OK, the command is taken */
typedef ngx_int_t (*ngx_http_webhooks_redis_submit_pt)(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_cmd_t *cmd);
typedef ngx_int_t (*ngx_http_webhooks_redis_available_pt)(
    ngx_http_webhooks_redis_t *rd);
typedef void (*ngx_http_webhooks_redis_finalize_pt)(
    ngx_http_webhooks_redis_t *rd);

/* a connection of a router's: NGX_DECLINED, not connected again for now */
typedef ngx_int_t (*ngx_http_webhooks_redis_lost_pt)(
    ngx_http_webhooks_redis_t *c);

/* NGX_OK: the router took the command back, to send it again */
typedef ngx_int_t (*ngx_http_webhooks_redis_error_pt)(
    ngx_http_webhooks_redis_t *c, ngx_http_webhooks_redis_cmd_t *cmd,
    redisReply *reply);
typedef ngx_int_t (*ngx_http_webhooks_redis_dropped_pt)(
    ngx_http_webhooks_redis_t *c, ngx_http_webhooks_redis_cmd_t *cmd);


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
     * A command a router sends again (after a redirect or a lost node)
     * until it expires has its own copy of argv (malloc'ed, freed with
     * the command); its slot is the router's: a slot, or KEYLESS, or ALL
     */
    u_char                              *copy;
    ngx_msec_t                           expire;
    ngx_int_t                            slot;
};


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

    /*
     * Sentinel: asking one, the master it named, going there now; the
     * address in master is also where a router's connection goes
     */
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
     * A handle with a router has no connection of its own: its commands
     * go to the router (data and callbacks set by it).
     */
    void                                *router;
    ngx_http_webhooks_redis_submit_pt    submit;
    ngx_http_webhooks_redis_available_pt available;
    ngx_http_webhooks_redis_finalize_pt  finalize;

    /*
     * A connection a router made for a handle (owner): what it is told
     * of; for a cluster, the slots the node serves, and whether it is
     * the seed (the addresses of webhooks_redis_pass)
     */
    ngx_http_webhooks_redis_t           *owner;
    ngx_http_webhooks_redis_lost_pt      lost;
    ngx_http_webhooks_redis_error_pt     error;
    ngx_http_webhooks_redis_dropped_pt   dropped;
    ngx_uint_t                           nslots;
    unsigned                             seed:1;

    ngx_http_webhooks_redis_stats_t      stats;
};


ngx_int_t ngx_http_webhooks_redis_setup(ngx_http_webhooks_redis_t *rd,
    ngx_pool_t *pool, ngx_log_t *log, ngx_http_webhooks_main_conf_t *wmcf,
    ngx_http_webhooks_redis_script_t *scripts, ngx_uint_t nscripts);
void ngx_http_webhooks_redis_connect(ngx_http_webhooks_redis_t *rd);
void ngx_http_webhooks_redis_drop(ngx_http_webhooks_redis_t *rd,
    ngx_uint_t level, const char *why);
ngx_http_webhooks_redis_cmd_t *ngx_http_webhooks_redis_internal(
    ngx_http_webhooks_redis_t *rd, ngx_http_webhooks_redis_handler_pt handler,
    int argc, const char **argv, size_t *argvlen);
ngx_int_t ngx_http_webhooks_redis_send(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
ngx_int_t ngx_http_webhooks_redis_wait(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
ngx_int_t ngx_http_webhooks_redis_copy(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);
void ngx_http_webhooks_redis_release(ngx_http_webhooks_redis_t *rd,
    ngx_http_webhooks_redis_cmd_t *cmd);


#endif /* _NGX_HTTP_WEBHOOKS_REDIS_CONN_H_INCLUDED_ */
