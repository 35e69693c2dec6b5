
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_module.h"
#include "ngx_http_webhooks_address.h"


/*
 * Where deliveries may go.  Anyone who may create a hook may make this
 * server send requests, so a hook's host is resolved by the sender
 * itself, every address it resolves to is checked, and the subrequest
 * connects to the address that was checked: a name cannot point
 * elsewhere between the check and the connect (DNS rebinding).
 *
 * The operator's webhooks_delivery_allow and webhooks_delivery_deny
 * rules come first, in their order, and the first that matches wins;
 * then the built-in deny list; an address no rule matches is allowed.
 * Allowing one address thus never lifts the protection for another.
 */


typedef struct {
    ngx_cidr_t                   cidr;
    ngx_uint_t                   deny;
    const char                  *why;
} ngx_http_webhooks_rule_t;


typedef struct {
    in_port_t                    low;
    in_port_t                    high;
} ngx_http_webhooks_ports_t;


typedef struct {
    ngx_str_t                    cidr;
    const char                  *why;
} ngx_http_webhooks_denied_t;


/*
 * What no delivery may reach unless the operator allows it: every block
 * of IANA's IPv4 and IPv6 Special-Purpose Address Registries that is not
 * globally reachable, multicast, and the IPv6 forms that carry an IPv4
 * address.  The first match gives the reason: narrow blocks come first.
 */

static ngx_http_webhooks_denied_t  ngx_http_webhooks_address_denied[] = {
    { ngx_string("0.0.0.0/8"), "an unspecified address" },
    { ngx_string("10.0.0.0/8"), "a private address" },
    { ngx_string("100.64.0.0/10"), "a carrier-grade NAT address" },
    { ngx_string("127.0.0.0/8"), "a loopback address" },
    { ngx_string("169.254.0.0/16"), "a link-local address" },
    { ngx_string("172.16.0.0/12"), "a private address" },
    { ngx_string("192.0.0.0/24"), "a reserved address" },
    { ngx_string("192.0.2.0/24"), "a documentation address" },
    { ngx_string("192.88.99.0/24"), "a 6to4 relay address" },
    { ngx_string("192.168.0.0/16"), "a private address" },
    { ngx_string("198.18.0.0/15"), "a benchmarking address" },
    { ngx_string("198.51.100.0/24"), "a documentation address" },
    { ngx_string("203.0.113.0/24"), "a documentation address" },
    { ngx_string("224.0.0.0/4"), "a multicast address" },
    { ngx_string("240.0.0.0/4"), "a reserved address" },
#if (NGX_HAVE_INET6)
    { ngx_string("::/128"), "an unspecified address" },
    { ngx_string("::1/128"), "a loopback address" },
    /* IPv4-mapped ones are checked as IPv4; IPv4-compatible are gone */
    { ngx_string("::/96"), "an IPv4-compatible address" },
    { ngx_string("::ffff:0:0:0/96"), "an IPv4-translated address" },
    { ngx_string("64:ff9b::/96"), "a NAT64 address" },
    { ngx_string("64:ff9b:1::/48"), "a NAT64 address" },
    { ngx_string("100::/64"), "a discard address" },
    { ngx_string("100:0:0:1::/64"), "a dummy address" },
    { ngx_string("2001::/32"), "a Teredo address" },
    { ngx_string("2001:2::/48"), "a benchmarking address" },
    { ngx_string("2001:10::/28"), "an ORCHID address" },
    { ngx_string("2001:20::/28"), "an ORCHID address" },
    { ngx_string("2001::/23"), "an IETF protocol assignment address" },
    { ngx_string("2001:db8::/32"), "a documentation address" },
    { ngx_string("2002::/16"), "a 6to4 address" },
    { ngx_string("3fff::/20"), "a documentation address" },
    { ngx_string("5f00::/16"), "a segment routing address" },
    { ngx_string("fc00::/7"), "a private address" },
    { ngx_string("fe80::/10"), "a link-local address" },
    { ngx_string("fec0::/10"), "a site-local address" },
    { ngx_string("ff00::/8"), "a multicast address" },
#endif
    { ngx_null_string, NULL }
};


static ngx_int_t ngx_http_webhooks_address_rule_add(ngx_conf_t *cf,
    ngx_array_t *rules, ngx_str_t *text, ngx_uint_t deny, const char *why);
static ngx_int_t ngx_http_webhooks_address_rule_match(
    ngx_http_webhooks_rule_t *rule, struct sockaddr *sa);
static void ngx_http_webhooks_address_resolved(ngx_resolver_ctx_t *ctx);
static ngx_int_t ngx_http_webhooks_address_aimed(ngx_http_webhooks_aim_t *a,
    struct sockaddr *sa, socklen_t socklen);
static void ngx_http_webhooks_address_blocked(ngx_http_webhooks_aim_t *a,
    const char *fmt, ...);
static ngx_int_t ngx_http_webhooks_address_ipv4(u_char *p, size_t len,
    in_addr_t *addr);
static ngx_int_t ngx_http_webhooks_address_ipv4_number(u_char *p, size_t len,
    uint64_t *n);


/* webhooks_delivery_allow and webhooks_delivery_deny: CIDRs, or "all" */

char *
ngx_http_webhooks_address_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, deny;

    value = cf->args->elts;
    deny = (value[0].data[sizeof("webhooks_delivery_") - 1] == 'd');

    if (wmcf->guard.rules == NULL) {
        wmcf->guard.rules = ngx_array_create(cf->pool, 8,
                                             sizeof(ngx_http_webhooks_rule_t));
        if (wmcf->guard.rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_webhooks_address_rule_add(cf, wmcf->guard.rules,
                                               &value[i], deny,
                                               deny ? "denied by the server's "
                                                      "configuration"
                                                    : NULL)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* webhooks_delivery_ports any | port | low-high ... */

char *
ngx_http_webhooks_address_ports(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhooks_main_conf_t *wmcf = conf;

    u_char                     *dash;
    ngx_int_t                   low, high;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_webhooks_ports_t  *range;

    if (wmcf->guard.ports != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "any") == 0) {
        wmcf->guard.ports = NULL;
        return NGX_CONF_OK;
    }

    wmcf->guard.ports = ngx_array_create(cf->pool, cf->args->nelts,
                                         sizeof(ngx_http_webhooks_ports_t));
    if (wmcf->guard.ports == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        dash = ngx_strlchr(value[i].data, value[i].data + value[i].len, '-');

        if (dash) {
            low = ngx_atoi(value[i].data, dash - value[i].data);
            high = ngx_atoi(dash + 1, value[i].data + value[i].len - dash - 1);

        } else {
            low = ngx_atoi(value[i].data, value[i].len);
            high = low;
        }

        if (low < 1 || high > 65535 || low > high) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid port \"%V\" in \"%V\"", &value[i],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        range = ngx_array_push(wmcf->guard.ports);
        if (range == NULL) {
            return NGX_CONF_ERROR;
        }

        range->low = (in_port_t) low;
        range->high = (in_port_t) high;
    }

    return NGX_CONF_OK;
}


/* the operator's rules, then the built-in ones */

ngx_int_t
ngx_http_webhooks_address_init(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    ngx_http_webhooks_denied_t  *d;

    if (wmcf->guard.ports == NGX_CONF_UNSET_PTR) {
        wmcf->guard.ports = NULL;
    }

    if (wmcf->guard.rules == NULL) {
        wmcf->guard.rules = ngx_array_create(cf->pool, 32,
                                             sizeof(ngx_http_webhooks_rule_t));
        if (wmcf->guard.rules == NULL) {
            return NGX_ERROR;
        }
    }

    for (d = ngx_http_webhooks_address_denied; d->why; d++) {
        if (ngx_http_webhooks_address_rule_add(cf, wmcf->guard.rules,
                                               &d->cidr, 1, d->why)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* run after the servers merged: the sender resolves with theirs */

ngx_int_t
ngx_http_webhooks_address_resolver(ngx_conf_t *cf,
    ngx_http_webhooks_main_conf_t *wmcf)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (wmcf->sender.ctx == NULL) {
        return NGX_OK;
    }

    clcf = wmcf->sender.ctx->loc_conf[ngx_http_core_module.ctx_index];

    if (clcf->resolver == NULL || clcf->resolver->connections.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "no \"resolver\" in the server of "
                           "\"webhooks_delivery_location\": only hooks "
                           "whose URL is an address can be delivered to");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_address_rule_add(ngx_conf_t *cf, ngx_array_t *rules,
    ngx_str_t *text, ngx_uint_t deny, const char *why)
{
    ngx_int_t                  rc;
    ngx_http_webhooks_rule_t  *rule;

    if (text->len == 3 && ngx_strcmp(text->data, "all") == 0) {
        rule = ngx_array_push(rules);
        if (rule == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(rule, sizeof(ngx_http_webhooks_rule_t));
        rule->cidr.family = AF_INET;
        rule->deny = deny;
        rule->why = why;

#if (NGX_HAVE_INET6)
        rule = ngx_array_push(rules);
        if (rule == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(rule, sizeof(ngx_http_webhooks_rule_t));
        rule->cidr.family = AF_INET6;
        rule->deny = deny;
        rule->why = why;
#endif

        return NGX_OK;
    }

    rule = ngx_array_push(rules);
    if (rule == NULL) {
        return NGX_ERROR;
    }

    rule->deny = deny;
    rule->why = why;

    rc = ngx_ptocidr(text, &rule->cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address or network \"%V\"", text);
        return NGX_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless", text);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webhooks_address_check(ngx_http_webhooks_main_conf_t *wmcf,
    struct sockaddr *sa, const char **why)
{
    ngx_uint_t                 i;
    ngx_http_webhooks_rule_t  *rule;
#if (NGX_HAVE_INET6)
    u_char                    *p;
    struct sockaddr_in         sin;
    struct sockaddr_in6       *sin6;

    /* ::ffff:a.b.c.d reaches a.b.c.d: it is what gets checked */

    if (sa->sa_family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) sa;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            p = sin6->sin6_addr.s6_addr;

            ngx_memzero(&sin, sizeof(struct sockaddr_in));
            sin.sin_family = AF_INET;
            ngx_memcpy(&sin.sin_addr.s_addr, p + 12, 4);

            sa = (struct sockaddr *) &sin;
        }
    }
#endif

    rule = wmcf->guard.rules->elts;

    for (i = 0; i < wmcf->guard.rules->nelts; i++) {
        if (ngx_http_webhooks_address_rule_match(&rule[i], sa) != NGX_OK) {
            continue;
        }

        if (rule[i].deny) {
            *why = rule[i].why;
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhooks_address_rule_match(ngx_http_webhooks_rule_t *rule,
    struct sockaddr *sa)
{
    in_addr_t             addr;
#if (NGX_HAVE_INET6)
    u_char               *p;
    ngx_uint_t            n;
    struct sockaddr_in6  *sin6;
#endif

    if (rule->cidr.family != sa->sa_family) {
        return NGX_DECLINED;
    }

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        p = sin6->sin6_addr.s6_addr;

        for (n = 0; n < 16; n++) {
            if ((p[n] & rule->cidr.u.in6.mask.s6_addr[n])
                != rule->cidr.u.in6.addr.s6_addr[n])
            {
                return NGX_DECLINED;
            }
        }

        return NGX_OK;
#endif

    case AF_INET:
        addr = ((struct sockaddr_in *) sa)->sin_addr.s_addr;

        if ((addr & rule->cidr.u.in.mask) != rule->cidr.u.in.addr) {
            return NGX_DECLINED;
        }

        return NGX_OK;

    default:
        return NGX_DECLINED;
    }
}


ngx_int_t
ngx_http_webhooks_address_port_allowed(ngx_http_webhooks_main_conf_t *wmcf,
    in_port_t port)
{
    ngx_uint_t                  i;
    ngx_http_webhooks_ports_t  *range;

    if (wmcf->guard.ports == NULL) {
        return NGX_OK;
    }

    range = wmcf->guard.ports->elts;

    for (i = 0; i < wmcf->guard.ports->nelts; i++) {
        if (port >= range[i].low && port <= range[i].high) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * A URL that ngx_http_webhooks_hook_valid_url() took: scheme, the authority
 * without user info, and the rest up to a fragment, which is not sent
 */

ngx_int_t
ngx_http_webhooks_address_url_parse(ngx_str_t *url, ngx_http_webhooks_url_t *u)
{
    u_char     *p, *last, *host, *end, *colon, *hash;
    ngx_int_t   port;

    p = url->data;
    last = p + url->len;

    if (url->len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        ngx_str_set(&u->scheme, "http");
        u->port = 80;
        p += 7;

    } else if (url->len > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        ngx_str_set(&u->scheme, "https");
        u->port = 443;
        p += 8;

    } else {
        return NGX_DECLINED;
    }

    for (end = p; end < last && *end != '/' && *end != '?' && *end != '#';
         end++)
    {
        /* void */
    }

    for (host = end; host > p && host[-1] != '@'; host--) {
        /* void */
    }

    if (host == end) {
        return NGX_DECLINED;
    }

    u->host.data = host;
    u->host.len = end - host;

    colon = NULL;

    if (*host == '[') {
        p = ngx_strlchr(host, end, ']');
        if (p == NULL || p == host + 1) {
            return NGX_DECLINED;
        }

        u->name.data = host + 1;
        u->name.len = p - host - 1;

        if (p + 1 < end) {
            if (p[1] != ':') {
                return NGX_DECLINED;
            }

            colon = p + 1;
        }

    } else {
        colon = ngx_strlchr(host, end, ':');

        u->name.data = host;
        u->name.len = (colon ? colon : end) - host;

        if (u->name.len == 0) {
            return NGX_DECLINED;
        }
    }

    if (colon) {
        port = ngx_atoi(colon + 1, end - colon - 1);

        if (port < 1 || port > 65535) {
            return NGX_DECLINED;
        }

        u->port = (in_port_t) port;
    }

    hash = ngx_strlchr(end, last, '#');

    u->rest.data = end;
    u->rest.len = (hash ? hash : last) - end;

    return NGX_OK;
}


/*
 * An address written in the URL, or a name that is the host itself
 * (RFC 6761: "localhost" and its subdomains never leave it):
 * NGX_OK with the address, NGX_DECLINED for a name to resolve,
 * NGX_ERROR for a host that is neither (WHATWG: "1.2.3.256").
 */

ngx_int_t
ngx_http_webhooks_address_literal(ngx_str_t *name, ngx_addr_t *addr,
    struct sockaddr_in6 *buf)
{
    size_t               len;
    in_addr_t            inaddr;
    struct sockaddr_in  *sin;
#if (NGX_HAVE_INET6)
    struct in6_addr      in6;
#endif

    ngx_memzero(buf, sizeof(struct sockaddr_in6));

    addr->sockaddr = (struct sockaddr *) buf;
    addr->name = *name;

    /* "localhost." is "localhost" too */
    len = name->len;

    if (len && name->data[len - 1] == '.') {
        len--;
    }

    if ((len == 9 && ngx_strncasecmp(name->data, (u_char *) "localhost", 9)
                     == 0)
        || (len > 10
            && ngx_strncasecmp(name->data + len - 10,
                               (u_char *) ".localhost", 10) == 0))
    {
        inaddr = htonl(INADDR_LOOPBACK);
        goto inet;
    }

    switch (ngx_http_webhooks_address_ipv4(name->data, name->len, &inaddr)) {

    case NGX_OK:
        goto inet;

    case NGX_ERROR:
        return NGX_ERROR;

    default:
        break;
    }

#if (NGX_HAVE_INET6)
    if (ngx_inet6_addr(name->data, name->len, in6.s6_addr) == NGX_OK) {
        buf->sin6_family = AF_INET6;
        buf->sin6_addr = in6;
        addr->socklen = sizeof(struct sockaddr_in6);
        return NGX_OK;
    }
#endif

    return NGX_DECLINED;

inet:

    sin = (struct sockaddr_in *) buf;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = inaddr;
    addr->socklen = sizeof(struct sockaddr_in);

    return NGX_OK;
}


/*
 * What can be known when a hook is written: its port, and its address
 * if the URL gives one.  A name is checked when a delivery resolves it.
 */

ngx_int_t
ngx_http_webhooks_address_url_allowed(ngx_http_webhooks_main_conf_t *wmcf,
    ngx_str_t *url, u_char *msg, size_t len)
{
    const char               *why;
    ngx_addr_t                addr;
    struct sockaddr_in6       buf;
    ngx_http_webhooks_url_t   u;

    if (ngx_http_webhooks_address_url_parse(url, &u) != NGX_OK) {
        return NGX_OK;
    }

    if (ngx_http_webhooks_address_port_allowed(wmcf, u.port) != NGX_OK) {
        *ngx_snprintf(msg, len - 1, "url port %d is not allowed",
                      (int) u.port) = '\0';
        return NGX_DECLINED;
    }

    switch (ngx_http_webhooks_address_literal(&u.name, &addr, &buf)) {

    case NGX_DECLINED:
        return NGX_OK;

    case NGX_ERROR:
        *ngx_snprintf(msg, len - 1, "url host %V is not a valid IPv4 "
                      "address", &u.name) = '\0';
        return NGX_DECLINED;

    default:
        break;
    }

    if (ngx_http_webhooks_address_check(wmcf, addr.sockaddr, &why)
        != NGX_OK)
    {
        *ngx_snprintf(msg, len - 1, "url is not supported because it isn't "
                      "reachable over the public Internet (%V is %s)",
                      &u.name, why) = '\0';
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A URL whose host is an IPv4 address written in any form the WHATWG URL
 * standard reads ("2130706433", "0x7f.1", "0177.0.0.1", "127.0.0.1.")
 * gets it as the dotted quad every tool reads the same way: NGX_OK with
 * the URL (the same one if nothing changed), NGX_DECLINED for a host
 * that ends in a number but is no address ("1.2.3.256").
 */

ngx_int_t
ngx_http_webhooks_address_url_canonical(ngx_pool_t *pool, ngx_str_t *url,
    ngx_str_t *out)
{
    u_char                   *p, *tail;
    in_addr_t                 inaddr;
    ngx_int_t                 rc;
    u_char                    quad[NGX_INET_ADDRSTRLEN];
    size_t                    len;
    ngx_str_t                 in;
    ngx_http_webhooks_url_t   u;

    *out = *url;

    if (ngx_http_webhooks_address_url_parse(url, &u) != NGX_OK
        || u.name.data[-1] == '[')
    {
        return NGX_OK;
    }

    rc = ngx_http_webhooks_address_ipv4(u.name.data, u.name.len, &inaddr);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        return NGX_DECLINED;
    }

    len = ngx_inet_ntop(AF_INET, &inaddr, quad, NGX_INET_ADDRSTRLEN);

    if (len == u.name.len && ngx_strncmp(quad, u.name.data, len) == 0) {
        return NGX_OK;
    }

    /* out may be url */
    in = *url;
    tail = u.name.data + u.name.len;

    out->len = in.len - u.name.len + len;
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, in.data, u.name.data - in.data);
    p = ngx_cpymem(p, quad, len);
    ngx_memcpy(p, tail, in.data + in.len - tail);

    return NGX_OK;
}

/*
 * Where a request to a.url goes: a literal address is checked as it is,
 * a name is resolved, with the resolver of the server deliveries run in,
 * and every address it has is checked, so that one denied answer among
 * allowed ones cannot be picked later.  A name that does not resolve
 * blocks the request: the check is never skipped.  NGX_OK: the handler
 * is called, maybe before this returns; with neither target nor blocked
 * when memory ran out.
 */

ngx_int_t
ngx_http_webhooks_address_aim(ngx_http_webhooks_aim_t *a)
{
    ngx_addr_t                 addr;
    ngx_resolver_ctx_t        *ctx, temp;
    struct sockaddr_in6        buf;
    ngx_http_core_loc_conf_t  *clcf;

    if (ngx_http_webhooks_address_url_parse(&a->url, &a->parts) != NGX_OK) {
        ngx_http_webhooks_address_blocked(a, "Invalid URL");
        return NGX_OK;
    }

    if (ngx_http_webhooks_address_port_allowed(a->wmcf, a->parts.port)
        != NGX_OK)
    {
        ngx_http_webhooks_address_blocked(a,
                                          "Blocked: port %d is not allowed",
                                          (int) a->parts.port);
        return NGX_OK;
    }

    switch (ngx_http_webhooks_address_literal(&a->parts.name, &addr, &buf)) {

    case NGX_OK:
        return ngx_http_webhooks_address_aimed(a, addr.sockaddr,
                                               addr.socklen);

    case NGX_ERROR:
        ngx_http_webhooks_address_blocked(a, "Invalid URL");
        return NGX_OK;

    default:
        break;
    }

    clcf = a->wmcf->sender.ctx->loc_conf[ngx_http_core_module.ctx_index];

    temp.name = a->parts.name;

    ctx = ngx_resolve_start(clcf->resolver, &temp);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx == NGX_NO_RESOLVER) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "webhooks: no \"resolver\" for the delivery server, "
                      "\"%V\" cannot be resolved", &a->parts.name);
        ngx_http_webhooks_address_blocked(a, "failed to resolve host");
        return NGX_OK;
    }

    ctx->name = a->parts.name;
    ctx->handler = ngx_http_webhooks_address_resolved;
    ctx->data = a;
    ctx->timeout = clcf->resolver_timeout;

    a->resolving = ctx;

    /* the handler may run before this returns, with a cached answer */

    if (ngx_resolve_name(ctx) != NGX_OK) {
        a->resolving = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* for the pool's cleanup: the handler is not called any more */

void
ngx_http_webhooks_address_aim_cancel(ngx_http_webhooks_aim_t *a)
{
    if (a->resolving) {
        ngx_resolve_name_done(a->resolving);
        a->resolving = NULL;
    }
}


static void
ngx_http_webhooks_address_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_webhooks_aim_t *a = ctx->data;

    u_char                text[NGX_SOCKADDR_STRLEN];
    size_t                len;
    ngx_uint_t            i;
    socklen_t             socklen;
    const char           *why;
    struct sockaddr_in6   buf;

    a->resolving = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "webhooks: %V: \"%V\" could not be "
                      "resolved (%i: %s)", &a->what, &ctx->name,
                      ctx->state, ngx_resolver_strerror(ctx->state));

        ngx_resolve_name_done(ctx);
        ngx_http_webhooks_address_blocked(a, "failed to resolve host");
        return;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        if (ngx_http_webhooks_address_check(a->wmcf, ctx->addrs[i].sockaddr,
                                            &why)
            != NGX_OK)
        {
            len = ngx_sock_ntop(ctx->addrs[i].sockaddr,
                                ctx->addrs[i].socklen, text,
                                NGX_SOCKADDR_STRLEN, 0);

            ngx_resolve_name_done(ctx);
            ngx_http_webhooks_address_blocked(a,
                                          "Blocked: %V resolves to %*s, %s",
                                          &a->parts.name, len, text, why);
            return;
        }
    }

    /* all allowed: any one will do, as nginx's own round robin would */

    i = ngx_random() % ctx->naddrs;

    socklen = ngx_min(ctx->addrs[i].socklen,
                      (socklen_t) sizeof(struct sockaddr_in6));
    ngx_memcpy(&buf, ctx->addrs[i].sockaddr, socklen);

    ngx_resolve_name_done(ctx);

    if (ngx_http_webhooks_address_aimed(a, (struct sockaddr *) &buf, socklen)
        != NGX_OK)
    {
        /* neither target nor blocked */
        a->handler(a);
    }
}


/* the checked address, in the URL proxy_pass gets */

static ngx_int_t
ngx_http_webhooks_address_aimed(ngx_http_webhooks_aim_t *a,
    struct sockaddr *sa, socklen_t socklen)
{
    u_char                    *p, text[NGX_SOCKADDR_STRLEN];
    size_t                     len;
    const char                *why;
    ngx_http_webhooks_url_t   *u;

    u = &a->parts;

    ngx_inet_set_port(sa, u->port);
    len = ngx_sock_ntop(sa, socklen, text, NGX_SOCKADDR_STRLEN, 1);

    if (ngx_http_webhooks_address_check(a->wmcf, sa, &why) != NGX_OK) {
        /* the address without its port */
        len = ngx_sock_ntop(sa, socklen, text, NGX_SOCKADDR_STRLEN, 0);
        ngx_http_webhooks_address_blocked(a, "Blocked: %*s is %s", len, text,
                                          why);
        return NGX_OK;
    }

    /* proxy_pass with a variable sends its own URI if the URL has none */

    a->target.len = u->scheme.len + sizeof("://") - 1 + len + 1
                    + u->rest.len;
    a->target.data = ngx_pnalloc(a->pool, a->target.len);
    if (a->target.data == NULL) {
        a->target.len = 0;
        return NGX_ERROR;
    }

    p = ngx_sprintf(a->target.data, "%V://%*s", &u->scheme, len, text);

    a->uri.data = p;

    if (u->rest.len == 0 || u->rest.data[0] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, u->rest.data, u->rest.len);
    a->target.len = p - a->target.data;
    a->uri.len = p - a->uri.data;

    /* for webhooks_delivery_peer: the same address, as a peer */

    a->addr.sockaddr = ngx_palloc(a->pool, socklen);
    if (a->addr.sockaddr == NULL) {
        a->target.len = 0;
        return NGX_ERROR;
    }

    ngx_memcpy(a->addr.sockaddr, sa, socklen);
    a->addr.socklen = socklen;
    a->addr.name.data = a->target.data + u->scheme.len + sizeof("://") - 1;
    a->addr.name.len = len;

    a->handler(a);

    return NGX_OK;
}


/* a request that never leaves, with why */

static void
ngx_http_webhooks_address_blocked(ngx_http_webhooks_aim_t *a,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(a->pool, 256);

    if (p) {
        va_start(args, fmt);
        *ngx_vslprintf(p, p + 255, fmt, args) = '\0';
        va_end(args);

        a->blocked = (const char *) p;

    } else {
        a->blocked = "failed to connect to host";
    }

    a->handler(a);
}



/*
 * The WHATWG URL standard's IPv4 parser: a host whose last label is a
 * number is an address, in one to four parts, each decimal, octal
 * ("0" first) or hex ("0x"), the last filling the bytes left; a trailing
 * dot is dropped.  NGX_DECLINED: a name; NGX_ERROR: no valid address.
 */

static ngx_int_t
ngx_http_webhooks_address_ipv4(u_char *p, size_t len, in_addr_t *addr)
{
    u_char      *last, *part, *dot;
    uint64_t     n[4], v;
    ngx_uint_t   i, parts;

    last = p + len;

    /* an IPv6 address, out of its brackets */
    if (ngx_strlchr(p, last, ':')) {
        return NGX_DECLINED;
    }

    if (len > 1 && last[-1] == '.') {
        last--;
    }

    /* ends in a number: the last label all digits, or a valid number */

    for (part = last; part > p && part[-1] != '.'; part--) {
        /* void */
    }

    if (part == last) {
        return NGX_DECLINED;
    }

    for (dot = part; dot < last && *dot >= '0' && *dot <= '9'; dot++) {
        /* void */
    }

    if (dot != last
        && ngx_http_webhooks_address_ipv4_number(part, last - part, &v)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    parts = 0;
    part = p;

    for ( ;; ) {
        dot = ngx_strlchr(part, last, '.');

        if (parts == 4) {
            return NGX_ERROR;
        }

        if (ngx_http_webhooks_address_ipv4_number(part,
                                                  (dot ? dot : last) - part,
                                                  &n[parts++])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (dot == NULL) {
            break;
        }

        part = dot + 1;
    }

    for (i = 0; i < parts - 1; i++) {
        if (n[i] > 255) {
            return NGX_ERROR;
        }
    }

    if (n[parts - 1] >= ((uint64_t) 1 << (8 * (5 - parts)))) {
        return NGX_ERROR;
    }

    v = n[parts - 1];

    for (i = 0; i < parts - 1; i++) {
        v += n[i] << (8 * (3 - i));
    }

    *addr = htonl((uint32_t) v);

    return NGX_OK;
}


/* one part: decimal, "0" and octal, "0x" and hex ("0x" alone is 0) */

static ngx_int_t
ngx_http_webhooks_address_ipv4_number(u_char *p, size_t len, uint64_t *n)
{
    u_char     *last, ch;
    ngx_uint_t  radix, d;

    if (len == 0) {
        return NGX_ERROR;
    }

    last = p + len;
    radix = 10;

    if (len >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        radix = 16;
        p += 2;

    } else if (len >= 2 && p[0] == '0') {
        radix = 8;
        p++;
    }

    *n = 0;

    for ( /* void */ ; p < last; p++) {
        ch = *p;

        if (ch >= '0' && ch <= '9') {
            d = ch - '0';

        } else if (radix == 16 && (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') {
            d = (ch | 0x20) - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        if (d >= radix) {
            return NGX_ERROR;
        }

        /* past 2^32 it is too large whatever follows */
        if (*n <= 0xffffffff) {
            *n = *n * radix + d;
        }
    }

    return NGX_OK;
}
