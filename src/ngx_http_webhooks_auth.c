
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_auth.h"
#include "ngx_http_webhooks_json.h"


/*
 * nginx authenticates (auth_request, maps, ...); the operator hands us
 * the result in variables, and we apply GitHub's rules to it.
 */

static ngx_int_t ngx_http_webhooks_auth_eval(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value);


ngx_int_t
ngx_http_webhooks_auth_identify(ngx_http_request_t *r,
    ngx_http_webhooks_loc_conf_t *wlcf, ngx_http_webhooks_identity_t *who)
{
    ngx_str_t  admin;

    if (ngx_http_webhooks_auth_eval(r, wlcf->login, &who->login) != NGX_OK
        || ngx_http_webhooks_auth_eval(r, wlcf->oauth_app, &who->app) != NGX_OK
        || ngx_http_webhooks_auth_eval(r, wlcf->admin, &admin) != NGX_OK)
    {
        return NGX_ERROR;
    }

    who->admin = (admin.len == 1 && admin.data[0] == '1')
                 || (admin.len == 2 && ngx_strncasecmp(admin.data,
                                                (u_char *) "on", 2) == 0)
                 || (admin.len == 3 && ngx_strncasecmp(admin.data,
                                                (u_char *) "yes", 3) == 0)
                 || (admin.len == 4 && ngx_strncasecmp(admin.data,
                                                (u_char *) "true", 4) == 0);

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_auth_eval(ngx_http_request_t *r, ngx_http_complex_value_t *cv,
    ngx_str_t *value)
{
    if (cv == NULL) {
        ngx_str_null(value);
        return NGX_OK;
    }

    return ngx_http_complex_value(r, cv, value);
}


/*
 * OAuth apps see only the hooks they created; users see none of the
 * hooks that apps created.
 */

ngx_int_t
ngx_http_webhooks_auth_may_see(ngx_http_webhooks_identity_t *who,
    ngx_str_t *app)
{
    return app->len == who->app.len
           && (app->len == 0
               || ngx_strncmp(app->data, who->app.data, app->len) == 0);
}


json_t *
ngx_http_webhooks_auth_creator(ngx_http_webhooks_identity_t *who)
{
    return json_pack("{s:s%,s:s%}",
                     "login", who->login.data, who->login.len,
                     "app", who->app.data ? (char *) who->app.data : "",
                     who->app.len);
}
