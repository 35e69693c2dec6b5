
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_PING_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_PING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_uint_t                   repo;           /* or an org's hook */
    ngx_str_t                    base;           /* of the API */
    ngx_str_t                    web;            /* of html_url and such */
    ngx_str_t                    name;           /* "owner/repo" or "org" */
    ngx_str_t                    login;          /* the sender */
    ngx_str_t                    hook;           /* as the API shows it */
    ngx_str_t                    scope_object;   /* taken in, or "" */
    ngx_str_t                    sender_object;
    ngx_str_t                    scope_id;       /* made up */
    ngx_str_t                    sender_id;
    ngx_str_t                    owner_id;
    ngx_str_t                    target_id;      /* out */
} ngx_http_webhooks_ping_t;


ngx_int_t ngx_http_webhooks_ping_payload(ngx_http_request_t *r,
    ngx_http_webhooks_ping_t *ping, ngx_str_t *out);


#endif /* _NGX_HTTP_WEBHOOKS_PING_H_INCLUDED_ */
