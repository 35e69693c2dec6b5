#!/usr/bin/perl

# Deliveries under the operator's limit_req and limit_conn in the
# delivery location: a delay holds a delivery and then lets it go; a
# refusal (limit_req_status, limit_conn_status) is throttled, not failed:
# the receiver got nothing, throttled_at is set, the delivery goes back to
# the queue, with neither its retries nor the hook's failing span used.
# $webhooks_hook_id and $webhooks_scope name whose delivery it is.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use List::Util qw(max min);
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;
my $TOK = 'demo-owner';

sub conf {
    my ($http, $limits) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
$http
    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            internal;
$limits
            client_max_body_size  0;
            proxy_pass            \$webhooks_delivery_url;
            proxy_set_header      Host \$webhooks_delivery_host;
            proxy_set_header      X-Test-Hook \$webhooks_hook_id;
            proxy_set_header      X-Test-Scope \$webhooks_scope;
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        location / {
            %%DEMO_API%%
        }
    }
EOF
    $t->run;
}

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($scope, $url) = @_;
    my $r = api(POST => "/$scope/hooks",
        { name => 'web', config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($repo, $org) = @_;
    my $r = $t->http(POST => '/_webhooks/events',
        headers => { 'Content-Type' => 'application/json',
                     'X-GitHub-Event' => 'push' },
        body => encode_json({ ref => 'refs/heads/main',
            repository => { full_name => $repo },
            $org ? (organization => { login => $org }) : () }));
    return $r;
}

sub at {
    my ($path) = @_;
    return sub { $_[0]{path} eq $path };
}

# every delivery of a hook, once none is queued any more
sub settled {
    my ($scope, $id, $n, $timeout) = @_;
    my $log = [];
    $t->wait_for(sub {
        my $r = api(GET => "/$scope/hooks/$id/deliveries?per_page=100");
        $log = $r->{json} || [];
        return @$log >= $n && !grep { !$_->{status_code} } @$log;
    }, $timeout);
    return $log;
}

###############################################################################
# Delay: 30 events at 5 r/s wait their turn, then all go, ~200 ms apart.

conf(<<'EOF', <<'EOF');
    limit_req_zone $webhooks_delivery_host zone=rx:1m rate=5r/s;
EOF
            limit_req zone=rx burst=100;
EOF

my $R = 'octo-org/delay';
my $delay = hook("repos/$R", "$RCV/ok/delay");

is(event($R)->{status}, 202, "delay: event $_") for 1 .. 30;
my @got = $t->wait_received(30, at('/ok/delay'), timeout => 30);
is(scalar @got, 30, 'delay: all 30 delivered');

my @times = sort { $a <=> $b } map { $_->{time} } @got;
my $span = $times[-1] - $times[0];
ok($span >= 29 * 0.2 * 0.8, "delay: spread over ~5.8 s by the limit ($span)");
my @gaps = map { $times[$_] - $times[$_ - 1] } 1 .. $#times;
ok(min(@gaps) >= 0.05, 'delay: no two closer than the rate allows ('
    . min(@gaps) . ')');

my $log = settled("repos/$R", $delay, 30, 20);
is(scalar @$log, 30, 'delay: 30 deliveries logged');
is(scalar(grep { $_->{status} eq 'OK' && $_->{status_code} == 200 } @$log),
    30, 'delay: every one OK');
is(scalar(grep { defined $_->{throttled_at} } @$log), 0,
    'delay: none throttled');

# the variables name the hook and its scope
is($got[0]{headers}{'x-test-hook'}, $delay, '$webhooks_hook_id in delivery');
is($got[0]{headers}{'x-test-scope'}, "repo:$R", '$webhooks_scope of a repo');

###############################################################################
# Nodelay, 429, keyed per hook: refused deliveries come back later; none
# fails, with retries off and a failing span of 1 s.

conf(<<'EOF', <<'EOF');
    limit_req_zone $webhooks_hook_id zone=hk:1m rate=5r/s;
    webhooks_delivery_retry            off;
    webhooks_delivery_deactivate_after 1s;
EOF
            limit_req        zone=hk burst=2 nodelay;
            limit_req_status 429;
EOF

my $N = 'octo-org/nodelay';
my $nd = hook("repos/$N", "$RCV/ok/nodelay");
my $other = hook("orgs/octo-org", "$RCV/ok/org");

is(event($N, 'octo-org')->{status}, 202, "nodelay: event $_") for 1 .. 20;
@got = $t->wait_received(20, at('/ok/nodelay'), timeout => 60);
is(scalar @got, 20, 'nodelay: all 20 delivered in the end');
my @org = $t->wait_received(20, at('/ok/org'), timeout => 60);
is(scalar @org, 20, 'nodelay: the org hook, limited on its own, too');
is($org[0]{headers}{'x-test-scope'}, 'org:octo-org', '$webhooks_scope of an org');
is($org[0]{headers}{'x-test-hook'}, $other, '$webhooks_hook_id of an org hook');

sleep 1;
is(scalar $t->received(at('/ok/nodelay')), 20,
    'nodelay: the receiver got each one once');
my %guids = map { $_->{headers}{'x-github-delivery'} => 1 } @got;
is(scalar keys %guids, 20, 'nodelay: 20 events, no duplicate');

$log = settled("repos/$N", $nd, 20, 20);
is(scalar @$log, 20, 'nodelay: one delivery per event, no extra attempt');
is(scalar(grep { $_->{status} eq 'OK' } @$log), 20, 'nodelay: all OK')
    or diag explain [ map { "$_->{status_code} $_->{status}" } @$log ];
my @thr = grep { defined $_->{throttled_at} } @$log;
ok(@thr >= 10, 'nodelay: those refused carry throttled_at (' . @thr . ')');
$t->schema_array_ok($log, 'hook-delivery-item', 'nodelay: schema');
like($thr[0]{throttled_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    'throttled_at is a time');
my $one = api(GET => "/repos/$N/hooks/$nd/deliveries/$thr[0]{id}");
is($one->{json}{throttled_at}, $thr[0]{throttled_at},
    'throttled_at in the delivery too');

my $hk = api(GET => "/repos/$N/hooks/$nd");
ok($hk->{json}{active}, 'nodelay: throttling does not deactivate the hook');
is($hk->{json}{last_response}{code}, 200, 'nodelay: last response 200');

###############################################################################
# limit_conn: one at a time to the host; the others throttled, then sent.

conf(<<'EOF', <<'EOF');
    limit_conn_zone $webhooks_delivery_host zone=cx:1m;
    webhooks_delivery_retry off;
EOF
            limit_conn cx 1;
EOF

my $L = 'octo-org/conn';
my $cn = hook("repos/$L", "$RCV/slow/conn?delay=1");

is(event($L)->{status}, 202, "limit_conn: event $_") for 1 .. 5;
@got = $t->wait_received(5, at('/slow/conn'), timeout => 60);
is(scalar @got, 5, 'limit_conn: all 5 delivered in the end');
is(max(map { $_->{inflight} } @got), 1, 'limit_conn: one at a time');

$log = settled("repos/$L", $cn, 5, 20);
is(scalar @$log, 5, 'limit_conn: one delivery per event');
is(scalar(grep { $_->{status} eq 'OK' } @$log), 5, 'limit_conn: all OK')
    or diag explain [ map { "$_->{status_code} $_->{status}" } @$log ];
ok(scalar(grep { defined $_->{throttled_at} } @$log) >= 1,
    'limit_conn: the refused ones carry throttled_at');

# what nginx answered for a receiver is not a limit's refusal
conf('', <<'EOF');
            if ($webhooks_hook_id) {
                return 503;
            }
EOF
my $F = 'octo-org/closed';
my $fl = hook("repos/$F", "$RCV/ok/never");
is(event($F)->{status}, 202, 'a 503 of the location itself');
$log = settled("repos/$F", $fl, 1, 10);
is($log->[0]{status_code}, 503, 'it fails as 503') or diag explain $log;

$t->log_ok;
done_testing;
