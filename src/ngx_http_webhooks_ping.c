
/*
 * Copyright (C) the ngx_http_webhooks authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhooks_json.h"
#include "ngx_http_webhooks_ping.h"


/*
 * A ping tells about the repository or organization and the sender.
 * The module keeps the objects of the latest event taken in for each;
 * when there was none, it makes up complete ones from the names, with
 * API URLs below the API's base URL, web URLs (html_url, clone_url,
 * avatar_url) below the web URL, and ids of its own.
 */


static ngx_str_t  ngx_http_webhooks_ping_zen[] = {
    ngx_string("Design for failure."),
    ngx_string("Keep it logically awesome."),
    ngx_string("Speak like a human."),
    ngx_string("Half measures are as bad as nothing at all."),
    ngx_string("Favor focus over features."),
    ngx_string("Avoid administrative distraction."),
    ngx_string("Mind your words, they are important."),
    ngx_string("Non-blocking is better than blocking."),
    ngx_string("Responsive is better than fast."),
    ngx_string("Anything added dilutes everything else."),
    ngx_string("Practicality beats purity."),
    ngx_string("Approachable is better than simple."),
    ngx_string("It's not fully shipped until it's fast."),
    ngx_string("Encourage flow.")
};


/* the templated URLs of a repository, below <base>/repos/<full name> */

static const char  *ngx_http_webhooks_ping_repo_urls[] = {
    "archive_url", "/{archive_format}{/ref}",
    "assignees_url", "/assignees{/user}",
    "blobs_url", "/git/blobs{/sha}",
    "branches_url", "/branches{/branch}",
    "collaborators_url", "/collaborators{/collaborator}",
    "comments_url", "/comments{/number}",
    "commits_url", "/commits{/sha}",
    "compare_url", "/compare/{base}...{head}",
    "contents_url", "/contents/{+path}",
    "contributors_url", "/contributors",
    "deployments_url", "/deployments",
    "downloads_url", "/downloads",
    "events_url", "/events",
    "forks_url", "/forks",
    "git_commits_url", "/git/commits{/sha}",
    "git_refs_url", "/git/refs{/sha}",
    "git_tags_url", "/git/tags{/sha}",
    "hooks_url", "/hooks",
    "issue_comment_url", "/issues/comments{/number}",
    "issue_events_url", "/issues/events{/number}",
    "issues_url", "/issues{/number}",
    "keys_url", "/keys{/key_id}",
    "labels_url", "/labels{/name}",
    "languages_url", "/languages",
    "merges_url", "/merges",
    "milestones_url", "/milestones{/number}",
    "notifications_url", "/notifications{?since,all,participating}",
    "pulls_url", "/pulls{/number}",
    "releases_url", "/releases{/id}",
    "stargazers_url", "/stargazers",
    "statuses_url", "/statuses/{sha}",
    "subscribers_url", "/subscribers",
    "subscription_url", "/subscription",
    "tags_url", "/tags",
    "teams_url", "/teams",
    "trees_url", "/git/trees{/sha}",
    "url", "",
    NULL
};


static const char  *ngx_http_webhooks_ping_user_urls[] = {
    "url", "",
    "followers_url", "/followers",
    "following_url", "/following{/other_user}",
    "gists_url", "/gists{/gist_id}",
    "starred_url", "/starred{/owner}{/repo}",
    "subscriptions_url", "/subscriptions",
    "organizations_url", "/orgs",
    "repos_url", "/repos",
    "events_url", "/events{/privacy}",
    "received_events_url", "/received_events",
    NULL
};


static const char  *ngx_http_webhooks_ping_org_urls[] = {
    "url", "",
    "repos_url", "/repos",
    "events_url", "/events",
    "hooks_url", "/hooks",
    "issues_url", "/issues",
    "members_url", "/members{/member}",
    "public_members_url", "/public_members{/member}",
    NULL
};


static ngx_int_t ngx_http_webhooks_ping_urls(json_t *object, ngx_str_t *base,
    const char *path, ngx_str_t *name, const char **urls);
static json_t *ngx_http_webhooks_ping_make_user(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *login, int64_t id, const char *type);
static json_t *ngx_http_webhooks_ping_make_repo(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *full, int64_t id, int64_t owner_id);
static json_t *ngx_http_webhooks_ping_make_org(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *login, int64_t id);
static json_t *ngx_http_webhooks_ping_known(ngx_str_t *text);


static ngx_int_t
ngx_http_webhooks_ping_urls(json_t *object, ngx_str_t *base, const char *path,
    ngx_str_t *name, const char **urls)
{
    u_char      buf[1024], *p;
    const char **u;

    if (base->len + name->len + 64 > sizeof(buf)) {
        return NGX_ERROR;
    }

    for (u = urls; *u; u += 2) {
        p = ngx_snprintf(buf, sizeof(buf), "%V%s%V%s", base, path, name,
                         u[1]);

        if (json_object_set_new(object, u[0],
                                json_stringn((char *) buf, p - buf))
            != 0)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static json_t *
ngx_http_webhooks_ping_make_user(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *login, int64_t id, const char *type)
{
    u_char   buf[1024], *p;
    json_t  *u;

    if (ngx_max(base->len, web->len) + login->len + 64 > sizeof(buf)) {
        return NULL;
    }

    u = json_pack("{s:s%,s:I}", "login", login->data, login->len,
                  "id", (json_int_t) id);
    if (u == NULL) {
        return NULL;
    }

    p = ngx_http_webhooks_json_int64(ngx_cpymem(buf, "U_", 2), id);
    if (json_object_set_new(u, "node_id", json_stringn((char *) buf,
                                                       p - buf))
        != 0)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "%V/avatars/%V", web, login);
    if (json_object_set_new(u, "avatar_url", json_stringn((char *) buf,
                                                          p - buf))
        != 0
        || json_object_set_new(u, "gravatar_id", json_string("")) != 0)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "%V/%V", web, login);
    if (json_object_set_new(u, "html_url", json_stringn((char *) buf,
                                                        p - buf))
        != 0
        || ngx_http_webhooks_ping_urls(u, base, "/users/", login,
                                       ngx_http_webhooks_ping_user_urls)
           != NGX_OK
        || json_object_set_new(u, "type", json_string(type)) != 0
        || json_object_set_new(u, "site_admin", json_false()) != 0)
    {
        goto failed;
    }

    return u;

failed:

    json_decref(u);
    return NULL;
}


static json_t *
ngx_http_webhooks_ping_make_org(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *login, int64_t id)
{
    u_char   buf[1024], *p;
    json_t  *o;

    if (ngx_max(base->len, web->len) + login->len + 64 > sizeof(buf)) {
        return NULL;
    }

    o = json_pack("{s:s%,s:I}", "login", login->data, login->len,
                  "id", (json_int_t) id);
    if (o == NULL) {
        return NULL;
    }

    p = ngx_http_webhooks_json_int64(ngx_cpymem(buf, "O_", 2), id);
    if (json_object_set_new(o, "node_id", json_stringn((char *) buf,
                                                       p - buf))
        != 0
        || ngx_http_webhooks_ping_urls(o, base, "/orgs/", login,
                                       ngx_http_webhooks_ping_org_urls)
           != NGX_OK)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "%V/avatars/%V", web, login);
    if (json_object_set_new(o, "avatar_url", json_stringn((char *) buf,
                                                          p - buf))
        != 0
        || json_object_set_new(o, "description", json_null()) != 0)
    {
        goto failed;
    }

    return o;

failed:

    json_decref(o);
    return NULL;
}


static json_t *
ngx_http_webhooks_ping_make_repo(ngx_str_t *base, ngx_str_t *web,
    ngx_str_t *full, int64_t id, int64_t owner_id)
{
    u_char     buf[1024], *p, host[256], *h, *slash;
    json_t    *r, *owner, *extra;
    ngx_str_t  login, name;

    if (ngx_max(base->len, web->len) + full->len + 64 > sizeof(buf)) {
        return NULL;
    }

    slash = ngx_strlchr(full->data, full->data + full->len, '/');
    if (slash == NULL) {
        return NULL;
    }

    login.data = full->data;
    login.len = slash - full->data;
    name.data = slash + 1;
    name.len = full->data + full->len - name.data;

    /* the host of the web URL, for git@ and git:// URLs */

    h = ngx_strnstr(web->data, "://", web->len);
    h = h ? h + 3 : web->data;

    for (p = host; h < web->data + web->len && *h != '/' && *h != ':'
                   && p < host + sizeof(host) - 1;
         h++)
    {
        *p++ = *h;
    }

    *p = '\0';

    owner = ngx_http_webhooks_ping_make_user(base, web, &login, owner_id,
                                             "User");
    if (owner == NULL) {
        return NULL;
    }

    r = json_pack("{s:I,s:s%,s:s%,s:o,s:b,s:n,s:b}",
                  "id", (json_int_t) id,
                  "name", name.data, name.len,
                  "full_name", full->data, full->len,
                  "owner", owner,
                  "private", 0,
                  "description", "fork", 0);
    if (r == NULL) {
        return NULL;
    }

    p = ngx_http_webhooks_json_int64(ngx_cpymem(buf, "R_", 2), id);
    if (json_object_set_new(r, "node_id", json_stringn((char *) buf,
                                                       p - buf))
        != 0
        || ngx_http_webhooks_ping_urls(r, base, "/repos/", full,
                                       ngx_http_webhooks_ping_repo_urls)
           != NGX_OK)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "%V/%V", web, full);
    if (json_object_set_new(r, "html_url", json_stringn((char *) buf,
                                                        p - buf))
        != 0
        || json_object_set_new(r, "svn_url", json_stringn((char *) buf,
                                                          p - buf))
           != 0)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "%V/%V.git", web, full);
    if (json_object_set_new(r, "clone_url", json_stringn((char *) buf,
                                                         p - buf))
        != 0)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "git://%s/%V.git", host, full);
    if (json_object_set_new(r, "git_url", json_stringn((char *) buf,
                                                       p - buf))
        != 0)
    {
        goto failed;
    }

    p = ngx_sprintf(buf, "git@%s:%V.git", host, full);
    if (json_object_set_new(r, "ssh_url", json_stringn((char *) buf,
                                                       p - buf))
        != 0)
    {
        goto failed;
    }

    extra = json_pack("{s:s,s:i,s:i,s:b,s:b,s:b,s:b,s:b,s:n,s:n,s:b,s:b,"
                      "s:n,s:i,s:i,s:n,s:n,s:i,s:i,s:i,s:i,s:n,s:n}",
                      "default_branch", "main",
                      "forks", 0,
                      "forks_count", 0,
                      "has_downloads", 1,
                      "has_issues", 1,
                      "has_projects", 1,
                      "has_wiki", 1,
                      "has_pages", 0,
                      "homepage",
                      "language",
                      "archived", 0,
                      "disabled", 0,
                      "mirror_url",
                      "open_issues", 0,
                      "open_issues_count", 0,
                      "license",
                      "pushed_at",
                      "size", 0,
                      "stargazers_count", 0,
                      "watchers", 0,
                      "watchers_count", 0,
                      "created_at",
                      "updated_at");

    if (extra == NULL || json_object_update(r, extra) != 0) {
        json_decref(extra);
        goto failed;
    }

    json_decref(extra);

    return r;

failed:

    json_decref(r);
    return NULL;
}


/* an object taken in earlier, if there is one */

static json_t *
ngx_http_webhooks_ping_known(ngx_str_t *text)
{
    json_t  *j;

    if (text->len == 0) {
        return NULL;
    }

    j = json_loadb((char *) text->data, text->len, 0, NULL);

    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }

    return j;
}


ngx_int_t
ngx_http_webhooks_ping_payload(ngx_http_request_t *r,
    ngx_http_webhooks_ping_t *ping, ngx_str_t *out)
{
    json_t     *payload, *scope, *sender, *hook;
    ngx_int_t   id;
    ngx_str_t  *zen;

    hook = ngx_http_webhooks_json_own(r->pool,
               json_loadb((char *) ping->hook.data, ping->hook.len, 0,
                          NULL));
    if (hook == NULL) {
        return NGX_ERROR;
    }

    scope = ngx_http_webhooks_ping_known(&ping->scope_object);

    if (scope == NULL) {
        id = ngx_atoi(ping->scope_id.data, ping->scope_id.len);

        scope = ping->repo
                ? ngx_http_webhooks_ping_make_repo(&ping->base, &ping->web,
                         &ping->name, id,
                         ngx_atoi(ping->owner_id.data, ping->owner_id.len))
                : ngx_http_webhooks_ping_make_org(&ping->base, &ping->web,
                                                  &ping->name, id);
    }

    sender = ngx_http_webhooks_ping_known(&ping->sender_object);

    if (sender == NULL) {
        id = ngx_atoi(ping->sender_id.data, ping->sender_id.len);
        sender = ngx_http_webhooks_ping_make_user(&ping->base, &ping->web,
                                                  &ping->login, id, "User");
    }

    if (scope == NULL || sender == NULL) {
        json_decref(scope);
        json_decref(sender);
        return NGX_ERROR;
    }

    zen = &ngx_http_webhooks_ping_zen[ngx_random()
                                 % (sizeof(ngx_http_webhooks_ping_zen)
                                    / sizeof(ngx_str_t))];

    payload = ngx_http_webhooks_json_own(r->pool,
                  json_pack("{s:s%,s:I,s:O,s:o,s:o}",
                            "zen", zen->data, zen->len,
                            "hook_id",
                            (json_int_t) json_integer_value(
                                             json_object_get(hook, "id")),
                            "hook", hook,
                            ping->repo ? "repository" : "organization",
                            scope,
                            "sender", sender));
    if (payload == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_webhooks_json_number(r->pool,
                                      json_object_get(json_object_get(payload,
                                     ping->repo ? "repository"
                                                : "organization"),
                                     "id"),
                                 &ping->target_id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_webhooks_json_dump(r->pool, payload, out);
}
