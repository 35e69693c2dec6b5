
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_redis_cluster.h"
#include "ngx_http_webhooks_redis_conn.h"
#include "ngx_http_webhooks_redis_slot.h"
#include "ngx_http_webhooks_stats.h"


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


/* nodes one handle may know, the pause between retries */
#define NGX_HTTP_WEBHOOKS_REDIS_NODES        250
#define NGX_HTTP_WEBHOOKS_REDIS_RETRY        100


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


static ngx_int_t ngx_http_webhooks_redis_cluster_available(
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
static ngx_int_t ngx_http_webhooks_redis_cluster_lost(
    ngx_http_webhooks_redis_t *node);
static ngx_int_t ngx_http_webhooks_redis_cluster_dropped(
    ngx_http_webhooks_redis_t *node, ngx_http_webhooks_redis_cmd_t *cmd);
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

ngx_int_t
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

    rd->router = cl;
    rd->submit = ngx_http_webhooks_redis_cluster_submit;
    rd->available = ngx_http_webhooks_redis_cluster_available;
    rd->finalize = ngx_http_webhooks_redis_cluster_close;

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


/* commands wait for the map, for their timeout at most */

static ngx_int_t
ngx_http_webhooks_redis_cluster_available(ngx_http_webhooks_redis_t *rd)
{
    ngx_http_webhooks_redis_cluster_t  *cl;

    cl = rd->router;

    return !rd->closed && (cl->known || cl->node[0]->conn != NULL);
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

    cl = rd->router;

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
    if (ngx_http_webhooks_redis_setup(node, rd->pool, rd->log, rd->wmcf,
                                      rd->scripts, rd->nscripts)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    node->owner = rd;
    node->lost = ngx_http_webhooks_redis_cluster_lost;
    node->error = ngx_http_webhooks_redis_cluster_error;
    node->dropped = ngx_http_webhooks_redis_cluster_dropped;

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

    cl = rd->router;

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

    cl = rd->router;

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

    cl = rd->router;

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

    cl = rd->router;

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

    if (cmd->copy == NULL) {
        /* not ours to send again (ASKING, CLUSTER SLOTS, a WAIT...) */
        return NGX_DECLINED;
    }

    rd = node->owner;
    cl = rd->router;

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


/* a node lost: NGX_DECLINED, not connected again until the map names it */

static ngx_int_t
ngx_http_webhooks_redis_cluster_lost(ngx_http_webhooks_redis_t *node)
{
    /* the map may have changed: a failover, a node gone */
    ngx_http_webhooks_redis_cluster_refresh(node->owner);

    if (!node->seed && node->nslots == 0) {
        /* serves no slot: connected again once the map names it */
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* in flight on a node lost: NGX_OK, it is sent again until it expires */

static ngx_int_t
ngx_http_webhooks_redis_cluster_dropped(ngx_http_webhooks_redis_t *node,
    ngx_http_webhooks_redis_cmd_t *cmd)
{
    if (cmd->copy == NULL || node->owner->closed
        || (ngx_msec_int_t) (cmd->expire - ngx_current_msec) <= 0)
    {
        return NGX_DECLINED;
    }

    /* sent again, to this node or the one that replaced it */
    ngx_http_webhooks_redis_cluster_later(node->owner, cmd);

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

    cl = rd->router;

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

    cl = rd->router;

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
    cl = rd->router;

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

    cl = rd->router;

    for (i = 0; i < cl->nnodes; i++) {
        cl->node[i]->nslots = 0;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOKS_REDIS_SLOTS; i++) {
        if (cl->slots[i]) {
            cl->node[cl->slots[i] - 1]->nslots++;
        }
    }
}
