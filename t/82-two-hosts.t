#!/usr/bin/perl

# Two nginx instances (two prefixes, two ports) on one Redis with one key
# prefix: their workers share the queue, each delivery is made once by
# one of them; when one instance dies whole (SIGKILL to its master and
# workers), the other finishes what it had taken.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $A = Test::Webhooks->new(workers => 2)->skip_unless_module;
$A->start_redis;
my $RCV = $A->start_receiver;
my $B = Test::Webhooks->new(workers => 2, redis_port => $A->redis_port);
my $SLOW = $ENV{WEBHOOKS_VALGRIND} ? 4 : 1;
my %T = (A => $A, B => $B);

for my $name (sort keys %T) {
    $T{$name}->nginx_conf(<<"EOF");
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_prefix           "wh82:";
    webhooks_redis_timeout          2s;
    webhooks_delivery_claim_timeout 2s;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        \$webhooks_delivery_host;
            proxy_set_header      X-Test-Instance $name;
            proxy_set_header      X-Test-Worker \$pid;
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        %%OWNER_API_LOCATION%%
    }
EOF
    $T{$name}->run;
}

isnt($A->port(0), $B->port(0), 'two instances on two ports');
is($B->redis_port, $A->redis_port, 'on one redis');

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;
my $PREFIX = 'wh82:';

# Hooks made on A, seen by both (B lists them).
sub hook {
    my ($repo, $url) = @_;
    my $r = $A->api(POST => "/repos/$repo/hooks", $TOK,
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook $url created on A") or diag($r->{raw});
    return $r->{json}{id};
}

# Push events to $repo, alternately to each instance in @$to (a sub
# returning the list, so that it may change during the burst); $at->{$i}
# runs before the i-th.
sub burst {
    my ($tag, $repo, $n, $to, %at) = @_;
    my (@guids, %status);
    for my $i (1 .. $n) {
        $at{$i}->() if $at{$i};
        my @to = $to->();
        my $t = $T{ $to[ $i % @to ] };
        my $body = $J->encode({ n => $i, ref => 'refs/heads/main',
            repository => { id => 82, full_name => $repo,
                name => (split m{/}, $repo)[1],
                owner => { login => 'octo-org' } } });
        my $r = $t->http(POST => '/_webhooks/events', body => $body,
            timeout => 10, headers => { 'X-GitHub-Event' => 'push',
                'Content-Type' => 'application/json' });
        my $s = ($r->{status} // 'none') . " from $to[$i % @to]";
        $status{$s}++;
        push @guids, $r->{json}{guid}
            if ($r->{status} // '') eq '202' && $r->{json};
    }
    note("$tag: " . join ', ', map {"$_: $status{$_}"} sort keys %status);
    return \@guids;
}

# Waits for every (GUID, hook) or the deadline; returns the lost pairs,
# the repeated ones and the deliveries by instance.
sub check {
    my ($tag, $guids, $hooks, $timeout) = @_;
    my $start = time;
    my ($n, $by);
    $A->wait_for(sub { ($n) = $A->tally($guids);
        !$A->lost($guids, $hooks, $n) },
        $timeout);
    my @lost = $A->lost($guids, $hooks, $n);
    note(sprintf "$tag: all there %.1f s after the burst", time - $start)
        unless @lost;
    ok($A->wait_for(sub { $A->pending(undef, $PREFIX) eq '0' }, 10),
        "$tag: nothing pending")
        or diag('pending: ' . $A->pending(undef, $PREFIX));
    sleep 1;
    ($n, $by) = $A->tally($guids);
    my @dup = grep { $n->{$_} > 1 } sort keys %$n;
    note("$tag: by instance: "
        . join ', ', map {"$_: $by->{$_}"} sort keys %$by);
    note("$tag: " . @dup . ' pairs delivered more than once: '
        . join(', ', map {"$_ x$n->{$_}"} grep {defined} @dup[0 .. 9])
        . (@dup > 10 ? ', ...' : '')) if @dup;
    is(scalar @lost, 0, "$tag: no delivery lost ("
        . @$guids * @$hooks . ' expected)')
        or diag(scalar(@lost) . ' lost: '
            . join ', ', grep {defined} @lost[0 .. 19]);
    return (\@lost, \@dup, $by);
}

###############################################################################
# (a) A burst posted to both: every delivery made once, by one of them,
# and both take part.

{
    my $repo = 'octo-org/two';
    my @hooks = (hook($repo, "$RCV/ok/a"), hook($repo, "$RCV/ok/b"),
        hook($repo, "$RCV/slow/c?delay=0.05"));
    my $r = $B->api(GET => "/repos/$repo/hooks", $TOK);
    is(scalar @{ $r->{json} || [] }, 3, 'B lists the 3 hooks made on A');

    my $guids = burst('both', $repo, 200, sub { qw(A B) });
    is(scalar @$guids, 200, 'both: 200 events taken in');
    my ($lost, $dup, $by) = check('both', $guids, \@hooks, 60);
    is(scalar @$dup, 0, 'both: no delivery made twice')
        or diag('twice: ' . join ', ', @$dup);
    ok($by->{A} && $by->{B}, 'both: each instance made some deliveries');
    is(join(',', sort keys %$by), 'A,B', 'both: nobody else did');
}

###############################################################################
# (b) Slow receivers; instance A killed whole in the middle of the burst:
# B claims what A's workers had taken, after the claim timeout.

my $dead = 0;
{
    my $repo = 'octo-org/two-kill';
    my @hooks = map { hook($repo, "$RCV/slow/k$_?delay=0.3") } 1 .. 3;

    my @killed;
    my $guids = burst('kill A', $repo, 200,
        sub { $dead ? qw(B) : qw(A B) },
        80 => sub {
            @killed = ($A->nginx_pid, $A->worker_pids);
            # the master first: it respawns no worker
            kill 'KILL', @killed;
            $dead = time;
        });
    note("kill A: killed @killed");
    is(scalar @killed, 3, 'kill A: master and 2 workers killed');
    ok($A->wait_for(sub { !grep { kill 0, $_ } @killed }, 10),
        'kill A: all gone');
    cmp_ok(scalar @$guids, '>=', 150, 'kill A: events taken in');

    my ($lost, $dup, $by) = check('kill A', $guids, \@hooks, 60);

    # A request A wrote before its death may be read a while later by a
    # receiver on a busy machine: a generous margin.
    my ($last) = sort { $b <=> $a } map { $_->{time} }
        grep { ($_->{headers}{'x-test-instance'} // '') eq 'A' }
        $A->received;
    note(sprintf 'kill A: the last request from A read %.2f s after the '
        . 'kill', $last - $dead) if $last;
    cmp_ok(($last // 0) - $dead, '<', 5 * $SLOW,
        'kill A: A made nothing after its death');
    ok($by->{B}, 'kill A: B made deliveries');

    # The killed workers had deliveries in hand: B made them again.
    note('kill A: ' . @$dup . ' deliveries made again after A died');
}

###############################################################################

is($A->pending(undef, $PREFIX), 0, 'XPENDING is 0 at the end');
is($A->queue_len($PREFIX), 0, 'the queue stream is empty at the end');

$A->stop;    # already dead
$B->stop;
my @bad = $A->error_log_problems;
is(scalar @bad, 0, 'A: no alerts before its death') or diag(join "\n", @bad);
$B->log_ok('B: no alerts or sanitizer reports');

done_testing;
