#!/usr/bin/perl

# Redis (AOF, fsync every second) stopped for 2 s in the middle of a
# steady stream of events, then started again on the same data: while it
# is down the intake and the API answer 503; every event answered 202,
# before or after, reaches every hook at least once once Redis is back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->skip_in_cluster('restarts its Redis');
$t->start_redis('--appendonly', 'yes', '--appendfsync', 'everysec');
my $RCV = $t->start_receiver;
my $SLOW = $ENV{WEBHOOKS_VALGRIND} ? 4 : 1;

is($t->redis(CONFIG => 'GET', 'appendfsync')->[1], 'everysec',
    'redis: appendfsync everysec');
is($t->redis(CONFIG => 'GET', 'appendonly')->[1], 'yes',
    'redis: appendonly yes');

$t->nginx_conf(<<'EOF');
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          1s;
    webhooks_delivery_claim_timeout 2s;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_set_header      X-Test-Worker $pid;
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        %%OWNER_API_LOCATION%%
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;
my $REPO = '/repos/octo-org/restart';

sub hook {
    my ($url) = @_;
    my $r = $t->api(POST => "$REPO/hooks", $TOK,
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

my @hooks = (hook("$RCV/ok/a"), hook("$RCV/slow/b?delay=0.1"),
    hook("$RCV/slow/c?delay=0.3"));
is(scalar(grep { defined } @hooks), 3, '3 hooks');

###############################################################################
# 200 events, one every 20 ms; Redis stops about 1 s in and starts again
# 2 s later.  Then more at the same pace, until the intake takes events in
# again (the workers reconnect with a backoff of up to 2 s).

my $N = 200;
my $GAP = 0.02;
my (@ev, @api, $down, $up, $back);

sub post {
    my ($i) = @_;
    my $body = $J->encode({ n => $i, ref => 'refs/heads/main',
        repository => { id => 810, name => 'restart',
            full_name => 'octo-org/restart',
            owner => { login => 'octo-org' } } });
    my $sent = time;
    my $r = $t->http(POST => '/_webhooks/events', body => $body,
        timeout => 10, headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' });
    push @ev, { n => $i, sent => $sent, done => time,
        status => $r->{status} // 'none', guid => $r->{json}{guid},
        raw => $r->{raw} // $r->{error} };
}

my $t0 = time;
for my $i (1 .. $N) {
    my $due = $t0 + $i * $GAP;
    sleep($due - time) if $due > time;

    if (!defined $down && time - $t0 >= 1) {
        $t->stop_redis;
        # from here on, nothing can be kept
        $down = time;
        my $r = $t->api(GET => "$REPO/hooks", $TOK);
        push @api, [ time, $r ];
    }
    if (defined $down && !defined $up && time - $down >= 2) {
        my $r = $t->api(GET => "$REPO/hooks", $TOK);
        push @api, [ time, $r ];
        $up = time;
        $t->start_redis;
        $back = time;
    }

    post($i);
}

my $i = $N;
my $end = time + 10 * $SLOW;
while (time < $end
    && grep({ $_->{sent} > $back && $_->{status} eq '202' } @ev) < 20)
{
    sleep $GAP;
    post(++$i);
}
my ($first) = grep { $_->{sent} > $back && $_->{status} eq '202' } @ev;
note(sprintf 'the intake took events in again %.1f s after redis was back',
    $first->{sent} - $back) if $first;

note(sprintf '%d events in %.1f s; redis down %.1f s to %.1f s, '
    . 'answering again at %.1f s', scalar @ev, time - $t0, $down - $t0, $up - $t0,
    $back - $t0);

my %status;
$status{ $_->{status} }++ for @ev;
note('intake: ' . join ', ', map {"$_: $status{$_}"} sort keys %status);

# Sent after Redis was gone, answered before it was started again.
my @during = grep { $_->{sent} >= $down && $_->{done} <= $up } @ev;
cmp_ok(scalar @during, '>=', 50, 'events posted while redis was down');
my @bad = grep { $_->{status} ne '503' } @during;
is(scalar @bad, 0, 'redis down: the intake answered 503 to all of them')
    or diag(join "\n", map {"event $_->{n}: $_->{raw}"} @bad[0 .. 4]);
is(scalar(grep { $_->{status} eq '202' } @during), 0,
    'redis down: never 202');
is(scalar(grep { $_->{status} !~ /^(?:202|503)$/ } @ev), 0,
    'every answer was 202 or 503')
    or diag(join "\n", map {"event $_->{n}: $_->{raw}"}
        grep { $_->{status} !~ /^(?:202|503)$/ } @ev);

for (@api) {
    my ($at, $r) = @$_;
    my $when = sprintf 'redis down (%.1f s in)', $at - $down;
    is($r->{status}, 503, "$when: GET $REPO/hooks: 503")
        or diag($r->{raw});
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        "$when: JSON content type");
    is($r->{json} && $r->{json}{message}, 'Service Unavailable',
        "$when: JSON body with the message");
}

my @before = grep { $_->{done} < $down } @ev;
my @after = grep { $_->{sent} > $back } @ev;
my @ok = grep { $_->{status} eq '202' } @ev;
note(sprintf 'accepted: %d (%d before the outage, %d after); refused: %d',
    scalar @ok, scalar(grep { $_->{status} eq '202' } @before),
    scalar(grep { $_->{status} eq '202' } @after),
    scalar(grep { $_->{status} eq '503' } @ev));
cmp_ok(scalar(grep { $_->{status} eq '202' } @before), '>=', 30,
    'events taken in before the outage');
cmp_ok(scalar(grep { $_->{status} eq '202' } @after), '>=', 20,
    'events taken in again after the outage');
is(scalar(grep { !$_->{guid} } @ok), 0, 'every 202 names a GUID');

###############################################################################
# Every (GUID, hook) of an event answered 202 arrives at least once.

my @guids = map { $_->{guid} } @ok;

my $n;
$t->wait_for(sub { $n = $t->tally(\@guids);
    !$t->lost(\@guids, \@hooks, $n) }, 60);
my @lost = $t->lost(\@guids, \@hooks, $n);
note(sprintf 'all there %.1f s after redis came back', time - $back)
    unless @lost;
ok($t->wait_for(sub { $t->pending() eq '0' }, 10), 'nothing pending')
    or diag('pending: ' . $t->pending());
sleep 1;
$n = $t->tally(\@guids);
my @dup = grep { $n->{$_} > 1 } sort keys %$n;
note(@dup . ' pairs delivered more than once: '
    . join(', ', map {"$_ x$n->{$_}"} grep {defined} @dup[0 .. 9])
    . (@dup > 10 ? ', ...' : '')) if @dup;
is(scalar @lost, 0, 'no delivery lost (' . @guids * @hooks . ' expected)')
    or diag(scalar(@lost) . ' lost: '
        . join ', ', grep {defined} @lost[0 .. 19]);

# The ones that were lost: accepted when?
if (@lost) {
    my %g = map { (split / /)[0] => 1 } @lost;
    diag(join "\n", map { sprintf 'event %d, %s: sent %.2f s, answered '
        . '%.2f s after the start', $_->{n}, $_->{guid},
        $_->{sent} - $t0, $_->{done} - $t0 } grep { $g{ $_->{guid} } } @ok);
}

my @refused = grep { $_->{status} eq '503' && $_->{guid} } @ev;
is(scalar @refused, 0, 'a 503 names no GUID');

is($t->pending(), 0, 'XPENDING is 0 at the end');
is($t->queue_len, 0, 'the queue stream is empty at the end');

my $r = $t->api(GET => "$REPO/hooks", $TOK);
is($r->{status}, 200, 'the API answers again');
is(scalar @{ $r->{json} || [] }, 3, 'the hooks survived the restart');

$t->stop;
$t->log_ok;

done_testing;
