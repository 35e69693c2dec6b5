#!/usr/bin/perl

# Sentinel failover: one master, one replica, three sentinels on
# 127.0.0.1.  A paced stream of events while the master is killed with
# SIGKILL: the intake answers 503 during the failover, never anything but
# 202 or 503; the module finds the new master through the sentinels
# without a reload (the queue's blocking reads and the scripts too); with
# webhooks_redis_wait_replicas on, every event answered 202 is delivered.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->skip_in_cluster('Sentinel watches one master');
my $D = $t->testdir;
my $SLOW = $ENV{WEBHOOKS_VALGRIND} ? 4 : 1;

$t->start_redis('--appendonly', 'yes', '--appendfsync', 'everysec');
my $MASTER = $t->redis_port;

# Two replicas: after the failover the new master still has one, so that
# WAIT 1 can be answered.
my @R = ($t->port(3), $t->port(4));
my %rpid;
for my $p (@R) {
    make_path("$D/r$p");
    $rpid{$p} = $t->run_daemon('redis-server', '--port', $p,
        '--bind', '127.0.0.1', '--dir', "$D/r$p",
        '--logfile', "$D/r$p/redis.log", '--daemonize', 'no', '--save', '',
        '--appendonly', 'yes', '--replicaof', '127.0.0.1', $MASTER);
    $t->waitforsocket("127.0.0.1:$p") or die "replica $p did not start";
}

my @S = map { $t->port(10 + $_) } 1 .. 3;
for my $i (0 .. 2) {
    make_path("$D/s$i");
    $t->write_file("s$i/sentinel.conf", <<"EOF");
port $S[$i]
bind 127.0.0.1
daemonize no
dir $D/s$i
logfile $D/s$i/sentinel.log
sentinel monitor mymaster 127.0.0.1 $MASTER 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 1
EOF
    $t->run_daemon('redis-server', "$D/s$i/sentinel.conf", '--sentinel');
}
for (@S) {
    $t->waitforsocket("127.0.0.1:$_") or die "sentinel $_ did not start";
}

# The other servers, through harness objects of their own.
my %replica = map { $_ => Test::Webhooks->new(redis_port => $_) } @R;
my @sentinel = map { Test::Webhooks->new(redis_port => $_) } @S;

# Ready: the replicas in sync, each sentinel knowing both and the two
# other sentinels.
{
    my $end = time + 30;
    my $ok;
    while (time < $end) {
        $ok = eval {
            !grep({ $_->redis('INFO', 'replication')
                !~ /master_link_status:up/ } values %replica)
            && !grep { @{ $_->redis(SENTINEL => 'replicas', 'mymaster') } < 2
                || @{ $_->redis(SENTINEL => 'sentinels', 'mymaster') } < 2 }
                @sentinel;
        };
        last if $ok;
        sleep 0.2;
    }
    ok($ok, 'master, two replicas and three sentinels ready') or BAIL_OUT('setup');
}

my $RCV = $t->start_receiver;

$t->nginx_conf(<<"EOF");
    %%OWNER_MAPS%%

    webhooks_redis_sentinel         mymaster 127.0.0.1:$S[0]
                                    127.0.0.1:$S[1] 127.0.0.1:$S[2];
    webhooks_redis_wait_replicas    1 500ms;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          1s;
    webhooks_delivery_claim_timeout 2s;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
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
my $REPO = '/repos/octo-org/failover';

sub hook {
    my ($url) = @_;
    my $r;
    my $end = time + 5;
    do {
        $r = $t->api(POST => "$REPO/hooks", $TOK,
            { config => { url => $url, content_type => 'json' },
              events => ['push'] });
    } while (($r->{status} // 0) == 503 && time < $end && sleep 0.1);
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

my @hooks = (hook("$RCV/ok/a"), hook("$RCV/slow/b?delay=0.05"));
like($t->read_file('error.log'),
    qr/redis sentinel "127\.0\.0\.1:\d+": master "mymaster" is 127\.0\.0\.1:$MASTER/,
    'the master asked of a sentinel');

###############################################################################
# Events every 20 ms; the master is killed 1 s in.  Then more, until the
# intake has taken 20 in again.

my $GAP = 0.02;
my (@ev, $kill);

sub post {
    my ($i) = @_;
    my $body = $J->encode({ n => $i, ref => 'refs/heads/main',
        repository => { id => 850, name => 'failover',
            full_name => 'octo-org/failover',
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
my $i = 0;
while (time - $t0 < 30 * $SLOW) {
    my $due = $t0 + ++$i * $GAP;
    sleep($due - time) if $due > time;

    if (!defined $kill && time - $t0 >= 1) {
        kill 'KILL', $t->redis_pid;
        waitpid($t->redis_pid, 0);
        delete $t->{_redis_pid};
        $kill = time;
    }

    post($i);

    last if defined $kill
        && grep({ $_->{sent} > $kill && $_->{status} eq '202' } @ev) >= 20;
}

my %status;
$status{ $_->{status} }++ for @ev;
note('intake: ' . join ', ', map {"$_: $status{$_}"} sort keys %status);

my @after = grep { $_->{sent} > $kill } @ev;
my ($first) = grep { $_->{status} eq '202' } @after;
note(sprintf 'the intake took events in again %.1f s after the kill',
    $first->{sent} - $kill) if $first;

cmp_ok(scalar(grep { $_->{status} eq '202' && $_->{done} < $kill } @ev),
    '>=', 30, 'events taken in before the kill');
cmp_ok(scalar(grep { $_->{status} eq '503' } @after), '>=', 1,
    'the intake answered 503 during the failover');
cmp_ok(scalar(grep { $_->{status} eq '202' } @after), '>=', 20,
    'the intake takes events in on the new master, without a reload');
is(scalar(grep { $_->{status} !~ /^(?:202|503)$/ } @ev), 0,
    'every answer was 202 or 503')
    or diag(join "\n", map {"event $_->{n}: $_->{raw}"}
        grep { $_->{status} !~ /^(?:202|503)$/ } @ev);

my ($NEW) = grep { $replica{$_}->redis('ROLE')->[0] eq 'master' } @R;
ok($NEW, 'a replica is master now');
$NEW //= $R[0];
my ($OTHER) = grep { $_ != $NEW } @R;
my $master = $replica{$NEW};
like($t->read_file('error.log'),
    qr/master "mymaster" is 127\.0\.0\.1:$NEW/,
    'the module was told of the new master');

# Each worker finds the new master on its own, after a backoff of at most
# 2 s: one whose connection is still backing off answers 503 meanwhile.
my $r;
{
    my $end = time + 5 * $SLOW;
    do {
        $r = $t->api(GET => "$REPO/hooks", $TOK);
    } while (($r->{status} // 0) == 503 && time < $end && sleep 0.1);
}
is($r->{status}, 200, 'the API answers on the new master');

###############################################################################
# Every (GUID, hook) of an event answered 202 arrives at least once.

my @ok = grep { $_->{status} eq '202' } @ev;
my @guids = map { $_->{guid} } @ok;
is(scalar(grep { !defined } @guids), 0, 'every 202 names a GUID');

my $n;
$t->wait_for(sub { $n = $t->tally(\@guids);
    !$t->lost(\@guids, \@hooks, $n) }, 60);
my @lost = $t->lost(\@guids, \@hooks, $n);
ok($t->wait_for(sub { $master->pending() eq '0' }, 20),
    'nothing pending on the new master')
    or diag('pending: ' . $master->pending());
is(scalar @lost, 0, 'no delivery lost (' . @guids * @hooks . ' expected)')
    or diag(scalar(@lost) . ' lost: '
        . join ', ', grep {defined} @lost[0 .. 19]);

###############################################################################
# A failover while the master is alive (SENTINEL FAILOVER): the sentinels
# announce +switch-master, and the module leaves the old master at once.

{
    # Asked of a sentinel that already follows the new master, has ended
    # its part in the first failover and counts the other replica as good
    # (linked, its INFO fresh): otherwise it answers INPROG or NOGOODSLAVE,
    # or would fail over a master that is gone.  Once accepted, never
    # again: asked again, it would fail back over.
    my $asked = time;
    my $end = $asked + 60 * $SLOW;
    my ($done, $why);
    my $ready = sub {
        my ($s) = @_;
        my $addr = $s->redis(SENTINEL => 'get-master-addr-by-name',
            'mymaster');
        return "master $addr->[1]" if $addr->[1] != $NEW;
        my %m = @{ $s->redis(SENTINEL => 'master', 'mymaster') };
        return "flags $m{flags}" if $m{flags} ne 'master';
        my ($o) = grep { $_->{port} == $OTHER }
            map { +{@$_} } @{ $s->redis(SENTINEL => 'replicas', 'mymaster') };
        return 'no replica' unless $o;
        return "replica $o->{flags}" if $o->{flags} ne 'slave';
        return "link $o->{'master-link-status'}"
            if $o->{'master-link-status'} ne 'ok';
        return "info $o->{'info-refresh'} ms old"
            if $o->{'info-refresh'} > 5000;
        return;
    };
    while (time < $end && !$done) {
        for my $s (@sentinel) {
            my $not = eval { $ready->($s) };
            $not = $@ if $@;
            if (defined $not) {
                $why = 'sentinel ' . $s->redis_port . ": $not";
                next;
            }
            my ($res, $err) = eval { $s->redis(SENTINEL => 'failover',
                'mymaster') };
            $done = defined $res && !defined $err;
            $why = 'sentinel ' . $s->redis_port . ': '
                . ($done ? 'accepted' : $err // $@);
            last if $done;
        }
        sleep 0.5 unless $done;
    }
    ok($done, 'SENTINEL FAILOVER accepted') or diag("last refusal: $why");
    note(sprintf '%s, after %.1f s', $why, time - $asked);

    my $re = qr/redis sentinel "127\.0\.0\.1:\d+": \+switch-master mymaster 127\.0\.0\.1 $NEW 127\.0\.0\.1 $OTHER/;
    $end = time + 30;
    sleep 0.1 while time < $end && $t->read_file('error.log') !~ $re;
    like($t->read_file('error.log'), $re, 'the module heard +switch-master');
    like($t->read_file('error.log'), qr/redis "127\.0\.0\.1:$NEW" was failed over/,
        'and left the old master');

    # 503 until the old master, demoted, has caught up with the new one:
    # WAIT 1 wants a replica.  A write answered 503 may still be there (a
    # hook with the same URL would then be a 422): a new URL each time.
    my ($r, %seen);
    my $n = 0;
    $end = time + 30;
    do {
        $n++;
        $r = $t->api(POST => "$REPO/hooks", $TOK,
            { config => { url => "$RCV/ok/switched?n=$n" },
              events => ['push'] });
        $seen{ $r->{status} // 'none' }++;
    } while (($r->{status} // 0) != 201 && time < $end && sleep 0.2);
    is($r->{status}, 201, 'writes go to the new master') or diag($r->{raw});
    is(join(',', grep { !/^(?:201|503)$/ } keys %seen), '',
        'meanwhile 503, nothing else');
    is($replica{$OTHER}->redis('ROLE')->[0], 'master', 'which is the other');
    ($NEW, $OTHER) = ($OTHER, $NEW);
    $master = $replica{$NEW};
}

###############################################################################
# The last replica gone: WAIT 1 cannot be answered; writes get 503 after
# the wait timeout, and nothing is claimed.

kill 'KILL', $rpid{$OTHER};
waitpid($rpid{$OTHER}, 0);
{
    my $end = time + 10;
    sleep 0.1 while time < $end
        && $master->redis('INFO', 'replication') !~ /connected_slaves:0/;
}

my $t1 = time;
$r = $t->http(POST => '/_webhooks/events', timeout => 10,
    headers => { 'X-GitHub-Event' => 'push',
        'Content-Type' => 'application/json' },
    body => $J->encode({ ref => 'refs/heads/main',
        repository => { id => 850, name => 'failover',
            full_name => 'octo-org/failover',
            owner => { login => 'octo-org' } } }));
my $took = time - $t1;
is($r->{status}, 503, 'no replica: the intake answers 503')
    or diag($r->{raw});
is($r->{json} && $r->{json}{message}, 'Service Unavailable',
    "no replica: GitHub's JSON");
cmp_ok($took, '>=', 0.4, 'no replica: after the wait timeout');

$r = $t->api(POST => "$REPO/hooks", $TOK,
    { config => { url => "$RCV/ok/c" }, events => ['push'] });
is($r->{status}, 503, 'no replica: an API write answers 503');
like($t->read_file('error.log'),
    qr/redis "127\.0\.0\.1:$NEW": 0 of 1 replicas took a write in 500 ms/,
    'no replica: logged');

$t->log_ok;

done_testing;
