#!/usr/bin/perl

# Repository webhooks: the 7 operations, their bodies against the spec,
# secrets, defaults, case-insensitive names, one id counter, pagination,
# a prefix location and webhooks_base_url.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

my $LOC = <<'EOF';
            webhooks_api       on;
            webhooks_login     $wh_login;
            webhooks_admin     $wh_admin;
            webhooks_oauth_app $wh_app;
EOF

$t->nginx_conf(<<"EOF");
    map \$http_authorization \$wh_token {
        "~*^(?:token|bearer)\\s+(?<tok>\\S+)\\s*\$"  \$tok;
        default                                 "";
    }
    map \$wh_token \$wh_login {
        demo-owner octocat; demo-member hubot; demo-app octocat; default "";
    }
    map \$wh_token \$wh_admin { demo-owner 1; demo-app 1; default 0; }
    map \$wh_token \$wh_app { demo-app 1; default ""; }

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_max_hooks_per_event 200;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
$LOC        }
        location /api/v3/ {
$LOC        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;
        location / {
$LOC            webhooks_base_url https://api.example.com;
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $BASE = 'http://localhost';
my $RDOC = 'https://docs.github.com/rest/repos/webhooks#';
my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
my $LR = { code => undef, status => 'unused', message => undef };

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

# The expected repository hook, without timestamps.
sub rhook {
    my ($name, $id, %o) = @_;
    my $u = ($o{base} // $BASE) . "/repos/$name/hooks/$id";
    return {
        type => 'Repository', id => $id, name => 'web',
        active => $o{active} // JSON::PP::true,
        events => $o{events} // ['push'], config => $o{config},
        url => $u, test_url => "$u/test", ping_url => "$u/pings",
        deliveries_url => "$u/deliveries", last_response => $LR,
    };
}

# Schema, timestamps, then the exact content.
sub hook_is {
    my ($got, $exp, $name) = @_;
    $t->schema_ok($got, 'hook', "$name: schema");
    my %h = %{$got // {}};
    like(delete $h{created_at}, $TS, "$name: created_at");
    like(delete $h{updated_at}, $TS, "$name: updated_at");
    is_deeply(\%h, $exp, "$name: body") or diag explain \%h;
}

sub error_is {
    my ($r, $status, $message, $doc, $name) = @_;
    is($r->{status}, $status, "$name: status");
    $t->schema_ok($r->{json}, 'basic-error', "$name: schema");
    is_deeply($r->{json}, { message => $message, documentation_url => $doc,
        status => "$status" }, "$name: body") or diag $r->{body};
}

sub stored {
    my ($key, $id) = @_;
    my $v = $t->redis(HGET => "webhooks:{r:$key}:hooks", $id);
    return defined $v ? decode_json($v) : undef;
}

###############################################################################
# Create: defaults, secret, normalisation, Location.

my $r = api(POST => '/repos/Octocat/Hello-World/hooks', {
    config => { url => 'https://example.com/hook', secret => 's3cr3t',
        insecure_ssl => 1 },
    events => ['push', 'issues', 'push'],
});
is($r->{status}, 201, 'create: 201');
like($r->{headers}{'content-type'}, qr{^application/json}, 'create: json');
my $id1 = $r->{json}{id};
ok($id1 && $id1 =~ /^[1-9]\d*$/, 'create: id');
my $cfg1 = { url => 'https://example.com/hook', content_type => 'form',
    insecure_ssl => '1', secret => '********' };
hook_is($r->{json}, rhook('Octocat/Hello-World', $id1,
    events => ['push', 'issues'], config => $cfg1), 'create');
is($r->{headers}{location}, "$BASE/repos/Octocat/Hello-World/hooks/$id1",
    'create: Location');
is($r->{json}{created_at}, $r->{json}{updated_at}, 'create: timestamps');
unlike($r->{body}, qr/s3cr3t/, 'create: secret not returned');

my $st = stored('octocat/hello-world', $id1);
is($st->{config}{secret}, 's3cr3t', 'secret stored in redis');
is($t->redis(HGET => 'webhooks:{r:octocat/hello-world}:hooks', 'name'),
    'Octocat/Hello-World', 'name stored as first spelled');

$r = api(POST => '/repos/octocat/hello-world/hooks',
    { config => { url => 'http://example.com/2', content_type => 'json',
        insecure_ssl => 0 } });
is($r->{status}, 201, 'create defaults: 201');
my $id2 = $r->{json}{id};
hook_is($r->{json}, rhook('Octocat/Hello-World', $id2, config => {
    url => 'http://example.com/2', content_type => 'json',
    insecure_ssl => '0' }), 'create defaults (events push, no secret)');
is($r->{headers}{location}, "$BASE/repos/Octocat/Hello-World/hooks/$id2",
    'second spelling: url keeps the first');
ok($id2 > $id1, 'ids grow');

$r = api(POST => '/repos/Octocat/Hello-World/hooks', { name => 'web',
    active => JSON::PP::false, events => ['*'],
    config => { url => 'http://example.com/3', insecure_ssl => '0',
        secret => '' } });
is($r->{status}, 201, 'create inactive: 201');
my $id3 = $r->{json}{id};
hook_is($r->{json}, rhook('Octocat/Hello-World', $id3,
    active => JSON::PP::false, events => ['*'], config => {
        url => 'http://example.com/3', content_type => 'form',
        insecure_ssl => '0' }),
    'create inactive, "*", empty secret = none');
ok(!exists stored('octocat/hello-world', $id3)->{config}{secret},
    'empty secret not stored');

# Secrets are stored verbatim: escapes, UTF-8, the longest (t/15 has the
# limit), in a body past the buffer.
my $odd = "q\"b\\s/\x{263a}\n" . ('z' x 1016);
$r = api(POST => '/repos/octocat/secrets/hooks',
    JSON::PP->new->encode({ config => { url => 'http://example.com/odd',
        secret => $odd } }) . (' ' x 20000));
is($r->{status}, 201, 'odd secret: 201');
is($r->{json}{config}{secret}, '********', 'odd secret: masked');
is(stored('octocat/secrets', $r->{json}{id})->{config}{secret}, $odd,
    'odd secret: stored verbatim');

###############################################################################
# Get, list, case-insensitive names.

$r = api(GET => "/repos/OCTOCAT/hello-world/hooks/$id1");
is($r->{status}, 200, 'get: 200');
hook_is($r->{json}, rhook('Octocat/Hello-World', $id1,
    events => ['push', 'issues'], config => $cfg1), 'get other case');

$r = api(GET => '/repos/OCTOCAT/HELLO-WORLD/hooks');
is($r->{status}, 200, 'list: 200');
$t->schema_array_ok($r->{json}, 'hook', 'list: schema');
is_deeply([map { $_->{id} } @{$r->{json}}], [$id1, $id2, $id3],
    'list: all, by id');
is($r->{json}[0]{url}, "$BASE/repos/Octocat/Hello-World/hooks/$id1",
    'list: url uses first spelling');
ok(!exists $r->{headers}{link}, 'list: no Link for one page');

$r = api(GET => '/repos/nobody/nothing/hooks');
is($r->{status}, 200, 'list empty: 200');
is($r->{body}, '[]', 'list empty: []');

error_is(api(GET => '/repos/octocat/hello-world/hooks/999999'), 404,
    'Not Found', "${RDOC}get-a-repository-webhook", 'get unknown');
error_is(api(GET => "/repos/octocat/other/hooks/$id1"), 404,
    'Not Found', "${RDOC}get-a-repository-webhook", 'get in other repo');

###############################################################################
# Config.

$r = api(GET => "/repos/octocat/Hello-World/hooks/$id1/config");
is($r->{status}, 200, 'get config: 200');
$t->schema_ok($r->{json}, 'webhook-config', 'get config: schema');
is_deeply($r->{json}, $cfg1, 'get config: body');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id1/config",
    { content_type => 'json', insecure_ssl => 0 });
is($r->{status}, 200, 'patch config: 200');
$t->schema_ok($r->{json}, 'webhook-config', 'patch config: schema');
is_deeply($r->{json}, { %$cfg1, content_type => 'json',
    insecure_ssl => '0' }, 'patch config: only named fields change');
is(stored('octocat/hello-world', $id1)->{config}{secret}, 's3cr3t',
    'patch config: secret kept');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id1/config",
    { url => 'https://example.com/new', secret => 'other' });
is_deeply($r->{json}, { url => 'https://example.com/new',
    content_type => 'json', insecure_ssl => '0', secret => '********' },
    'patch config: url and secret');
is(stored('octocat/hello-world', $id1)->{config}{secret}, 'other',
    'patch config: new secret stored');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id1/config",
    { secret => '' });
is($r->{status}, 200, 'patch config secret "": 200');
is_deeply($r->{json}, { url => 'https://example.com/new',
    content_type => 'json', insecure_ssl => '0' },
    'patch config secret "": removed');
ok(!exists stored('octocat/hello-world', $id1)->{config}{secret},
    'patch config secret "": gone from redis');

$r = api(GET => "/repos/octocat/hello-world/hooks/$id1");
is_deeply($r->{json}{config}, { url => 'https://example.com/new',
    content_type => 'json', insecure_ssl => '0' }, 'config seen by get');

###############################################################################
# Update.

api(PATCH => "/repos/octocat/hello-world/hooks/$id2/config",
    { secret => 'x' });
my $before = api(GET => "/repos/octocat/hello-world/hooks/$id2")->{json};
sleep 1.1;

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id2",
    { config => { url => 'http://example.com/replaced' },
      events => ['pull_request', 'push', 'pull_request'],
      active => JSON::PP::false });
is($r->{status}, 200, 'update: 200');
hook_is($r->{json}, rhook('Octocat/Hello-World', $id2,
    active => JSON::PP::false, events => ['pull_request', 'push'],
    config => { url => 'http://example.com/replaced',
        content_type => 'form', insecure_ssl => '0', secret => '********' }),
    'update: config replaced but for the secret, events replaced');
is($r->{json}{created_at}, $before->{created_at}, 'update: created_at kept');
isnt($r->{json}{updated_at}, $before->{updated_at}, 'update: updated_at');
ok(exists stored('octocat/hello-world', $id2)->{config}{secret},
    'update: secret kept in redis');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id2",
    { add_events => ['issues', 'push'], active => JSON::PP::true,
      name => 'web' });
is($r->{status}, 200, 'add_events: 200');
hook_is($r->{json}, rhook('Octocat/Hello-World', $id2,
    events => ['pull_request', 'push', 'issues'],
    config => { url => 'http://example.com/replaced',
        content_type => 'form', insecure_ssl => '0', secret => '********' }),
    'add_events: appended once, config untouched');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id2",
    { remove_events => ['pull_request', 'fork'] });
is($r->{status}, 200, 'remove_events: 200');
is_deeply($r->{json}{events}, ['push', 'issues'], 'remove_events: removed');

$r = api(GET => "/repos/octocat/hello-world/hooks/$id2");
is_deeply($r->{json}{events}, ['push', 'issues'], 'events seen by get');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id2",
    { config => { content_type => 'json' } });
is($r->{status}, 422, 'update config without url: 422');
$t->schema_ok($r->{json}, 'validation-error', 'update without url: schema');
is_deeply($r->{json}, { message => 'Validation Failed', status => '422',
    errors => [{ resource => 'Hook', code => 'custom',
        message => 'Config must contain URL for webhooks' }],
    documentation_url => "${RDOC}update-a-repository-webhook" },
    'update config without url: body');

$r = api(PATCH => "/repos/octocat/hello-world/hooks/$id2", {});
is($r->{status}, 200, 'empty update: 200');
is_deeply($r->{json}{events}, ['push', 'issues'], 'empty update: no change');

###############################################################################
# Delete.

$r = api(DELETE => "/repos/octocat/Hello-World/hooks/$id3");
is($r->{status}, 204, 'delete: 204');
is($r->{body}, '', 'delete: no body');
error_is(api(GET => "/repos/octocat/hello-world/hooks/$id3"), 404,
    'Not Found', "${RDOC}get-a-repository-webhook", 'get deleted');
error_is(api(GET => "/repos/octocat/hello-world/hooks/$id3/config"), 404,
    'Not Found', "${RDOC}get-a-webhook-configuration-for-a-repository",
    'get config deleted');
error_is(api(PATCH => "/repos/octocat/hello-world/hooks/$id3",
    { active => JSON::PP::true }), 404, 'Not Found',
    "${RDOC}update-a-repository-webhook", 'update deleted');
error_is(api(DELETE => "/repos/octocat/hello-world/hooks/$id3"), 404,
    'Not Found', "${RDOC}delete-a-repository-webhook", 'delete again');
my @left = grep { /^\Q$id3\E(?::|$)/ } @{scalar $t->redis(HKEYS =>
    'webhooks:{r:octocat/hello-world}:hooks')};
is_deeply(\@left, [], 'delete: redis fields gone');
is_deeply([map { $_->{id} }
    @{api(GET => '/repos/octocat/hello-world/hooks')->{json}}],
    [$id1, $id2], 'delete: gone from list');

###############################################################################
# One id counter for orgs and repos.

my $seq = $t->redis(GET => 'webhooks:seq:hook');
$r = api(POST => '/orgs/octo-org/hooks',
    { name => 'web', config => { url => 'http://example.com/o' } });
is($r->{status}, 201, 'org hook: 201');
my $oid = $r->{json}{id};
$r = api(POST => '/repos/octo-org/repo/hooks',
    { config => { url => 'http://example.com/o' } });
is($r->{status}, 201, 'repo hook after org hook: 201');
my $rid = $r->{json}{id};
is($oid, $seq + 1, 'org hook takes the next id');
is($rid, $oid + 1, 'repo hook takes the one after');
is($t->redis(GET => 'webhooks:seq:hook'), $rid, 'counter in redis');
error_is(api(GET => "/repos/octo-org/repo/hooks/$oid"), 404, 'Not Found',
    "${RDOC}get-a-repository-webhook", 'org hook id not in repo');

###############################################################################
# Pagination.

my @ids;
for my $n (1 .. 5) {
    $r = api(POST => '/repos/o/paged/hooks',
        { config => { url => "http://example.com/p$n" } });
    push @ids, $r->{json}{id};
}
is(scalar(grep { defined } @ids), 5, '5 hooks created');

my $L = "$BASE/repos/o/paged/hooks";
my %link = map { $_ => "<$L?per_page=2&page=$_>" } 1 .. 4;

$r = api(GET => '/repos/o/paged/hooks?per_page=2');
$t->schema_array_ok($r->{json}, 'hook', 'page 1: schema');
is_deeply([map { $_->{id} } @{$r->{json}}], [@ids[0, 1]], 'page 1');
is($r->{headers}{link},
    qq{$link{2}; rel="next", $link{3}; rel="last"}, 'page 1: Link');

$r = api(GET => '/repos/o/paged/hooks?per_page=2&page=2');
is_deeply([map { $_->{id} } @{$r->{json}}], [@ids[2, 3]], 'page 2');
is($r->{headers}{link}, qq{$link{1}; rel="prev", $link{3}; rel="next", }
    . qq{$link{3}; rel="last", $link{1}; rel="first"}, 'page 2: Link');

$r = api(GET => '/repos/o/paged/hooks?page=3&per_page=2');
is_deeply([map { $_->{id} } @{$r->{json}}], [$ids[4]], 'page 3');
is($r->{headers}{link}, qq{$link{2}; rel="prev", $link{1}; rel="first"},
    'page 3: Link');

for my $pg (0, 'abc') {
    $r = api(GET => "/repos/o/paged/hooks?per_page=2&page=$pg");
    is_deeply([map { $_->{id} } @{$r->{json}}], [@ids[0, 1]],
        "page=$pg: page 1");
    is($r->{headers}{link},
        qq{$link{2}; rel="next", $link{3}; rel="last"}, "page=$pg: Link");
}

$r = api(GET => '/repos/o/paged/hooks?per_page=2&page=4');
is($r->{status}, 200, 'page 4: 200');
is($r->{body}, '[]', 'page 4: []');

$r = api(GET => '/repos/o/paged/hooks?per_page=abc');
is(scalar @{$r->{json}}, 5, 'per_page=abc: all 5');
ok(!exists $r->{headers}{link}, 'per_page=abc: no Link');

# Past 100 hooks: per_page clamps to 100, junk and 0 mean 30.
for my $n (1 .. 96) {
    api(POST => '/repos/o/paged/hooks',
        { config => { url => "http://example.com/q$n" } })->{status} == 201
        or fail("create hook q$n"), last;
}
$r = api(GET => '/repos/o/paged/hooks?per_page=1000');
is(scalar @{$r->{json} // []}, 100, 'per_page=1000: 100 hooks');
is($r->{headers}{link},
    qq{<$L?per_page=100&page=2>; rel="next", <$L?per_page=100&page=2>; }
    . 'rel="last"', 'per_page=1000: Link with per_page=100');

for my $pp ('abc', '0', '-5') {
    $r = api(GET => "/repos/o/paged/hooks?per_page=$pp");
    is(scalar @{$r->{json} // []}, 30, "per_page=$pp: 30 hooks");
    is($r->{headers}{link},
        qq{<$L?per_page=30&page=2>; rel="next", <$L?per_page=30&page=4>; }
        . 'rel="last"', "per_page=$pp: Link with per_page=30");
}

$r = api(GET => '/repos/o/paged/hooks?per_page=100&page=2');
is(scalar @{$r->{json} // []}, 1, 'per_page=100 page 2: the 101st hook');

###############################################################################
# A prefix location; webhooks_base_url.

$r = api(POST => '/api/v3/repos/Pre/Fix/hooks',
    { config => { url => 'http://example.com/pre' } });
is($r->{status}, 201, 'prefix: create 201');
my $pid = $r->{json}{id};
hook_is($r->{json}, rhook('Pre/Fix', $pid, base => "$BASE/api/v3",
    config => { url => 'http://example.com/pre', content_type => 'form',
        insecure_ssl => '0' }), 'prefix: create');
is($r->{headers}{location}, "$BASE/api/v3/repos/Pre/Fix/hooks/$pid",
    'prefix: Location');

$r = api(GET => "/api/v3/repos/pre/fix/hooks/$pid");
is($r->{status}, 200, 'prefix: get 200');
is($r->{json}{url}, "$BASE/api/v3/repos/Pre/Fix/hooks/$pid", 'prefix: url');
is($r->{json}{test_url}, "$BASE/api/v3/repos/Pre/Fix/hooks/$pid/test",
    'prefix: test_url');

api(POST => '/api/v3/repos/pre/fix/hooks',
    { config => { url => 'http://example.com/pre2' } });
$r = api(GET => '/api/v3/repos/Pre/Fix/hooks?per_page=1');
is($r->{headers}{link},
    qq{<$BASE/api/v3/repos/Pre/Fix/hooks?per_page=1&page=2>; rel="next", }
    . qq{<$BASE/api/v3/repos/Pre/Fix/hooks?per_page=1&page=2>; rel="last"},
    'prefix: Link');

$r = api(GET => "/repos/pre/fix/hooks/$pid");
is($r->{json}{url}, "$BASE/repos/Pre/Fix/hooks/$pid",
    'same hook without prefix: url without /api/v3');

$r = api(GET => "/repos/pre/fix/hooks/$pid", undef, port => $t->port(2));
is($r->{status}, 200, 'base_url: 200');
hook_is($r->{json}, rhook('Pre/Fix', $pid, base => 'https://api.example.com',
    config => { url => 'http://example.com/pre', content_type => 'form',
        insecure_ssl => '0' }), 'base_url: get');

$r = api(POST => '/repos/pre/fix/hooks',
    { config => { url => 'http://example.com/pre3' } }, port => $t->port(2));
is($r->{headers}{location},
    "https://api.example.com/repos/Pre/Fix/hooks/$r->{json}{id}",
    'base_url: Location');

###############################################################################

$t->stop;
$t->log_ok;

done_testing;
