#!/usr/bin/perl

# webhooks_status: Prometheus text that promtool accepts, JSON and the
# page by Accept or ?format=; counters of all workers in the shared zone
# move by exactly what was done (events, outcomes, retries, pings,
# redeliveries), the queue figures come from Redis, and the counters
# outlive a reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;

my ($PROMTOOL) = grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH};
$PROMTOOL //= '';
chomp $PROMTOOL;
# CI installs it (util/deps): there a missing promtool is a failure
unless ($PROMTOOL) {
    die "promtool missing (Debian package prometheus)\n" if $ENV{CI};
    plan(skip_all => 'promtool missing (Debian package prometheus)');
}

$t->start_redis;
my $RCV = $t->start_receiver;
my ($RPORT) = $RCV =~ /:(\d+)$/;
my $DNS = $t->start_dns({ 'private.test' => [ ['10.0.0.1'] ] });
my $TOK = 'demo-owner';

sub conf {
    my ($extra) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8;
    webhooks_status_zone 1m;
$extra

    log_format deliveries '\$webhooks_delivery_id \$webhooks_delivery_guid '
                          '\$webhooks_delivery_event '
                          '\$webhooks_delivery_attempt \$status';

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        resolver         127.0.0.1:$DNS valid=1s;
        resolver_timeout 2s;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_connect_timeout 2s;
            proxy_read_timeout    1s;
            log_subrequest        on;
            access_log            %%TESTDIR%%/deliveries.log deliveries;
        }

        %%EVENTS_LOCATION%%

        location = /status {
            webhooks_status;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
    $t->run;
}

# what nginx -t says of bad settings
for my $case (
    [ 'webhooks_status_zone 1k;',
      qr/invalid size "1k" in "webhooks_status_zone"/ ],
    [ 'webhooks_status_zone 1m; webhooks_status_zone 2m;',
      qr/"webhooks_status_zone" directive is duplicate/ ],
    [ 'server { listen 127.0.0.1:%%PORT%%; '
      . 'location / { webhooks_status; webhooks_status; } }',
      qr/"webhooks_status" directive is duplicate/ ],
    [ 'webhooks_status;', qr/"webhooks_status" directive is not allowed/ ],
    [ 'server { listen 127.0.0.1:%%PORT%%; '
      . 'location / { webhooks_status on; } }',
      qr/invalid number of arguments in "webhooks_status"/ ],
) {
    $t->nginx_conf($case->[0]);
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "refused: $case->[0]");
    like($out, $case->[1], 'with why') or diag($out);
}

conf(<<'EOF');
    webhooks_delivery_retry 1h;
    webhooks_delivery_deactivate_after off;
EOF

sub scrape {
    my (%h) = @_;
    my $r = $t->http(GET => '/status', headers => \%h);
    is($r->{status}, 200, 'status answered') or diag($r->{raw});
    return $r;
}

# "name{labels}" => value
sub metrics {
    my $r = $t->http(GET => '/status');
    my %m;
    for (split /\n/, $r->{body} // '') {
        next if /^#/ || !/\S/;
        my ($k, $v) = /^(\S+) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return \%m;
}

sub promtool_ok {
    my ($body, $name) = @_;
    $t->write_file('metrics.txt', $body);
    my $f = $t->testdir . '/metrics.txt';
    my $out = `$PROMTOOL check metrics < $f 2>&1`;
    is($?, 0, "promtool check metrics: $name") or diag($out);
}

sub delta {
    my ($before, $after) = @_;
    my %d;
    for my $k (keys %$after) {
        next unless $k =~ /_total|_count/;
        my $d = $after->{$k} - ($before->{$k} // 0);
        $d{$k} = $d if $d;
    }
    return \%d;
}

sub total {
    my ($m) = @_;
    my $n = 0;
    $n += $m->{$_} for grep { /^webhooks_deliveries_total/ } keys %$m;
    return $n;
}

sub hook {
    my ($repo, $url) = @_;
    my $r = $t->api(POST => "/repos/$repo/hooks", $TOK,
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($repo, %h) = @_;
    return $t->http(POST => '/_webhooks/events',
        headers => { 'Content-Type' => 'application/json',
                     'X-GitHub-Event' => 'push', %h },
        body => encode_json({ ref => 'refs/heads/main',
            repository => { full_name => $repo } }));
}

###############################################################################
# Formats

my $r = scrape();
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
    'Prometheus text by default');
promtool_ok($r->{body}, 'at rest');
like($r->{body}, qr/^# HELP webhooks_queue_length .*cached/m,
    'queue figures read from Redis, marked as cached');
like($r->{body}, qr/^webhooks_deliveries_in_flight\{worker="1"\} 0$/m,
    'in-flight gauge of each worker');

$r = scrape(Accept => 'application/openmetrics-text;version=1.0.0,'
                    . 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
    'what Prometheus asks for');

$r = scrape(Accept => 'application/json');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON by Accept');
ok(exists $r->{json}{webhooks_events_received_total}, 'JSON counters');
ok(exists $r->{json}{queue}{length}, 'JSON queue figures');

$r = $t->http(GET => '/status?format=json');
like($r->{headers}{'content-type'}, qr{^application/json},
    'JSON by ?format=json');

$r = $t->http(GET => '/status', headers => { Accept => 'text/html' });
like($r->{headers}{'content-type'}, qr{^text/html}, 'the page by Accept');
like($r->{headers}{'content-security-policy'} // '', qr/default-src 'none'/,
    'the page has a strict Content-Security-Policy');
$r = $t->http(GET => '/status?format=prometheus',
    headers => { Accept => 'text/html' });
like($r->{headers}{'content-type'}, qr{^text/plain}, '?format= wins');

$r = $t->http(POST => '/status', body => '');
is($r->{status}, 405, 'POST not allowed');

###############################################################################
# Counters move by exactly what was done

my $R = 'octo-org/status';
my %H = (
    ok      => hook($R, "$RCV/ok/a"),
    e500    => hook($R, "$RCV/fail/b"),
    e404    => hook($R, "$RCV/status/404/c"),
    closed  => hook($R, 'http://127.0.0.1:' . $t->port(7) . '/d'),
    hang    => hook($R, "$RCV/hang/e"),
    # nginx itself answers a ClientHello with a plain 400
    tls     => hook($R, "https://127.0.0.1:" . $t->port(0) . "/f"),
    blocked => hook($R, 'http://private.test/g'),
    dns     => hook($R, 'http://nowhere.test/h'),
);

my $m0 = metrics();

for (1 .. 2) {
    is(event($R)->{status}, 202, 'event taken in');
}
is(event($R, 'X-GitHub-Event' => '')->{status}, 422, 'event refused');

# 16 attempts end: 2 per hook
$t->wait_for(sub { total(metrics()) - total($m0) >= 16 }, 20);
sleep 0.5;

my $m1 = metrics();
my $d = delta($m0, $m1);
delete @$d{grep { /^webhooks_redis_/ } keys %$d};

is_deeply($d, {
    'webhooks_events_received_total' => 2,
    'webhooks_events_refused_total{reason="invalid"}' => 1,
    'webhooks_deliveries_queued_total' => 16,
    'webhooks_deliveries_total{outcome="ok"}' => 2,
    'webhooks_deliveries_total{outcome="http_5xx"}' => 2,
    'webhooks_deliveries_total{outcome="http_4xx"}' => 2,
    'webhooks_deliveries_total{outcome="connect"}' => 2,
    'webhooks_deliveries_total{outcome="timeout"}' => 2,
    'webhooks_deliveries_total{outcome="tls"}' => 2,
    'webhooks_deliveries_total{outcome="blocked"}' => 2,
    'webhooks_deliveries_total{outcome="dns"}' => 2,
    # all but 2xx and 4xx are tried again
    'webhooks_delivery_retries_total' => 12,
    'webhooks_delivery_duration_seconds_count' => 16,
    'webhooks_delivery_latency_seconds_count' => 2,
}, 'counters moved by what was done') or diag(explain($d));

cmp_ok($m1->{webhooks_redis_commands_total}, '>',
    $m0->{webhooks_redis_commands_total}, 'Redis commands counted');
cmp_ok($m1->{webhooks_redis_rtt_seconds_count}, '>',
    $m0->{webhooks_redis_rtt_seconds_count}, 'Redis round trips measured');
# read by each worker at most once a second
$t->wait_for(sub { (metrics()->{webhooks_queue_retry_waiting} // 0) == 12 },
    5);
sleep 1.1;    # past every worker's cache
is(metrics()->{webhooks_queue_retry_waiting}, 12,
    'retry set size from Redis');
is($m1->{'webhooks_deliveries_in_flight{worker="0"}'}
    + $m1->{'webhooks_deliveries_in_flight{worker="1"}'}, 0,
    'nothing in flight once done');

promtool_ok(scrape()->{body}, 'with figures');

###############################################################################
# Pings, tests and redeliveries

$r = $t->api(POST => "/repos/$R/hooks/$H{ok}/pings", $TOK);
is($r->{status}, 204, 'ping');
$r = $t->api(POST => "/repos/$R/hooks/$H{ok}/tests", $TOK);
is($r->{status}, 204, 'test');
$r = $t->api(GET => "/repos/$R/hooks/$H{ok}/deliveries", $TOK);
my $id = $r->{json}[-1]{id};
$r = $t->api(POST => "/repos/$R/hooks/$H{ok}/deliveries/$id/attempts", $TOK);
is($r->{status}, 202, 'redelivery');

$t->wait_for(sub { total(metrics()) - total($m1) >= 3 }, 10);
sleep 0.5;

my $m2 = metrics();
$d = delta($m1, $m2);
delete @$d{grep { /^webhooks_redis_/ } keys %$d};

is_deeply($d, {
    'webhooks_pings_total' => 1,
    'webhooks_tests_total' => 1,
    'webhooks_redeliveries_total' => 1,
    'webhooks_deliveries_total{outcome="ok"}' => 3,
    'webhooks_delivery_duration_seconds_count' => 3,
    'webhooks_delivery_latency_seconds_count' => 3,
}, 'pings, tests, redeliveries') or diag(explain($d));

###############################################################################
# The delivery location's access log names each delivery

{
    my %seen;
    for my $line (split /\n/, $t->read_file('deliveries.log')) {
        my ($id, $guid, $event, $attempt, $status) = split / /, $line;
        $seen{"$event $attempt $status"}++;
        like($id, qr/^\d+$/, "log: delivery id $id") or last;
        like($guid, qr/^[0-9a-f]{8}-[0-9a-f]{4}-/, "log: GUID $guid")
            or last;
    }
    # 2 events to 8 hooks, then a ping, a test and a redelivery; the
    # blocked and unresolved never reach the location
    is($seen{'push 1 200'}, 2 + 2, 'log: pushes answered 200');
    is($seen{'push 1 500'}, 2, 'log: pushes answered 500');
    is($seen{'push 1 404'}, 2, 'log: pushes answered 404');
    is($seen{'ping 1 200'}, 1, 'log: the ping');
    my $r = $t->api(GET => "/repos/$R/hooks/$H{ok}/deliveries", $TOK);
    my ($d) = grep { $_->{redelivery} } @{ $r->{json} };
    like($t->read_file('deliveries.log'),
         qr/^$d->{id} $d->{guid} push 1 200$/m,
         'log: the redelivery, under its own id and the event\'s GUID');
}

###############################################################################
# The JSON says the same; a reload keeps the counters

my $j = $t->http(GET => '/status?format=json')->{json};
is($j->{webhooks_events_received_total},
    $m2->{webhooks_events_received_total}, 'JSON: the same counter');
is($j->{webhooks_deliveries_total}{ok},
    $m2->{'webhooks_deliveries_total{outcome="ok"}'},
    'JSON: the same labelled counter');
is($j->{webhooks_delivery_duration_seconds}{count},
    $m2->{webhooks_delivery_duration_seconds_count}, 'JSON: histogram');

###############################################################################
# README's alert rules are valid

{
    open(my $fh, '<', $t->repo_root . '/README.md') or die "README.md: $!";
    local $/;
    my $readme = <$fh>;
    my ($rules) = $readme =~ /^### Alert rules\n.*?^```yaml\n(.*?)^```/ms;
    ok($rules, 'README has alert rules');
    $t->write_file('rules.yml', $rules // '');
    my $f = $t->testdir . '/rules.yml';
    my $out = `$PROMTOOL check rules $f 2>&1`;
    is($?, 0, 'promtool check rules: README') or diag($out);
    like($out, qr/SUCCESS: 3 rules found/, 'all three rules');
}

$t->reload;
is(metrics()->{webhooks_events_received_total},
    $m2->{webhooks_events_received_total}, 'counters outlive a reload');

###############################################################################
# Redis away: events refused as such, reconnects counted

my $m3 = metrics();
$t->stop_redis;
is(event($R)->{status}, 503, 'Redis away: the event refused');
sleep 1;
my $m4 = metrics();
is($m4->{'webhooks_events_refused_total{reason="redis_unavailable"}'}
    - $m3->{'webhooks_events_refused_total{reason="redis_unavailable"}'}, 1,
    'refused for Redis, counted');
cmp_ok($m4->{webhooks_redis_reconnects_total}, '>',
    $m3->{webhooks_redis_reconnects_total}, 'reconnects counted');
unlike(scrape()->{body}, qr/^webhooks_queue_length /m,
    'no queue figures without Redis, once the cache is old');
$t->start_redis;
$t->wait_for(sub { metrics()->{webhooks_redis_connects_total}
    > $m4->{webhooks_redis_connects_total} + 1 }, 10);
cmp_ok(metrics()->{webhooks_redis_connects_total}, '>=',
    $m4->{webhooks_redis_connects_total} + 2, 'both workers reconnected');

###############################################################################
# Secrets that cannot be opened, hooks deactivated

$t->write_file($_, join('', map { sprintf '%02x', int rand 256 } 1 .. 32)
                   . "\n") for qw(a.key b.key);
chmod 0600, map { $t->testdir . "/$_" } qw(a.key b.key);

conf(<<"EOF");
    webhooks_delivery_retry off;
    webhooks_delivery_deactivate_after 2s;
    webhooks_secret_key %%TESTDIR%%/a.key;
EOF

my $S = 'octo-org/status-off';
hook($S, "$RCV/fail/x");
$r = $t->api(POST => "/repos/$S/hooks", $TOK,
    { config => { url => "$RCV/ok/y", secret => 'sealed with a' },
      events => ['push'] });
is($r->{status}, 201, 'hook with a sealed secret');

# key a is gone: that secret cannot be opened
conf(<<"EOF");
    webhooks_delivery_retry off;
    webhooks_delivery_deactivate_after 2s;
    webhooks_secret_key %%TESTDIR%%/b.key;
EOF

$m0 = metrics();
is(event($S)->{status}, 202, 'first event');
$t->wait_for(sub { total(metrics()) - total($m0) >= 2 }, 10);
sleep 2.3;
is(event($S)->{status}, 202, 'second event, past the failing span');
$t->wait_for(sub { total(metrics()) - total($m0) >= 4 }, 10);
$t->wait_for(sub { (metrics()->{webhooks_hooks_deactivated_total} // 0)
                   >= 2 }, 5);

$d = delta($m0, metrics());
delete @$d{grep { /^webhooks_redis_/ } keys %$d};

is_deeply($d, {
    'webhooks_events_received_total' => 2,
    'webhooks_deliveries_queued_total' => 4,
    'webhooks_deliveries_total{outcome="http_5xx"}' => 2,
    'webhooks_deliveries_total{outcome="secret"}' => 2,
    'webhooks_delivery_duration_seconds_count' => 4,
    # both failed for the whole span
    'webhooks_hooks_deactivated_total' => 2,
}, 'secrets not opened, hooks deactivated') or diag(explain($d));

$t->log_ok;

done_testing;
