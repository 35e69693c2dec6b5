
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_DELIVERY_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_DELIVERY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_queue.h"


ngx_int_t ngx_http_webhooks_delivery_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_webhooks_delivery_start(
    ngx_http_webhooks_main_conf_t *wmcf, ngx_http_webhooks_queue_entry_t *e);
ngx_int_t ngx_http_webhooks_delivery_hook_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v);
ngx_int_t ngx_http_webhooks_delivery_scope(ngx_http_request_t *r,
    ngx_http_variable_value_t *v);


#endif /* _NGX_HTTP_WEBHOOKS_DELIVERY_H_INCLUDED_ */
