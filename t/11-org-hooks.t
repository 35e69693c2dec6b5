#!/usr/bin/perl

# Organization webhooks: the 7 operations, bodies against the spec
# (org-hook), name required, username/password in the config.

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

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $BASE = 'http://localhost';
my $ODOC = 'https://docs.github.com/rest/orgs/webhooks#';
my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

# The expected organization hook, without timestamps.
sub ohook {
    my ($name, $id, %o) = @_;
    my $u = "$BASE/orgs/$name/hooks/$id";
    return {
        type => 'Organization', id => $id, name => 'web',
        active => $o{active} // JSON::PP::true,
        events => $o{events} // ['push'], config => $o{config},
        url => $u, ping_url => "$u/pings", deliveries_url => "$u/deliveries",
    };
}

sub hook_is {
    my ($got, $exp, $name) = @_;
    $t->schema_ok($got, 'org-hook', "$name: schema");
    my %h = %{$got // {}};
    like(delete $h{created_at}, $TS, "$name: created_at");
    like(delete $h{updated_at}, $TS, "$name: updated_at");
    is_deeply(\%h, $exp, "$name: body") or diag explain \%h;
}

sub error_is {
    my ($r, $status, $body, $name) = @_;
    is($r->{status}, $status, "$name: status");
    $t->schema_ok($r->{json}, $body->{errors} ? 'validation-error'
        : 'basic-error', "$name: schema");
    is_deeply($r->{json}, { %$body, status => "$status" }, "$name: body")
        or diag $r->{body};
}

sub stored {
    my ($key, $id) = @_;
    my $v = $t->redis(HGET => "webhooks:{o:$key}:hooks", $id);
    return defined $v ? decode_json($v) : undef;
}

###############################################################################
# Create.

my $r = api(POST => '/orgs/Octo-Org/hooks', { name => 'web',
    config => { url => 'https://example.com/org', secret => 'sh',
        username => 'kdaigle', password => 'pw', insecure_ssl => '1',
        content_type => 'json' },
    events => ['push', 'pull_request', 'push'] });
is($r->{status}, 201, 'create: 201');
my $id1 = $r->{json}{id};
ok($id1 && $id1 =~ /^[1-9]\d*$/, 'create: id');
my $cfg1 = { url => 'https://example.com/org', content_type => 'json',
    insecure_ssl => '1', secret => '********', username => 'kdaigle',
    password => '********' };
hook_is($r->{json}, ohook('Octo-Org', $id1, events => ['push',
    'pull_request'], config => $cfg1), 'create');
ok(!exists $r->{json}{$_}, "create: no $_") for qw(test_url last_response);
is($r->{headers}{location}, "$BASE/orgs/Octo-Org/hooks/$id1",
    'create: Location');
unlike($r->{body}, qr/"(?:sh|pw)"/, 'create: secrets not returned');
my $st = stored('octo-org', $id1);
is($st->{config}{secret}, 'sh', 'secret stored');
is($st->{config}{password}, 'pw', 'password stored');
is($t->redis(HGET => 'webhooks:{o:octo-org}:hooks', 'name'), 'Octo-Org',
    'name stored as first spelled');

$r = api(POST => '/orgs/octo-org/hooks',
    { name => 'web', config => { url => 'http://example.com/2',
        insecure_ssl => 0 } });
is($r->{status}, 201, 'create defaults: 201');
my $id2 = $r->{json}{id};
hook_is($r->{json}, ohook('Octo-Org', $id2, config => {
    url => 'http://example.com/2', content_type => 'form',
    insecure_ssl => '0' }), 'create defaults');

$r = api(POST => '/orgs/OCTO-ORG/hooks', { name => 'web',
    active => JSON::PP::false, events => ['*'],
    config => { url => 'http://example.com/3', secret => '' } });
is($r->{status}, 201, 'create inactive: 201');
my $id3 = $r->{json}{id};
hook_is($r->{json}, ohook('Octo-Org', $id3, active => JSON::PP::false,
    events => ['*'], config => { url => 'http://example.com/3',
        content_type => 'form', insecure_ssl => '0' }), 'create inactive');

error_is(api(POST => '/orgs/octo-org/hooks',
    { config => { url => 'http://example.com/4' } }), 422,
    { message => 'Validation Failed', errors => [{ resource => 'Hook',
        field => 'name', code => 'missing_field' }],
      documentation_url => "${ODOC}create-an-organization-webhook" },
    'create without name');
error_is(api(POST => '/orgs/octo-org/hooks',
    { name => 'irc', config => { url => 'http://example.com/4' } }), 422,
    { message => 'Validation Failed', errors => [{ resource => 'Hook',
        field => 'name', code => 'invalid' }],
      documentation_url => "${ODOC}create-an-organization-webhook" },
    'create with name irc');
error_is(api(POST => '/orgs/octo-org/hooks',
    { name => 'web', config => { url => 'https://example.com/org' } }), 422,
    { message => 'Validation Failed', errors => [{ resource => 'Hook',
        code => 'custom',
        message => 'Hook already exists on this organization' }],
      documentation_url => "${ODOC}create-an-organization-webhook" },
    'create duplicate');

###############################################################################
# Get, list.

$r = api(GET => "/orgs/OCTO-org/hooks/$id1");
is($r->{status}, 200, 'get: 200');
hook_is($r->{json}, ohook('Octo-Org', $id1, events => ['push',
    'pull_request'], config => $cfg1), 'get other case');

$r = api(GET => '/orgs/octo-org/hooks');
is($r->{status}, 200, 'list: 200');
$t->schema_array_ok($r->{json}, 'org-hook', 'list: schema');
is_deeply([map { $_->{id} } @{$r->{json}}], [$id1, $id2, $id3],
    'list: by id');
is_deeply([grep { exists $_->{test_url} || exists $_->{last_response} }
    @{$r->{json}}], [], 'list: no test_url, last_response');
is($r->{json}[1]{url}, "$BASE/orgs/Octo-Org/hooks/$id2", 'list: url');

$r = api(GET => '/orgs/octo-org/hooks?per_page=2&page=2');
is_deeply([map { $_->{id} } @{$r->{json}}], [$id3], 'list page 2');
my $L = "$BASE/orgs/Octo-Org/hooks?per_page=2";
is($r->{headers}{link}, qq{<$L&page=1>; rel="prev", <$L&page=1>; }
    . 'rel="first"', 'list page 2: Link');

$r = api(GET => '/orgs/empty-org/hooks');
is($r->{body}, '[]', 'list empty org');

error_is(api(GET => '/orgs/octo-org/hooks/424242'), 404,
    { message => 'Not Found',
      documentation_url => "${ODOC}get-an-organization-webhook" },
    'get unknown');
error_is(api(GET => "/orgs/other-org/hooks/$id1"), 404,
    { message => 'Not Found',
      documentation_url => "${ODOC}get-an-organization-webhook" },
    'get in other org');
error_is(api(GET => "/repos/octo-org/x/hooks/$id1"), 404,
    { message => 'Not Found',
      documentation_url => 'https://docs.github.com/rest/repos/webhooks#'
          . 'get-a-repository-webhook' }, 'org hook not in a repo');

###############################################################################
# Config.

$r = api(GET => "/orgs/octo-org/hooks/$id1/config");
is($r->{status}, 200, 'get config: 200');
$t->schema_ok($r->{json}, 'webhook-config', 'get config: schema');
is_deeply($r->{json}, $cfg1, 'get config: body');

$r = api(PATCH => "/orgs/octo-org/hooks/$id1/config",
    { insecure_ssl => 0, username => 'hubot' });
is($r->{status}, 200, 'patch config: 200');
$t->schema_ok($r->{json}, 'webhook-config', 'patch config: schema');
is_deeply($r->{json}, { %$cfg1, insecure_ssl => '0', username => 'hubot' },
    'patch config: only named fields');
$st = stored('octo-org', $id1);
is_deeply([@{$st->{config}}{qw(secret password username)}],
    ['sh', 'pw', 'hubot'], 'patch config: stored');

$r = api(PATCH => "/orgs/octo-org/hooks/$id1/config",
    { secret => '', password => 'pw2' });
my %cfg = (%$cfg1, insecure_ssl => '0', username => 'hubot');
delete $cfg{secret};
is_deeply($r->{json}, \%cfg, 'patch config secret "": removed')
    or diag $r->{body};
ok(!exists stored('octo-org', $id1)->{config}{secret},
    'patch config secret "": gone from redis');
is(stored('octo-org', $id1)->{config}{password}, 'pw2', 'password changed');

###############################################################################
# Update.

my $before = api(GET => "/orgs/octo-org/hooks/$id1")->{json};
sleep 1.1;
$r = api(PATCH => "/orgs/octo-org/hooks/$id1",
    { config => { url => 'https://example.com/org2', username => 'u' },
      events => ['issues', 'issues'], active => JSON::PP::false,
      name => 'web' });
is($r->{status}, 200, 'update: 200');
hook_is($r->{json}, ohook('Octo-Org', $id1, active => JSON::PP::false,
    events => ['issues'], config => { url => 'https://example.com/org2',
        content_type => 'form', insecure_ssl => '0', username => 'u',
        password => '********' }),
    'update: config replaced but for its secrets, events replaced');
is($r->{json}{created_at}, $before->{created_at}, 'update: created_at kept');
isnt($r->{json}{updated_at}, $before->{updated_at}, 'update: updated_at');
$st = stored('octo-org', $id1);
ok(!exists $st->{config}{secret} && $st->{config}{password} eq 'pw2',
    'update: no secret yet, password kept in redis');

$r = api(PATCH => "/orgs/octo-org/hooks/$id1", { active => JSON::PP::true });
hook_is($r->{json}, ohook('Octo-Org', $id1, events => ['issues'],
    config => { url => 'https://example.com/org2', content_type => 'form',
        insecure_ssl => '0', username => 'u', password => '********' }),
    'update active only');

error_is(api(PATCH => "/orgs/octo-org/hooks/$id1", { name => 'irc' }), 422,
    { message => 'Validation Failed', errors => [{ resource => 'Hook',
        field => 'name', code => 'invalid' }],
      documentation_url => "${ODOC}update-an-organization-webhook" },
    'update name irc');

###############################################################################
# Delete.

$r = api(DELETE => "/orgs/Octo-Org/hooks/$id2");
is($r->{status}, 204, 'delete: 204');
is($r->{body}, '', 'delete: no body');
error_is(api(GET => "/orgs/octo-org/hooks/$id2"), 404,
    { message => 'Not Found',
      documentation_url => "${ODOC}get-an-organization-webhook" },
    'get deleted');
error_is(api(GET => "/orgs/octo-org/hooks/$id2/config"), 404,
    { message => 'Not Found', documentation_url =>
      "${ODOC}get-a-webhook-configuration-for-an-organization" },
    'get config deleted');
error_is(api(PATCH => "/orgs/octo-org/hooks/$id2/config", { url =>
    'http://example.com/x' }), 404,
    { message => 'Not Found', documentation_url =>
      "${ODOC}update-a-webhook-configuration-for-an-organization" },
    'patch config deleted');
error_is(api(DELETE => "/orgs/octo-org/hooks/$id2"), 404,
    { message => 'Not Found',
      documentation_url => "${ODOC}delete-an-organization-webhook" },
    'delete again');
my @left = grep { /^\Q$id2\E(?::|$)/ }
    @{scalar $t->redis(HKEYS => 'webhooks:{o:octo-org}:hooks')};
is_deeply(\@left, [], 'delete: redis fields gone');
is_deeply([map { $_->{id} } @{api(GET => '/orgs/octo-org/hooks')->{json}}],
    [$id1, $id3], 'delete: gone from list');

###############################################################################

$t->stop;
$t->log_ok;

done_testing;
