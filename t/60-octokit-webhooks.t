#!/usr/bin/perl

# Deliveries as GitHub's own client libraries see them: Octokit
# (@octokit/rest) manages the hooks and their deliveries, and the receiver
# is @octokit/webhooks (t/octokit/receiver.mjs), which takes an event only
# when its X-Hub-Signature-256 matches the secret.  A ping, an event taken
# in at the intake, a test push and a redelivery must all be accepted as
# GitHub's; a hook with the wrong secret must be refused (400) and its
# deliveries must say so.  Every delivery record is checked against
# GitHub's schemas.
# node and t/node_modules are required (make npm): missing, the test fails.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha1_hex hmac_sha256_hex);
use Test::More;
use Test::Webhooks qw(json);
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;

my $calls = "$FindBin::Bin/octokit/calls.mjs";
my $receiver = "$FindBin::Bin/octokit/receiver.mjs";
my $node_version = `node --version 2>/dev/null` // '';
chomp $node_version;
my $has_node = ok($? == 0 && $node_version =~ /^v(\d+)/ && $1 >= 20,
    "node 20+ is installed ($node_version)");
my @missing = grep {
    !ok(-f "$FindBin::Bin/node_modules/\@octokit/$_/package.json",
        "\@octokit/$_ is installed in t/node_modules (make npm)")
} qw(rest webhooks);
my $has_modules = !@missing;
ok(-f $calls && -f $receiver, 'octokit scripts present');

unless ($has_node && $has_modules) {
    done_testing;
    exit;
}

my $wait = $ENV{WEBHOOKS_VALGRIND} ? 60 : 15;

my $secret = 'It\'s a Secret to Everybody';
my $rport = $t->port(2);
my $rlog = $t->testdir . '/receiver.jsonl';
my $hook_url = "http://127.0.0.1:$rport/hook";
# GitHub takes one hook per URL and events: the query tells them apart.
my $wrong_url = "http://127.0.0.1:$rport/hook?secret=wrong";
my $form_url = "http://127.0.0.1:$rport/form";

$t->run_daemon('node', $receiver, $rport, $secret, $rlog);
unless (ok($t->waitforsocket("127.0.0.1:$rport"), 'receiver listens')) {
    done_testing;
    exit;
}

$t->start_redis;
$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass   127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_redis_prefix "webhooks:";

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location          /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver-insecure;

        client_max_body_size    1m;
        client_body_buffer_size 1m;

        %%EVENTS_LOCATION%%

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_connect_timeout 10s;
            proxy_read_timeout    10s;
        }

        location /_webhooks/deliver-insecure {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_ssl_verify      off;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $base = 'http://127.0.0.1:' . $t->port(0);
my ($owner, $repo, $org) = ('octo-org', 'receiver-repo', 'octo-org');
my $repo_path = "/repos/$owner/$repo/hooks";
my $org_path = "/orgs/$org/hooks";

###############################################################################
# Helpers.

# JSON::Validator warns about OpenAPI's "int64" format (payloads spec).
$SIG{__WARN__} = sub {
    warn @_ unless $_[0] =~ /^Format rule for 'int64' is missing/;
};

sub items { ref $_[0] eq 'ARRAY' ? @{ $_[0] } : () }

# Runs Octokit calls ([op, "ns.method", {params}], ...); returns the
# results by op.
my $run = 0;
sub octokit {
    my (@list) = @_;
    my @c = map { { op => $_->[0], call => $_->[1], params => $_->[2] } }
        @list;
    my $errfile = $t->testdir . '/node.' . ++$run . '.err';
    my $cmd = "timeout 60 node \Q$calls\E \Q$base\E demo-owner "
        . quotemeta(json->encode(\@c)) . " 2>\Q$errfile\E";
    my $out = `$cmd`;
    my $rc = $? >> 8;
    my $err = $t->read_file($errfile);
    ok($rc == 0 && $err eq '', 'octokit: ' . join(', ', map { $_->[0] } @list))
        or diag("exit $rc\n$err");

    my %r;
    for my $line (split /\n/, $out) {
        my $s = eval { json->decode($line) } or next;
        $r{ $s->{op} } = $s;
    }
    for (@list) {
        $r{ $_->[0] } //= { status => 0, data => undef, headers => {},
            op => $_->[0], missing => 1 };
    }
    return \%r;
}

sub receiver_log {
    return map { json->decode($_) } grep {/\S/}
        split /\n/, $t->read_file($rlog);
}

sub accepted {
    my (%m) = @_;
    return grep {
        my $e = $_;
        $e->{kind} eq 'accepted'
            && (!defined $m{hook} || ($e->{headers}{'x-github-hook-id'} // '')
                eq $m{hook})
            && (!defined $m{id} || $e->{id} eq $m{id})
            && (!defined $m{name} || $e->{name} eq $m{name})
    } receiver_log();
}

sub responses {
    my (%m) = @_;
    return grep {
        $_->{kind} eq 'response'
            && (!defined $m{hook} || ($_->{hook_id} // '') eq $m{hook})
            && (!defined $m{event} || ($_->{event} // '') eq $m{event})
            && (!defined $m{id} || ($_->{id} // '') eq $m{id})
    } receiver_log();
}

# Waits until $cond returns true (or times out); returns its last value.
sub wait_for {
    my ($cond) = @_;
    my $end = time + $wait;
    my $v;
    while (time < $end) {
        $v = $cond->() and return $v;
        sleep 0.1;
    }
    return $cond->();
}

# Waits until the hook lists $n deliveries, none of them queued.
sub wait_deliveries {
    my ($path, $n) = @_;
    my $r;
    wait_for(sub {
        $r = $t->api(GET => "$path/deliveries", 'demo-owner');
        my @l = items($r->{json});
        @l == $n && !grep { $_->{status} eq 'queued' } @l;
    });
    return [ items($r->{json}) ];
}

###############################################################################
# Hooks, created with Octokit: json with the receiver's secret, json with
# another secret, form with the receiver's secret; an org hook.

my $r = octokit(
    [ 'good', 'repos.createWebhook', { owner => $owner, repo => $repo,
        config => { url => $hook_url, content_type => 'json',
            secret => $secret, insecure_ssl => '0' },
        events => ['push'] } ],
    [ 'wrong', 'repos.createWebhook', { owner => $owner, repo => $repo,
        config => { url => $wrong_url, content_type => 'json',
            secret => 'not the secret' },
        events => ['push'] } ],
    [ 'form', 'repos.createWebhook', { owner => $owner, repo => $repo,
        config => { url => $form_url, content_type => 'form',
            secret => $secret },
        events => ['push'] } ],
    [ 'org', 'orgs.createWebhook', { org => $org, name => 'web',
        config => { url => $hook_url, content_type => 'json',
            secret => $secret },
        events => ['push'] } ],
);

for my $k (qw(good wrong form)) {
    is($r->{$k}{status}, 201, "repos.createWebhook $k: 201");
    $t->schema_ok($r->{$k}{data}, 'hook', "repos.createWebhook $k: hook");
}
is($r->{org}{status}, 201, 'orgs.createWebhook: 201');
$t->schema_ok($r->{org}{data}, 'org-hook', 'orgs.createWebhook: org-hook');

my %id = map { $_ => $r->{$_}{data}{id} // -1 } qw(good wrong form org);

###############################################################################
# Pings.

$r = octokit(
    [ 'good', 'repos.pingWebhook', { owner => $owner, repo => $repo,
        hook_id => $id{good} } ],
    [ 'wrong', 'repos.pingWebhook', { owner => $owner, repo => $repo,
        hook_id => $id{wrong} } ],
    [ 'form', 'repos.pingWebhook', { owner => $owner, repo => $repo,
        hook_id => $id{form} } ],
    [ 'org', 'orgs.pingWebhook', { org => $org, hook_id => $id{org} } ],
);
is($r->{$_}{status}, 204, "ping $_: 204") for qw(good wrong form org);

ok(wait_for(sub {
    (accepted(hook => $id{good}, name => 'ping'))
        && (accepted(hook => $id{form}, name => 'ping'))
        && (accepted(hook => $id{org}, name => 'ping'))
        && (responses(hook => $id{wrong}, event => 'ping'))
}), 'receiver got the pings');

for my $k (qw(good form org)) {
    my @a = accepted(hook => $id{$k}, name => 'ping');
    is(scalar @a, 1, "ping $k: accepted once, signature verified");
    my $e = $a[0] or next;
    $t->schema_ok($e->{payload}, 'webhook-ping', "ping $k: webhook-ping");
    is($e->{payload}{hook_id}, $id{$k}, "ping $k: hook_id");
    is($e->{payload}{hook}{id}, $id{$k}, "ping $k: hook.id");
    like($e->{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        "ping $k: X-GitHub-Delivery is a v4 UUID");
    like($e->{headers}{'user-agent'} // '', qr{^GitHub-Hookshot/},
        "ping $k: User-Agent");
    like($e->{headers}{'x-hub-signature'} // '', qr/^sha1=[0-9a-f]{40}$/,
        "ping $k: X-Hub-Signature");
}
my %ping = map { $_ => (accepted(hook => $id{$_}, name => 'ping'))[0]
    || { headers => {}, payload => {}, id => '' } } qw(good form org);
is($ping{good}{path}, '/hook', 'json ping taken by createNodeMiddleware');
is($ping{form}{headers}{'content-type'}, 'application/x-www-form-urlencoded',
    'form ping: form content type');
is($ping{org}{payload}{organization}{login}, $org, 'org ping: organization');
is($ping{good}{payload}{repository}{full_name}, "$owner/$repo",
    'repo ping: repository');
is($ping{good}{headers}{'x-github-hook-installation-target-type'},
    'repository', 'repo ping: target type');
is($ping{org}{headers}{'x-github-hook-installation-target-type'},
    'organization', 'org ping: target type');

is_deeply([ map { $_->{status} } responses(hook => $id{wrong}) ], [400],
    'wrong secret: the receiver refused the ping with 400');
is(scalar accepted(hook => $id{wrong}), 0, 'wrong secret: nothing accepted');

###############################################################################
# An event taken in at the intake, plain HTTP.

my $push = {
    ref => 'refs/heads/main',
    before => '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    after => '0000000000000000000000000000000000000000',
    created => JSON::PP::false, deleted => JSON::PP::true,
    forced => JSON::PP::false, base_ref => undef,
    compare => "https://github.com/$owner/$repo/compare/6113728f27ae...000000000000",
    commits => [], head_commit => undef,
    repository => { id => 186853002, node_id => 'MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=',
        name => $repo, full_name => "$owner/$repo", private => JSON::PP::false,
        owner => { login => $owner, id => 21031067, type => 'Organization' },
        html_url => "https://github.com/$owner/$repo",
        default_branch => 'main' },
    pusher => { name => 'octocat', email => 'octocat@github.com' },
    organization => { login => $org, id => 21031067,
        node_id => 'MDEyOk9yZ2FuaXphdGlvbjIxMDMxMDY3' },
    sender => { login => 'octocat', id => 583231, type => 'User' },
};
my $push_body = json->encode($push);

my $in = $t->http(POST => '/_webhooks/events', headers => {
    'X-GitHub-Event' => 'push', 'Content-Type' => 'application/json' },
    body => $push_body);
is($in->{status}, 202, 'intake: 202');
is($in->{json}{deliveries}, 4, 'intake: 4 hooks (3 repo, 1 org)');
my $guid = $in->{json}{guid} // 'none';

ok(wait_for(sub {
    (accepted(hook => $id{good}, id => $guid))
        && (accepted(hook => $id{form}, id => $guid))
        && (accepted(hook => $id{org}, id => $guid))
        && (responses(hook => $id{wrong}, id => $guid))
}), 'receiver got the push');

for my $k (qw(good form org)) {
    my @a = accepted(hook => $id{$k}, id => $guid);
    is(scalar @a, 1, "push $k: accepted once, signature verified");
    my $e = $a[0] or next;
    is($e->{name}, 'push', "push $k: event name");
    is_deeply($e->{payload}, $push, "push $k: the payload taken in");
}

{
    my $e = (accepted(hook => $id{good}, id => $guid))[0] || { headers => {} };
    my $h = $e->{headers};
    is($h->{'x-hub-signature-256'}, 'sha256=' . hmac_sha256_hex($push_body, $secret),
        'push: X-Hub-Signature-256 over the bytes taken in');
    is($h->{'x-hub-signature'}, 'sha1=' . hmac_sha1_hex($push_body, $secret),
        'push: X-Hub-Signature over the bytes taken in');
    is($h->{'x-github-hook-installation-target-id'}, '186853002',
        'push: repo hook target id');
    my $o = (accepted(hook => $id{org}, id => $guid))[0] || { headers => {} };
    is($o->{headers}{'x-github-hook-installation-target-id'}, '21031067',
        'push: org hook target id');
}

is_deeply([ map { $_->{status} } responses(hook => $id{wrong}) ], [ 400, 400 ],
    'wrong secret: the receiver refused the push with 400');

###############################################################################
# Test push: the latest push, again, under a new GUID.

$r = octokit([ 'test', 'repos.testPushWebhook', { owner => $owner,
    repo => $repo, hook_id => $id{good} } ]);
is($r->{test}{status}, 204, 'repos.testPushWebhook: 204');

ok(wait_for(sub { grep { $_->{id} ne $guid }
    accepted(hook => $id{good}, name => 'push') }),
    'receiver got the test push');
my @test = grep { $_->{id} ne $guid } accepted(hook => $id{good}, name => 'push');
is(scalar @test, 1, 'test push: accepted once, signature verified');
my $test_guid = @test ? $test[0]{id} : 'none';
is_deeply($test[0] && $test[0]{payload}, $push, 'test push: latest push payload');
is(scalar(grep { $_->{id} eq $test_guid } receiver_log()), 2,
    'test push: to the tested hook only');

###############################################################################
# The delivery log, through Octokit.

my $good_path = "$repo_path/$id{good}";
wait_deliveries($good_path, 3);
wait_deliveries("$repo_path/$id{wrong}", 2);
wait_deliveries("$repo_path/$id{form}", 2);
wait_deliveries("$org_path/$id{org}", 2);

$r = octokit(
    [ 'good', 'repos.listWebhookDeliveries', { owner => $owner, repo => $repo,
        hook_id => $id{good} } ],
    [ 'wrong', 'repos.listWebhookDeliveries', { owner => $owner,
        repo => $repo, hook_id => $id{wrong} } ],
    [ 'form', 'repos.listWebhookDeliveries', { owner => $owner, repo => $repo,
        hook_id => $id{form} } ],
    [ 'org', 'orgs.listWebhookDeliveries', { org => $org,
        hook_id => $id{org} } ],
    [ 'good.hook', 'repos.getWebhook', { owner => $owner, repo => $repo,
        hook_id => $id{good} } ],
    [ 'wrong.hook', 'repos.getWebhook', { owner => $owner, repo => $repo,
        hook_id => $id{wrong} } ],
);

for my $k (qw(good wrong form org)) {
    is($r->{$k}{status}, 200, "list deliveries $k: 200");
    $t->schema_array_ok($r->{$k}{data}, 'hook-delivery-item',
        "list deliveries $k: hook-delivery-items");
}

my $list = [ items($r->{good}{data}) ];
is_deeply([ map { [ $_->{guid}, $_->{event} ] } @$list ],
    [ [ $test_guid, 'push' ], [ $guid, 'push' ],
      [ $ping{good}{id}, 'ping' ] ],
    'good: test push, push, ping, newest first');
is_deeply([ map { [ $_->{status}, $_->{status_code}, $_->{redelivery} ] } @$list ],
    [ ([ 'OK', 200, JSON::PP::false ]) x 3 ], 'good: all OK');

is_deeply([ map { [ $_->{event}, $_->{status}, $_->{status_code} ] }
        items($r->{wrong}{data}) ],
    [ [ 'push', 'Invalid HTTP Response: 400', 400 ],
      [ 'ping', 'Invalid HTTP Response: 400', 400 ] ],
    'wrong secret: deliveries show the receiver\'s 400');
is_deeply([ map { [ $_->{event}, $_->{status} ] } items($r->{form}{data}) ],
    [ [ 'push', 'OK' ], [ 'ping', 'OK' ] ], 'form: all OK');
is_deeply([ map { [ $_->{event}, $_->{status}, $_->{guid} ] }
        items($r->{org}{data}) ],
    [ [ 'push', 'OK', $guid ],
      [ 'ping', 'OK', $ping{org}{id} ] ],
    'org: push (same GUID as the repo hooks), ping');

is_deeply($r->{'good.hook'}{data}{last_response},
    { code => 200, status => 'active', message => 'OK' },
    'good: last_response');
is_deeply($r->{'wrong.hook'}{data}{last_response},
    { code => 400, status => 'failed', message => 'Invalid HTTP Response: 400' },
    'wrong secret: last_response');

###############################################################################
# One delivery, and its redelivery.

my ($orig) = grep { $_->{guid} eq $guid } @$list;
my $did = $orig ? $orig->{id} : -1;

$r = octokit(
    [ 'get', 'repos.getWebhookDelivery', { owner => $owner, repo => $repo,
        hook_id => $id{good}, delivery_id => $did } ],
    [ 'redeliver', 'repos.redeliverWebhookDelivery', { owner => $owner,
        repo => $repo, hook_id => $id{good}, delivery_id => $did } ],
    [ 'wrong.get', 'repos.getWebhookDelivery', { owner => $owner,
        repo => $repo, hook_id => $id{wrong},
        delivery_id => (items($r->{wrong}{data}), { id => -1 })[0]{id} } ],
    [ 'org.get', 'orgs.getWebhookDelivery', { org => $org,
        hook_id => $id{org},
        delivery_id => (items($r->{org}{data}), { id => -1 })[0]{id} } ],
);

my $d = $r->{get};
is($d->{status}, 200, 'repos.getWebhookDelivery: 200');
$t->schema_ok($d->{data}, 'hook-delivery', 'repos.getWebhookDelivery: hook-delivery');
is($d->{data}{guid}, $guid, 'getWebhookDelivery: guid');
is_deeply($d->{data}{request}{payload}, $push, 'getWebhookDelivery: request payload');
is($d->{data}{request}{headers}{'X-GitHub-Delivery'}, $guid,
    'getWebhookDelivery: request headers as sent');
is($d->{data}{response}{payload}, "ok\n",
    'getWebhookDelivery: the receiver\'s answer');

my $wd = $r->{'wrong.get'};
is($wd->{status}, 200, 'wrong secret: getWebhookDelivery 200');
$t->schema_ok($wd->{data}, 'hook-delivery', 'wrong secret: hook-delivery');
is($wd->{data}{status}, 'Invalid HTTP Response: 400', 'wrong secret: status');
like($wd->{data}{response}{payload} // '', qr/signature does not match/,
    'wrong secret: the receiver\'s error kept');

is($r->{'org.get'}{status}, 200, 'orgs.getWebhookDelivery: 200');
$t->schema_ok($r->{'org.get'}{data}, 'hook-delivery',
    'orgs.getWebhookDelivery: hook-delivery');

is($r->{redeliver}{status}, 202, 'repos.redeliverWebhookDelivery: 202');

ok(wait_for(sub { accepted(hook => $id{good}, id => $guid) >= 2 }),
    'receiver got the redelivery');
my @again = accepted(hook => $id{good}, id => $guid);
is(scalar @again, 2, 'redelivery: accepted, signature verified, same GUID');
is_deeply($again[1] && $again[1]{payload}, $push, 'redelivery: same payload');
is($again[1] && $again[1]{headers}{'x-hub-signature-256'},
    'sha256=' . hmac_sha256_hex($push_body, $secret),
    'redelivery: same bytes signed');

$list = wait_deliveries($good_path, 4);
$r = octokit([ 'list', 'repos.listWebhookDeliveries', { owner => $owner,
    repo => $repo, hook_id => $id{good}, per_page => 1 } ]);
$t->schema_array_ok($r->{list}{data}, 'hook-delivery-item',
    'after redelivery: hook-delivery-items');
is_deeply([ map { [ $_->{guid}, $_->{redelivery}, $_->{status} ] }
        items($r->{list}{data}) ],
    [ [ $guid, JSON::PP::true, 'OK' ] ], 'after redelivery: newest is it');
like($r->{list}{headers}{link} // '',
    qr{^<\Q$base$good_path\E/deliveries\?per_page=1&cursor=v1_\d+>; rel="next"$},
    'after redelivery: Link to the next page');
is(scalar @$list, 4, 'after redelivery: 4 deliveries');

###############################################################################
# Everything the receiver saw: only the wrong secret was refused.

my %status;
$status{ ($_->{hook_id} // '') }{ $_->{status} }++ for responses();
is_deeply(\%status, {
    $id{good} => { 200 => 4 }, $id{form} => { 200 => 2 },
    $id{org} => { 200 => 2 }, $id{wrong} => { 400 => 2 } },
    'receiver: answers per hook');

$t->stop;
$t->log_ok;

done_testing;
