#!/usr/bin/perl

# The identity service and the module decide on the same scope.  Two
# stand-in services behind auth_request: one reads the org or repository
# from the raw URI (X-Original-URI $request_uri, the obvious way to write
# one), one from the module's variables ($webhooks_scope and friends).
# Dot segments, encoded dots and encoded slashes (curl --path-as-is) get
# no read or write in another scope through either: the module answers
# 404 to a raw URI that does not name the path it would act on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

my $api = <<'EOF_API';
            auth_request /_auth;
            auth_request_set $id_login $upstream_http_x_login;
            auth_request_set $id_admin $upstream_http_x_admin;
            auth_request_set $id_echo  $upstream_http_x_echo;
            add_header X-Echo $id_echo always;

            webhooks_api   on;
            webhooks_login $id_login;
            webhooks_admin $id_admin;
EOF_API

my $admins = <<'EOF_ADMINS';
        "alice org:alice-org"  1;
        "alice repo:alice/r"   1;
        "bob org:bob-org"      1;
        "bob repo:bob/r"       1;
        default                0;
EOF_ADMINS

$t->nginx_conf(<<"EOF");
    webhooks_redis_pass   127.0.0.1:%%REDIS_PORT%%;
    webhooks_redis_prefix "webhooks:";

    map \$http_x_token \$id_who {
        alice-token  alice;
        bob-token    bob;
        default      "";
    }

    # the raw-path service: the first segments of X-Original-URI
    map \$http_x_original_uri \$raw_scope {
        "~^/repos/(?<o>[^/?]+)/(?<n>[^/?]+)"  "repo:\$o/\$n";
        "~^/orgs/(?<o>[^/?]+)"                "org:\$o";
        default                              "";
    }

    map "\$id_who \$raw_scope" \$raw_admin {
$admins
    }

    # the variables service: \$webhooks_scope as the module computed it
    map "\$id_who \$http_x_webhooks_scope" \$vars_admin {
$admins
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;

        location = /raw {
            add_header X-Login \$id_who always;
            add_header X-Admin \$raw_admin always;
            return 200;
        }

        location = /vars {
            add_header X-Login \$id_who always;
            add_header X-Admin \$vars_admin always;
            add_header X-Echo "\$http_x_webhooks_scope|\$http_x_webhooks_org|\$http_x_webhooks_owner|\$http_x_webhooks_repo|\$http_x_webhooks_hook_id|\$http_x_webhooks_operation" always;
            return 200;
        }
    }

    # the API behind the raw-path service
    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
$api
        }

        location = /_auth {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%/raw;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Token \$webhooks_auth_token;
            proxy_set_header X-Original-URI \$request_uri;
        }
    }

    # the API behind the variables service, below a prefix as GHES has it
    server {
        listen 127.0.0.1:%%PORT_3%%;

        location /api/v3/ {
$api
        }

        location = /_auth {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%/vars;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Token \$webhooks_auth_token;
            proxy_set_header X-Webhooks-Scope \$webhooks_scope;
            proxy_set_header X-Webhooks-Org \$webhooks_org;
            proxy_set_header X-Webhooks-Owner \$webhooks_owner;
            proxy_set_header X-Webhooks-Repo \$webhooks_repo;
            proxy_set_header X-Webhooks-Hook-Id \$webhooks_hook_id;
            proxy_set_header X-Webhooks-Operation \$webhooks_operation;
        }
    }
EOF
$t->run;

my %port = (raw => $t->port(0), vars => $t->port(3));

sub call {
    my ($svc, $method, $path, $token, $body) = @_;
    return $t->http($method, $path, port => $port{$svc},
        headers => { Authorization => "token $token", Accept => 'application/json',
            defined $body ? ('Content-Type' => 'application/json') : () },
        body => defined $body ? Test::Webhooks::json()->encode($body)
                              : undef);
}

my $hook = { name => 'web', events => ['push'],
    config => { url => 'https://example.com/h', content_type => 'json' } };

# bob's hooks, one in each of bob's scopes
my %bob;
for my $base ('/orgs/bob-org', '/repos/bob/r') {
    my $r = call(raw => POST => "$base/hooks", 'bob-token', $hook);
    is($r->{status}, 201, "bob creates a hook in $base") or diag($r->{raw});
    $bob{$base} = $r->{json} && $r->{json}{id};
}
my $org_id = $bob{'/orgs/bob-org'};
my $repo_id = $bob{'/repos/bob/r'};

sub bob_state {
    my %s;
    for my $k (sort @{ scalar $t->redis(KEYS => '*bob*') }) {
        my $type = $t->redis(TYPE => $k);
        $s{$k} = $type eq 'hash' ? { @{ scalar $t->redis(HGETALL => $k) } }
            : "<$type>";
    }
    return \%s;
}
my $before = bob_state();
ok(scalar keys %$before, 'bob has state in Redis');

###############################################################################
# The variables, as the identity service gets them in the subrequest.

for my $c (
    [ GET => '/orgs/Alice-Org/hooks',
      'org:alice-org|alice-org||||orgs/list-webhooks' ],
    [ GET => '/repos/alice/R/hooks/12/config',
      'repo:alice/r||alice|r|12|repos/get-webhook-config-for-repo' ],
    [ POST => '/repos/alice/r/hooks/7/deliveries/9/attempts',
      'repo:alice/r||alice|r|7|repos/redeliver-webhook-delivery' ],
    [ POST => '/orgs/alice-org/hooks/5/pings',
      'org:alice-org|alice-org|||5|orgs/ping-webhook' ],
    [ GET => '/orgs/alice-org/../bob-org/hooks', '|||||' ],
    [ GET => '/orgs/alice-org/nothing', '|||||' ],
)
{
    my ($m, $path, $want) = @$c;
    my $r = call(vars => $m, "/api/v3$path", 'alice-token');
    is($r->{headers}{'x-echo'}, $want, "$m $path: variables in auth_request")
        or diag($r->{raw});
}

{
    my $r = call(vars => GET => '/api/v3/orgs/alice-org/hooks',
        'alice-token');
    is($r->{status}, 200, 'alice lists alice-org hooks through variables');
    $r = call(raw => GET => '/orgs/alice-org/hooks', 'alice-token');
    is($r->{status}, 200, 'alice lists alice-org hooks through raw path');
    $r = call(raw => GET => '/repos/alice/r/hooks', 'alice-token');
    is($r->{status}, 200, 'alice lists alice/r hooks through raw path');
    $r = call(raw => GET => '/orgs/alice-org/./hooks', 'alice-token');
    is($r->{status}, 404, 'a "." segment is not found either');
    $r = call(raw => GET => '/orgs/alice-org//hooks', 'alice-token');
    is($r->{status}, 404, 'an empty segment is not found either');
    $r = call(raw => GET => '/orgs/bob-org/hooks', 'alice-token');
    is($r->{status}, 404, 'alice does not see bob-org');
}

###############################################################################
# alice, admin of alice-org and alice/r only, tries bob's scopes.

my @paths = (
    [ GET => '/orgs/alice-org/../bob-org/hooks' ],
    [ POST => '/orgs/alice-org/../bob-org/hooks', $hook ],
    [ GET => '/orgs/alice-org/%2e%2e/bob-org/hooks' ],
    [ POST => '/orgs/alice-org/%2E%2E/bob-org/hooks', $hook ],
    [ GET => '/orgs/alice-org/.%2e/bob-org/hooks' ],
    [ GET => '/orgs/alice-org%2f..%2fbob-org/hooks' ],
    [ POST => '/orgs/alice-org%2F..%2Fbob-org/hooks', $hook ],
    [ GET => '/orgs/alice-org/..%2fbob-org/hooks' ],
    [ GET => "/orgs/alice-org/../bob-org/hooks/$org_id" ],
    [ GET => "/orgs/alice-org/../bob-org/hooks/$org_id/config" ],
    [ PATCH => "/orgs/alice-org/../bob-org/hooks/$org_id",
      { active => JSON::PP::false() } ],
    [ PATCH => "/orgs/alice-org/../bob-org/hooks/$org_id/config",
      { url => 'https://alice.example/' } ],
    [ POST => "/orgs/alice-org/../bob-org/hooks/$org_id/pings" ],
    [ DELETE => "/orgs/alice-org/../bob-org/hooks/$org_id" ],
    [ GET => '/repos/alice/r/../../bob/r/hooks' ],
    [ GET => "/repos/alice/r/../../bob/r/hooks/$repo_id" ],
    [ PATCH => "/repos/alice/r/../../bob/r/hooks/$repo_id/config",
      { url => 'https://alice.example/' } ],
    [ POST => '/repos/alice/r/../../bob/r/hooks', $hook ],
    [ POST => "/repos/alice/r/%2e%2e/%2e%2e/bob/r/hooks/$repo_id/tests" ],
    [ DELETE => "/repos/alice/r/%2e%2e/%2e%2e/bob/r/hooks/$repo_id" ],
    [ DELETE => "/repos/alice/r%2f..%2f..%2fbob%2fr/hooks/$repo_id" ],
    [ DELETE => "/repos/alice/r/../../bob/r/hooks/$repo_id" ],
    [ DELETE => "/repos/alice/r/../../bob/r/hooks/$repo_id?x=/../" ],
);

for my $svc (qw(raw vars)) {
    for my $p (@paths) {
        my ($m, $path, $body) = @$p;
        $path = "/api/v3$path" if $svc eq 'vars';
        my $r = call($svc => $m, $path, 'alice-token', $body);
        is($r->{status}, 404, "$svc: $m $path: 404") or diag($r->{raw});
        is(ref $r->{json} eq 'HASH' && $r->{json}{message}, 'Not Found',
            "$svc: $m $path: GitHub's Not Found");
    }
    is_deeply(bob_state(), $before, "$svc: bob's scopes unchanged");
}

# bob still has his hooks, and alice none in bob's
for my $base ('/orgs/bob-org', '/repos/bob/r') {
    my $r = call(raw => GET => "$base/hooks", 'bob-token');
    is(scalar @{ $r->{json} || [] }, 1, "bob has one hook in $base");
}

$t->log_ok;

done_testing;
