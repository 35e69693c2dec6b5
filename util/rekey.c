
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


/*
 * webhooks-rekey: seals every hook secret kept in Redis with the first
 * key given, opening those sealed before with any key given, as nginx's
 * webhooks_secret_key does (src/ngx_http_webhooks_aead.c).  Secrets kept
 * clear are sealed too; with --clear, every secret is made clear again.
 * Each hook is written back only if it did not change since it was read,
 * so nginx may keep serving meanwhile.  A blocking tool: no event loop.
 *
 *   webhooks-rekey [--redis host:port | unix:/path] [--prefix webhooks:]
 *                  [--clear] key-file [key-file ...]
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "ngx_http_webhooks_aead.h"


#define REKEY_TRIES  10


typedef struct {
    redisContext                  *redis;
    ngx_http_webhooks_aead_key_t  *keys;
    size_t                         nkeys;
    int                            clear;

    unsigned long                  hooks;
    unsigned long                  changed;
    unsigned long                  failed;
} rekey_t;


static int rekey_key_file(const char *name, ngx_http_webhooks_aead_key_t *key);
static redisContext *rekey_connect(const char *addr);
static int rekey_nodes(rekey_t *rk, const char *pattern);
static int rekey_seen(redisReply *slots, size_t n, redisReply *node);
static int rekey_scan(rekey_t *rk, const char *pattern);
static int rekey_hooks(rekey_t *rk, const char *hooks, size_t len);
static int rekey_hook(rekey_t *rk, const char *hooks, size_t hooks_len,
    const char *id, const char *value, size_t len);
static int rekey_field(rekey_t *rk, json_t *config, const char *id,
    const char *field, const char *sealed_field);
static void rekey_usage(void);


/* compare and set: the hook is written only if it is as it was read */

static const char  rekey_cas_lua[] =
    "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then\n"
    "  return 0\n"
    "end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
    "return 1\n";


int
main(int argc, char **argv)
{
    int           i;
    char         *pattern, *p;
    const char   *addr, *prefix;
    size_t        j, k;
    rekey_t       rk;

    addr = "127.0.0.1:6379";
    prefix = "webhooks:";
    memset(&rk, 0, sizeof(rekey_t));

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {

        if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc) {
            addr = argv[++i];

        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            prefix = argv[++i];

        } else if (strcmp(argv[i], "--clear") == 0) {
            rk.clear = 1;

        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;

        } else {
            rekey_usage();
            return 2;
        }
    }

    if (i == argc) {
        rekey_usage();
        return 2;
    }

    rk.nkeys = argc - i;
    rk.keys = calloc(rk.nkeys, sizeof(ngx_http_webhooks_aead_key_t));
    if (rk.keys == NULL) {
        perror("webhooks-rekey");
        return 1;
    }

    for (j = 0; j < rk.nkeys; j++) {
        if (rekey_key_file(argv[i + j], &rk.keys[j]) != 0) {
            return 1;
        }

        for (k = 0; k < j; k++) {
            if (memcmp(rk.keys[k].id, rk.keys[j].id,
                       NGX_HTTP_WEBHOOKS_AEAD_ID_LEN)
                == 0)
            {
                fprintf(stderr, "webhooks-rekey: \"%s\" and \"%s\" hold the "
                        "same key\n", argv[i + k], argv[i + j]);
                return 1;
            }
        }
    }

    rk.redis = rekey_connect(addr);
    if (rk.redis == NULL) {
        return 1;
    }

    /* "<prefix>{o:<org>}:hooks" and "<prefix>{r:<owner>/<repo>}:hooks" */

    pattern = malloc(2 * strlen(prefix) + sizeof("{*}:hooks"));
    if (pattern == NULL) {
        perror("webhooks-rekey");
        return 1;
    }

    for (p = pattern; *prefix; prefix++) {
        if (strchr("*?[]\\", *prefix)) {
            *p++ = '\\';
        }

        *p++ = *prefix;
    }

    strcpy(p, "{*}:hooks");

    if (rekey_nodes(&rk, pattern) != 0) {
        return 1;
    }

    printf("webhooks-rekey: %lu hooks, %lu changed (%s), %lu failed\n",
           rk.hooks, rk.changed,
           rk.clear ? "made clear" : "sealed with the first key", rk.failed);

    ngx_http_webhooks_aead_wipe(rk.keys,
                                rk.nkeys
                                * sizeof(ngx_http_webhooks_aead_key_t));
    redisFree(rk.redis);
    free(rk.keys);
    free(pattern);

    return rk.failed ? 1 : 0;
}


/*
 * On a Redis Cluster every master holds the hooks of its slots: each is
 * scanned, and its hooks written, on a connection of its own.
 */

static int
rekey_nodes(rekey_t *rk, const char *pattern)
{
    int           rc;
    char          addr[300];
    size_t        i;
    redisReply   *slots, *node;
    redisContext *seed;

    slots = redisCommand(rk->redis, "CLUSTER SLOTS");

    if (slots == NULL || slots->type != REDIS_REPLY_ARRAY) {
        /* not a cluster: "ERR This instance has cluster support disabled" */
        if (slots) {
            freeReplyObject(slots);
        }

        return rekey_scan(rk, pattern);
    }

    seed = rk->redis;
    rc = 0;

    for (i = 0; rc == 0 && i < slots->elements; i++) {
        if (slots->element[i]->type != REDIS_REPLY_ARRAY
            || slots->element[i]->elements < 3)
        {
            continue;
        }

        /* a master serves a range each: the ranges of one come one by one */
        node = slots->element[i]->element[2];

        if (node->type != REDIS_REPLY_ARRAY || node->elements < 2
            || node->element[0]->type != REDIS_REPLY_STRING
            || node->element[1]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        if (rekey_seen(slots, i, node)) {
            continue;
        }

        if (strchr(node->element[0]->str, ':')) {
            snprintf(addr, sizeof(addr), "[%s]:%lld", node->element[0]->str,
                     node->element[1]->integer);

        } else {
            snprintf(addr, sizeof(addr), "%s:%lld", node->element[0]->str,
                     node->element[1]->integer);
        }

        rk->redis = rekey_connect(addr);
        if (rk->redis == NULL) {
            rc = -1;
            break;
        }

        rc = rekey_scan(rk, pattern);
        redisFree(rk->redis);
    }

    rk->redis = seed;
    freeReplyObject(slots);

    return rc;
}


/* a master seen in an earlier range of CLUSTER SLOTS */

static int
rekey_seen(redisReply *slots, size_t n, redisReply *node)
{
    size_t       i;
    redisReply  *m;

    for (i = 0; i < n; i++) {
        if (slots->element[i]->type != REDIS_REPLY_ARRAY
            || slots->element[i]->elements < 3)
        {
            continue;
        }

        m = slots->element[i]->element[2];

        if (m->type == REDIS_REPLY_ARRAY && m->elements >= 2
            && m->element[1]->type == REDIS_REPLY_INTEGER
            && m->element[1]->integer == node->element[1]->integer
            && m->element[0]->type == REDIS_REPLY_STRING
            && strcmp(m->element[0]->str, node->element[0]->str) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
rekey_scan(rekey_t *rk, const char *pattern)
{
    size_t       j;
    const char  *cursor;
    redisReply  *reply, *keys;

    cursor = "0";
    reply = NULL;

    do {
        keys = redisCommand(rk->redis, "SCAN %s MATCH %s COUNT 100 TYPE hash",
                            cursor, pattern);

        if (keys == NULL || keys->type != REDIS_REPLY_ARRAY
            || keys->elements != 2
            || keys->element[0]->type != REDIS_REPLY_STRING
            || keys->element[1]->type != REDIS_REPLY_ARRAY)
        {
            fprintf(stderr, "webhooks-rekey: SCAN failed: %s\n",
                    keys ? (keys->type == REDIS_REPLY_ERROR ? keys->str
                                                            : "bad reply")
                         : rk->redis->errstr);
            return -1;
        }

        for (j = 0; j < keys->element[1]->elements; j++) {
            if (keys->element[1]->element[j]->type == REDIS_REPLY_STRING
                && rekey_hooks(rk, keys->element[1]->element[j]->str,
                               keys->element[1]->element[j]->len)
                   != 0)
            {
                return -1;
            }
        }

        if (reply) {
            freeReplyObject(reply);
        }

        reply = keys;
        cursor = keys->element[0]->str;

    } while (strcmp(cursor, "0") != 0);

    freeReplyObject(reply);

    return 0;
}


static int
rekey_key_file(const char *name, ngx_http_webhooks_aead_key_t *key)
{
    int      rc;
    FILE    *f;
    size_t   n;
    u_char   buf[128];

    f = fopen(name, "r");
    if (f == NULL) {
        fprintf(stderr, "webhooks-rekey: cannot open \"%s\": %s\n", name,
                strerror(errno));
        return -1;
    }

    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);

    rc = 0;

    if (n == sizeof(buf) || ngx_http_webhooks_aead_key(key, buf, n) != 0) {
        fprintf(stderr, "webhooks-rekey: \"%s\" must hold a key of 64 hex "
                "digits, as \"openssl rand -hex 32\" writes\n", name);
        rc = -1;
    }

    ngx_http_webhooks_aead_wipe(buf, sizeof(buf));

    return rc;
}


/* as webhooks_redis_pass takes it: host:port, [v6]:port or unix:/path */

static redisContext *
rekey_connect(const char *addr)
{
    int              port;
    char            *host, *colon;
    redisContext    *c;
    struct timeval   tv = { 10, 0 };

    if (strncmp(addr, "unix:", 5) == 0) {
        c = redisConnectUnixWithTimeout(addr + 5, tv);

    } else {
        host = strdup(addr);
        if (host == NULL) {
            perror("webhooks-rekey");
            return NULL;
        }

        colon = strrchr(host, ':');
        port = 6379;

        if (colon && strchr(colon, ']') == NULL) {
            *colon = '\0';
            port = atoi(colon + 1);
        }

        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            host[strlen(host) - 1] = '\0';
            memmove(host, host + 1, strlen(host));
        }

        c = redisConnectWithTimeout(host, port, tv);
        free(host);
    }

    if (c == NULL || c->err) {
        fprintf(stderr, "webhooks-rekey: cannot connect to %s: %s\n", addr,
                c ? c->errstr : "out of memory");
        if (c) {
            redisFree(c);
        }

        return NULL;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        fprintf(stderr, "webhooks-rekey: cannot set a timeout\n");
        redisFree(c);
        return NULL;
    }

    return c;
}


/* the hooks of one hash: fields "<id>" hold them */

static int
rekey_hooks(rekey_t *rk, const char *hooks, size_t len)
{
    size_t       i;
    redisReply  *all, *f, *v;

    all = redisCommand(rk->redis, "HGETALL %b", hooks, len);

    if (all == NULL || all->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "webhooks-rekey: HGETALL %.*s failed: %s\n",
                (int) len, hooks,
                all ? (all->type == REDIS_REPLY_ERROR ? all->str
                                                      : "bad reply")
                    : rk->redis->errstr);
        return -1;
    }

    for (i = 0; i + 1 < all->elements; i += 2) {
        f = all->element[i];
        v = all->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
            || f->len == 0 || strspn(f->str, "0123456789") != f->len)
        {
            continue;
        }

        rk->hooks++;

        if (rekey_hook(rk, hooks, len, f->str, v->str, v->len) != 0) {
            freeReplyObject(all);
            return -1;
        }
    }

    freeReplyObject(all);

    return 0;
}


/* -1 only when Redis fails: a hook that cannot be changed is counted */

static int
rekey_hook(rekey_t *rk, const char *hooks, size_t hooks_len, const char *id,
    const char *value, size_t len)
{
    int           n, rc, tries;
    char         *next;
    json_t       *doc, *config;
    redisReply   *reply, *cur;
    json_error_t  err;

    cur = NULL;

    for (tries = 0; tries < REKEY_TRIES; tries++) {

        doc = json_loadb(value, len, 0, &err);
        config = json_object_get(doc, "config");

        if (!json_is_object(config)) {
            fprintf(stderr, "webhooks-rekey: %.*s hook %s is not a hook\n",
                    (int) hooks_len, hooks, id);
            json_decref(doc);
            rk->failed++;
            break;
        }

        n = rekey_field(rk, config, id, "secret", "secret_enc");
        rc = rekey_field(rk, config, id, "password", "password_enc");

        if (n < 0 || rc < 0) {
            fprintf(stderr, "webhooks-rekey: %.*s hook %s left as it is\n",
                    (int) hooks_len, hooks, id);
            json_decref(doc);
            rk->failed++;
            break;
        }

        if (n + rc == 0) {
            json_decref(doc);
            break;
        }

        next = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);

        if (next == NULL) {
            fprintf(stderr, "webhooks-rekey: out of memory\n");
            rk->failed++;
            break;
        }

        reply = redisCommand(rk->redis, "EVAL %s 1 %b %s %b %s",
                             rekey_cas_lua, hooks, hooks_len, id, value, len,
                             next);

        /* the text may hold secrets made clear */
        ngx_http_webhooks_aead_wipe(next, strlen(next));
        free(next);

        if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
            fprintf(stderr, "webhooks-rekey: writing %.*s hook %s failed: "
                    "%s\n", (int) hooks_len, hooks, id,
                    reply ? (reply->type == REDIS_REPLY_ERROR ? reply->str
                                                              : "bad reply")
                          : rk->redis->errstr);
            if (reply) {
                freeReplyObject(reply);
            }

            if (cur) {
                freeReplyObject(cur);
            }

            return -1;
        }

        n = reply->integer;
        freeReplyObject(reply);

        if (n == 1) {
            rk->changed++;
            break;
        }

        /* changed meanwhile, by nginx: read it again */

        if (cur) {
            freeReplyObject(cur);
        }

        cur = redisCommand(rk->redis, "HGET %b %s", hooks, hooks_len, id);

        if (cur == NULL || cur->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "webhooks-rekey: HGET failed\n");
            if (cur) {
                freeReplyObject(cur);
            }

            return -1;
        }

        if (cur->type != REDIS_REPLY_STRING) {
            /* deleted meanwhile: nothing to do */
            break;
        }

        value = cur->str;
        len = cur->len;
    }

    if (tries == REKEY_TRIES) {
        fprintf(stderr, "webhooks-rekey: %.*s hook %s keeps changing, left "
                "as it is\n", (int) hooks_len, hooks, id);
        rk->failed++;
    }

    if (cur) {
        freeReplyObject(cur);
    }

    return 0;
}


/* 1 when the field changed, 0 when it is as it should be, -1 on failure */

static int
rekey_field(rekey_t *rk, json_t *config, const char *id, const char *field,
    const char *sealed_field)
{
    int                                  rc;
    char                                 aad[64];
    u_char                              *clear, *sealed;
    size_t                               aad_len, len;
    ssize_t                              n;
    json_t                              *v;
    const u_char                        *kid;
    const ngx_http_webhooks_aead_key_t  *key;

    aad_len = snprintf(aad, sizeof(aad), "%s:%s", id, field);

    if (aad_len >= sizeof(aad)) {
        return -1;
    }

    v = json_object_get(config, sealed_field);

    if (json_is_string(v)) {
        kid = ngx_http_webhooks_aead_id((u_char *) json_string_value(v),
                                        json_string_length(v));

        key = ngx_http_webhooks_aead_find(rk->keys, rk->nkeys,
                                          (u_char *) json_string_value(v),
                                          json_string_length(v));
        if (key == NULL) {
            fprintf(stderr, "webhooks-rekey: the %s of hook %s is sealed "
                    "with key %.*s, which is not given\n", field, id,
                    kid ? NGX_HTTP_WEBHOOKS_AEAD_ID_LEN : 1,
                    kid ? (char *) kid : "?");
            return -1;
        }

        if (key == &rk->keys[0] && !rk->clear) {
            return 0;
        }

        len = json_string_length(v);
        clear = malloc(len);
        if (clear == NULL) {
            return -1;
        }

        n = ngx_http_webhooks_aead_open(key, (u_char *) aad, aad_len,
                                        (u_char *) json_string_value(v), len,
                                        clear);
        if (n < 0) {
            fprintf(stderr, "webhooks-rekey: the %s of hook %s does not open "
                    "with key %.*s: damaged, or moved from another hook\n",
                    field, id, NGX_HTTP_WEBHOOKS_AEAD_ID_LEN,
                    (char *) key->id);
            free(clear);
            return -1;
        }

        rc = json_object_set_new(config, field,
                                 json_stringn((char *) clear, n));

        ngx_http_webhooks_aead_wipe(clear, len);
        free(clear);

        if (rc != 0) {
            return -1;
        }

        (void) json_object_del(config, sealed_field);

    } else if (rk->clear || !json_is_string(json_object_get(config, field))) {
        return 0;
    }

    if (rk->clear) {
        return 1;
    }

    v = json_object_get(config, field);
    len = json_string_length(v);

    sealed = malloc(ngx_http_webhooks_aead_sealed_size(len));
    if (sealed == NULL) {
        return -1;
    }

    n = ngx_http_webhooks_aead_seal(&rk->keys[0], (u_char *) aad, aad_len,
                                    (u_char *) json_string_value(v), len,
                                    sealed);
    if (n < 0) {
        free(sealed);
        return -1;
    }

    rc = json_object_set_new(config, sealed_field,
                             json_stringn((char *) sealed, n));
    free(sealed);

    if (rc != 0) {
        return -1;
    }

    (void) json_object_del(config, field);

    return 1;
}


static void
rekey_usage(void)
{
    fprintf(stderr,
            "usage: webhooks-rekey [--redis host:port | unix:/path] "
            "[--prefix webhooks:]\n"
            "                      [--clear] key-file [key-file ...]\n"
            "Seals every hook secret in Redis with the first key; any key "
            "given opens\n"
            "those sealed before.  --clear makes them clear instead.\n");
}
