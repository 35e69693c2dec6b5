#!/usr/bin/perl

# Delivery engine, intake and fan-out: an event reaches exactly the hooks
# that want it, once each, under one GUID; the request each receiver gets
# (headers, signatures, body bytes, form encoding); intake errors queue
# nothing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha1_hex hmac_sha256_hex);
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass    127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    # megabytes of payload under valgrind take more than the default 2 s
    webhooks_redis_timeout 10s;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location          /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver-insecure;

        location = /_webhooks/events {
            client_max_body_size    30m;
            client_body_buffer_size 1m;
            webhooks_events on;
        }

        # As the README says: the subrequest carries the payload, and
        # nginx's body size check applies to it.
        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            client_max_body_size  0;
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_connect_timeout 2s;
            proxy_read_timeout    5s;
        }

        location /_webhooks/deliver-insecure {
            %%DELIVERY_PROXY%%
            client_max_body_size  0;
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_ssl_verify      off;
            proxy_connect_timeout 2s;
            proxy_read_timeout    5s;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($path, $label, %o) = @_;
    my $cfg = { url => "$RCV/ok/$label", %{ $o{config} || {} } };
    my %body = (config => $cfg, events => $o{events} // ['push']);
    $body{active} = $o{active} if exists $o{active};
    $body{name} = 'web' if $path =~ m{^/orgs/};
    my $r = api(POST => "$path/hooks", \%body);
    is($r->{status}, 201, "hook $label created") or diag($r->{raw});
    return $r->{json}{id};
}

# Posts an event: the exact bytes of $body; returns the response.
sub event {
    my ($name, $body, %h) = @_;
    my $timeout = delete $h{timeout} // 5;
    my %headers = ('Content-Type' => 'application/json', %h);
    $headers{'X-GitHub-Event'} = $name if defined $name;
    return $t->http(POST => '/_webhooks/events', headers => \%headers,
        body => $body, timeout => $timeout);
}

sub guid_of {
    my ($g) = @_;
    return sub { ($_[0]{headers}{'x-github-delivery'} // '') eq $g };
}

sub labels {
    my %n;
    for (@_) {
        my ($l) = $_->{path} =~ m{^/ok/(.*)$};
        $n{$l // $_->{path}}++;
    }
    return \%n;
}

sub form_decode {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

# Everything the intake leaves in Redis besides hooks.
sub queue_state {
    my $keys = $t->redis(KEYS => 'webhooks:*');
    return {
        xlen => $t->queue_len,
        seq => $t->delivery_seq,
        events => scalar grep({ /:event:/ } @$keys),
        deliveries => scalar grep({ /:delivery:/ } @$keys),
    };
}

# The helper below checks signatures with Digest::SHA: GitHub's own test
# vector first.
is(hmac_sha256_hex('Hello, World!', "It's a Secret to Everybody"),
    '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    "GitHub's HMAC test vector (checks the checker)");

###############################################################################
# Hooks: repo octo-org/hello-world, another repo, org octo-org, another org.

my $REPO = '/repos/octo-org/hello-world';
my $ORG = '/orgs/octo-org';
my $S1 = "It's a Secret to Everybody";

my %id;
$id{r1} = hook($REPO, 'r1', events => ['push'],
    config => { content_type => 'json', secret => $S1 });
$id{r2} = hook($REPO, 'r2', events => ['issues'],
    config => { secret => "s2 \"\\ \x{263a}" });
$id{r3} = hook($REPO, 'r3', events => ['*']);
$id{r4} = hook($REPO, 'r4', events => ['push', 'issues', '*'],
    active => JSON::PP::false);
$id{r5} = hook($REPO, 'r5', events => ['push'],
    config => { content_type => 'json' });
$id{x1} = hook('/repos/octo-org/other', 'x1', events => ['*']);
$id{g1} = hook($ORG, 'g1', events => ['push'],
    config => { content_type => 'json', secret => 'org secret' });
$id{g2} = hook($ORG, 'g2', events => ['issues']);
$id{g3} = hook($ORG, 'g3', events => ['*'], active => JSON::PP::false);
$id{y1} = hook('/orgs/other-org', 'y1', events => ['*']);

my $before = queue_state();
is($before->{xlen}, 0, 'queue empty before any event');

###############################################################################
# Fan-out.

my $REPO_OBJ = '{"id":1296269,"name":"hello-world","full_name":'
    . '"octo-org/hello-world","owner":{"login":"octo-org","id":9919}}';
my $ORG_OBJ = '{"login":"octo-org","id":9919}';

# Unicode (raw UTF-8 and \u escapes), odd spacing, key order and number
# spellings a re-encoder would change.
my $PUSH = "{ \"ref\" :\t\"refs/heads/main\" ,\n  \"repository\":$REPO_OBJ,"
    . "\n\"organization\" : $ORG_OBJ , \"sender\":{\"login\":\"octocat\","
    . "\"id\":1,\"type\":\"User\"},\n  \"message\": \"h\xc3\xa9llo \xe2\x98\x83"
    . " \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80 a+b=c&d%20\",  \"n\": 1.50e1,"
    . " \"z\":[ ] , \"a\" : {}\r\n}  \n";

my @cases = (
    [ 'push to repo and org', 'push', $PUSH, [qw(r1 r3 r5 g1)] ],
    [ 'issues to the repo only', 'issues',
      '{"action":"opened","issue":{"number":1},"repository":'
      . '{"id":1296269,"full_name":"Octo-Org/Hello-World"}}',
      [qw(r2 r3)] ],
    [ 'issues, the repository named with escapes, the last one kept',
      'issues', '{"repository":{"full_name":"nobody/nothing"},'
      . '"action":"opened","repository":{"id":1296269,'
      . '"full_name":"octo-org\\/hello-\\u0077orld"}}', [qw(r2 r3)] ],
    [ 'issues to the org only', 'issues',
      "{\"action\":\"opened\",\"organization\":$ORG_OBJ}", [qw(g2)] ],
    [ 'fork to repo and org ("*" only)', 'fork',
      "{\"forkee\":{},\"repository\":$REPO_OBJ,\"organization\":$ORG_OBJ}",
      [qw(r3)] ],
    [ 'release, repo named by owner and name, no ids', 'release',
      '{"action":"published","repository":{"name":"hello-world",'
      . '"owner":{"login":"octo-org"}}}', [qw(r3)] ],
    [ 'push to the other repo', 'push',
      '{"repository":{"id":7,"full_name":"octo-org/other"}}', [qw(x1)] ],
    [ 'member to the other org', 'member',
      '{"action":"added","organization":{"login":"other-org","id":8}}',
      [qw(y1)] ],
    [ 'watch to a repo and org without hooks', 'watch',
      '{"repository":{"id":3,"full_name":"nobody/nothing"},'
      . '"organization":{"login":"nobody-org","id":4}}', [] ],
);

my (%guid, %sent);
for my $c (@cases) {
    my ($what, $name, $body, $want) = @$c;
    my $r = event($name, $body);
    is($r->{status}, 202, "$what: 202") or diag($r->{raw});
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        "$what: JSON answer");
    like($r->{json}{guid} // '', $UUID, "$what: GUID is a UUID v4");
    is($r->{json}{deliveries}, scalar @$want, "$what: deliveries count");
    is_deeply([ sort keys %{ $r->{json} || {} } ], ['deliveries', 'guid'],
        "$what: answer has guid and deliveries only");
    $guid{$what} = $r->{json}{guid};
    $sent{$what} = $body;

    # the payload, in the queue shard of each scope with deliveries
    my @keys = @{ scalar $t->redis(KEYS => "webhooks:{q*}:event:$guid{$what}") };
    my $key = $keys[0] // "webhooks:{q0}:event:$guid{$what}";
    if (@$want) {
        is($t->redis(GET => $key), $body, "$what: payload stored verbatim");
        my $ttl = $t->redis(TTL => $key);
        ok($ttl > 3 * 86400 - 60 && $ttl <= 3 * 86400,
            "$what: payload kept 3 days") or diag("ttl $ttl");
    } else {
        is($t->redis(EXISTS => $key), 0, "$what: no payload stored");
    }
}

my %all_guids = map { $_ => 1 } values %guid;
is(scalar keys %all_guids, scalar @cases, 'a new GUID per event');

for my $c (@cases) {
    my ($what, $name, $body, $want) = @$c;
    my @got = $t->wait_received(scalar @$want, guid_of($guid{$what}));
    is_deeply(labels(@got), { map { $_ => 1 } @$want },
        "$what: reached exactly " . (join(', ', @$want) || 'nobody'));
}

# Nothing more comes in later.
sleep 1;
for my $c (@cases) {
    my ($what, $name, $body, $want) = @$c;
    my @got = $t->received(guid_of($guid{$what}));
    is(scalar @got, scalar @$want, "$what: once each, nothing late");
    is(scalar(grep { $_->{headers}{'x-github-event'} ne $name } @got), 0,
        "$what: X-GitHub-Event $name");
    is(scalar(grep { $_->{method} ne 'POST' } @got), 0, "$what: POSTs");
}
my $total = 0;
$total += @{ $_->[3] } for @cases;
is(scalar($t->received), $total, "$total requests in all");
is(scalar(grep { m{/ok/r4|/ok/g3} } map { $_->{path} } $t->received), 0,
    'inactive hooks got nothing');

is($t->queue_len, 0, 'queue stream empty afterwards');
is($t->pending, 0, 'nothing pending in the group');

###############################################################################
# The requests, header by header.

my %by = map { (keys %{ labels($_) })[0] => $_ }
    $t->received(guid_of($guid{'push to repo and org'}));

my @TRANSPORT = qw(Host Connection Content-Length);

sub headers_are {
    my ($req, $exp, $what) = @_;
    my %got = map { $_->[0] => $_->[1] } @{ $req->{header_list} || [] };
    my @names = map { $_->[0] } @{ $req->{header_list} || [] };
    is_deeply([ sort grep { my $n = $_; !grep { $_ eq $n } @TRANSPORT }
        @names ], [ sort keys %$exp ],
        "$what: exactly these headers, spelled so")
        or diag(explain \@names);
    for my $n (sort keys %$exp) {
        if (ref $exp->{$n}) {
            like($got{$n}, $exp->{$n}, "$what: $n");
        } else {
            is($got{$n}, $exp->{$n}, "$what: $n");
        }
    }
    is($got{'Content-Length'}, length $req->{body},
        "$what: Content-Length of the body");
    is(scalar(grep { lc $_ eq 'x-github-delivery' } @names), 1,
        "$what: one X-GitHub-Delivery");
}

{
    my $what = 'push, json hook with secret';
    my $req = $by{r1};
    my $g = $guid{'push to repo and org'};
    is($req->{body}, $PUSH, "$what: body is the exact bytes posted");
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/json',
        'User-Agent' => qr{^GitHub-Hookshot/[0-9a-f]{7}$},
        'X-GitHub-Delivery' => $g,
        'X-GitHub-Event' => 'push',
        'X-GitHub-Hook-ID' => $id{r1},
        'X-GitHub-Hook-Installation-Target-ID' => '1296269',
        'X-GitHub-Hook-Installation-Target-Type' => 'repository',
        'X-Hub-Signature' => 'sha1=' . hmac_sha1_hex($PUSH, $S1),
        'X-Hub-Signature-256' => 'sha256=' . hmac_sha256_hex($PUSH, $S1),
    }, $what);
    is($req->{headers}{'user-agent'}, 'GitHub-Hookshot/0001000',
        "$what: User-Agent GitHub-Hookshot/0001000");
}

{
    my $what = 'push, json hook without secret';
    my $req = $by{r5};
    is($req->{body}, $PUSH, "$what: body is the exact bytes posted");
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/json',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $guid{'push to repo and org'},
        'X-GitHub-Event' => 'push',
        'X-GitHub-Hook-ID' => $id{r5},
        'X-GitHub-Hook-Installation-Target-ID' => '1296269',
        'X-GitHub-Hook-Installation-Target-Type' => 'repository',
    }, $what);
}

{
    my $what = 'push, org json hook with secret';
    my $req = $by{g1};
    is($req->{body}, $PUSH, "$what: body is the exact bytes posted");
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/json',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $guid{'push to repo and org'},
        'X-GitHub-Event' => 'push',
        'X-GitHub-Hook-ID' => $id{g1},
        'X-GitHub-Hook-Installation-Target-ID' => '9919',
        'X-GitHub-Hook-Installation-Target-Type' => 'organization',
        'X-Hub-Signature' => 'sha1=' . hmac_sha1_hex($PUSH, 'org secret'),
        'X-Hub-Signature-256' => 'sha256='
            . hmac_sha256_hex($PUSH, 'org secret'),
    }, $what);
}

{
    my $what = 'push, form hook without secret';
    my $req = $by{r3};
    like($req->{body}, qr/^payload=[A-Za-z0-9%+*._~-]*$/,
        "$what: body is payload=<urlencoded>");
    my ($enc) = $req->{body} =~ /^payload=(.*)$/s;
    is(form_decode($enc // ''), $PUSH, "$what: decodes to the exact bytes");
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/x-www-form-urlencoded',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $guid{'push to repo and org'},
        'X-GitHub-Event' => 'push',
        'X-GitHub-Hook-ID' => $id{r3},
        'X-GitHub-Hook-Installation-Target-ID' => '1296269',
        'X-GitHub-Hook-Installation-Target-Type' => 'repository',
    }, $what);
}

{
    my $what = 'issues, form hook with a UTF-8 secret, escaped in JSON';
    my $g = $guid{'issues to the repo only'};
    my ($req) = $t->received(sub { guid_of($g)->($_[0])
        && $_[0]{path} eq '/ok/r2' });
    my $sent = $sent{'issues to the repo only'};
    my $secret = "s2 \"\\ \x{263a}";
    utf8::encode($secret);
    my $body = $req->{body} // '';
    like($body, qr/^payload=/, "$what: form body");
    my ($enc) = $body =~ /^payload=(.*)$/s;
    is(form_decode($enc // ''), $sent, "$what: decodes to the payload");
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/x-www-form-urlencoded',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $g,
        'X-GitHub-Event' => 'issues',
        'X-GitHub-Hook-ID' => $id{r2},
        'X-GitHub-Hook-Installation-Target-ID' => '1296269',
        'X-GitHub-Hook-Installation-Target-Type' => 'repository',
        'X-Hub-Signature' => 'sha1=' . hmac_sha1_hex($body, $secret),
        'X-Hub-Signature-256' => 'sha256=' . hmac_sha256_hex($body, $secret),
    }, $what);
    isnt($req->{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($sent, $secret),
        "$what: signed over the form body, not the JSON");
}

{
    my $what = 'issues, org form hook';
    my $g = $guid{'issues to the org only'};
    my ($req) = $t->received(guid_of($g));
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/x-www-form-urlencoded',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $g,
        'X-GitHub-Event' => 'issues',
        'X-GitHub-Hook-ID' => $id{g2},
        'X-GitHub-Hook-Installation-Target-ID' => '9919',
        'X-GitHub-Hook-Installation-Target-Type' => 'organization',
    }, $what);
}

{
    my $what = 'release, payload without ids';
    my $g = $guid{'release, repo named by owner and name, no ids'};
    my ($req) = $t->received(guid_of($g));
    headers_are($req, {
        'Accept' => '*/*',
        'Content-Type' => 'application/x-www-form-urlencoded',
        'User-Agent' => qr{^GitHub-Hookshot/},
        'X-GitHub-Delivery' => $g,
        'X-GitHub-Event' => 'release',
        'X-GitHub-Hook-ID' => $id{r3},
        'X-GitHub-Hook-Installation-Target-Type' => 'repository',
    }, "$what (no Target-ID)");
}

# A payload past nginx's client_body_buffer_size and past a few 64k reads,
# to a json hook: still the exact bytes, still signed right.
{
    my $what = 'large payload';
    my $big = "{\"repository\":{\"id\":1296269,\"full_name\":"
        . "\"octo-org/hello-world\"},\"blob\":\""
        . ("\xe2\x98\x83 " x 400000) . "\"}";
    my $r = event('push', $big, timeout => 30);
    is($r->{status}, 202, "$what: 202");
    is($r->{json}{deliveries}, 3, "$what: 3 deliveries (r1, r3, r5)");
    my @got = $t->wait_received(3, guid_of($r->{json}{guid} // ''));
    my %l = map { (keys %{ labels($_) })[0] => $_ } @got;
    is(scalar @got, 3, "$what: 3 requests");
    ok(($l{r1}{body} // '') eq $big, "$what: json body identical ("
        . length($big) . ' bytes)');
    is($l{r1}{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($big, $S1), "$what: signature");
    my ($enc) = ($l{r3}{body} // '') =~ /^payload=(.*)$/s;
    ok(form_decode($enc // '') eq $big, "$what: form body decodes");
    if (@got < 3) {
        # What the delivery log says about it.
        my $r = api(GET => "$REPO/hooks/$id{r1}/deliveries?per_page=1");
        diag("$what: r1's latest delivery: " . ($r->{body} // ''));
    }
}

# GitHub caps payloads at 25 MB, not what form encoding makes of them: a
# 9 MB payload of non-ASCII text is over 25 MB as "payload=...", and is
# still delivered to a form hook.
{
    my $what = 'form body over 25 MB';
    my $U = '/repos/octo-org/huge';
    my $r = api(POST => "$U/hooks", { config => { url => "$RCV/ok/huge",
        secret => 'h' } });
    is($r->{status}, 201, "$what: hook created");
    my $hid = $r->{json}{id};
    my $huge = '{"repository":{"id":6,"full_name":"octo-org/huge"},"t":"'
        . ("\xe2\x98\x83" x (3 * 1024 * 1024)) . '"}';
    # Megabytes of JSON take seconds under valgrind.
    $r = event('push', $huge, timeout => 30);
    is($r->{status}, 202, "$what: 202 (" . length($huge) . ' bytes)');
    # Until it arrives or the log tells how it failed.
    my ($got, $log);
    my $end = time + 30;
    while (time < $end) {
        ($got) = $t->received('/ok/huge') and last;
        $log = api(GET => "$U/hooks/$hid/deliveries")->{json};
        last if ref $log eq 'ARRAY' && @$log && $log->[0]{status} ne 'queued';
        sleep 0.2;
    }
    ($got) = $t->wait_received(1, '/ok/huge', timeout => 2) unless $got;
    ok($got, "$what: delivered") or diag('delivery log: '
        . (api(GET => "$U/hooks/$hid/deliveries")->{body} // ''));
    my $body = $got ? $got->{body} : '';
    ok(length $body > 25 * 1024 * 1024,
        "$what: form body of " . length($body) . ' bytes');
    # All of it signed; the start decoded (all of it is slow in Perl).
    my $head = form_decode(substr($body . (' ' x 3008), 8, 3000)
        =~ s/%[0-9A-Fa-f]?$//r);
    ok(length $head > 900 && $head eq substr($huge, 0, length $head),
        "$what: decodes to the payload");
    is($got && $got->{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($body, 'h'), "$what: signature");
}

###############################################################################
# Hook URLs: sent to exactly the URL, path and query as given; a URL
# without a path is sent to "/".

{
    my $U = '/repos/octo-org/urls';
    my $port = $t->port(9);
    my %u = (bare => "http://127.0.0.1:$port",
        slash => "http://127.0.0.1:$port/",
        bare_query => "http://127.0.0.1:$port?x=1",
        query => "$RCV/ok/qs?token=a%20b&x=1&y=%2F",
        escaped => "$RCV/ok/p%C3%A9th/x%2Fy",
        fragment => "$RCV/ok/frag?a=1#part");
    # A fragment is never sent (RFC 9110, 7.1).
    my %want = (bare => '/', slash => '/', bare_query => '/?x=1',
        query => '/ok/qs?token=a%20b&x=1&y=%2F',
        escaped => '/ok/p%C3%A9th/x%2Fy', fragment => '/ok/frag?a=1');
    my %hid;
    for my $k (sort keys %u) {
        my $r = api(POST => "$U/hooks", { config => { url => $u{$k} } });
        is($r->{status}, 201, "url $k: hook created") or diag($r->{raw});
        $hid{ $r->{json}{id} // 0 } = $k;
    }
    my $r = event('push', '{"repository":{"id":5,"full_name":"octo-org/urls"}}');
    is($r->{json}{deliveries}, 6, 'urls: 6 deliveries');
    my @got = $t->wait_received(6, guid_of($r->{json}{guid} // ''));
    my %uri = map { ($hid{ $_->{headers}{'x-github-hook-id'} } // '?')
        => $_->{uri} } @got;
    for my $k (sort keys %u) {
        is($uri{$k}, $want{$k}, "url $k ($u{$k}): request line $want{$k}");
    }
    my %host = map { ($hid{ $_->{headers}{'x-github-hook-id'} } // '?')
        => $_->{headers}{host} } @got;
    is($host{query}, "127.0.0.1:$port", 'Host: the host and port of the url');
}

###############################################################################
# Intake errors: answered, and nothing queued.

$before = queue_state();
my $n_before = scalar $t->received;

sub error_body {
    my ($r, $status, $msg, $errors, $what) = @_;
    is($r->{status}, $status, "$what: $status") or diag($r->{raw});
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        "$what: JSON");
    is($r->{json} && $r->{json}{message}, $msg, "$what: message");
    is_deeply($r->{json} && $r->{json}{errors}, $errors, "$what: errors")
        if $errors;
}

my $OK_BODY = "{\"repository\":$REPO_OBJ}";

error_body(event('push', 'not json'), 400, 'Problems parsing JSON', undef,
    'not JSON');
error_body(event('push', '[1,2,3]'), 400, 'Problems parsing JSON', undef,
    'JSON array');
error_body(event('push', '"string"'), 400, 'Problems parsing JSON', undef,
    'JSON string');
error_body(event('push', "{\"a\":1} x"), 400, 'Problems parsing JSON', undef,
    'trailing garbage');
error_body(event('push', ''), 400, 'Problems parsing JSON', undef,
    'empty body');
# what jansson refuses is refused without it, and a NUL byte (jansson
# skipped one after a number)
for my $bad ([ '"n":1' . "\0", 'NUL byte' ],
             [ qq{"s":"\xc0\xaf"}, 'overlong UTF-8' ],
             [ '"s":"\\udc00"', 'lone surrogate' ],
             [ '"s":"\\u0000"', '\u0000' ],
             [ '"n":9223372036854775808', 'integer past int64' ],
             [ '"n":1e999', 'real past double' ],
             [ '"n":' . ('[' x 2048) . (']' x 2048), 'nested past 2048' ],
             [ '"n":01', 'leading zero' ],
             [ '"n":1,', 'trailing comma' ]) {
    error_body(event('push', "{\"repository\":$REPO_OBJ,$bad->[0]}"), 400,
        'Problems parsing JSON', undef, $bad->[1]);
}
error_body(event(undef, $OK_BODY), 422, 'Validation Failed',
    [ { resource => 'Event', field => 'X-GitHub-Event',
        code => 'missing_field' } ], 'no X-GitHub-Event');
error_body(event('', $OK_BODY), 422, 'Validation Failed',
    [ { resource => 'Event', field => 'X-GitHub-Event',
        code => 'missing_field' } ], 'empty X-GitHub-Event');
for my $bad ('Push', 'push-x', '*', 'push event', "pull_request\x{e9}") {
    (my $show = $bad) =~ s/[^ -~]/?/g;
    error_body(event($bad, $OK_BODY), 422, 'Validation Failed',
        [ { resource => 'Event', field => 'X-GitHub-Event',
            code => 'invalid' } ], "bad event name \"$show\"");
}
error_body(event('push', '{"action":"x","sender":{"login":"octocat"}}'), 422,
    'Validation Failed', [ { resource => 'Event', field => 'repository',
        code => 'missing_field' } ], 'no repository, no organization');
error_body(event('push', '{"repository":{"id":1},"organization":{"id":2}}'),
    422, 'Validation Failed', [ { resource => 'Event', field => 'repository',
        code => 'missing_field' } ], 'repository and organization unnamed');

{
    my $r = $t->http(GET => '/_webhooks/events');
    is($r->{status}, 404, 'GET on the intake: 404');
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        'GET on the intake: JSON');
    is($r->{json} && $r->{json}{message}, 'Not Found',
        'GET on the intake: Not Found');

    $r = $t->http(PUT => '/_webhooks/events', body => $OK_BODY,
        headers => { 'X-GitHub-Event' => 'push' });
    is($r->{status}, 404, 'PUT on the intake: 404');

    # 25 MB + 1 announced: refused before the body is read.
    my ($raw) = $t->http_raw("POST /_webhooks/events HTTP/1.1\r\n"
        . "Host: localhost\r\nX-GitHub-Event: push\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . (25 * 1024 * 1024 + 1) . "\r\n\r\n{");
    like($raw // '', qr{^HTTP/1\.1 413 }, 'over 25 MB: 413');
}

sleep 1;
is_deeply(queue_state(), $before, 'intake errors: nothing queued or stored');
is(scalar $t->received, $n_before, 'intake errors: nothing delivered');

###############################################################################

$t->stop;
$t->log_ok;
unlike($t->read_file('error.log'), qr/exited on signal/, 'no worker crashed');

done_testing;
