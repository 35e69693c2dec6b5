
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _NGX_HTTP_WEBHOOKS_REDIS_CLUSTER_H_INCLUDED_
#define _NGX_HTTP_WEBHOOKS_REDIS_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_redis.h"


/* an ngx_http_webhooks_redis_router_pt: the handle routes by slot */
ngx_int_t ngx_http_webhooks_redis_cluster_init(ngx_http_webhooks_redis_t *rd);


#endif /* _NGX_HTTP_WEBHOOKS_REDIS_CLUSTER_H_INCLUDED_ */
