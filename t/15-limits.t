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
    webhooks_login      $webhooks_demo_login;
    webhooks_admin      $webhooks_demo_admin;
    webhooks_oauth_app  $webhooks_demo_app;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        client_max_body_size    1m;
        client_body_buffer_size 1m;

        location /_webhooks/deliver {
            internal;
            client_max_body_size 0;
            proxy_pass           $webhooks_delivery_url;
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
    my $r = chunked(POST => '/_webhooks/events', $body,
        'X-GitHub-Event' => 'push', 'Content-Type' => 'application/json');
    is($r->{status}, 413, 'intake, chunked over 25 MB: 413')
        or diag($r->{raw});
    is_deeply($r->{json}, { message => 'Payload Too Large',
        documentation_url => $DOC{none}, status => '413' },
        'intake, chunked over 25 MB: body');
    is_deeply(snapshot(), $before, 'intake, chunked over 25 MB: '
        . 'nothing queued');
}

###############################################################################

$t->stop;
$t->log_ok;

done_testing;
