
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#ifndef _FUZZ_SUPPORT_H_INCLUDED_
#define _FUZZ_SUPPORT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_webhooks_module.h"


/* what the module answered: the harness stands in for the filters */

typedef struct {
    ngx_uint_t                   headers;   /* times the header was sent */
    ngx_uint_t                   status;
    ngx_str_t                    body;
    ngx_int_t                    finalized; /* rc, or -1000 if never */
} fuzz_response_t;


#define FUZZ_NOT_FINALIZED  -1000


#define fuzz_assert(expr)                                                   \
    if (!(expr)) {                                                          \
        fuzz_fail(__FILE__, __LINE__, #expr);                               \
    }


extern fuzz_response_t                 fuzz_response;
extern ngx_http_webhooks_main_conf_t   fuzz_wmcf;
extern ngx_http_webhooks_loc_conf_t    fuzz_wlcf;


ngx_pool_t *fuzz_pool(void);
ngx_http_request_t *fuzz_request(ngx_pool_t *pool, ngx_uint_t method);
ngx_int_t fuzz_header_in(ngx_http_request_t *r, char *name, u_char *value,
    size_t len);
ngx_int_t fuzz_body(ngx_http_request_t *r, u_char *data, size_t len);
void fuzz_check_response(void);
void fuzz_done(ngx_pool_t *pool);
void fuzz_fail(const char *file, int line, const char *expr);


#endif /* _FUZZ_SUPPORT_H_INCLUDED_ */
