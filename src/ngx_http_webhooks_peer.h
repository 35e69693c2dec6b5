
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_PEER_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_PEER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


char *ngx_http_webhooks_peer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_WEBHOOKS_PEER_H_INCLUDED_ */
