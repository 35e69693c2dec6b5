
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_webhooks_redis_slot.h"


/*
 * Redis Cluster's key to slot: CRC16 (XMODEM) of the hash tag, the text
 * between the first "{" and the first "}" after it when not empty, or of
 * the whole key, modulo 16384.  And which argument of a command is its
 * key, for the commands the module sends.
 */


typedef struct {
    ngx_str_t    name;
    ngx_int_t    key;
} ngx_http_webhooks_redis_slot_cmd_t;


static ngx_int_t ngx_http_webhooks_redis_slot_streams(int argc,
    const char **argv, const size_t *argvlen);


/* key: the index of the key argument, or KEYLESS, or ALL masters */

static ngx_http_webhooks_redis_slot_cmd_t  ngx_http_webhooks_redis_slot_cmds[]
    = {
    { ngx_string("PING"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("INFO"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("WAIT"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("TIME"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("ECHO"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("ROLE"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("AUTH"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("HELLO"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("ASKING"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("CLUSTER"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("CLIENT"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("CONFIG"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("COMMAND"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("DBSIZE"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("PUBLISH"), NGX_HTTP_WEBHOOKS_REDIS_KEYLESS },
    { ngx_string("SCRIPT"), NGX_HTTP_WEBHOOKS_REDIS_ALL },
    { ngx_string("XGROUP"), 2 },
    { ngx_string("XINFO"), 2 },
    { ngx_string("MEMORY"), 2 },
    { ngx_string("OBJECT"), 2 },
    { ngx_null_string, 0 }
};


ngx_uint_t
ngx_http_webhooks_redis_slot(const u_char *key, size_t len)
{
    size_t      i, s, e;
    uint16_t    crc;
    ngx_uint_t  bit;

    for (s = 0; s < len && key[s] != '{'; s++) { /* void */ }

    if (s < len) {
        for (e = s + 1; e < len && key[e] != '}'; e++) { /* void */ }

        if (e < len && e > s + 1) {
            key += s + 1;
            len = e - s - 1;
        }
    }

    crc = 0;

    for (i = 0; i < len; i++) {
        crc ^= (uint16_t) key[i] << 8;

        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc & (NGX_HTTP_WEBHOOKS_REDIS_SLOTS - 1);
}


/*
 * The argument whose slot the command goes to.  Scripts: their first key,
 * when they have one; every script touches keys of one slot only.
 */

ngx_int_t
ngx_http_webhooks_redis_slot_key(int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_int_t                            n;
    ngx_http_webhooks_redis_slot_cmd_t  *c;

    if (argc < 1) {
        return NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
    }

    if ((argvlen[0] == 4 && ngx_strncasecmp((u_char *) argv[0],
                                            (u_char *) "EVAL", 4) == 0)
        || (argvlen[0] == 7 && ngx_strncasecmp((u_char *) argv[0],
                                               (u_char *) "EVALSHA", 7)
                               == 0))
    {
        if (argc < 4) {
            return NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
        }

        n = ngx_atoi((u_char *) argv[2], argvlen[2]);

        return n > 0 ? 3 : NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
    }

    if ((argvlen[0] == 5 && ngx_strncasecmp((u_char *) argv[0],
                                            (u_char *) "XREAD", 5) == 0)
        || (argvlen[0] == 10 && ngx_strncasecmp((u_char *) argv[0],
                                                (u_char *) "XREADGROUP",
                                                10)
                                == 0))
    {
        return ngx_http_webhooks_redis_slot_streams(argc, argv, argvlen);
    }

    for (c = ngx_http_webhooks_redis_slot_cmds; c->name.len; c++) {
        if (c->name.len == argvlen[0]
            && ngx_strncasecmp((u_char *) argv[0], c->name.data,
                               c->name.len)
               == 0)
        {
            if (c->key > 0 && c->key >= argc) {
                return NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
            }

            return c->key;
        }
    }

    /* GET, SET, HGETALL, HMGET, INCR, ZADD, XADD, XACK, XAUTOCLAIM, ... */

    return argc > 1 ? 1 : NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
}


/* XREAD[GROUP] ... STREAMS key ... id ...: the first key */

static ngx_int_t
ngx_http_webhooks_redis_slot_streams(int argc, const char **argv,
    const size_t *argvlen)
{
    int  i;

    for (i = 1; i < argc - 1; i++) {
        if (argvlen[i] == 7
            && ngx_strncasecmp((u_char *) argv[i], (u_char *) "STREAMS", 7)
               == 0)
        {
            return i + 1;
        }
    }

    return NGX_HTTP_WEBHOOKS_REDIS_KEYLESS;
}
