
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_MODULE_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


#define NGX_HTTP_WEBHOOKS_VERSION  "0.1.0"
#define NGX_HTTP_WEBHOOKS_BUILD    "0001000"

/* deliveries' User-Agent: GitHub-Hookshot/<7 hex digits>, as GitHub's */
#define NGX_HTTP_WEBHOOKS_UA       "GitHub-Hookshot/" NGX_HTTP_WEBHOOKS_BUILD

/* not in nginx 1.22, nor its reason phrase */
#define NGX_HTTP_WEBHOOKS_UNPROCESSABLE  422

/* GitHub caps hooks per event type on one org or repo at 20 */
#define NGX_HTTP_WEBHOOKS_MAX_HOOKS  20

/*
 * Queue shards: a scope's deliveries, their payloads, its part of the
 * queue and of the retry set live in one shard, keys tagged "{q<n>}" so
 * that a Redis Cluster keeps each shard in one slot.  Fixed for an
 * installation: a scope's shard and the delivery ids depend on it.
 */
#define NGX_HTTP_WEBHOOKS_SHARDS     8

/* far above any hook's JSON, below nginx's 1m client_max_body_size */
#define NGX_HTTP_WEBHOOKS_BODY_MAX   (64 * 1024)


/* the sender: the server its subrequests run in, and where they go */
typedef struct {
    ngx_http_conf_ctx_t         *ctx;
    ngx_str_t                    delivery_uri;
    ngx_str_t                    insecure_uri;
    ngx_uint_t                   concurrency;
    time_t                       retention;
    ngx_str_t                    retention_text;
    ngx_msec_t                   claim_timeout;
    size_t                       response_max;
    ngx_msec_t                   delivery_timeout;  /* 0: auto */
} ngx_http_webhooks_sender_conf_t;


/* reliability: retries, the failing span, caps and the queue bound */
typedef struct {
    ngx_array_t                 *retry;          /* of ngx_msec_t */
    time_t                       fail_span;
    ngx_str_t                    fail_span_text;
    ngx_uint_t                   hook_concurrency;
    ngx_uint_t                   host_concurrency;
    ngx_uint_t                   queue_max;
    ngx_str_t                    queue_max_text;
} ngx_http_webhooks_reliability_conf_t;


/* where deliveries may go: rules, then the built-in deny list */
typedef struct {
    ngx_array_t                 *rules;
    ngx_array_t                 *ports;          /* NULL: any */
} ngx_http_webhooks_guard_conf_t;


/* the first seals hook secrets, all open them; NULL: kept clear */
typedef struct {
    ngx_array_t                 *keys;
} ngx_http_webhooks_secrets_conf_t;


/* counters of all workers; NULL: not kept */
typedef struct {
    ngx_shm_zone_t              *zone;
} ngx_http_webhooks_stats_conf_t;


typedef struct {
    ngx_str_t                    prefix;         /* <prefix>{q<n>}: */
    ngx_str_t                    queue;          /* <prefix>{q<n>}:queue */
    ngx_str_t                    retry;          /* <prefix>{q<n>}:retry */
    ngx_str_t                    seq;            /* <prefix>{q<n>}:seq */
    ngx_str_t                    number;         /* "<n>" */
} ngx_http_webhooks_shard_t;


typedef struct {
    ngx_str_t                    redis_addr;
    ngx_url_t                    redis_url;
    ngx_msec_t                   redis_connect_timeout;
    ngx_msec_t                   redis_timeout;
    ngx_str_t                    redis_user;
    ngx_str_t                    redis_password_file;
    ngx_str_t                    redis_password;  /* never logged */
    ngx_flag_t                   redis_ssl;
    ngx_flag_t                   redis_ssl_verify;
    ngx_str_t                    redis_ssl_trusted_certificate;
    ngx_str_t                    redis_ssl_certificate;
    ngx_str_t                    redis_ssl_certificate_key;
    ngx_str_t                    redis_ssl_name;  /* NUL-terminated */
    ngx_ssl_t                   *redis_ssl_ctx;
    ngx_str_t                    redis_master_name;
    ngx_array_t                 *redis_sentinels;  /* of ngx_url_t */
    ngx_flag_t                   redis_cluster;
    ngx_uint_t                   redis_wait_replicas;
    ngx_msec_t                   redis_wait_timeout;
    ngx_str_t                    prefix;
    ngx_flag_t                   used;

    ngx_http_webhooks_sender_conf_t       sender;
    ngx_http_webhooks_reliability_conf_t  reliability;
    ngx_http_webhooks_guard_conf_t        guard;
    ngx_http_webhooks_secrets_conf_t      secrets;
    ngx_http_webhooks_stats_conf_t        stats;

    ngx_http_webhooks_shard_t   *shards;         /* SHARDS of them */
    ngx_str_t                    nshards;        /* "<SHARDS>" */
} ngx_http_webhooks_main_conf_t;


typedef struct {
    ngx_flag_t                   api;
    ngx_flag_t                   events;
    ngx_flag_t                   hub;
    ngx_flag_t                   status;
    ngx_http_complex_value_t    *base_url;
    ngx_http_complex_value_t    *web_url;       /* of html_url and such */
    ngx_http_complex_value_t    *login;
    ngx_http_complex_value_t    *admin;
    ngx_http_complex_value_t    *oauth_app;
    ngx_uint_t                   max_hooks;
    size_t                       body_max;
} ngx_http_webhooks_loc_conf_t;


extern ngx_module_t  ngx_http_webhooks_module;


#endif /* _NGX_HTTP_WEBHOOKS_MODULE_H_INCLUDED_ */
