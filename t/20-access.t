#!/usr/bin/perl

# Access rules, as GitHub applies them to the hooks API: no identity
# gets 401, a non-admin gets 404 on everything, OAuth apps see only the
# hooks they created and users see none of those; rejected requests
# leave Redis as it was.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

# conf/demo.conf's identities, and a second OAuth app for the same user.
$t->nginx_conf(<<'EOF');
    map $http_authorization $webhooks_token {
        "~*^(?:token|bearer)\s+(?<demo_token>\S+)\s*$"  $demo_token;
        default                                        "";
    }

    map $webhooks_token $webhooks_demo_login {
        demo-owner   octocat;
        demo-member  hubot;
        demo-app     octocat;
        demo-app2    octocat;
        default      "";
    }

    map $webhooks_token $webhooks_demo_admin {
        demo-owner   1;
        demo-app     1;
        demo-app2    1;
        default      0;
    }

    map $webhooks_token $webhooks_demo_app {
        demo-app     1;
        demo-app2    2;
        default      "";
    }

    webhooks_redis_pass   127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_redis_prefix "webhooks:";

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
        }
    }
EOF
$t->run;

my $ODOC = 'https://docs.github.com/rest/orgs/webhooks#';
my $RDOC = 'https://docs.github.com/rest/repos/webhooks#';

my %SCOPE = (
    repo => { base => '/repos/octo-org/access', doc => $RDOC,
        schema => 'hook', key => 'webhooks:{r:octo-org/access}:hooks' },
    org => { base => '/orgs/octo-org', doc => $ODOC,
        schema => 'org-hook', key => 'webhooks:{o:octo-org}:hooks' },
);

# Every operation of one scope on hook $id: [name, method, path, body, doc].
sub ops {
    my ($scope, $id) = @_;
    my $s = $SCOPE{$scope};
    my $b = $s->{base};
    my $org = $scope eq 'org';
    my $cfg = { url => 'https://example.com/rejected', content_type => 'json' };

    return (
        [ "$scope list", GET => "$b/hooks", undef,
          $org ? 'list-organization-webhooks' : 'list-repository-webhooks' ],
        [ "$scope create", POST => "$b/hooks",
          { name => 'web', config => $cfg, events => ['issues'] },
          $org ? 'create-an-organization-webhook'
               : 'create-a-repository-webhook' ],
        [ "$scope get", GET => "$b/hooks/$id", undef,
          $org ? 'get-an-organization-webhook' : 'get-a-repository-webhook' ],
        [ "$scope update", PATCH => "$b/hooks/$id",
          { active => JSON::PP::false, config => $cfg, events => ['fork'] },
          $org ? 'update-an-organization-webhook'
               : 'update-a-repository-webhook' ],
        [ "$scope get config", GET => "$b/hooks/$id/config", undef,
          $org ? 'get-a-webhook-configuration-for-an-organization'
               : 'get-a-webhook-configuration-for-a-repository' ],
        [ "$scope update config", PATCH => "$b/hooks/$id/config",
          { content_type => 'form', secret => 'hunter2' },
          $org ? 'update-a-webhook-configuration-for-an-organization'
               : 'update-a-webhook-configuration-for-a-repository' ],
        [ "$scope delete", DELETE => "$b/hooks/$id", undef,
          $org ? 'delete-an-organization-webhook'
               : 'delete-a-repository-webhook' ],
    );
}

sub doc_url { $SCOPE{$_[0]}{doc} . $_[1] }

# The whole keyspace but the id counter (a rejected create may use an id).
sub snapshot {
    my %snap;
    for my $k (sort @{ scalar $t->redis(KEYS => '*') }) {
        next if $k eq 'webhooks:seq:hook';
        my $type = $t->redis(TYPE => $k);
        $snap{$k} = $type eq 'hash' ? { @{ scalar $t->redis(HGETALL => $k) } }
            : $type eq 'string' ? $t->redis(GET => $k) : "<$type>";
    }
    return \%snap;
}

sub create {
    my ($scope, $token, $url, @events) = @_;
    my $r = $t->api(POST => "$SCOPE{$scope}{base}/hooks", $token,
        { name => 'web', events => [@events ? @events : 'push'],
          config => { url => $url, content_type => 'json',
                      secret => 's3cret' } });
    is($r->{status}, 201, "$token creates a $scope hook")
        or diag($r->{raw});
    $t->schema_ok($r->{json}, $SCOPE{$scope}{schema},
        "$token: created $scope hook matches $SCOPE{$scope}{schema}");
    return $r->{json}{id};
}

sub list_ids {
    my ($scope, $token) = @_;
    my $r = $t->api(GET => "$SCOPE{$scope}{base}/hooks", $token);
    is($r->{status}, 200, "$token lists $scope hooks") or diag($r->{raw});
    return [ map { $_->{id} } @{ $r->{json} || [] } ];
}

###############################################################################
# Hooks of every kind of creator, in both scopes.

my (%user, %app, %app2);
for my $scope (qw(repo org)) {
    $user{$scope} = create($scope, 'demo-owner', "https://user.example/$scope");
    $app{$scope} = create($scope, 'demo-app', "https://app.example/$scope");
    $app2{$scope} = create($scope, 'demo-app2', "https://app2.example/$scope");
}

my $before = snapshot();
ok(exists $before->{$SCOPE{$_}{key}}, "$_ hooks hash exists")
    for qw(repo org);

###############################################################################
# No identity: 401 on every operation, on any hook.

my @anon = (
    [ 'no Authorization', undef ],
    [ 'unknown token', 'demo-nobody' ],
    [ 'empty token', '' ],
);

for my $scope (qw(repo org)) {
    for my $id ($user{$scope}, $app{$scope}, 999999) {
        for my $op (ops($scope, $id)) {
            my ($name, $method, $path, $body, $doc) = @$op;
            for my $who (@anon) {
                my $r = $t->api($method => $path, $who->[1], $body);
                my $what = "$name (hook $id), $who->[0]";
                is($r->{status}, 401, "$what: 401") or diag($r->{raw});
                is($r->{json} && $r->{json}{message},
                    'Requires authentication', "$what: message");
                is($r->{json} && $r->{json}{status}, '401',
                    "$what: status string");
                is($r->{json} && $r->{json}{documentation_url},
                    doc_url($scope, $doc), "$what: documentation_url");
            }
        }
    }
}

# A GitHub client sending "Bearer": known token, same rules as "token".
{
    my $r = $t->http(GET => "$SCOPE{repo}{base}/hooks",
        headers => { Authorization => 'Bearer demo-member' });
    is($r->{status}, 404, 'Bearer demo-member: 404');
    $r = $t->http(GET => "$SCOPE{repo}{base}/hooks",
        headers => { Authorization => 'Basic ZGVtbzpkZW1v' });
    is($r->{status}, 401, 'Basic credentials are no identity: 401');
}

###############################################################################
# A logged-in non-admin: 404 on every operation.

for my $scope (qw(repo org)) {
    for my $id ($user{$scope}, $app{$scope}, 999999) {
        for my $op (ops($scope, $id)) {
            my ($name, $method, $path, $body, $doc) = @$op;
            my $r = $t->api($method => $path, 'demo-member', $body);
            my $what = "$name (hook $id), demo-member";
            is($r->{status}, 404, "$what: 404") or diag($r->{raw});
            is($r->{json} && $r->{json}{message}, 'Not Found',
                "$what: message");
            is($r->{json} && $r->{json}{status}, '404',
                "$what: status string");
            is($r->{json} && $r->{json}{documentation_url},
                doc_url($scope, $doc), "$what: documentation_url");
        }
    }
}

is_deeply(snapshot(), $before, 'no identity and non-admin: Redis unchanged');

###############################################################################
# Who sees what: user hooks are invisible to apps, app hooks to the user
# and to other apps.

for my $scope (qw(repo org)) {
    is_deeply(list_ids($scope, 'demo-owner'), [ $user{$scope} ],
        "$scope: the user lists only the user's hook");
    is_deeply(list_ids($scope, 'demo-app'), [ $app{$scope} ],
        "$scope: app 1 lists only its own hook");
    is_deeply(list_ids($scope, 'demo-app2'), [ $app2{$scope} ],
        "$scope: app 2 lists only its own hook");

    # Paging counts visible hooks only: no Link to pages of others' hooks.
    my $r = $t->api(GET => "$SCOPE{$scope}{base}/hooks?per_page=1",
        'demo-app');
    is(scalar @{ $r->{json} || [] }, 1, "$scope: app 1, per_page=1: 1 hook");
    ok(!exists $r->{headers}{link}, "$scope: app 1, one page: no Link")
        or diag($r->{headers}{link});

    my %hidden = (
        'demo-owner' => [ $app{$scope}, $app2{$scope} ],
        'demo-app' => [ $user{$scope}, $app2{$scope} ],
        'demo-app2' => [ $user{$scope}, $app{$scope} ],
    );

    for my $token (sort keys %hidden) {
        for my $id (@{ $hidden{$token} }) {
            for my $op (ops($scope, $id)) {
                my ($name, $method, $path, $body, $doc) = @$op;
                next if $path =~ m{/hooks$};    # list, create: no hook
                my $r = $t->api($method => $path, $token, $body);
                my $what = "$name of another's hook $id, $token";
                is($r->{status}, 404, "$what: 404") or diag($r->{raw});
                is($r->{json} && $r->{json}{message}, 'Not Found',
                    "$what: message");
                is($r->{json} && $r->{json}{documentation_url},
                    doc_url($scope, $doc), "$what: documentation_url");
            }
        }
    }
}

is_deeply(snapshot(), $before, "others' hooks: Redis unchanged");

###############################################################################
# An app does everything with its own hook.

for my $scope (qw(repo org)) {
    my $b = $SCOPE{$scope}{base};
    my $id = $app{$scope};
    my $schema = $SCOPE{$scope}{schema};

    my $r = $t->api(GET => "$b/hooks/$id", 'demo-app');
    is($r->{status}, 200, "$scope: app gets its hook");
    $t->schema_ok($r->{json}, $schema, "$scope: app's hook is a $schema");
    is($r->{json}{id}, $id, "$scope: app's hook id");
    is($r->{json}{config}{url}, "https://app.example/$scope",
        "$scope: app's hook url");

    $r = $t->api(GET => "$b/hooks/$id/config", 'demo-app');
    is($r->{status}, 200, "$scope: app gets its hook's config");
    $t->schema_ok($r->{json}, 'webhook-config', "$scope: config schema");
    is($r->{json}{secret}, '********', "$scope: secret masked");

    $r = $t->api(PATCH => "$b/hooks/$id", 'demo-app',
        { events => ['issues', 'push'], active => JSON::PP::false });
    is($r->{status}, 200, "$scope: app updates its hook") or diag($r->{raw});
    $t->schema_ok($r->{json}, $schema, "$scope: updated hook schema");
    is_deeply([ sort @{ $r->{json}{events} || [] } ], ['issues', 'push'],
        "$scope: events updated");
    ok(defined $r->{json}{active} && !$r->{json}{active},
        "$scope: deactivated");

    $r = $t->api(PATCH => "$b/hooks/$id/config", 'demo-app',
        { content_type => 'form' });
    is($r->{status}, 200, "$scope: app updates its hook's config")
        or diag($r->{raw});
    $t->schema_ok($r->{json}, 'webhook-config',
        "$scope: updated config schema");
    is($r->{json}{content_type}, 'form', "$scope: content_type updated");
    is($r->{json}{url}, "https://app.example/$scope", "$scope: url kept");

    # Still invisible to the others after the writes.
    is($t->api(GET => "$b/hooks/$id", 'demo-owner')->{status}, 404,
        "$scope: user still cannot see the updated app hook");
    is($t->api(GET => "$b/hooks/$id", 'demo-app2')->{status}, 404,
        "$scope: app 2 still cannot see the updated app hook");
    is_deeply(list_ids($scope, 'demo-owner'), [ $user{$scope} ],
        "$scope: still absent from the user's list");

    # The user's and app 2's hooks are as they were.
    $r = $t->api(GET => "$b/hooks/$user{$scope}", 'demo-owner');
    is($r->{status}, 200, "$scope: user's hook still there");
    is_deeply($r->{json}{events}, ['push'], "$scope: user's hook events kept");
    ok($r->{json}{active}, "$scope: user's hook still active");
    is($r->{json}{config}{content_type}, 'json',
        "$scope: user's hook content_type kept");

    $r = $t->api(GET => "$b/hooks/$app2{$scope}/config", 'demo-app2');
    is($r->{status}, 200, "$scope: app 2's hook config still there");
    is($r->{json}{content_type}, 'json', "$scope: app 2's config kept");

    # Deletion: only by the creator.
    my $snap = snapshot();
    for my $token (qw(demo-owner demo-app2 demo-member)) {
        is($t->api(DELETE => "$b/hooks/$id", $token)->{status}, 404,
            "$scope: $token cannot delete the app's hook");
    }
    is($t->api(DELETE => "$b/hooks/$id", undef)->{status}, 401,
        "$scope: anonymous cannot delete the app's hook");
    is_deeply(snapshot(), $snap, "$scope: failed deletes changed nothing");

    $r = $t->api(DELETE => "$b/hooks/$id", 'demo-app');
    is($r->{status}, 204, "$scope: app deletes its hook");
    is($t->api(GET => "$b/hooks/$id", 'demo-app')->{status}, 404,
        "$scope: deleted hook is gone for the app");
    is($t->api(DELETE => "$b/hooks/$id", 'demo-app')->{status}, 404,
        "$scope: second delete: 404");

    is_deeply(list_ids($scope, 'demo-app'), [],
        "$scope: app's list is empty");
    is_deeply(list_ids($scope, 'demo-owner'), [ $user{$scope} ],
        "$scope: user's list unchanged");
    is_deeply(list_ids($scope, 'demo-app2'), [ $app2{$scope} ],
        "$scope: app 2's list unchanged");

    my $h = { @{ scalar $t->redis(HGETALL => $SCOPE{$scope}{key}) } };
    ok(!grep({ /^\Q$id\E(?::|$)/ } keys %$h),
        "$scope: no field of the deleted hook left in Redis");
    ok(exists $h->{$user{$scope}} && exists $h->{$app2{$scope}},
        "$scope: the others' hooks remain in Redis");
}

$t->stop;
$t->log_ok;

done_testing;
