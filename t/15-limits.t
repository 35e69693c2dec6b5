#!/usr/bin/perl

# Bounded input: every limit answers with GitHub's status and JSON error
# body and changes nothing.  One section per limit: API body size, URL
# length, events per hook, name and string lengths, JSON nesting depth,
# per_page and page, the deliveries cursor, and what a delivery keeps of
# the receiver's response headers and body.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_login      $webhooks_demo_login;
    webhooks_admin      $webhooks_demo_admin;
    webhooks_oauth_app  $webhooks_demo_app;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        client_max_body_size    1m;
        client_body_buffer_size 1m;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            client_max_body_size 0;
            proxy_ssl_name       $webhooks_delivery_host;
            proxy_read_timeout   5s;
            proxy_buffer_size    64k;
            proxy_buffers        4 64k;
        }

        location = /_webhooks/events {
            client_max_body_size 30m;
            webhooks_events on;
        }

        location = /hub {
            webhooks_hub on;
        }

        location = /small/hub {
            webhooks_hub          on;
            webhooks_api_body_max 1k;
        }

        location /small/ {
            webhooks_api          on;
            webhooks_api_body_max 1k;
        }

        # nginx's own limit below the module's: nginx's HTML 413
        location /tight/ {
            client_max_body_size 2k;
            webhooks_api         on;
        }

        # the same, with README's error_page: the module's JSON body
        location /recipe/ {
            client_max_body_size 2k;
            error_page 413 = @webhooks_too_large;
            webhooks_api         on;
        }

        location @webhooks_too_large {
            default_type application/json;
            return 413 '{"message":"Payload Too Large","documentation_url":"https://docs.github.com/rest","status":"413"}';
        }

        location / {
            webhooks_api on;
        }
    }
EOF
$t->run;

# the workers make each queue shard's stream as they start: all of them
# there before the first snapshot, or one made later looks like a write
$t->wait_for(sub { !grep { !$t->redis(EXISTS => $_) } $t->shards('queue') },
    10) or die "the queue shards' streams were not made\n";

my $OWNER = 'demo-owner';
my $RDOC = 'https://docs.github.com/rest/repos/webhooks#';
my $ODOC = 'https://docs.github.com/rest/orgs/webhooks#';
my $HDOC = 'https://docs.github.com/webhooks/about-webhooks-for-repositories';
my %DOC = (
    list => "${RDOC}list-repository-webhooks",
    create => "${RDOC}create-a-repository-webhook",
    update => "${RDOC}update-a-repository-webhook",
    config => "${RDOC}update-a-webhook-configuration-for-a-repository",
    ocreate => "${ODOC}create-an-organization-webhook",
    deliveries => "${RDOC}list-deliveries-for-a-repository-webhook",
    hub => $HDOC,
    none => 'https://docs.github.com/rest',
);
my $REPO = '/repos/octocat/limits';
my $J = JSON::PP->new->canonical;

sub api { $t->api($_[0], $_[1], $OWNER, @_[2 .. $#_]) }

# Every key with its content: what "nothing changed" compares.
sub snapshot {
    my %d;
    for my $k (@{scalar $t->redis(KEYS => '*')}) {
        next if $k eq 'webhooks:seq:hook';
        my $type = $t->redis(TYPE => $k);
        $d{$k} = $type eq 'hash' ? { @{scalar $t->redis(HGETALL => $k)} }
            : $type eq 'string' ? $t->redis(GET => $k)
            : $type eq 'zset' ? scalar $t->redis(ZRANGE => $k, 0, -1)
            : $type eq 'stream' ? $t->redis(XLEN => $k)
            : "<$type>";
    }
    return \%d;
}

# The exact GitHub error body, its schema, and nothing written.
sub refused {
    my ($name, $r, $before, $status, $message, $doc, $errors) = @_;
    is($r->{status}, $status, "$name: $status") or diag($r->{raw});
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        "$name: JSON");
    my %exp = (message => $message, documentation_url => $DOC{$doc},
        status => "$status", $errors ? (errors => $errors) : ());
    $t->schema_ok($r->{json}, $status == 422 ? 'validation-error'
        : 'basic-error', "$name: schema");
    is_deeply($r->{json}, \%exp, "$name: body") or diag($r->{body});
    is_deeply(snapshot(), $before, "$name: nothing changed");
}

sub reject {
    my ($name, $req, @rest) = @_;
    my $before = snapshot();
    refused($name, $t->api(@$req), $before, @rest);
}

sub created {
    my ($path, $data, $name) = @_;
    my $r = api(POST => $path, $data);
    is($r->{status}, 201, "$name: 201") or diag($r->{body});
    return $r->{json}{id};
}

sub custom { [{ resource => 'Hook', code => 'custom', message => $_[0] }] }

# A JSON body of exactly $len bytes: $json padded with spaces.
sub padded {
    my ($data, $len) = @_;
    my $json = ref $data ? $J->encode($data) : $data;
    return $json . (' ' x ($len - length $json));
}

# A chunked request, in chunks of 16k.
sub chunked {
    my ($method, $path, $body, %h) = @_;
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nTransfer-Encoding: chunked\r\n"
        . join('', map { "$_: $h{$_}\r\n" } sort keys %h) . "\r\n";
    for (my $i = 0; $i < length $body; $i += 16384) {
        my $c = substr($body, $i, 16384);
        $req .= sprintf("%x\r\n%s\r\n", length $c, $c);
    }
    $req .= "0\r\n\r\n";
    my ($raw, $err) = $t->http_raw($req, timeout => 30);
    return Test::Webhooks::_parse_response($raw // '', $err, $method);
}

my $ha = created("$REPO/hooks", { events => ['push'],
    config => { url => 'http://example.com/a', secret => 's' } }, 'hook a');

###############################################################################
# API body size: webhooks_api_body_max (64k by default), before parsing.

my $AUTH = { Authorization => "token $OWNER",
    'Content-Type' => 'application/json' };
my $TOO_LARGE = 'Payload Too Large';

{
    my $ok = padded({ config => { url => 'http://example.com/b64' } },
        65536);
    my $r = api(POST => "$REPO/hooks", $ok);
    is($r->{status}, 201, 'body of 64k: 201') or diag($r->{body});

    my $big = padded({ config => { url => 'http://example.com/c64' } },
        65537);
    reject('create, 64k + 1', [POST => "$REPO/hooks", $OWNER, $big], 413,
        $TOO_LARGE, 'create');
    reject('update, 64k + 1', [PATCH => "$REPO/hooks/$ha", $OWNER, $big],
        413, $TOO_LARGE, 'update');
    reject('update config, 64k + 1', [PATCH => "$REPO/hooks/$ha/config",
        $OWNER, padded({ url => 'http://example.com/d' }, 65537)], 413,
        $TOO_LARGE, 'config');
    reject('64k + 1, not JSON', [POST => "$REPO/hooks", $OWNER,
        '{' x 65537], 413, $TOO_LARGE, 'create');

    my $before = snapshot();
    refused('chunked, 64k + 1', chunked(POST => "$REPO/hooks", $big,
        %$AUTH), $before, 413, $TOO_LARGE, 'create');
    $r = chunked(POST => "$REPO/hooks", padded({ config => {
        url => 'http://example.com/chunked' } }, 65536), %$AUTH);
    is($r->{status}, 201, 'chunked, 64k: 201') or diag($r->{raw});

    # Announced too large: refused at once, no "100 Continue" asked for.
    my $req = "POST $REPO/hooks HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: token $OWNER\r\nConnection: close\r\n"
        . "Content-Type: application/json\r\nExpect: 100-continue\r\n"
        . "Content-Length: 1000000\r\n\r\n";
    my ($raw) = $t->http_raw($req, timeout => 5);
    like($raw // '', qr{^HTTP/1\.1 413 }, 'Expect: 100-continue: 413');
    unlike($raw // '', qr{100 Continue}, 'Expect: 100-continue: no 100');
    like($raw // '', qr{"message":"Payload Too Large"},
        'Expect: 100-continue: JSON');

    # Still the API's order: 401, then 404, then the size.
    reject('413 after 401', [POST => "$REPO/hooks", undef, $big], 401,
        'Requires authentication', 'create');
    reject('413 after 404 of a route', [POST => "$REPO/hooks/1/nope",
        $OWNER, $big], 404, 'Not Found', 'none');
}

# A location's own limit: webhooks_api_body_max 1k.
{
    my $ok = padded({ config => { url => 'http://example.com/small' } },
        1024);
    my $r = api(POST => "/small$REPO/hooks", $ok);
    is($r->{status}, 201, 'webhooks_api_body_max 1k: 1024 bytes, 201')
        or diag($r->{body});
    reject('webhooks_api_body_max 1k: 1025 bytes', [POST =>
        "/small$REPO/hooks", $OWNER, padded({ config => {
        url => 'http://example.com/small2' } }, 1025)], 413, $TOO_LARGE,
        'create');
}

# client_max_body_size below the module's limit: nginx answers first,
# with its page; README's error_page gives the module's JSON instead.
{
    my $body = padded({ config => { url => 'http://example.com/t' } },
        3000);
    my $before = snapshot();
    my $r = api(POST => "/tight$REPO/hooks", $body);
    is($r->{status}, 413, 'client_max_body_size 2k: 413');
    like($r->{body}, qr{<html>}, 'client_max_body_size 2k: nginx\'s page');
    is_deeply(snapshot(), $before, 'client_max_body_size 2k: nothing stored');

    refused('error_page 413: JSON', api(POST => "/recipe$REPO/hooks",
        $body), $before, 413, $TOO_LARGE, 'none');
}

# The hub: the same limit, on the form.
{
    my $form = 'hub.mode=subscribe&hub.topic='
        . 'https://github.com/octocat/limits/events/push'
        . '&hub.callback=http://example.com/hub&hub.secret=';
    my %h = (Authorization => "token $OWNER",
        'Content-Type' => 'application/x-www-form-urlencoded');
    my $before = snapshot();
    refused('hub, 64k + 1', $t->http(POST => '/hub', headers => \%h,
        body => $form . ('s' x (65537 - length $form))), $before, 413,
        $TOO_LARGE, 'hub');
    refused('hub, chunked 64k + 1', chunked(POST => '/hub',
        $form . ('s' x (65537 - length $form)), %h), $before, 413,
        $TOO_LARGE, 'hub');
    refused('hub, webhooks_api_body_max 1k', $t->http(POST => '/small/hub',
        headers => \%h, body => $form . ('s' x (1025 - length $form))),
        $before, 413, $TOO_LARGE, 'hub');
    my $r = $t->http(POST => '/small/hub', headers => \%h,
        body => $form . ('s' x (1024 - length $form)));
    is($r->{status}, 204, 'hub, 1k: 204') or diag($r->{raw});
}

# The intake: GitHub's 25 MB, chunked (t/50 has the announced one).
{
    my $before = snapshot();
    my $body = '{"repository":{"full_name":"octocat/limits"},"x":"'
        . ('x' x (25 * 1024 * 1024));
    $body .= '"}';
    refused('intake, chunked over 25 MB', chunked(POST => '/_webhooks/events',
        $body, 'X-GitHub-Event' => 'push',
        'Content-Type' => 'application/json'), $before, 413, $TOO_LARGE,
        'none');
}

###############################################################################
# URL length: 2048 (NGX_HTTP_WEBHOOKS_URL_MAX), as config.url,
# hub.callback and hub.topic.

my $BAD_URL = custom('The URL you\'ve entered is not valid. Please make '
    . 'sure that you encode all special characters first');
my $URL = 'http://example.com/';

{
    my $u2048 = $URL . ('u' x (2048 - length $URL));
    my $u2049 = "${u2048}u";
    created("$REPO/hooks", { events => ['fork'], config => { url => $u2048 }
        }, 'url of 2048');
    reject('url of 2049', [POST => "$REPO/hooks", $OWNER,
        { config => { url => $u2049 } }], 422, 'Validation Failed', 'create',
        $BAD_URL);
    reject('url of 2049, update', [PATCH => "$REPO/hooks/$ha", $OWNER,
        { config => { url => $u2049 } }], 422, 'Validation Failed', 'update',
        $BAD_URL);
    reject('url of 2049, update config', [PATCH => "$REPO/hooks/$ha/config",
        $OWNER, { url => $u2049 }], 422, 'Validation Failed', 'config',
        $BAD_URL);
    reject('url of 1 MB', [POST => "$REPO/hooks", $OWNER,
        { config => { url => $URL . ('u' x 60000) } }], 422,
        'Validation Failed', 'create', $BAD_URL);

    my %h = (Authorization => "token $OWNER",
        'Content-Type' => 'application/x-www-form-urlencoded');
    my $topic = 'https://github.com/octocat/limits/events/push';
    my $before = snapshot();
    refused('hub.callback of 2049', $t->http(POST => '/hub', headers => \%h,
        body => "hub.mode=subscribe&hub.topic=$topic&hub.callback=$u2049"),
        $before, 422, 'Validation Failed', 'hub', [{ resource => 'Hub',
        field => 'hub.callback', code => 'invalid',
        message => 'hub.callback must be an http(s) URL' }]);
    my $t2049 = $topic . ('/' x (2049 - length $topic));
    refused('hub.topic of 2049', $t->http(POST => '/hub', headers => \%h,
        body => "hub.mode=subscribe&hub.topic=$t2049&hub.callback=$URL"),
        $before, 422, 'Validation Failed', 'hub', [{ resource => 'Hub',
        field => 'hub.topic', code => 'invalid',
        message => 'hub.topic must be a repository\'s events URL: '
            . 'https://github.com/{owner}/{repo}/events/{event}' }]);
}

###############################################################################
# Events per hook: 256 distinct (NGX_HTTP_WEBHOOKS_EVENTS_MAX); repeats
# collapse; names of 64 characters at most.

sub names { my ($n, $p) = @_; [map { my $s = ''; my $i = $_;
    do { $s .= chr(97 + $i % 26); $i = int($i / 26) } while $i; "$p$s" }
    0 .. $n - 1] }

{
    my $TOO_MANY = [{ resource => 'Hook', field => 'events',
        code => 'custom', message => 'A hook cannot have more than 256 '
        . 'events' }];
    my $r = api(POST => "$REPO/hooks", { events => names(256, 'e_'),
        config => { url => "${URL}e256" } });
    is($r->{status}, 201, '256 events: 201') or diag($r->{body});
    is(scalar @{ $r->{json}{events} // [] }, 256, '256 events: kept');
    my $e256 = $r->{json}{id};

    reject('257 events', [POST => "$REPO/hooks", $OWNER, { events =>
        names(257, 'f_'), config => { url => "${URL}e257" } }], 422,
        'Validation Failed', 'create', $TOO_MANY);
    reject('257 events, update', [PATCH => "$REPO/hooks/$ha", $OWNER,
        { events => names(257, 'f_') }], 422, 'Validation Failed', 'update',
        $TOO_MANY);
    reject('add_events past 256', [PATCH => "$REPO/hooks/$e256", $OWNER,
        { add_events => ['push'] }], 422, 'Validation Failed', 'update',
        [{ %{ $TOO_MANY->[0] }, field => 'add_events' }]);
    reject('remove_events of 257', [PATCH => "$REPO/hooks/$ha", $OWNER,
        { remove_events => names(257, 'g_') }], 422, 'Validation Failed',
        'update', [{ %{ $TOO_MANY->[0] }, field => 'remove_events' }]);

    # The most distinct names 64k holds, some 9000.
    my $many = names(9000, '');
    reject('9000 events', [POST => "$REPO/hooks", $OWNER, { events =>
        $many, config => { url => "${URL}e16k" } }], 422,
        'Validation Failed', 'create', $TOO_MANY);

    $r = api(POST => "$REPO/hooks", { events => [('issues') x 6000],
        config => { url => "${URL}dup" } });
    is($r->{status}, 201, '6000 repeats: 201') or diag($r->{body});
    is_deeply($r->{json}{events}, ['issues'], '6000 repeats: one event');

    my $long = 'a' x 64;
    created("$REPO/hooks", { events => [$long], config => {
        url => "${URL}e64" } }, 'event name of 64');
    reject('event name of 65', [POST => "$REPO/hooks", $OWNER, { events =>
        ["${long}a"], config => { url => "${URL}e65" } }], 422,
        'Validation Failed', 'create', [{ resource => 'Hook',
        field => 'events', code => 'invalid' }]);
    reject('8000 bad names: one error', [POST => "$REPO/hooks", $OWNER,
        { events => [('Bad') x 4000, ('x-y') x 4000], config => {
        url => "${URL}bad" } }], 422, 'Validation Failed', 'create',
        [{ resource => 'Hook', field => 'events', code => 'invalid' }]);
}

###############################################################################
# Names: owner and org at most 39 characters, repository 100: longer ones
# are not found, wherever they come from.  Secrets, usernames and
# passwords: at most 1024 characters.

{
    my ($o39, $r100) = ('o' x 39, 'r' x 100);
    for my $p ("/orgs/$o39/hooks", "/repos/$o39/$r100/hooks") {
        my $r = api(GET => $p);
        is($r->{status}, 200, "$p: 200");
        is($r->{body}, '[]', "$p: []");
    }
    created("/repos/$o39/$r100/hooks", { config => { url => "${URL}n" } },
        'hook of the longest repository');
    created("/orgs/$o39/hooks", { name => 'web', config => {
        url => "${URL}n" } }, 'hook of the longest org');

    for my $p ("/orgs/${o39}o/hooks", "/repos/${o39}o/$r100/hooks",
        "/repos/$o39/${r100}r/hooks")
    {
        reject("GET $p", [GET => $p, $OWNER], 404, 'Not Found', 'none');
        reject("POST $p", [POST => $p, $OWNER, { name => 'web',
            config => { url => "${URL}n2" } }], 404, 'Not Found', 'none');
    }

    my %h = (Authorization => "token $OWNER",
        'Content-Type' => 'application/x-www-form-urlencoded');
    my $before = snapshot();
    refused('hub.topic, owner of 40', $t->http(POST => '/hub',
        headers => \%h, body => 'hub.mode=subscribe&hub.topic='
        . "https://github.com/${o39}o/r/events/push&hub.callback=${URL}h"),
        $before, 422, 'Validation Failed', 'hub', [{ resource => 'Hub',
        field => 'hub.topic', code => 'invalid',
        message => 'hub.topic names no repository' }]);

    refused('event for an owner of 40', $t->http(POST => '/_webhooks/events',
        headers => { 'X-GitHub-Event' => 'push' }, body => $J->encode({
        repository => { full_name => "${o39}o/r" } })), $before, 422,
        'Validation Failed', 'none', [{ resource => 'Event',
        field => 'repository', code => 'invalid' }]);

    my $LONG = sub { "Invalid request.\n\nOnly 1024 characters are "
        . "allowed; $_[0] were supplied." };
    my $k = 's' x 1024;
    created("$REPO/hooks", { events => ['gollum'], config => {
        url => "${URL}s", secret => $k } }, 'secret of 1024');
    created("$REPO/hooks", { events => ['gollum'], config => {
        url => "${URL}s3", secret => "\x{20ac}" x 1024 } },
        'secret of 1024 three-byte characters');
    reject('secret of 1025', [POST => "$REPO/hooks", $OWNER, { config => {
        url => "${URL}s2", secret => "${k}s" } }], 422, $LONG->(1025),
        'create');
    reject('secret of 1025, update config', [PATCH =>
        "$REPO/hooks/$ha/config", $OWNER, { secret => "\x{20ac}" x 1025 }],
        422, $LONG->(1025), 'config');
    reject('username of 1025', [POST => "/orgs/limits/hooks", $OWNER,
        { name => 'web', config => { url => "${URL}u",
        username => "${k}u" } }], 422, $LONG->(1025), 'ocreate');
    reject('password of 60000', [POST => "/orgs/limits/hooks", $OWNER,
        { name => 'web', config => { url => "${URL}u",
        password => 'p' x 60000 } }], 422, $LONG->(60000), 'ocreate');

    $before = snapshot();
    refused('hub.secret of 1025', $t->http(POST => '/hub', headers => \%h,
        body => 'hub.mode=subscribe&hub.topic='
        . "https://github.com/octocat/limits/events/push&hub.callback="
        . "${URL}hs&hub.secret=${k}s"), $before, 422, $LONG->(1025), 'hub');
}

###############################################################################
# JSON nesting depth: jansson's own, 2048 (JSON_PARSER_MAX_DEPTH, a value
# inside the deepest array or object counting as one more); deeper is 400
# "Problems parsing JSON", however deep, for the API and the intake.

{
    # $d levels in all: the body's object, then arrays or objects
    my $deep = sub {
        my ($d, $obj, $head) = @_;
        $head //= '{"config":{"url":"' . $URL . 'deep"},"x":';
        return $head . ($obj ? '{"a":' x ($d - 1) . '1' . '}' x ($d - 1)
            : '[' x ($d - 1) . ']' x ($d - 1)) . '}';
    };

    my $r = api(POST => "$REPO/hooks", $deep->(2048, 0));
    is($r->{status}, 201, 'depth 2048: 201') or diag($r->{body});
    reject('arrays, depth 2049', [POST => "$REPO/hooks", $OWNER,
        $deep->(2049, 0)], 400, 'Problems parsing JSON', 'create');
    reject('objects, depth 2049', [POST => "$REPO/hooks", $OWNER,
        $deep->(2049, 1)], 400, 'Problems parsing JSON', 'create');
    reject('arrays, depth 10000', [POST => "$REPO/hooks", $OWNER,
        $deep->(10000, 0)], 400, 'Problems parsing JSON', 'create');
    reject('objects, depth 10000', [POST => "$REPO/hooks", $OWNER,
        $deep->(10000, 1)], 400, 'Problems parsing JSON', 'create');
    reject('objects, depth 10000, update', [PATCH => "$REPO/hooks/$ha",
        $OWNER, $deep->(10000, 1)], 400, 'Problems parsing JSON', 'update');
    reject('arrays, depth 10000, update config', [PATCH =>
        "$REPO/hooks/$ha/config", $OWNER, $deep->(10000, 0, '{"x":')], 400,
        'Problems parsing JSON', 'config');
    reject('unclosed, depth 60000', [POST => "$REPO/hooks", $OWNER,
        '[' x 60000], 400, 'Problems parsing JSON', 'create');

    # Deep, but parsed: the value is echoed in GitHub's type error (not
    # a secret's).
    my $d = '[' x 2045 . ']' x 2045;
    reject('depth 2047 in events', [POST => "$REPO/hooks", $OWNER,
        qq({"events":[$d],"config":{"url":"${URL}d"}})], 422,
        "Invalid request.\n\nFor 'items', $d is not a string.", 'create');
    reject('depth 2047 in config', [PATCH => "$REPO/hooks/$ha/config",
        $OWNER, qq({"secret":[$d]})], 422,
        "Invalid request.\n\nFor 'properties/secret', [FILTERED] is not a "
        . 'string.', 'config');

    my $before = snapshot();
    my $ev = sub { $t->http(POST => '/_webhooks/events', headers => {
        'X-GitHub-Event' => 'push' }, body => $_[0]) };
    for my $obj (0, 1) {
        refused('event of depth 10000, ' . ($obj ? 'objects' : 'arrays'),
            $ev->($deep->(10000, $obj, '{"repository":{"full_name":'
            . '"octocat/nohooks"},"x":')), $before, 400,
            'Problems parsing JSON', 'none');
    }
    $r = $ev->($deep->(2048, 0, '{"repository":{"full_name":'
        . '"octocat/nohooks"},"x":'));
    is($r->{status}, 202, 'event of depth 2048: 202') or diag($r->{raw});
}

###############################################################################
# per_page (30 by default, at most 100) and page: what is not a number
# above 0 is the default, a number too large for 64 bits is past the end.

{
    my $P = '/repos/octocat/pages';
    my @ids = map { created("$P/hooks", { events => ["p$_"], config => {
        url => "${URL}p$_" } }, "page hook $_") } 'a' .. 'c';
    my $L = "http://localhost$P/hooks";
    my $HUGE = '9' x 20;

    for my $case (
        ["per_page=$HUGE", [@ids], undef],
        ['per_page=9223372036854775808', [@ids], undef],
        ['per_page=9223372036854775807', [@ids], undef],
        ['per_page=-1', [@ids], undef],
        ['per_page=1.5', [@ids], undef],
        ['per_page=0x10', [@ids], undef],
        ['per_page=', [@ids], undef],
        ['per_page=' . ('0' x 30) . '1', [$ids[0]],
            qq{<$L?per_page=1&page=2>; rel="next", }
            . qq{<$L?per_page=1&page=3>; rel="last"}],
        ["page=$HUGE", [], qq{<$L?per_page=30&page=1>; rel="prev", }
            . qq{<$L?per_page=30&page=1>; rel="first"}],
        ['page=9223372036854775807', [],
            qq{<$L?per_page=30&page=1>; rel="prev", }
            . qq{<$L?per_page=30&page=1>; rel="first"}],
        ['page=2', [], qq{<$L?per_page=30&page=1>; rel="prev", }
            . qq{<$L?per_page=30&page=1>; rel="first"}],
        ["per_page=1&page=$HUGE", [],
            qq{<$L?per_page=1&page=3>; rel="prev", }
            . qq{<$L?per_page=1&page=1>; rel="first"}],
        ['page=-1', [@ids], undef],
        ['page=0', [@ids], undef],
        ['page=abc', [@ids], undef],
        ['page=1e3', [@ids], undef],
        ['page=' . ('x' x 4000), [@ids], undef],
    ) {
        my ($q, $want, $link) = @$case;
        my $r = api(GET => "$P/hooks?$q");
        is($r->{status}, 200, "$q: 200");
        $t->schema_array_ok($r->{json}, 'hook', "$q: schema");
        is_deeply([map { $_->{id} } @{$r->{json} || []}], $want, "$q: hooks");
        is($r->{headers}{link}, $link, "$q: Link");
    }
}

###############################################################################
# What a delivery keeps of the receiver's answer: 50 headers, each name
# and value cut at 1024 bytes (GitLab's caps), and
# webhooks_delivery_response_max (8k) of the body, cut where a UTF-8
# character starts; headers past proxy_buffer_size fail the delivery.

my $CAP = '/repos/octocat/capture';

# A hook to $url, pinged: its delivery once made, in full.
sub delivered {
    my ($url, $name) = @_;
    my $id = created("$CAP/hooks", { events => ['push'], config => {
        url => $url } }, $name);
    my $r = api(POST => "$CAP/hooks/$id/pings");
    is($r->{status}, 204, "$name: ping 204") or diag($r->{raw});
    my $item = $t->wait_for(sub {
        my $l = api(GET => "$CAP/hooks/$id/deliveries")->{json};
        ref $l eq 'ARRAY' && @$l && $l->[0]{status} ne 'queued' && $l->[0];
    }, 10);
    ok($item, "$name: delivered") or return {};
    $r = api(GET => "$CAP/hooks/$id/deliveries/$item->{id}");
    is($r->{status}, 200, "$name: delivery 200");
    $t->schema_ok($r->{json}, 'hook-delivery', "$name: schema");
    return $r->{json} // {};
}

{
    my $d = delivered("$RCV/headers/many?n=200&size=100", '200 headers');
    my $h = $d->{response}{headers} || {};
    is(scalar keys %$h, 50, '200 headers: 50 kept');
    is($h->{'X-Header-1'}, 'h' x 100, '200 headers: the first kept');
    ok(!exists $h->{'X-Header-200'}, '200 headers: the last dropped');
    is($d->{status_code}, 200, '200 headers: 200');

    $d = delivered("$RCV/headers/long?n=3&size=4000", 'long headers');
    $h = $d->{response}{headers} || {};
    is_deeply([map { $h->{"X-Header-$_"} } 1 .. 3], [('h' x 1024) x 3],
        'long headers: values cut at 1024 bytes');

    $d = delivered("$RCV/headers/utf8?n=2&size=4000&utf8=1",
        'long UTF-8 headers');
    $h = $d->{response}{headers} || {};
    ok(!grep({ ($h->{"X-Header-$_"} // '') ne "\x{20ac}" x 341 } 1 .. 2),
        'long UTF-8 headers: cut before the character 1024 bytes splits');

    $d = delivered("$RCV/utf8/body?size=9000", 'UTF-8 body');
    ok(($d->{response}{payload} // '') eq "\x{20ac}" x 2730,
        'UTF-8 body: cut before the character 8192 bytes splits');
    $d = delivered("$RCV/utf8/exact?size=8193", 'UTF-8 body of 8193');
    ok(($d->{response}{payload} // '') eq "\x{20ac}" x 2730,
        'UTF-8 body of 8193: cut before the character 8192 bytes splits');
    $d = delivered("$RCV/big/exact?size=8192", 'body of 8192');
    is($d->{response}{payload}, 'x' x 8192, 'body of 8192: all of it');

    $d = delivered("$RCV/headers/huge?n=40&size=4000",
        'headers past proxy_buffer_size');
    is($d->{status_code}, 502, 'headers past proxy_buffer_size: 502');
    is($d->{status}, 'response headers too large',
        'headers past proxy_buffer_size: says so');
    is_deeply($d->{response}{headers}, {},
        'headers past proxy_buffer_size: none kept');
    is($d->{response}{payload}, '',
        'headers past proxy_buffer_size: no body');
}

###############################################################################
# The deliveries cursor: "v1_" and a delivery id below 2^63, else 400;
# per_page as for hooks.

{
    my $id = created("$CAP/hooks", { events => ['push'], config => {
        url => "$RCV/ok/cursor" } }, 'cursor hook');
    my $D = "$CAP/hooks/$id/deliveries";
    api(POST => "$CAP/hooks/$id/pings") for 1 .. 3;
    my $all = $t->wait_for(sub {
        my $l = api(GET => $D)->{json};
        ref $l eq 'ARRAY' && @$l == 3 && !grep({ $_->{status} eq 'queued' }
            @$l) && $l;
    }, 10) || [];
    my @ids = map { $_->{id} } @$all;
    is(scalar @ids, 3, 'cursor: 3 deliveries');

    for my $c ('v1_0', 'v1_' . ('9' x 20), 'v1_9223372036854775808',
        'v1_' . ('1' x 1000), 'v1_' . ('0' x 30) . '1', 'x' x 5000,
        'v1_1x', 'v1_%201', 'V1_1', 'v1_+1', 'v1_-1', 'v1_', 'v2_1', '')
    {
        my $name = 'cursor ' . (length $c > 40 ? substr($c, 0, 20)
            . '... (' . length($c) . ')' : "\"$c\"");
        reject($name, [GET => "$D?cursor=$c", $OWNER], 400,
            'Invalid cursor', 'deliveries');
    }

    my $r = api(GET => "$D?cursor=v1_9223372036854775807");
    is($r->{status}, 200, 'cursor 2^63-1: 200');
    is_deeply([map { $_->{id} } @{$r->{json} || []}], \@ids,
        'cursor 2^63-1: all');
    $r = api(GET => "$D?cursor=v1_$ids[1]");
    is_deeply([map { $_->{id} } @{$r->{json} || []}], [@ids[1, 2]],
        'cursor of the second: from it on');

    for my $pp ('9' x 20, '-1', 'abc') {
        $r = api(GET => "$D?per_page=$pp");
        is($r->{status}, 200, "deliveries per_page=$pp: 200");
        $t->schema_array_ok($r->{json}, 'hook-delivery-item',
            "deliveries per_page=$pp: schema");
        is(scalar @{$r->{json} || []}, 3, "deliveries per_page=$pp: all");
        is($r->{headers}{link}, undef, "deliveries per_page=$pp: no Link");
    }
}

###############################################################################
# Ids at int64's ends in an event: a ping and a test push show them as
# they came (under SAN, printing INT64_MIN is no undefined behaviour).

{
    my $X = '/repos/octocat/extremes';
    my $MIN = '-9223372036854775808';
    my $MAX = '9223372036854775807';
    my $id = created("$X/hooks", { events => ['push'], config => {
        url => "$RCV/ok/extremes", content_type => 'json' } },
        'int64 ends hook');
    my $body = qq({"ref":"refs/heads/main","repository":{"id":$MIN,)
        . qq("name":"extremes","full_name":"octocat/extremes",)
        . qq("owner":{"login":"octocat","id":$MAX}},)
        . qq("sender":{"login":"octocat","id":$MIN}});
    my $r = $t->http(POST => '/_webhooks/events', body => $body,
        headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' });
    is($r->{status}, 202, 'int64 ends: the push taken in') or diag($r->{raw});
    $t->wait_received(1, '/ok/extremes');

    is(api(POST => "$X/hooks/$id/pings")->{status}, 204,
        'int64 ends: ping 204');
    is(api(POST => "$X/hooks/$id/tests")->{status}, 204,
        'int64 ends: test 204');
    my @got = $t->wait_received(3, '/ok/extremes');
    my ($ping) = grep { $_->{headers}{'x-github-event'} eq 'ping' } @got;
    like($ping && $ping->{body}, qr/"repository":\{[^{}]*"id":$MIN\b/,
        'int64 ends: the ping names the repository id');
    my @push = grep { $_->{headers}{'x-github-event'} eq 'push' } @got;
    is(scalar @push, 2, 'int64 ends: the push and the test push arrived');
    like($push[-1] && $push[-1]{body}, qr/"id":$MIN\b/,
        'int64 ends: the test push as taken in');
}

###############################################################################

$t->stop;
$t->log_ok;

done_testing;
