
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_api.h"
#include "ngx_http_webhooks_delivery.h"
#include "ngx_http_webhooks_headers.h"
#include "ngx_http_webhooks_hub.h"
#include "ngx_http_webhooks_intake.h"
#include "ngx_http_webhooks_peer.h"
#include "ngx_http_webhooks_queue.h"
#include "ngx_http_webhooks_redis.h"
#include "ngx_http_webhooks_redis_cluster.h"
#include "ngx_http_webhooks_secret.h"
#include "ngx_http_webhooks_sign.h"
#include "ngx_http_webhooks_stats.h"
#include "ngx_http_webhooks_status.h"
#include "ngx_http_webhooks_store.h"
#include "ngx_http_webhooks_subrequest.h"
#include "ngx_http_webhooks_variables.h"


static ngx_int_t ngx_http_webhooks_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_webhooks_init(ngx_conf_t *cf);
static void *ngx_http_webhooks_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_webhooks_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_webhooks_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_webhooks_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_webhooks_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_events(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_hub(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf, ngx_http_handler_pt handler);
static ngx_int_t ngx_http_webhooks_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_webhooks_base_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_conf_set_num(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webhooks_delivery_location(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webhooks_delivery_timeout(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webhooks_retry(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_deactivate_after(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webhooks_redis_sentinel(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webhooks_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhooks_secret_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_webhooks_init_process(ngx_cycle_t *cycle);
static void ngx_http_webhooks_exit_process(ngx_cycle_t *cycle);


/* bounds checked by ngx_http_webhooks_conf_set_num(), which names them */

static ngx_conf_num_bounds_t  ngx_http_webhooks_max_hooks_bounds = {
    NULL, 1, 10000
};

static ngx_conf_num_bounds_t  ngx_http_webhooks_concurrency_bounds = {
    NULL, 1, 100000
};

static ngx_conf_num_bounds_t  ngx_http_webhooks_queue_max_bounds = {
    NULL, 1, 1000000000
};

/* about a day in all, as Svix does it */
static ngx_msec_t  ngx_http_webhooks_retry_default[] = {
    5 * 1000, 5 * 60 * 1000, 30 * 60 * 1000, 2 * 3600 * 1000,
    5 * 3600 * 1000, 10 * 3600 * 1000, 10 * 3600 * 1000
};


static ngx_command_t  ngx_http_webhooks_commands[] = {

    { ngx_string("webhooks_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_webhooks_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, api),
      NULL },

    { ngx_string("webhooks_events"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_webhooks_events,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, events),
      NULL },

    { ngx_string("webhooks_hub"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_webhooks_hub,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, hub),
      NULL },

    { ngx_string("webhooks_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webhooks_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, status),
      NULL },

    { ngx_string("webhooks_status_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_stats_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_location"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_delivery_location,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.delivery_uri),
      NULL },

    { ngx_string("webhooks_delivery_insecure_location"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_delivery_location,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.insecure_uri),
      NULL },

    { ngx_string("webhooks_delivery_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_conf_set_num,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.concurrency),
      &ngx_http_webhooks_concurrency_bounds },

    { ngx_string("webhooks_delivery_hook_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_conf_set_num,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, reliability.hook_concurrency),
      &ngx_http_webhooks_concurrency_bounds },

    { ngx_string("webhooks_delivery_host_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_conf_set_num,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, reliability.host_concurrency),
      &ngx_http_webhooks_concurrency_bounds },

    { ngx_string("webhooks_delivery_queue_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_conf_set_num,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, reliability.queue_max),
      &ngx_http_webhooks_queue_max_bounds },

    { ngx_string("webhooks_delivery_retry"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhooks_retry,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_deactivate_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_deactivate_after,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_peer"),
      NGX_HTTP_UPS_CONF|NGX_CONF_ANY,
      ngx_http_webhooks_peer,
      0,
      0,
      NULL },

    { ngx_string("webhooks_delivery_allow"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhooks_address_rule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_deny"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhooks_address_rule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_ports"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhooks_address_ports,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_delivery_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.retention),
      NULL },

    { ngx_string("webhooks_delivery_claim_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.claim_timeout),
      NULL },

    { ngx_string("webhooks_delivery_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_delivery_timeout,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.delivery_timeout),
      NULL },

    { ngx_string("webhooks_delivery_response_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, sender.response_max),
      NULL },

    { ngx_string("webhooks_redis_pass"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_addr),
      NULL },

    { ngx_string("webhooks_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_connect_timeout),
      NULL },

    { ngx_string("webhooks_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("webhooks_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_webhooks_redis_sentinel,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_redis_cluster"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_cluster),
      NULL },

    { ngx_string("webhooks_redis_wait_replicas"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_webhooks_redis_wait,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_redis_user"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_user),
      NULL },

    { ngx_string("webhooks_redis_password_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_password_file),
      NULL },

    { ngx_string("webhooks_redis_ssl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl),
      NULL },

    { ngx_string("webhooks_redis_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl_verify),
      NULL },

    { ngx_string("webhooks_redis_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl_trusted_certificate),
      NULL },

    { ngx_string("webhooks_redis_ssl_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl_certificate),
      NULL },

    { ngx_string("webhooks_redis_ssl_certificate_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl_certificate_key),
      NULL },

    { ngx_string("webhooks_redis_ssl_name"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, redis_ssl_name),
      NULL },

    { ngx_string("webhooks_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_webhooks_main_conf_t, prefix),
      NULL },

    { ngx_string("webhooks_secret_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhooks_secret_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhooks_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_base_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, base_url),
      NULL },

    { ngx_string("webhooks_web_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_base_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, web_url),
      NULL },

    { ngx_string("webhooks_login"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, login),
      NULL },

    { ngx_string("webhooks_admin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, admin),
      NULL },

    { ngx_string("webhooks_oauth_app"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, oauth_app),
      NULL },

    { ngx_string("webhooks_max_hooks_per_event"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhooks_conf_set_num,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, max_hooks),
      &ngx_http_webhooks_max_hooks_bounds },

    { ngx_string("webhooks_api_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhooks_loc_conf_t, body_max),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_webhooks_module_ctx = {
    ngx_http_webhooks_add_variables,       /* preconfiguration */
    ngx_http_webhooks_init,                /* postconfiguration */

    ngx_http_webhooks_create_main_conf,    /* create main configuration */
    ngx_http_webhooks_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_webhooks_create_loc_conf,     /* create location configuration */
    ngx_http_webhooks_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_webhooks_module = {
    NGX_MODULE_V1,
    &ngx_http_webhooks_module_ctx,         /* module context */
    ngx_http_webhooks_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_webhooks_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_webhooks_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_webhooks_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    static ngx_str_t  name = ngx_string("webhooks_auth_token");

    var = ngx_http_add_variable(cf, &name, 0);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_webhooks_token_variable;

    if (ngx_http_webhooks_headers_conf(cf) != NGX_OK
        || ngx_http_webhooks_variables_add(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_delivery_conf(cf);
}


/*
 * The token GitHub clients send: "token X", "Bearer X", or HTTP Basic
 * with the token as the password, for maps and auth services to use.
 */

static ngx_int_t
ngx_http_webhooks_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char     *p, *colon;
    ngx_str_t   auth, decoded, token;

    v->not_found = 1;

    if (r->headers_in.authorization == NULL) {
        return NGX_OK;
    }

    auth = r->headers_in.authorization->value;

    for (p = auth.data; p < auth.data + auth.len && *p != ' '; p++) {
        /* void */
    }

    token.data = p;

    while (token.data < auth.data + auth.len && *token.data == ' ') {
        token.data++;
    }

    token.len = auth.data + auth.len - token.data;

    while (token.len && token.data[token.len - 1] == ' ') {
        token.len--;
    }

    if (token.len == 0) {
        return NGX_OK;
    }

    if ((p - auth.data == 5
         && ngx_strncasecmp(auth.data, (u_char *) "token", 5) == 0)
        || (p - auth.data == 6
            && ngx_strncasecmp(auth.data, (u_char *) "bearer", 6) == 0))
    {
        v->data = token.data;
        v->len = token.len;

    } else if (p - auth.data == 5
               && ngx_strncasecmp(auth.data, (u_char *) "basic", 5) == 0)
    {
        decoded.len = ngx_base64_decoded_length(token.len);
        decoded.data = ngx_pnalloc(r->pool, decoded.len);

        if (decoded.data == NULL) {
            return NGX_ERROR;
        }

        if (ngx_decode_base64(&decoded, &token) != NGX_OK) {
            return NGX_OK;
        }

        colon = ngx_strlchr(decoded.data, decoded.data + decoded.len, ':');
        if (colon == NULL || colon + 1 == decoded.data + decoded.len) {
            return NGX_OK;
        }

        v->data = colon + 1;
        v->len = decoded.data + decoded.len - v->data;

    } else {
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_init(ngx_conf_t *cf)
{
    ngx_http_webhooks_main_conf_t  *wmcf;

    if (ngx_http_webhooks_store_init() != NGX_OK) {
        return NGX_ERROR;
    }

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhooks_module);

    if (ngx_http_webhooks_address_resolver(cf, wmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_webhooks_subrequest_phases(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_subrequest_filters(cf);
}


static void *
ngx_http_webhooks_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_webhooks_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhooks_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     wmcf->redis_addr = { 0, NULL };
     *     wmcf->prefix = { 0, NULL };
     *     wmcf->used = 0;
     *     wmcf->guard.rules = NULL;
     *     wmcf->stats.zone = NULL;
     */

    wmcf->redis_connect_timeout = NGX_CONF_UNSET_MSEC;
    wmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    wmcf->redis_ssl = NGX_CONF_UNSET;
    wmcf->redis_ssl_verify = NGX_CONF_UNSET;
    wmcf->redis_cluster = NGX_CONF_UNSET;
    wmcf->redis_wait_replicas = NGX_CONF_UNSET_UINT;
    wmcf->redis_wait_timeout = NGX_CONF_UNSET_MSEC;
    wmcf->sender.concurrency = NGX_CONF_UNSET_UINT;
    wmcf->sender.retention = NGX_CONF_UNSET;
    wmcf->sender.claim_timeout = NGX_CONF_UNSET_MSEC;
    wmcf->sender.response_max = NGX_CONF_UNSET_SIZE;
    wmcf->sender.delivery_timeout = NGX_CONF_UNSET_MSEC;
    wmcf->reliability.retry = NGX_CONF_UNSET_PTR;
    wmcf->reliability.fail_span = NGX_CONF_UNSET;
    wmcf->reliability.hook_concurrency = NGX_CONF_UNSET_UINT;
    wmcf->reliability.host_concurrency = NGX_CONF_UNSET_UINT;
    wmcf->reliability.queue_max = NGX_CONF_UNSET_UINT;
    wmcf->guard.ports = NGX_CONF_UNSET_PTR;
    wmcf->secrets.keys = NGX_CONF_UNSET_PTR;

    return wmcf;
}


static char *
ngx_http_webhooks_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    u_char      *p;
    ngx_url_t   *u;
    ngx_uint_t   i;
    ngx_msec_t  *ms;

    ngx_conf_init_msec_value(wmcf->redis_connect_timeout, 1000);
    ngx_conf_init_msec_value(wmcf->redis_timeout, 2000);
    ngx_conf_init_value(wmcf->redis_ssl, 0);
    ngx_conf_init_value(wmcf->redis_ssl_verify, 1);
    ngx_conf_init_value(wmcf->redis_cluster, 0);
    ngx_conf_init_uint_value(wmcf->redis_wait_replicas, 0);
    ngx_conf_init_msec_value(wmcf->redis_wait_timeout, 1000);
    ngx_conf_init_uint_value(wmcf->sender.concurrency, 32);
    ngx_conf_init_value(wmcf->sender.retention, 3 * 24 * 60 * 60);
    ngx_conf_init_msec_value(wmcf->sender.claim_timeout, 60000);
    ngx_conf_init_size_value(wmcf->sender.response_max, 8192);
    ngx_conf_init_msec_value(wmcf->sender.delivery_timeout, 0);
    ngx_conf_init_value(wmcf->reliability.fail_span, 5 * 24 * 60 * 60);
    ngx_conf_init_uint_value(wmcf->reliability.hook_concurrency, 8);
    ngx_conf_init_uint_value(wmcf->reliability.host_concurrency, 16);
    ngx_conf_init_uint_value(wmcf->reliability.queue_max, 100000);
    ngx_conf_init_ptr_value(wmcf->secrets.keys, NULL);

    if (wmcf->secrets.keys == NULL && (wmcf->used || wmcf->sender.ctx)) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "no \"webhooks_secret_key\": hook secrets are "
                           "kept in Redis in clear text");
    }

    if (wmcf->reliability.retry == NGX_CONF_UNSET_PTR) {
        i = sizeof(ngx_http_webhooks_retry_default) / sizeof(ngx_msec_t);

        wmcf->reliability.retry = ngx_array_create(cf->pool, i,
                                                   sizeof(ngx_msec_t));
        if (wmcf->reliability.retry == NULL) {
            return NGX_CONF_ERROR;
        }

        ms = ngx_array_push_n(wmcf->reliability.retry, i);
        if (ms == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ms, ngx_http_webhooks_retry_default, sizeof(ngx_msec_t) * i);
    }

    /* a try due after its delivery expired would find nothing to send */

    ms = wmcf->reliability.retry->elts;

    for (i = 0; i < wmcf->reliability.retry->nelts; i++) {
        if (ms[i] / 1000 >= (ngx_msec_t) wmcf->sender.retention) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "a \"webhooks_delivery_retry\" delay is not "
                               "shorter than \"webhooks_delivery_retention\": "
                               "deliveries expire before they are tried "
                               "again");
            break;
        }
    }

    p = ngx_pnalloc(cf->pool, 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    wmcf->reliability.fail_span_text.data = p;
    wmcf->reliability.fail_span_text.len =
                        ngx_sprintf(p, "%T", wmcf->reliability.fail_span) - p;
    p += wmcf->reliability.fail_span_text.len;

    wmcf->reliability.queue_max_text.data = p;
    wmcf->reliability.queue_max_text.len =
                        ngx_sprintf(p, "%ui", wmcf->reliability.queue_max) - p;

    if (ngx_http_webhooks_address_init(cf, wmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (wmcf->prefix.data == NULL) {
        ngx_str_set(&wmcf->prefix, "webhooks:");
    }

    wmcf->sender.retention_text.data = ngx_pnalloc(cf->pool, NGX_TIME_T_LEN);
    if (wmcf->sender.retention_text.data == NULL) {
        return NGX_CONF_ERROR;
    }

    wmcf->sender.retention_text.len =
                            ngx_sprintf(wmcf->sender.retention_text.data, "%T",
                                        wmcf->sender.retention)
                            - wmcf->sender.retention_text.data;

    if (ngx_http_webhooks_shards(cf->pool, wmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (wmcf->redis_sentinels && wmcf->redis_cluster) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webhooks_redis_sentinel\" and "
                           "\"webhooks_redis_cluster\" exclude each other");
        return NGX_CONF_ERROR;
    }

    if (wmcf->redis_sentinels) {
        if (wmcf->redis_addr.data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webhooks_redis_pass\" and "
                               "\"webhooks_redis_sentinel\" exclude each "
                               "other");
            return NGX_CONF_ERROR;
        }

        /* for logs only: the master is asked for at run time */
        wmcf->redis_addr = wmcf->redis_master_name;

        if (ngx_http_webhooks_redis_conf(cf, wmcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (wmcf->redis_addr.data == NULL) {
        ngx_str_set(&wmcf->redis_addr, "127.0.0.1:6379");
    }

    u = &wmcf->redis_url;

    u->url = wmcf->redis_addr;
    u->default_port = 6379;

    /* names resolve here, in the master, never in a worker */

    if (ngx_parse_url(cf->pool, u) != NGX_OK) {
        if (u->err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"webhooks_redis_pass\" \"%V\"",
                               u->err, &u->url);
        }

        return NGX_CONF_ERROR;
    }

    if (u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address in \"webhooks_redis_pass\" \"%V\"",
                           &u->url);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_webhooks_redis_conf(cf, wmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_webhooks_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_webhooks_loc_conf_t  *wlcf;

    wlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhooks_loc_conf_t));
    if (wlcf == NULL) {
        return NULL;
    }

    wlcf->api = NGX_CONF_UNSET;
    wlcf->events = NGX_CONF_UNSET;
    wlcf->hub = NGX_CONF_UNSET;
    wlcf->status = NGX_CONF_UNSET;
    wlcf->base_url = NGX_CONF_UNSET_PTR;
    wlcf->web_url = NGX_CONF_UNSET_PTR;
    wlcf->login = NGX_CONF_UNSET_PTR;
    wlcf->admin = NGX_CONF_UNSET_PTR;
    wlcf->oauth_app = NGX_CONF_UNSET_PTR;
    wlcf->max_hooks = NGX_CONF_UNSET_UINT;
    wlcf->body_max = NGX_CONF_UNSET_SIZE;

    return wlcf;
}


static char *
ngx_http_webhooks_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_webhooks_loc_conf_t *prev = parent;
    ngx_http_webhooks_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);
    ngx_conf_merge_value(conf->events, prev->events, 0);
    ngx_conf_merge_value(conf->hub, prev->hub, 0);
    ngx_conf_merge_value(conf->status, prev->status, 0);
    ngx_conf_merge_ptr_value(conf->base_url, prev->base_url, NULL);
    ngx_conf_merge_ptr_value(conf->web_url, prev->web_url, NULL);
    ngx_conf_merge_ptr_value(conf->login, prev->login, NULL);
    ngx_conf_merge_ptr_value(conf->admin, prev->admin, NULL);
    ngx_conf_merge_ptr_value(conf->oauth_app, prev->oauth_app, NULL);
    ngx_conf_merge_uint_value(conf->max_hooks, prev->max_hooks,
                              NGX_HTTP_WEBHOOKS_MAX_HOOKS);
    ngx_conf_merge_size_value(conf->body_max, prev->body_max,
                              NGX_HTTP_WEBHOOKS_BODY_MAX);

    return NGX_CONF_OK;
}


static char *
ngx_http_webhooks_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_webhooks_handler(cf, cmd, conf,
                                     ngx_http_webhooks_api_handler);
}


static char *
ngx_http_webhooks_events(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_webhooks_handler(cf, cmd, conf,
                                     ngx_http_webhooks_intake_handler);
}


static char *
ngx_http_webhooks_hub(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_webhooks_handler(cf, cmd, conf,
                                     ngx_http_webhooks_hub_handler);
}


/* no arguments: the location shows the counters and the page */

static char *
ngx_http_webhooks_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhooks_loc_conf_t *wlcf = conf;

    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webhooks_main_conf_t  *wmcf;

    if (wlcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    wlcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_webhooks_status_handler;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhooks_module);
    wmcf->used = 1;

    return NGX_CONF_OK;
}


/* a flag that makes the location's content handler ours */

static char *
ngx_http_webhooks_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf,
    ngx_http_handler_pt handler)
{
    char                           *rv;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webhooks_main_conf_t  *wmcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (*(ngx_flag_t *) ((char *) conf + cmd->offset)) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = handler;

        wmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_webhooks_module);
        wmcf->used = 1;
    }

    return NGX_CONF_OK;
}


/*
 * Deliveries are subrequests of a request of this server's: only one
 * server may send them.
 */

static char *
ngx_http_webhooks_delivery_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t  *value, *uri;

    value = cf->args->elts;
    uri = (ngx_str_t *) ((char *) wmcf + cmd->offset);

    if (uri->data) {
        return "is duplicate";
    }

    if (wmcf->sender.ctx
        && wmcf->sender.ctx->srv_conf
           != ((ngx_http_conf_ctx_t *) cf->ctx)->srv_conf)
    {
        return "must be in the same server as the other "
               "\"webhooks_delivery_*location\" directive";
    }

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be a URI starting with \"/\", "
                           "not \"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *uri = value[1];
    wmcf->sender.ctx = cf->ctx;

    return NGX_CONF_OK;
}


static char *
ngx_http_webhooks_base_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) != 0
        && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) != 0
        && value[1].data[0] != '$')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must start with "
                           "\"http://\", \"https://\" or a variable, "
                           "not \"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    return ngx_http_set_complex_value_slot(cf, cmd, conf);
}


static char *
ngx_http_webhooks_conf_set_num(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                   *rv;
    ngx_int_t               n;
    ngx_command_t           plain;
    ngx_conf_num_bounds_t  *bounds;

    /* the slot runs cmd->post itself: give it none */
    plain = *cmd;
    plain.post = NULL;

    rv = ngx_conf_set_num_slot(cf, &plain, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    n = *(ngx_int_t *) ((char *) conf + cmd->offset);
    bounds = cmd->post;

    if (n < bounds->low || n > bounds->high) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be between %i and %i, not %i",
                           &cmd->name, bounds->low, bounds->high, n);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "auto" (0: from the delivery location's proxy timeouts), or a time */

static char *
ngx_http_webhooks_delivery_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t  *value;

    if (wmcf->sender.delivery_timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 4 && ngx_strncmp(value[1].data, "auto", 4) == 0) {
        wmcf->sender.delivery_timeout = 0;
        return NGX_CONF_OK;
    }

    wmcf->sender.delivery_timeout = ngx_parse_time(&value[1], 0);

    if (wmcf->sender.delivery_timeout == (ngx_msec_t) NGX_ERROR
        || wmcf->sender.delivery_timeout == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be \"auto\" or a time above 0, "
                           "not \"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "off", or the delays before each try again: "5s 5m 30m 2h" */

static char *
ngx_http_webhooks_retry(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;
    ngx_msec_t  *ms;

    if (wmcf->reliability.retry != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wmcf->reliability.retry = ngx_array_create(cf->pool, cf->args->nelts,
                                               sizeof(ngx_msec_t));
    if (wmcf->reliability.retry == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        ms = ngx_array_push(wmcf->reliability.retry);
        if (ms == NULL) {
            return NGX_CONF_ERROR;
        }

        *ms = ngx_parse_time(&value[i], 0);

        if (*ms == (ngx_msec_t) NGX_ERROR || *ms == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid delay \"%V\" in \"%V\"", &value[i],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_webhooks_deactivate_after(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t  *value;

    if (wmcf->reliability.fail_span != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        wmcf->reliability.fail_span = 0;
        return NGX_CONF_OK;
    }

    wmcf->reliability.fail_span = ngx_parse_time(&value[1], 1);

    if (wmcf->reliability.fail_span == (time_t) NGX_ERROR
        || wmcf->reliability.fail_span == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\"", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* key files: the first seals, all open */

/* webhooks_redis_wait_replicas off | number [timeout] */

static char *
ngx_http_webhooks_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_msec_t   ms;

    if (wmcf->redis_wait_replicas != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0 && cf->args->nelts == 2) {
        wmcf->redis_wait_replicas = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);
    if (n < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of replicas \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    wmcf->redis_wait_replicas = n;

    if (cf->args->nelts == 3) {
        ms = ngx_parse_time(&value[2], 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid timeout \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        wmcf->redis_wait_timeout = ms;
    }

    return NGX_CONF_OK;
}


/* webhooks_redis_sentinel name address ...: resolved here, in the master */

static char *
ngx_http_webhooks_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t   *value;
    ngx_url_t   *u;
    ngx_uint_t   i;

    if (wmcf->redis_sentinels) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wmcf->redis_master_name = value[1];

    wmcf->redis_sentinels = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                             sizeof(ngx_url_t));
    if (wmcf->redis_sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        u = ngx_array_push(wmcf->redis_sentinels);
        if (u == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(u, sizeof(ngx_url_t));

        u->url = value[i];
        u->default_port = 26379;

        if (ngx_parse_url(cf->pool, u) != NGX_OK || u->naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"%V\" of \"webhooks_redis_sentinel\"",
                               u->err ? u->err : "no address", &u->url);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_webhooks_secret_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     i, j;
    ngx_pool_cleanup_t            *cln;
    ngx_http_webhooks_aead_key_t  *keys;

    if (wmcf->secrets.keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wmcf->secrets.keys = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_http_webhooks_aead_key_t));
    if (wmcf->secrets.keys == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_webhooks_secret_wipe;
    cln->data = wmcf->secrets.keys;

    /* never grows past its first allocation: the cleanup wipes that */
    keys = ngx_array_push_n(wmcf->secrets.keys, cf->args->nelts - 1);
    if (keys == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < cf->args->nelts - 1; i++) {

        if (ngx_http_webhooks_secret_key_file(cf, &value[i + 1], &keys[i])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        for (j = 0; j < i; j++) {
            if (ngx_memcmp(keys[j].id, keys[i].id,
                           NGX_HTTP_WEBHOOKS_AEAD_ID_LEN)
                == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" and \"%V\" hold the same key",
                                   &value[j + 1], &value[i + 1]);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_webhooks_init_process(ngx_cycle_t *cycle)
{
    ngx_http_webhooks_main_conf_t  *wmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_webhooks_module);

    if (wmcf == NULL) {
        return NGX_OK;
    }

    ngx_http_webhooks_stats_init_process(wmcf->stats.zone);

    if (!wmcf->used && wmcf->sender.ctx == NULL) {
        return NGX_OK;
    }

    if (ngx_http_webhooks_redis_init(cycle, wmcf, ngx_http_webhooks_scripts,
                                     NGX_HTTP_WEBHOOKS_NSCRIPTS,
                                     wmcf->redis_cluster
                                     ? ngx_http_webhooks_redis_cluster_init
                                     : NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (wmcf->sender.ctx == NULL) {
        return NGX_OK;
    }

    if (ngx_http_webhooks_subrequest_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_queue_init(cycle, wmcf,
                                        ngx_http_webhooks_delivery_start);
}


static void
ngx_http_webhooks_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_webhooks_queue_done(cycle);
    ngx_http_webhooks_redis_done(cycle);
    ngx_http_webhooks_subrequest_done(cycle);
    ngx_http_webhooks_sign_done(cycle);
}
