#!/usr/bin/perl

# Reliability beyond GitHub: failed deliveries are tried again on the
# configured schedule (Retry-After honoured, 4xx final), each attempt a
# delivery of its own under the event's GUID; a hook failing for the
# whole span is deactivated; per-hook and per-host caps keep a slow
# receiver from holding up others; a full queue answers 503.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use List::Util qw(max);
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;
# the same receiver on another port: another host to the caps
my $RCV2 = $t->start_receiver(port => 8);
my $TOK = 'demo-owner';

sub conf {
    my ($http, $server) = @_;
    $server //= <<'EOF';
        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            client_max_body_size  0;
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }
EOF
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
$http
    server {
        listen 127.0.0.1:%%PORT%%;
$server
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
    my ($repo, $url, %o) = @_;
    my $r = api(POST => "/repos/$repo/hooks",
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($repo) = @_;
    my $r = $t->http(POST => '/_webhooks/events',
        headers => { 'Content-Type' => 'application/json',
                     'X-GitHub-Event' => 'push' },
        body => encode_json({ ref => 'refs/heads/main',
            repository => { full_name => $repo } }));
    return $r;
}

sub guid_of {
    my ($r) = @_;
    return decode_json($r->{body})->{guid};
}

sub at {
    my ($path) = @_;
    return sub { $_[0]{path} eq $path };
}

sub deliveries {
    my ($repo, $id) = @_;
    my $r = api(GET => "/repos/$repo/hooks/$id/deliveries");
    is($r->{status}, 200, "deliveries of hook $id listed");
    return $r->{json} || [];
}

###############################################################################
# Retries: 1 s, 1 s, then 4 s; the failing span off.

conf(<<'EOF');
    webhooks_delivery_retry            1s 1s 4s;
    webhooks_delivery_deactivate_after off;
EOF

my $R = 'octo-org/retry';
my $closed = 'http://127.0.0.1:' . $t->port(7) . '/nobody';
my %H = (
    e500   => hook($R, "$RCV/status/500/a"),
    e404   => hook($R, "$RCV/status/404/b"),
    e408   => hook($R, "$RCV/status/408/c"),
    e429   => hook($R, "$RCV/status/429/d?retry_after=3"),
    flaky  => hook($R, "$RCV/flaky/2/e"),
    ok     => hook($R, "$RCV/ok/f"),
    closed => hook($R, $closed),
);

my $ev = event($R);
is($ev->{status}, 202, 'event taken in');
my $guid = guid_of($ev);

# 1 + 3 tries for what keeps failing, over about 6 s
my @e500 = $t->wait_received(4, at('/status/500/a'), timeout => 20);
my @e408 = $t->wait_received(4, at('/status/408/c'), timeout => 20);
my @e429 = $t->wait_received(4, at('/status/429/d'), timeout => 20);
my @flaky = $t->wait_received(3, at('/flaky/2/e'), timeout => 20);
sleep 6;    # past the last delay: nothing more comes

@e500 = $t->received(at('/status/500/a'));
is(scalar @e500, 4, '500: the first try and 3 more, then no more');
is(scalar(grep { $_->{headers}{'x-github-delivery'} eq $guid } @e500), 4,
    '500: every try carries the event\'s GUID');
is(scalar $t->received(at('/status/408/c')), 4, '408: tried again');
is(scalar $t->received(at('/status/429/d')), 4, '429: tried again');
is(scalar $t->received(at('/status/404/b')), 1, '404: final, not tried again');
is(scalar $t->received(at('/flaky/2/e')), 3,
    'failing twice, then OK: 3 tries and no more');
is(scalar $t->received(at('/ok/f')), 1, 'OK at once: one try');

my @gap = map { $e500[$_]{time} - $e500[$_ - 1]{time} } 1 .. $#e500;
ok($gap[0] >= 0.75 && $gap[0] < 3, "500: the first retry after ~1 s ($gap[0])");
ok($gap[2] >= 3.1, "500: the third after ~4 s ($gap[2])");

@e429 = $t->received(at('/status/429/d'));
my $g429 = $e429[1]{time} - $e429[0]{time};
ok($g429 >= 2.9, "429: Retry-After 3 honoured over the 1 s delay ($g429)");

# the log: a delivery per try, the same GUID, none a redelivery
my $log = deliveries($R, $H{e500});
is(scalar @$log, 4, '500: 4 deliveries logged');
$t->schema_array_ok($log, 'hook-delivery-item', 'retried deliveries: schema');
is(scalar(grep { $_->{guid} eq $guid } @$log), 4, 'all with the GUID');
is(scalar(grep { !$_->{redelivery} } @$log), 4,
    'automatic tries are not redeliveries');
is(scalar(grep { $_->{status} eq 'Invalid HTTP Response: 500'
    && $_->{status_code} == 500 } @$log), 4, 'each with its outcome');
my %ids = map { $_->{id} => 1 } @$log;
is(scalar keys %ids, 4, 'each try has an id of its own');

$log = deliveries($R, $H{flaky});
is_deeply([ map { $_->{status_code} } reverse @$log ], [ 500, 500, 200 ],
    'flaky: 500, 500, then 200 in the log');
my $hk = api(GET => "/repos/$R/hooks/$H{flaky}");
is($hk->{json}{last_response}{code}, 200, 'flaky: last response 200');
is($hk->{json}{last_response}{status}, 'active', 'flaky: active');

$log = deliveries($R, $H{closed});
is(scalar @$log, 4, 'refused connection: tried again');
is(scalar(grep { $_->{status} eq 'failed to connect to host' } @$log), 4,
    'refused connection: the status text on each try');

$log = deliveries($R, $H{e404});
is(scalar @$log, 1, '404: one delivery logged');

# a redelivery asked for is made once, never tried again by itself
$log = deliveries($R, $H{e500});
my $rd = api(POST => "/repos/$R/hooks/$H{e500}/deliveries/$log->[0]{id}"
    . '/attempts');
is($rd->{status}, 202, 'redelivery accepted');
$t->wait_received(5, at('/status/500/a'), timeout => 10);
sleep 2.5;
is(scalar $t->received(at('/status/500/a')), 5,
    'a failed redelivery is not tried again');
$log = deliveries($R, $H{e500});
is(scalar(grep { $_->{redelivery} } @$log), 1, 'it is the one redelivery');

# nor is a ping
my $pg = api(POST => "/repos/$R/hooks/$H{e404}/pings");
is($pg->{status}, 204, 'ping accepted');
$t->wait_received(2, at('/status/404/b'), timeout => 10);
my $pid = hook('octo-org/ping-retry', "$RCV/status/503/p");
api(POST => "/repos/octo-org/ping-retry/hooks/$pid/pings");
$t->wait_received(1, at('/status/503/p'), timeout => 10);
sleep 2.5;
is(scalar $t->received(at('/status/503/p')), 1,
    'a failed ping is not tried again');

# a hook deleted while a retry is due gets no more
my $gone = hook('octo-org/gone', "$RCV/status/502/g");
is(event('octo-org/gone')->{status}, 202, 'event for a hook to delete');
$t->wait_received(1, at('/status/502/g'), timeout => 10);
is(api(DELETE => "/repos/octo-org/gone/hooks/$gone")->{status}, 204,
    'hook deleted with a retry due');
sleep 2.5;
is(scalar $t->received(at('/status/502/g')), 1,
    'a deleted hook is not tried again');

# what was due for the deleted hook is dropped once it comes due
my $due_end = time + 5;
sleep 0.1 while $t->retry_len && time < $due_end;
is($t->retry_len, 0, 'nothing left due later')
    or diag explain [ map { scalar $t->redis(ZRANGE => $_, 0, -1,
        'WITHSCORES') } $t->shards('retry') ];

###############################################################################
# The failing span: retries off, deactivated after 2 s of failures.

conf(<<'EOF');
    webhooks_delivery_retry            off;
    webhooks_delivery_deactivate_after 2s;
EOF

my $D = 'octo-org/deactivate';
my $bad = hook($D, "$RCV/status/500/bad");
my $good = hook($D, "$RCV/ok/good");
my $heal = hook($D, "$RCV/flaky/1/heal");

is(event($D)->{status}, 202, 'first failing event');
$t->wait_received(1, at('/status/500/bad'), timeout => 10);
$t->wait_received(1, at('/flaky/1/heal'), timeout => 10);
$hk = api(GET => "/repos/$D/hooks/$bad");
ok($hk->{json}{active}, 'one failure: still active');
is(scalar $t->received(at('/status/500/bad')), 1, 'retries off: one try');

sleep 2.3;
is(event($D)->{status}, 202, 'second failing event, past the span');
$t->wait_received(2, at('/status/500/bad'), timeout => 10);
$t->wait_received(2, at('/flaky/1/heal'), timeout => 10);

my $end = time + 5;
do { sleep 0.1; $hk = api(GET => "/repos/$D/hooks/$bad") }
    while $hk->{json}{active} && time < $end;
ok(!$hk->{json}{active}, 'failing for the whole span: deactivated');
$t->schema_ok($hk->{json}, 'hook', 'deactivated hook: schema');
is($hk->{json}{last_response}{status}, 'failed', 'last response: failed');
is($hk->{json}{last_response}{code}, 500, 'last response: its code');
like($hk->{json}{last_response}{message}, qr/^Deactivated: .*failed for 2 /,
    'last response: the reason');
my $list = api(GET => "/repos/$D/hooks");
my ($in) = grep { $_->{id} == $bad } @{ $list->{json} };
ok($in && !$in->{active}, 'inactive in the list too');
ok(api(GET => "/repos/$D/hooks/$good")->{json}{active},
    'a hook that succeeds stays active');
ok(api(GET => "/repos/$D/hooks/$heal")->{json}{active},
    'a hook that failed, then succeeded, stays active');

my $n = decode_json(event($D)->{body})->{deliveries};
is($n, 2, 'an inactive hook gets no deliveries');
$t->wait_received(3, at('/flaky/1/heal'), timeout => 10);
is(scalar $t->received(at('/status/500/bad')), 2, 'and nothing is sent to it');

my $re = api(PATCH => "/repos/$D/hooks/$bad", { active => JSON::PP::true });
is($re->{status}, 200, 're-activated');
ok($re->{json}{active}, 'active again');
is(event($D)->{status}, 202, 'an event after re-activation');
$t->wait_received(3, at('/status/500/bad'), timeout => 10);
sleep 0.5;
ok(api(GET => "/repos/$D/hooks/$bad")->{json}{active},
    'one failure after re-activation: a new span, still active');

###############################################################################
# A success writes the hook's side (outcome.lua) only when it changes
# something: the same answer again leaves it be, yet a failure another
# host recorded meanwhile is still overwritten by the next success.

my $S = 'octo-org/steady';
my $st = hook($S, "$RCV/ok/steady");
my $SH = "webhooks:{r:$S}:hooks";
my $cluster = Test::Webhooks::Redis->can('cluster_mode')
    && Test::Webhooks::Redis::cluster_mode();

# outcome.lua's calls for this hook: EVALSHA <sha> 2 <hooks> <subs> <id> ok
sub outcomes {
    my $log = $t->redis(SLOWLOG => 'GET', 4096);
    return scalar grep { ref $_->[3] && @{ $_->[3] } > 5
        && lc $_->[3][0] eq 'evalsha' && $_->[3][3] eq $SH
        && $_->[3][5] eq $st && $_->[3][6] eq 'ok' } @$log;
}

$t->redis(CONFIG => 'SET', 'slowlog-log-slower-than', 0) unless $cluster;
$t->redis(CONFIG => 'SET', 'slowlog-max-len', 4096) unless $cluster;
$t->redis(SLOWLOG => 'RESET') unless $cluster;
for my $i (1 .. 8) {
    is(event($S)->{status}, 202, "steady: event $i");
    $t->wait_received($i, at('/ok/steady'), timeout => 10);
    sleep 0.05;
}
SKIP: {
    skip 'SLOWLOG is per node on a cluster', 1 if $cluster;
    my $n = outcomes();
    ok($n >= 1 && $n <= 2,
        "steady: 8 successes, outcome.lua run once per worker ($n)");
    $t->redis(CONFIG => 'SET', 'slowlog-log-slower-than', 10000);
}
is(api(GET => "/repos/$S/hooks/$st")->{json}{last_response}{code}, 200,
    'steady: last response 200');

# another host records a failure, its mark 10 s back: the span is 2 s
my $fail = '{"code":500,"status":"failed","message":"Invalid HTTP '
    . 'Response: 500"}';
$t->redis(HSET => $SH, "$st:lr", $fail, "$st:fs", int(time) - 10);
for my $i (9 .. 10) {
    is(event($S)->{status}, 202, "steady: event $i, after a failure elsewhere");
    $t->wait_received($i, at('/ok/steady'), timeout => 10);
}
$end = time + 5;
sleep 0.1 while $t->redis(HEXISTS => $SH, "$st:fs") && time < $end;
is($t->redis(HEXISTS => $SH, "$st:fs"), 0,
    'steady: the failing mark written elsewhere is cleared by a success');
$hk = api(GET => "/repos/$S/hooks/$st");
is($hk->{json}{last_response}{code}, 200,
    'steady: the failure written elsewhere is overwritten');
ok($hk->{json}{active}, 'steady: still active');

# the repository object an event tells of, kept for pings, is written
# once in a while by a worker, not dumped and written on every event
my $OBJ = "webhooks:{r:$S}:object";
ok($t->redis(TTL => $OBJ) > 500, 'objects: the repository kept 10 minutes');
$t->redis(DEL => $OBJ);
is(event($S)->{status}, 202, 'objects: one more event');
is($t->redis(EXISTS => $OBJ), 0,
   'objects: written lately by this worker: not written again');

# with nothing to write, the scope's subscribers are a plain HMGET of its
# index, not a script; a hook taking both the event and "*" gets it once
my $SUBS = "webhooks:{r:$S}:subs";
my $both = api(POST => "/repos/$S/hooks",
    { config => { url => "$RCV/ok/both", content_type => 'json' },
      events => ['push', '*'] });
is($both->{status}, 201, 'a hook taking push and "*"') or diag($both->{raw});
$t->redis(CONFIG => 'SET', 'slowlog-log-slower-than', 0) unless $cluster;
$t->redis(SLOWLOG => 'RESET') unless $cluster;
my $two = decode_json(event($S)->{body});
is($two->{deliveries}, 2, 'subscribers read plainly: one delivery each');
$t->wait_received(1, at('/ok/both'), timeout => 10);
SKIP: {
    skip 'SLOWLOG is per node on a cluster', 2 if $cluster;
    my $log = $t->redis(SLOWLOG => 'GET', 4096);
    my @cmds = map { $_->[3] } grep { ref $_->[3] } @$log;
    $t->redis(CONFIG => 'SET', 'slowlog-log-slower-than', 10000);
    is(scalar(grep { lc $_->[0] eq 'hmget' && $_->[1] eq $SUBS } @cmds), 1,
        'subscribers: one HMGET of the index');
    # subs.lua: EVALSHA <sha> 4 <hooks> <subs> ... (outcome.lua has 2 keys)
    is(scalar(grep { lc $_->[0] eq 'evalsha' && @$_ > 4 && $_->[2] == 4
        && $_->[4] eq $SUBS } @cmds), 0, 'subscribers: no script');
}
$t->redis(DEL => $SUBS);
is(decode_json(event($S)->{body})->{deliveries}, 2,
    'the index gone: built again, the same subscribers');
$t->wait_received(2, at('/ok/both'), timeout => 10);

###############################################################################
# Caps: 8 deliveries per worker, 2 per hook, 3 per host.

conf(<<'EOF');
    webhooks_delivery_concurrency      8;
    webhooks_delivery_hook_concurrency 2;
    webhooks_delivery_host_concurrency 3;
EOF

my $C = 'octo-org/caps';
hook($C, "$RCV/slow/s1?delay=2");
hook($C, "$RCV/slow/s2?delay=2");
hook($C, "$RCV2/ok/fast");

my $t0 = time;
is(event($C)->{status}, 202, "caps: event $_") for 1 .. 6;
my @fast = $t->wait_received(6, at('/ok/fast'), timeout => 10);
is(scalar @fast, 6, 'the fast hook got every event');
my $late = max(map { $_->{time} } @fast) - $t0;
ok($late < 1.8, "not held up by the slow ones ($late s)");

my @slow = $t->wait_received(12, qr{^/slow/s[12]$}, timeout => 40);
is(scalar @slow, 12, 'the slow hooks got every event');
ok(max(map { $_->{inflight} } @slow) <= 2,
    'never more than 2 in flight to one hook');
my $most = max(map { my $s = $_->{time};
    scalar grep { $_->{time} <= $s && $_->{time} + 1.9 > $s } @slow } @slow);
ok($most <= 3, "never more than 3 in flight to one host ($most)");

###############################################################################
# A receiver answering 100 MB: the worker's memory stays bounded.

conf('');
my $B = 'octo-org/huge';
my $huge = hook($B, "$RCV/huge/h");
my ($w) = $t->worker_pids;
sub rss {
    my ($s) = $t->read_file("/proc/$w/status") =~ /^VmRSS:\s+(\d+)/m;
    return $s // 0;
}
my $rss0 = rss();
is(event($B)->{status}, 202, 'event to the 100 MB receiver');
my $peak = $rss0;
$end = time + 60;
my $hl;
while (time < $end) {
    $peak = max($peak, rss());
    $hl = deliveries($B, $huge);
    last if @$hl && $hl->[0]{status_code};
    sleep 0.1;
}
is($hl->[0]{status}, 'OK', '100 MB answer: delivered');
my $grow = int(($peak - $rss0) / 1024);
ok($grow < 32, "worker memory grew by $grow MB, not by the answer");
my $one = api(GET => "/repos/$B/hooks/$huge/deliveries/$hl->[0]{id}");
is(length $one->{json}{response}{payload}, 8192,
    'the log keeps webhooks_delivery_response_max of it');

###############################################################################
# A bounded queue: nothing consumes it here, 3 entries at most.

conf("    webhooks_delivery_queue_max 3;\n", '');
$t->redis(DEL => $t->shards('queue'), $t->shards('retry'));
my $Q = 'octo-org/full';
my $qh = hook($Q, "$RCV/ok/q");
is(event($Q)->{status}, 202, "queue: event $_ kept") for 1 .. 3;
my $full = event($Q);
is($full->{status}, 503, 'a full queue: 503');
is($full->{headers}{'retry-after'}, '30', 'with Retry-After');
is(decode_json($full->{body})->{message}, 'Service Unavailable',
    'and a JSON body');
is($t->queue_len, 3, 'nothing more queued');
is(api(POST => "/repos/$Q/hooks/$qh/pings")->{status}, 503,
    'a ping waits too');

$t->stop;
$t->log_ok;

done_testing;
