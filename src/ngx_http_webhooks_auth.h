
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_AUTH_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_webhooks_module.h"


typedef struct {
    ngx_str_t                    login;
    ngx_str_t                    app;      /* empty for a user */
    ngx_uint_t                   admin;
} ngx_http_webhooks_identity_t;


ngx_int_t ngx_http_webhooks_auth_identify(ngx_http_request_t *r,
    ngx_http_webhooks_loc_conf_t *wlcf, ngx_http_webhooks_identity_t *who);
ngx_int_t ngx_http_webhooks_auth_may_see(ngx_http_webhooks_identity_t *who,
    ngx_str_t *app);
json_t *ngx_http_webhooks_auth_creator(ngx_http_webhooks_identity_t *who);


#endif /* _NGX_HTTP_WEBHOOKS_AUTH_H_INCLUDED_ */
