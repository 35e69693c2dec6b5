#!/usr/bin/perl

# What real GitHub clients lean on: write-only secrets that survive a
# read-then-write round trip, and GitHub's 422 for bodies that are not an
# object.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass     127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $REPO = '/repos/octo-org/hello-world';
my $ORG = '/orgs/octo-org';
my $RKEY = 'webhooks:{r:octo-org/hello-world}:hooks';
my $OKEY = 'webhooks:{o:octo-org}:hooks';
my $MASK = '********';

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub stored {
    my ($key, $id) = @_;
    return decode_json($t->redis(HGET => $key, $id))->{config};
}

sub snapshot {
    return { map { $_ => scalar $t->redis(HGETALL => $_) } $RKEY, $OKEY };
}

###############################################################################
# Write-only secrets survive a round trip.

my $r = api(POST => "$REPO/hooks", { events => ['push'],
    config => { url => 'http://127.0.0.1:1/a', secret => 'round-trip' } });
is($r->{status}, 201, 'repo hook created') or diag($r->{body});
my $rid = $r->{json}{id};

$r = api(POST => "$ORG/hooks", { name => 'web', events => ['push'],
    config => { url => 'http://127.0.0.1:1/o', secret => 'org-secret',
        username => 'u', password => 'org-password' } });
is($r->{status}, 201, 'org hook created') or diag($r->{body});
my $oid = $r->{json}{id};

# go-github's EditHook(GetHook()): the config as read, mask and all.
my $got = api(GET => "$REPO/hooks/$rid")->{json};
is($got->{config}{secret}, $MASK, 'secret masked');
$r = api(PATCH => "$REPO/hooks/$rid", { active => JSON::PP::true,
    events => $got->{events}, config => $got->{config} });
is($r->{status}, 200, 'PATCH hook with the config read');
is($r->{json}{config}{secret}, $MASK, 'still shown as set');
is(stored($RKEY, $rid)->{secret}, 'round-trip', 'masked secret kept');

$r = api(PATCH => "$REPO/hooks/$rid",
    { config => { url => 'http://127.0.0.1:1/b' } });
is($r->{status}, 200, 'PATCH hook, config without secret');
is(stored($RKEY, $rid)->{url}, 'http://127.0.0.1:1/b', 'url replaced');
is(stored($RKEY, $rid)->{secret}, 'round-trip', 'absent secret kept');

$got = api(GET => "$REPO/hooks/$rid/config")->{json};
$r = api(PATCH => "$REPO/hooks/$rid/config", $got);
is($r->{status}, 200, 'PATCH config with the config read');
is(stored($RKEY, $rid)->{secret}, 'round-trip', 'config: masked kept');

$got = api(GET => "$ORG/hooks/$oid/config")->{json};
is($got->{password}, $MASK, 'org password masked');
$r = api(PATCH => "$ORG/hooks/$oid/config", $got);
is($r->{status}, 200, 'PATCH org config with the config read');
is(stored($OKEY, $oid)->{secret}, 'org-secret', 'org secret kept');
is(stored($OKEY, $oid)->{password}, 'org-password', 'org password kept');
$got = api(GET => "$ORG/hooks/$oid")->{json};
$r = api(PATCH => "$ORG/hooks/$oid", { config => $got->{config} });
is($r->{status}, 200, 'PATCH org hook with the config read');
is(stored($OKEY, $oid)->{password}, 'org-password', 'org hook: kept');

$r = api(PATCH => "$REPO/hooks/$rid/config", { secret => 'new-one' });
is(stored($RKEY, $rid)->{secret}, 'new-one', 'another value replaces');
$r = api(PATCH => "$ORG/hooks/$oid/config", { password => '' });
ok(!exists stored($OKEY, $oid)->{password}, '"" removes the password');
is(stored($OKEY, $oid)->{secret}, 'org-secret', 'and keeps the secret');
$r = api(PATCH => "$REPO/hooks/$rid",
    { config => { url => 'http://127.0.0.1:1/b', secret => '' } });
ok(!exists stored($RKEY, $rid)->{secret}, '"" removes the secret');
ok(!exists api(GET => "$REPO/hooks/$rid")->{json}{config}{secret},
    'no secret shown');
$r = api(PATCH => "$REPO/hooks/$rid/config", { secret => $MASK });
ok(!exists stored($RKEY, $rid)->{secret}, 'the mask sets no secret');
$r = api(PATCH => "$REPO/hooks/$rid/config", { secret => 'again' });
is(stored($RKEY, $rid)->{secret}, 'again', 'set again');

###############################################################################
# Bodies that parse but are not objects: GitHub's 422, nothing changed.

sub not_object {
    my ($name, $method, $path, $body, $shown) = @_;
    my $before = snapshot();
    my $r = $t->http($method, $path, body => $body, headers => {
        Authorization => "token $TOK",
        'Content-Type' => 'application/json' });
    is($r->{status}, 422, "$name: 422");
    $t->schema_ok($r->{json}, 'validation-error', "$name: schema");
    is($r->{json}{message}, "Invalid request.\n\nFor 'links/0/schema', "
        . "$shown is not an object.", "$name: message");
    unlike($r->{body}, qr/hidden-sec/, "$name: no secret shown");
    is_deeply(snapshot(), $before, "$name: nothing changed");
    return $r;
}

not_object('array', POST => "$REPO/hooks", '[1,2,3]', '[1, 2, 3]');
not_object('string', POST => "$REPO/hooks", '"web"', '"web"');
not_object('number', PATCH => "$REPO/hooks/$rid", '123', '123');
not_object('float', PATCH => "$REPO/hooks/$rid/config", '1.5', '1.5');
not_object('null', PATCH => "$ORG/hooks/$oid", 'null', 'nil');
not_object('false', PATCH => "$ORG/hooks/$oid/config", 'false', 'false');
not_object('nested', POST => "$ORG/hooks",
    '[{"name":"web","config":{"url":"http://x/","secret":"hidden-sec"}},[]]',
    '[{"name"=>"web", "config"=>{"url"=>"http://x/", '
    . '"secret"=>"[FILTERED]"}}, []]');
not_object('empty org create', POST => "$ORG/hooks", '', 'nil');
not_object('empty repo update', PATCH => "$REPO/hooks/$rid", '', 'nil');

$r = $t->http(POST => "$REPO/hooks", body => '[1,', headers => {
    Authorization => "token $TOK", 'Content-Type' => 'application/json' });
is($r->{status}, 400, 'text that does not parse: 400');
is($r->{json}{message}, 'Problems parsing JSON', '400 message');

$r = $t->http(PATCH => "$REPO/hooks/$rid/config", headers => {
    Authorization => "token $TOK", 'Content-Type' => 'application/json' });
is($r->{status}, 200, 'empty body where none is required: 200');

$t->log_ok;
done_testing;
