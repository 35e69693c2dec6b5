
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * Hook bodies: the first byte picks the request ('c' create, 'u' update,
 * 'k' the config update), the second the scope ('o' an org, else a
 * repository), the rest is the JSON body the API would have read.
 * Updates apply to a stored hook with a secret and two events.
 */


#include "fuzz_support.h"
#include "ngx_http_webhooks_address.h"
#include "ngx_http_webhooks_hook.h"
#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_reply.h"


static void fuzz_check_hook(ngx_http_request_t *r,
    ngx_http_webhooks_route_t *rt, json_t *hook);


static const char  fuzz_stored[] =
    "{\"name\":\"web\",\"active\":true,\"events\":[\"push\",\"issues\"],"
    "\"config\":{\"content_type\":\"json\",\"insecure_ssl\":\"0\","
    "\"url\":\"https://example.com/hook\",\"secret\":\"s3cret\"},"
    "\"created_at\":\"2011-09-06T17:26:27Z\","
    "\"updated_at\":\"2011-09-06T17:26:27Z\","
    "\"creator\":{\"login\":\"octocat\",\"app\":\"\"}}";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        op, *copy;
    json_t                       *body, *stored, *hook;
    ngx_int_t                     rc;
    ngx_pool_t                   *pool;
    ngx_http_request_t           *r;
    ngx_http_webhooks_fault_t     fault;
    ngx_http_webhooks_route_t     rt;
    ngx_http_webhooks_identity_t  who;

    if (size < 2) {
        return 0;
    }

    pool = fuzz_pool();
    r = fuzz_request(pool, NGX_HTTP_POST);

    op = data[0];

    ngx_memzero(&rt, sizeof(ngx_http_webhooks_route_t));

    if (data[1] == 'o') {
        rt.scope = NGX_HTTP_WEBHOOKS_ORG;
        ngx_str_set(&rt.name, "Octo-Org");
        ngx_str_set(&rt.key, "octo-org");

    } else {
        rt.scope = NGX_HTTP_WEBHOOKS_REPO;
        ngx_str_set(&rt.name, "Octocat/Hello-World");
        ngx_str_set(&rt.key, "octocat/hello-world");
    }

    rt.hook_id = 1;
    ngx_str_set(&rt.hook, "1");
    rt.doc_url = "https://docs.github.com/rest/repos/webhooks";

    ngx_memzero(&who, sizeof(ngx_http_webhooks_identity_t));
    ngx_str_set(&who.login, "octocat");
    who.admin = 1;

    /* as the API's body handler: nothing is {}, else a JSON object */

    size -= 2;
    copy = ngx_pnalloc(pool, size ? size : 1);
    fuzz_assert(copy != NULL);
    ngx_memcpy(copy, data + 2, size);

    body = size ? ngx_http_webhooks_json_load(pool, copy, size)
                : ngx_http_webhooks_json_own(pool, json_object());

    if (body == NULL || !json_is_object(body)) {
        fuzz_done(pool);
        return 0;
    }

    stored = ngx_http_webhooks_json_load(pool, (u_char *) fuzz_stored,
                                         sizeof(fuzz_stored) - 1);
    fuzz_assert(stored != NULL);

    ngx_memzero(&fault, sizeof(ngx_http_webhooks_fault_t));

    switch (op) {

    case 'c':
        rt.op = NGX_HTTP_WEBHOOKS_OP_CREATE;
        hook = ngx_http_webhooks_hook_create(r, &rt, &who, body, &fault);
        break;

    case 'u':
        rt.op = NGX_HTTP_WEBHOOKS_OP_UPDATE;
        hook = ngx_http_webhooks_hook_update(r, &rt, stored, body, &fault);
        break;

    default:
        rt.op = NGX_HTTP_WEBHOOKS_OP_UPDATE_CONFIG;
        hook = ngx_http_webhooks_hook_update_config(r, &rt, stored, body,
                                                    &fault);
        break;
    }

    if (hook == NULL) {
        /* refused, never failed: a client's body is no server error */
        fuzz_assert(fault.status == NGX_HTTP_WEBHOOKS_UNPROCESSABLE
                    || fault.status == NGX_HTTP_BAD_REQUEST);
        fuzz_assert(fault.message != NULL);

        rc = ngx_http_webhooks_reply_error(r, fault.status, fault.message,
                                           rt.doc_url, fault.errors);
        fuzz_assert(rc == NGX_OK);
        fuzz_assert(fuzz_response.status == fault.status);
        fuzz_check_response();

    } else {
        fuzz_assert(fault.status == 0);
        fuzz_check_hook(r, &rt, hook);
    }

    fuzz_done(pool);

    return 0;
}


/* an accepted hook holds only what the validators let through */

static void
fuzz_check_hook(ngx_http_request_t *r, ngx_http_webhooks_route_t *rt,
    json_t *hook)
{
    char        *dump;
    size_t       i, len;
    json_t      *e, *doc, *config;
    u_char      *p, *end;
    ngx_str_t    s, view, base, id;

    config = json_object_get(hook, "config");
    fuzz_assert(json_is_object(config));

    fuzz_assert(ngx_http_webhooks_json_str(config, "url", &s) == NGX_OK);
    fuzz_assert(ngx_http_webhooks_hook_valid_url(&s) == NGX_OK);

    /* an IPv4 host is stored as the dotted quad every tool reads */
    fuzz_assert(ngx_http_webhooks_address_url_canonical(r->pool, &s, &view)
                == NGX_OK);
    fuzz_assert(view.data == s.data);

    fuzz_assert(ngx_http_webhooks_json_str(config, "content_type", &s)
                == NGX_OK);
    fuzz_assert(s.len == 4 && (ngx_strncmp(s.data, "json", 4) == 0
                               || ngx_strncmp(s.data, "form", 4) == 0));

    json_array_foreach(json_object_get(hook, "events"), i, e) {
        fuzz_assert(json_is_string(e));
        s.data = (u_char *) json_string_value(e);
        s.len = json_string_length(e);
        fuzz_assert(ngx_http_webhooks_hook_valid_event(&s) == NGX_OK);
    }

    fuzz_assert(json_is_boolean(json_object_get(hook, "active")));

    /* what is stored reads back */

    dump = json_dumps(hook, JSON_COMPACT);
    fuzz_assert(dump != NULL);
    doc = json_loads(dump, 0, NULL);
    fuzz_assert(doc != NULL);
    json_decref(doc);
    free(dump);

    /* and what is shown of it is JSON that fits its buffer */

    fuzz_assert(ngx_http_webhooks_hook_view(r, rt, hook, &view) == NGX_OK);

    ngx_str_set(&base, "https://api.example.com");
    ngx_str_set(&id, "1");

    len = ngx_http_webhooks_hook_output_len(&base, &rt->name, &id, &view,
                                            NULL);
    p = ngx_pnalloc(r->pool, len);
    fuzz_assert(p != NULL);

    end = ngx_http_webhooks_hook_output(p, rt, &base, &rt->name, &id, &view,
                                        NULL);
    fuzz_assert((size_t) (end - p) <= len);

    doc = json_loadb((char *) p, end - p, 0, NULL);
    fuzz_assert(json_is_object(doc));
    json_decref(doc);

    doc = ngx_http_webhooks_hook_config_render(hook);
    fuzz_assert(doc != NULL);
    fuzz_assert(json_object_get(doc, "secret") == NULL
                || ngx_strcmp(json_string_value(json_object_get(doc,
                                                                "secret")),
                              "********") == 0);
    json_decref(doc);
}
