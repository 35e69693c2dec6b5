#!/usr/bin/perl

# Bulk redelivery (beyond GitHub): POST /_webhooks/{scope}[/hooks/{id}]/
# redeliveries redelivers the deliveries whose last attempt failed in a
# time window, admin only, bounded per call with a cursor, never twice
# while a redelivery is pending, all or nothing against the queue bound.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use POSIX qw(strftime);
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    map $http_authorization $wh_token {
        "~*^(?:token|bearer)\s+(?<tok>\S+)\s*$"  $tok;
        default                                 "";
    }
    map $wh_token $wh_login { demo-owner octocat; demo-member hubot;
                              demo-app octocat; default ""; }
    map $wh_token $wh_admin { demo-owner 1; demo-app 1; default 0; }
    map $wh_token $wh_app   { demo-app 1; default ""; }

    webhooks_redis_pass          127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow      127.0.0.0/8 ::1;
    webhooks_delivery_retry      off;
    webhooks_delivery_queue_max  60;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        location / {
            webhooks_api   on;
            webhooks_login $wh_login;
            webhooks_admin $wh_admin;
            webhooks_oauth_app $wh_app;
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;
my $REPO = '/repos/octo-org/bulk';
my $XREPO = "/_webhooks$REPO";

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($path, $url) = @_;
    my %body = (config => { url => $url, content_type => 'json' },
        events => ['push']);
    $body{name} = 'web' if $path =~ m{^/orgs/};
    my $r = api(POST => "$path/hooks", \%body);
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    ok($t->wait_for(sub { $t->pending() eq '0'
        && $t->queue_len == 0 }, 20), "@_: nothing pending");
}

sub seq { $t->delivery_seq }

my $A = hook($REPO, "$RCV/fail/a");
my $B = hook($REPO, "$RCV/ok/b");
my $C = hook($REPO, "$RCV/fail/c");
my $O = hook('/orgs/octo-org', "$RCV/fail/o");

my @guids;
for my $i (1 .. 5) {
    my $r = $t->http(POST => '/_webhooks/events', headers => {
            'X-GitHub-Event' => 'push', 'Content-Type' => 'application/json' },
        body => $J->encode({ n => $i,
            repository => { id => 59, full_name => 'octo-org/bulk' },
            organization => { id => 58, login => 'octo-org' } }));
    is($r->{status}, 202, "event $i taken in");
    push @guids, $r->{json}{guid};
}
ok($t->wait_received(20, sub { 1 }), '20 first deliveries made');
settle('events');
sleep 1.1;
my $T0 = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime);
sleep 1.1;

###############################################################################
# Access, and paths GitHub has: nothing of this is GitHub's.

is($t->api(POST => "$XREPO/redeliveries", undef, {})->{status}, 401,
    'no login: 401');
is($t->api(POST => "$XREPO/redeliveries", 'demo-member', {})->{status}, 404,
    'not admin: 404');
is(api(POST => "$REPO/redeliveries", {})->{status}, 404,
    'without /_webhooks: not found');
is(api(POST => "$REPO/hooks/$A/redeliveries", {})->{status}, 404,
    'below a GitHub hook without /_webhooks: not found');
is(api(GET => "$XREPO/redeliveries")->{status}, 404, 'GET: not found');
is(api(POST => "/_webhooks$REPO/hooks/999/redeliveries", {})->{status},
    404, 'an unknown hook: 404');

# an OAuth app redelivers for the hooks it created only
is($t->api(POST => "$XREPO/hooks/$A/redeliveries", 'demo-app', {})
    ->{status}, 404, 'an app, a hook a user made: 404');
is_deeply($t->api(POST => "$XREPO/redeliveries", 'demo-app', {})->{json},
    { queued => 0, cursor => undef }, 'an app, every hook: none of them');

###############################################################################
# Bad input: 422 or 400, nothing queued.

{
    my $seq = seq();
    for my $bad ({ since => 'yesterday' }, { until => '2026-12-06 10:00:00' },
        { max => 0 }, { max => 1001 }, { max => '5' }, { cursor => 'abc' },
        { cursor => "$A:0" }, { since => 5 })
    {
        my $r = api(POST => "$XREPO/hooks/$A/redeliveries", $bad);
        is($r->{status}, 422, 'bad ' . $J->encode($bad) . ': 422')
            or diag($r->{raw});
        is($r->{json}{message}, 'Validation Failed', 'bad: message');
    }
    is(api(POST => "$XREPO/hooks/$A/redeliveries", '{"max":')->{status}, 400,
        'not JSON: 400');
    is(seq(), $seq, 'bad input: nothing queued');
}

###############################################################################
# A window after the failures: nothing to redeliver.

{
    my $r = api(POST => "$XREPO/hooks/$A/redeliveries", { since => $T0 });
    is($r->{status}, 202, 'a later window: 202');
    is_deeply($r->{json}, { queued => 0, cursor => undef },
        'a later window: nothing queued');
}

###############################################################################
# One hook, two deliveries a call, the cursor to go on; the redeliveries
# kept pending (a slow receiver) are not queued again by a second call.

{
    my $r = api(PATCH => "$REPO/hooks/$A/config",
        { url => "$RCV/slow/a?delay=3" });
    is($r->{status}, 200, 'hook A now slow');

    $t->clear_received;
    my $seq = seq();
    $r = api(POST => "$XREPO/hooks/$A/redeliveries",
        { until => $T0, max => 2 });
    is($r->{status}, 202, 'page 1: 202') or diag($r->{raw});
    is($r->{json}{queued}, 2, 'page 1: 2 queued');
    like($r->{json}{cursor}, qr/^$A:\d+$/, 'page 1: a cursor');
    my $n = 2;
    my $cursor = $r->{json}{cursor};
    while ($cursor) {
        $r = api(POST => "$XREPO/hooks/$A/redeliveries",
            { until => $T0, max => 2, cursor => $cursor });
        is($r->{status}, 202, 'next page: 202');
        $n += $r->{json}{queued};
        $cursor = $r->{json}{cursor};
        last if $n > 5;
    }
    is($n, 5, 'every failed delivery of hook A queued once');
    is(seq() - $seq, 5, '5 deliveries made');

    # the same again while the 5 are pending: nothing
    $r = api(POST => "$XREPO/hooks/$A/redeliveries", {});
    is_deeply($r->{json}, { queued => 0, cursor => undef },
        'while pending: nothing queued again');

    my @got = $t->wait_received(5, qr{^/slow/a}, timeout => 20);
    settle('hook A');
    sleep 0.5;
    @got = $t->received(qr{^/slow/a});
    is(scalar @got, 5, 'hook A: 5 redeliveries sent');
    is_deeply([ sort map { $_->{headers}{'x-github-delivery'} } @got ],
        [ sort @guids ], 'hook A: each GUID once');
    is(scalar(grep { ($_->{headers}{'x-github-hook-id'} // '') eq $A } @got),
        5, 'hook A: its hook id');

    my $l = api(GET => "$REPO/hooks/$A/deliveries?per_page=100")->{json};
    my @re = grep { $_->{redelivery} } @$l;
    is(scalar @re, 5, 'the log: 5 redeliveries');
    is(scalar(grep { $_->{status_code} == 200 } @re), 5,
        'the log: their outcome');

    # they succeeded: nothing failed is left
    $r = api(POST => "$XREPO/hooks/$A/redeliveries", {});
    is_deeply($r->{json}, { queued => 0, cursor => undef },
        'after success: nothing queued');
}

###############################################################################
# A redelivery that failed is the last attempt: it may be redelivered.

{
    $t->clear_received;
    my $r = api(POST => "$XREPO/hooks/$C/redeliveries", {});
    is_deeply($r->{json}, { queued => 5, cursor => undef }, 'hook C: 5');
    $t->wait_received(5, qr{^/fail/c});
    settle('hook C');
    $r = api(POST => "$XREPO/hooks/$C/redeliveries", {});
    is($r->{json}{queued}, 5, 'hook C failed again: 5 again');
    $t->wait_received(10, qr{^/fail/c});
    settle('hook C again');
    $r = api(POST => "$XREPO/hooks/$C/redeliveries", { until => $T0 });
    is($r->{json}{queued}, 0,
        'hook C, the first window: its last attempts are later');
}

###############################################################################
# The queue bound: all or nothing, 503 when it would overflow.

{
    my $seq = seq();
    $t->redis(ZADD => $t->shard_of('o:octo-org') . 'retry', 9e12 + $_, "d1:junk$_") for 1 .. 58;
    my $r = api(POST => "/_webhooks/orgs/octo-org/redeliveries", {});
    is($r->{status}, 503, 'queue nearly full: 503') or diag($r->{raw});
    ok($r->{headers}{'retry-after'}, 'queue nearly full: Retry-After');
    is(seq(), $seq, 'queue nearly full: nothing queued');
    $t->redis(ZREM => $t->shard_of('o:octo-org') . 'retry', "d1:junk$_") for 1 .. 58;
}

###############################################################################
# Every hook of an org, then of a repository.

{
    $t->clear_received;
    my $r = api(POST => "/_webhooks/orgs/octo-org/redeliveries", {});
    is_deeply($r->{json}, { queued => 5, cursor => undef },
        'the org: its hook\'s 5');
    $t->wait_received(5, qr{^/fail/o});
    settle('org');

    $r = api(POST => "$XREPO/redeliveries", { max => 3, until => $T0 });
    is($r->{json}{queued}, 0, 'the repo, first window: A succeeded, C later');

    $r = api(POST => "$XREPO/redeliveries", { max => 3 });
    is($r->{json}{queued}, 3, 'the repo: 3 of C\'s');
    $r = api(POST => "$XREPO/redeliveries",
        { max => 3, cursor => $r->{json}{cursor} });
    is_deeply($r->{json}, { queued => 2, cursor => undef },
        'the repo: the other 2');
    $t->wait_received(10, sub { $_[0]{path} =~ m{^/fail/[co]} });
    settle('repo');
    my @got = $t->received(qr{^/fail/c});
    is(scalar @got, 5, 'the repo: hook C got 5');
    ok(!$t->received(qr{^/ok/b}), 'the repo: hook B, never failed, got none');
}

$t->log_ok;

done_testing;
