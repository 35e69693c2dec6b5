
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_ADDRESS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_ADDRESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"


/* a hook URL taken apart for the sender */
typedef struct {
    ngx_str_t                    scheme;     /* "http" or "https" */
    ngx_str_t                    host;       /* Host: name[:port] as given */
    ngx_str_t                    name;       /* no brackets, no port */
    in_port_t                    port;
    ngx_str_t                    rest;       /* path and query, never "" */
} ngx_http_webhooks_url_t;


typedef struct ngx_http_webhooks_aim_s  ngx_http_webhooks_aim_t;

typedef void (*ngx_http_webhooks_aim_handler_pt)(ngx_http_webhooks_aim_t *a);

/*
 * Where a request to a URL may go: the handler gets the checked address
 * in target, or why not in blocked, as GitHub words it.
 */
struct ngx_http_webhooks_aim_s {
    ngx_pool_t                  *pool;
    ngx_http_webhooks_main_conf_t  *wmcf;
    ngx_str_t                    url;
    ngx_str_t                    what;       /* for log lines */
    ngx_http_webhooks_aim_handler_pt  handler;
    void                        *data;

    ngx_http_webhooks_url_t      parts;
    ngx_str_t                    target;     /* what proxy_pass gets */
    ngx_str_t                    uri;        /* its path and query */
    ngx_addr_t                   addr;       /* the checked address */
    const char                  *blocked;
    ngx_resolver_ctx_t          *resolving;
};


char *ngx_http_webhooks_address_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhooks_address_ports(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webhooks_address_init(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf);
ngx_int_t ngx_http_webhooks_address_resolver(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf);

ngx_int_t ngx_http_webhooks_address_aim(ngx_http_webhooks_aim_t *a);
void ngx_http_webhooks_address_aim_cancel(ngx_http_webhooks_aim_t *a);

ngx_int_t ngx_http_webhooks_address_url_parse(ngx_str_t *url,
    ngx_http_webhooks_url_t *u);
ngx_int_t ngx_http_webhooks_address_check(
    ngx_http_webhooks_main_conf_t *wmcf, struct sockaddr *sa,
    const char **why);
ngx_int_t ngx_http_webhooks_address_port_allowed(
    ngx_http_webhooks_main_conf_t *wmcf, in_port_t port);
ngx_int_t ngx_http_webhooks_address_literal(ngx_str_t *name, ngx_addr_t *addr,
    struct sockaddr_in6 *buf);
ngx_int_t ngx_http_webhooks_address_url_canonical(ngx_pool_t *pool,
    ngx_str_t *url, ngx_str_t *out);
ngx_int_t ngx_http_webhooks_address_url_allowed(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_str_t *url, u_char *msg,
    size_t len);


#endif /* _NGX_HTTP_WEBHOOKS_ADDRESS_H_INCLUDED_ */
