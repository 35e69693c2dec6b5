
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include <jansson.h>

#include "ngx_http_webhooks_json_scan.h"


/*
 * JSON text read where it lies, without jansson's tree: a check that
 * accepts exactly what json_loadb(text, len, 0) accepts, then members
 * found in the checked text.  The intake reads the few members of an
 * event it needs this way: a tree of the whole payload costs a malloc per
 * value and a copy of every byte.  The member functions expect text the
 * check accepted.
 */


#define NGX_HTTP_WEBHOOKS_JSON_SCAN_DEPTH  JSON_PARSER_MAX_DEPTH
#define NGX_HTTP_WEBHOOKS_JSON_SCAN_KEY    128
#define NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES   0x0101010101010101ULL

#define ngx_http_webhooks_json_scan_ws(c)                                    \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')
#define ngx_http_webhooks_json_scan_digit(c)  ((c) >= '0' && (c) <= '9')


static u_char *ngx_http_webhooks_json_scan_space(u_char *p, u_char *end);
static u_char *ngx_http_webhooks_json_scan_str(u_char *p, u_char *end);
static ngx_int_t ngx_http_webhooks_json_scan_hex(u_char *p, u_char *end);
static u_char *ngx_http_webhooks_json_scan_utf8(u_char *p, u_char *end);
static ngx_int_t ngx_http_webhooks_json_scan_number(ngx_pool_t *pool,
    u_char **pp, u_char *end);
static u_char *ngx_http_webhooks_json_scan_digits(u_char *p, u_char *end);
static u_char *ngx_http_webhooks_json_scan_skip(u_char *p, u_char *end);
static u_char *ngx_http_webhooks_json_scan_end(u_char *p, u_char *end);
static u_char *ngx_http_webhooks_json_scan_unescape(u_char *dst, u_char *src,
    u_char *end);
static ngx_uint_t ngx_http_webhooks_json_scan_key(u_char *s, u_char *e,
    const char *key, size_t len);


/*
 * NGX_OK for JSON that jansson takes (an object or an array, nested at
 * most JSON_PARSER_MAX_DEPTH deep, strict UTF-8, no "\u0000", integers
 * within int64 and reals within double), NGX_DECLINED for anything else.
 */

ngx_int_t
ngx_http_webhooks_json_scan_check(ngx_pool_t *pool, u_char *p, size_t len)
{
    u_char      *end, c;
    ngx_int_t    rc;
    ngx_uint_t   depth;
    u_char       object[NGX_HTTP_WEBHOOKS_JSON_SCAN_DEPTH / 8];

    if (len == 0) {
        return NGX_DECLINED;
    }

    end = p + len;

    p = ngx_http_webhooks_json_scan_space(p, end);

    if (p == end || (*p != '{' && *p != '[')) {
        return NGX_DECLINED;
    }

    /* depth: the containers open around the value at p */

    depth = 0;

value:

    if (p == end || depth >= NGX_HTTP_WEBHOOKS_JSON_SCAN_DEPTH) {
        return NGX_DECLINED;
    }

    switch (*p) {

    case '{':
    case '[':
        c = *p;

        if (c == '{') {
            object[depth / 8] |= (u_char) (1 << (depth % 8));

        } else {
            object[depth / 8] &= (u_char) ~(1 << (depth % 8));
        }

        depth++;

        p = ngx_http_webhooks_json_scan_space(p + 1, end);
        if (p == end) {
            return NGX_DECLINED;
        }

        if (*p == (c == '{' ? '}' : ']')) {
            p++;
            depth--;
            goto next;
        }

        if (c == '{') {
            goto key;
        }

        goto value;

    case '"':
        p = ngx_http_webhooks_json_scan_str(p, end);
        break;

    case 't':
        p = (end - p >= 4 && ngx_strncmp(p, "true", 4) == 0) ? p + 4 : NULL;
        break;

    case 'f':
        p = (end - p >= 5 && ngx_strncmp(p, "false", 5) == 0) ? p + 5 : NULL;
        break;

    case 'n':
        p = (end - p >= 4 && ngx_strncmp(p, "null", 4) == 0) ? p + 4 : NULL;
        break;

    default:
        rc = ngx_http_webhooks_json_scan_number(pool, &p, end);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (p == NULL) {
        return NGX_DECLINED;
    }

next:

    p = ngx_http_webhooks_json_scan_space(p, end);

    if (depth == 0) {
        return p == end ? NGX_OK : NGX_DECLINED;
    }

    if (p == end) {
        return NGX_DECLINED;
    }

    c = (object[(depth - 1) / 8] & (1 << ((depth - 1) % 8))) ? '}' : ']';

    if (*p == c) {
        p++;
        depth--;
        goto next;
    }

    if (*p != ',') {
        return NGX_DECLINED;
    }

    p = ngx_http_webhooks_json_scan_space(p + 1, end);

    if (c == '}') {
        goto key;
    }

    goto value;

key:

    if (p == end || *p != '"') {
        return NGX_DECLINED;
    }

    p = ngx_http_webhooks_json_scan_str(p, end);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_http_webhooks_json_scan_space(p, end);

    if (p == end || *p != ':') {
        return NGX_DECLINED;
    }

    p = ngx_http_webhooks_json_scan_space(p + 1, end);
    goto value;
}


static u_char *
ngx_http_webhooks_json_scan_space(u_char *p, u_char *end)
{
    while (p < end && ngx_http_webhooks_json_scan_ws(*p)) {
        p++;
    }

    return p;
}


/* a string at its opening quote: past its closing one, or NULL */

static u_char *
ngx_http_webhooks_json_scan_str(u_char *p, u_char *end)
{
    uint64_t   w;
    ngx_int_t  v;

    p++;

    for ( ;; ) {

        /* 8 plain bytes at a time: none below 0x20, past 0x7f, '"' or '\\' */

        while (end - p >= 8) {
            ngx_memcpy(&w, p, 8);

            if (((w - NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES * 0x20)
                 | ((w ^ (NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES * '"'))
                    - NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES)
                 | ((w ^ (NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES * '\\'))
                    - NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES)
                 | w)
                & NGX_HTTP_WEBHOOKS_JSON_SCAN_ONES * 0x80)
            {
                break;
            }

            p += 8;
        }

        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        {
            p++;
        }

        if (p == end) {
            return NULL;
        }

        if (*p == '"') {
            return p + 1;
        }

        if (*p >= 0x80) {
            p = ngx_http_webhooks_json_scan_utf8(p, end);
            if (p == NULL) {
                return NULL;
            }

            continue;
        }

        if (*p != '\\' || end - p < 2) {
            /* a control character, or a lone backslash at the end */
            return NULL;
        }

        switch (p[1]) {

        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            continue;

        case 'u':
            break;

        default:
            return NULL;
        }

        /* jansson takes no U+0000 and no lone surrogate */

        v = ngx_http_webhooks_json_scan_hex(p + 2, end);
        if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff)) {
            return NULL;
        }

        p += 6;

        if (v >= 0xd800 && v <= 0xdbff) {
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') {
                return NULL;
            }

            v = ngx_http_webhooks_json_scan_hex(p + 2, end);
            if (v < 0xdc00 || v > 0xdfff) {
                return NULL;
            }

            p += 6;
        }
    }
}


/* the 4 hex digits of a \u escape, or -1 */

static ngx_int_t
ngx_http_webhooks_json_scan_hex(u_char *p, u_char *end)
{
    u_char      c;
    ngx_int_t   v;
    ngx_uint_t  i;

    if (end - p < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            v = v * 16 + c - '0';

        } else {
            c |= 0x20;

            if (c < 'a' || c > 'f') {
                return -1;
            }

            v = v * 16 + c - 'a' + 10;
        }
    }

    return v;
}


/* a multibyte UTF-8 sequence: no overlong form, surrogate or past U+10FFFF */

static u_char *
ngx_http_webhooks_json_scan_utf8(u_char *p, u_char *end)
{
    uint32_t    v;
    ngx_uint_t  i, n;

    if (*p < 0xc2 || *p > 0xf4) {
        return NULL;
    }

    if (*p < 0xe0) {
        n = 2;
        v = *p & 0x1f;

    } else if (*p < 0xf0) {
        n = 3;
        v = *p & 0x0f;

    } else {
        n = 4;
        v = *p & 0x07;
    }

    if ((size_t) (end - p) < n) {
        return NULL;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return NULL;
        }

        v = (v << 6) | (p[i] & 0x3f);
    }

    if (v > 0x10ffff
        || (v >= 0xd800 && v <= 0xdfff)
        || (n == 3 && v < 0x800)
        || (n == 4 && v < 0x10000))
    {
        return NULL;
    }

    return p + n;
}


/*
 * A number at *pp, moved past it: NGX_DECLINED when it is no JSON number
 * or is one jansson refuses, an integer past int64 or a real past double
 */

static ngx_int_t
ngx_http_webhooks_json_scan_number(ngx_pool_t *pool, u_char **pp, u_char *end)
{
    u_char      *p, *start, *digits, *buf;
    size_t       n;
    double       d;
    ngx_uint_t   real;
    const char  *max;
    u_char       local[64];

    start = *pp;
    p = start;

    if (*p == '-') {
        p++;
    }

    digits = p;

    if (p < end && *p == '0') {
        p++;

    } else {
        p = ngx_http_webhooks_json_scan_digits(p, end);
        if (p == NULL) {
            return NGX_DECLINED;
        }
    }

    real = 0;

    if (p < end && *p == '.') {
        p = ngx_http_webhooks_json_scan_digits(p + 1, end);
        if (p == NULL) {
            return NGX_DECLINED;
        }

        real = 1;
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        p = ngx_http_webhooks_json_scan_digits(p, end);
        if (p == NULL) {
            return NGX_DECLINED;
        }

        real = 1;
    }

    *pp = p;

    if (!real) {
        /* strtoll's range, with no leading zeros to mind */

        n = p - digits;

        if (n < 19) {
            return NGX_OK;
        }

        if (n > 19) {
            return NGX_DECLINED;
        }

        max = (digits == start) ? "9223372036854775807"
                                : "9223372036854775808";

        return ngx_strncmp(digits, max, 19) > 0 ? NGX_DECLINED : NGX_OK;
    }

    /* as jansson: strtod, refused when it overflows */

    n = p - start;

    if (n < sizeof(local)) {
        buf = local;

    } else {
        buf = ngx_pnalloc(pool, n + 1);
        if (buf == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(buf, start, n);
    buf[n] = '\0';

    errno = 0;
    d = strtod((char *) buf, NULL);

    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a checked value that is an object */

ngx_uint_t
ngx_http_webhooks_json_scan_object(ngx_str_t *value)
{
    u_char  *p, *end;

    p = value->data;
    end = p + value->len;

    p = value->len ? ngx_http_webhooks_json_scan_space(p, end) : end;

    return p < end && *p == '{';
}


/* one digit or more: past them, or NULL */

static u_char *
ngx_http_webhooks_json_scan_digits(u_char *p, u_char *end)
{
    if (p == end || !ngx_http_webhooks_json_scan_digit(*p)) {
        return NULL;
    }

    while (p < end && ngx_http_webhooks_json_scan_digit(*p)) {
        p++;
    }

    return p;
}


/*
 * The members named keys[0..n-1] (21 bytes at most each) of a checked
 * object, in one pass: values[i] is the text of the last member so named,
 * as jansson keeps it, or empty.  NGX_DECLINED when the text is no object.
 */

ngx_int_t
ngx_http_webhooks_json_scan_members(ngx_str_t *object, const char **keys,
    ngx_str_t *values, ngx_uint_t n)
{
    u_char      *p, *end, *k, *e, *v;
    size_t       lens[NGX_HTTP_WEBHOOKS_JSON_SCAN_KEYS];
    ngx_uint_t   i, escaped;

    for (i = 0; i < n; i++) {
        ngx_str_null(&values[i]);
        lens[i] = ngx_strlen(keys[i]);
    }

    if (!ngx_http_webhooks_json_scan_object(object)) {
        return NGX_DECLINED;
    }

    p = object->data;
    end = p + object->len;

    p = ngx_http_webhooks_json_scan_space(p, end);
    p = ngx_http_webhooks_json_scan_space(p + 1, end);

    if (*p == '}') {
        return NGX_OK;
    }

    for ( ;; ) {
        k = p;
        p = ngx_http_webhooks_json_scan_end(p, end);
        e = p - 1;

        /* the colon */
        p = ngx_http_webhooks_json_scan_space(p, end) + 1;
        p = ngx_http_webhooks_json_scan_space(p, end);

        v = p;
        p = ngx_http_webhooks_json_scan_skip(p, end);

        k++;
        escaped = (ngx_strlchr(k, e, '\\') != NULL);

        for (i = 0; i < n; i++) {
            if (escaped
                ? ngx_http_webhooks_json_scan_key(k, e, keys[i], lens[i])
                : (size_t) (e - k) == lens[i]
                  && ngx_memcmp(k, keys[i], lens[i]) == 0)
            {
                values[i].data = v;
                values[i].len = p - v;
            }
        }

        p = ngx_http_webhooks_json_scan_space(p, end);

        if (*p != ',') {
            return NGX_OK;
        }

        p = ngx_http_webhooks_json_scan_space(p + 1, end);
    }
}


/* the member named key of a checked object: NGX_DECLINED if none */

ngx_int_t
ngx_http_webhooks_json_scan_member(ngx_str_t *object, const char *key,
    ngx_str_t *value)
{
    (void) ngx_http_webhooks_json_scan_members(object, &key, value, 1);

    return value->len ? NGX_OK : NGX_DECLINED;
}


/* a checked value at p: past its end */

static u_char *
ngx_http_webhooks_json_scan_skip(u_char *p, u_char *end)
{
    ngx_uint_t  depth;

    if (*p == '"') {
        return ngx_http_webhooks_json_scan_end(p, end);
    }

    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']'
               && !ngx_http_webhooks_json_scan_ws(*p))
        {
            p++;
        }

        return p;
    }

    depth = 0;

    for ( ;; ) {
        switch (*p) {

        case '"':
            p = ngx_http_webhooks_json_scan_end(p, end);
            continue;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (--depth == 0) {
                return p + 1;
            }

            break;
        }

        p++;
    }
}


/* a checked string at its opening quote: past its closing one */

static u_char *
ngx_http_webhooks_json_scan_end(u_char *p, u_char *end)
{
    u_char  *q, *b;

    for (p++; /* void */; p = q + 1) {
        q = memchr(p, '"', end - p);

        /* escaped when an odd number of backslashes come before it */

        for (b = q; b > p && b[-1] == '\\'; b--) { /* void */ }

        if ((q - b) % 2 == 0) {
            return q + 1;
        }
    }
}


/* a key's text with escapes, from s to e, against key */

static ngx_uint_t
ngx_http_webhooks_json_scan_key(u_char *s, u_char *e, const char *key,
    size_t len)
{
    u_char  *last;
    u_char   buf[NGX_HTTP_WEBHOOKS_JSON_SCAN_KEY];

    /* 6 bytes of text at most for each byte of a key: none of ours */

    if (e - s > NGX_HTTP_WEBHOOKS_JSON_SCAN_KEY) {
        return 0;
    }

    last = ngx_http_webhooks_json_scan_unescape(buf, s, e);

    return (size_t) (last - buf) == len && ngx_memcmp(buf, key, len) == 0;
}


/*
 * A checked string value as text: pointing into the JSON when it has no
 * escapes, else unescaped into the pool; NGX_DECLINED when it is no
 * string.
 */

ngx_int_t
ngx_http_webhooks_json_scan_string(ngx_pool_t *pool, ngx_str_t *value,
    ngx_str_t *out)
{
    u_char  *s, *e;

    ngx_str_null(out);

    if (value->len < 2 || value->data[0] != '"') {
        return NGX_DECLINED;
    }

    s = value->data + 1;
    e = value->data + value->len - 1;

    if (ngx_strlchr(s, e, '\\') == NULL) {
        out->data = s;
        out->len = e - s;
        return NGX_OK;
    }

    out->data = ngx_pnalloc(pool, e - s);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_webhooks_json_scan_unescape(out->data, s, e)
               - out->data;

    return NGX_OK;
}


/* no longer than its text: "\uXXXX" or a pair of them is 4 bytes at most */

static u_char *
ngx_http_webhooks_json_scan_unescape(u_char *dst, u_char *src, u_char *end)
{
    uint32_t  v;

    while (src < end) {

        if (*src != '\\') {
            *dst++ = *src++;
            continue;
        }

        src++;

        switch (*src++) {

        case 'b':
            *dst++ = '\b';
            continue;

        case 'f':
            *dst++ = '\f';
            continue;

        case 'n':
            *dst++ = '\n';
            continue;

        case 'r':
            *dst++ = '\r';
            continue;

        case 't':
            *dst++ = '\t';
            continue;

        case 'u':
            break;

        default:
            /* '"', '\\' and '/' */
            *dst++ = src[-1];
            continue;
        }

        v = ngx_http_webhooks_json_scan_hex(src, end);
        src += 4;

        if (v >= 0xd800 && v <= 0xdbff) {
            v = 0x10000 + ((v - 0xd800) << 10)
                + (ngx_http_webhooks_json_scan_hex(src + 2, end) - 0xdc00);
            src += 6;
        }

        if (v < 0x80) {
            *dst++ = (u_char) v;

        } else if (v < 0x800) {
            *dst++ = (u_char) (0xc0 | (v >> 6));
            *dst++ = (u_char) (0x80 | (v & 0x3f));

        } else if (v < 0x10000) {
            *dst++ = (u_char) (0xe0 | (v >> 12));
            *dst++ = (u_char) (0x80 | ((v >> 6) & 0x3f));
            *dst++ = (u_char) (0x80 | (v & 0x3f));

        } else {
            *dst++ = (u_char) (0xf0 | (v >> 18));
            *dst++ = (u_char) (0x80 | ((v >> 12) & 0x3f));
            *dst++ = (u_char) (0x80 | ((v >> 6) & 0x3f));
            *dst++ = (u_char) (0x80 | (v & 0x3f));
        }
    }

    return dst;
}


/* a checked integer's text as jansson prints it, "" for anything else */

void
ngx_http_webhooks_json_scan_integer(ngx_str_t *value, ngx_str_t *out)
{
    u_char  *p, *end;

    ngx_str_set(out, "");

    if (value->len == 0) {
        return;
    }

    p = value->data;
    end = p + value->len;

    if (*p != '-' && !ngx_http_webhooks_json_scan_digit(*p)) {
        return;
    }

    for (p++; p < end; p++) {
        if (!ngx_http_webhooks_json_scan_digit(*p)) {
            return;
        }
    }

    if (value->len == 2 && value->data[0] == '-' && value->data[1] == '0') {
        /* jansson reads -0 as the integer 0 */
        ngx_str_set(out, "0");
        return;
    }

    *out = *value;
}
