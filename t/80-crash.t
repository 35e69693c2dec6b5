#!/usr/bin/perl

# Faults in nginx itself during a burst of events: a worker killed with
# SIGKILL, two reloads, a graceful stop and a new start.  Every event the
# intake answered 202 reaches every subscribed hook at least once, under
# its GUID; a reload makes no delivery twice.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;
my $VG = $ENV{WEBHOOKS_VALGRIND};
# Deadlines, longer under valgrind: they bound waits, never decide them.
my $SLOW = $VG ? 4 : 1;

$t->nginx_conf(<<'EOF');
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          2s;
    webhooks_delivery_claim_timeout 2s;
    webhooks_delivery_concurrency   16;

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

sub hook {
    my ($path, $url) = @_;
    my %body = (config => { url => $url, content_type => 'json' },
        events => ['push']);
    $body{name} = 'web' if $path =~ m{^/orgs/};
    my $r = $t->api(POST => "$path/hooks", $TOK, \%body);
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

# Posts $n push events one after the other; $at->{$i} runs before the
# i-th.  Returns the GUIDs answered 202 and a count by status.
sub burst {
    my ($tag, $n, %at) = @_;
    my (@guids, %status);
    for my $i (1 .. $n) {
        $at{$i}->() if $at{$i};
        my $body = $J->encode({ n => $i, tag => $tag,
            ref => 'refs/heads/main',
            repository => { id => 80, name => 'crash',
                full_name => 'octo-org/crash',
                owner => { login => 'octo-org' } },
            organization => { id => 81, login => 'octo-org' } });
        my $r = $t->http(POST => '/_webhooks/events', body => $body,
            timeout => 10, headers => { 'X-GitHub-Event' => 'push',
                'Content-Type' => 'application/json' });
        my $s = $r->{status} // 'none';
        $status{$s}++;
        push @guids, $r->{json}{guid} if $s eq '202' && $r->{json};
    }
    note("$tag: " . join ', ', map {"$_: $status{$_}"} sort keys %status);
    return (\@guids, \%status);
}

# Waits until each (GUID, hook) pair arrived or the deadline passed;
# returns the lost pairs and the ones sent more than once.
sub check {
    my ($tag, $guids, $hooks, $timeout) = @_;
    my $start = time;
    my $n;
    $t->wait_for(sub { $n = $t->tally($guids); !$t->lost($guids, $hooks, $n) },
        $timeout);
    my @lost = $t->lost($guids, $hooks, $n);
    note(sprintf "$tag: all there %.1f s after the burst", time - $start)
        unless @lost;
    ok($t->wait_for(sub { $t->pending() eq '0' }, 10),
        "$tag: nothing pending")
        or diag('pending: ' . $t->pending());
    # An attempt still on its way after its entry was done elsewhere.
    sleep 1;
    $n = $t->tally($guids);
    my @dup = grep { $n->{$_} > 1 } sort keys %$n;
    note("$tag: " . @dup . " pairs delivered more than once: "
        . join(', ', map {"$_ x$n->{$_}"} grep {defined} @dup[0 .. 9])
        . (@dup > 10 ? ', ...' : '')) if @dup;
    is(scalar @lost, 0, "$tag: no delivery lost ("
        . @$guids * @$hooks . ' expected)')
        or diag('lost: ' . join ', ', @lost[0 .. ($#lost > 19 ? 19 : $#lost)]);
    return (\@lost, \@dup, $n);
}

# Requests for a pair carry the same GUID and hook id: the duplicates of
# a pair are recognisable by X-GitHub-Delivery alone.
sub same_body {
    my ($tag, $dup) = @_;
    my %want = map { $_ => 1 } @$dup;
    my %body;
    for ($t->received) {
        my $k = ($_->{headers}{'x-github-delivery'} // '') . ' '
            . ($_->{headers}{'x-github-hook-id'} // '');
        next unless $want{$k};
        $body{$k}{ $_->{body} } = 1;
    }
    is(scalar(grep { keys %{ $body{$_} } != 1 } keys %body), 0,
        "$tag: a repeated delivery has the same body");
}

my $REPO = '/repos/octo-org/crash';
my @hooks = (
    hook($REPO, "$RCV/ok/a"),
    hook($REPO, "$RCV/slow/b?delay=0.1"),
    hook($REPO, "$RCV/slow/c?delay=0.4"),
    hook('/orgs/octo-org', "$RCV/slow/o?delay=0.2"),
);
is(scalar(grep { defined } @hooks), 4, '4 hooks');

my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers') or diag("@workers");

###############################################################################
# (a) A worker killed with SIGKILL in the middle of the burst: what it had
# taken is claimed by the others after the claim timeout.

my $killed = 0;
{
    my ($guids) = burst('kill', 150, 75 => sub {
        # one that is busy delivering, when there is one
        my %by;
        $by{ $_->{headers}{'x-test-worker'} // 0 }++ for $t->received;
        ($killed) = sort { ($by{$b} // 0) <=> ($by{$a} // 0) }
            $t->worker_pids;
        kill 'KILL', $killed;
    });
    ok($killed, "kill: worker $killed killed");
    cmp_ok(scalar @$guids, '>=', 100, 'kill: most events taken in');
    ok($t->wait_for(sub { my @w = $t->worker_pids;
        @w == 2 && !grep { $_ == $killed } @w }, 10),
        'kill: the master started a new worker');

    my ($lost, $dup, $n) = check('kill', $guids, \@hooks, 60);
    same_body('kill', $dup);

    my %by;
    my %want = map { $_ => 1 } @$guids;
    $by{ $_->{headers}{'x-test-worker'} // 'none' }++
        for grep { $want{ $_->{headers}{'x-github-delivery'} // '' } }
        $t->received;
    note('kill: by worker: ' . join ', ', map {"$_: $by{$_}"} sort keys %by);
}

###############################################################################
# (b) Two reloads during a burst: the old workers finish what they took,
# the new ones take the rest; nothing is lost and nothing sent twice.

{
    my ($guids) = burst('reload', 150,
        40 => sub { $t->reload }, 100 => sub { $t->reload });
    cmp_ok(scalar @$guids, '>=', 140, 'reload: events taken in');
    my ($lost, $dup) = check('reload', $guids, \@hooks, 60);
    is(scalar @$dup, 0, 'reload: no delivery made twice')
        or diag('twice: ' . join ', ', @$dup);
    my @w = $t->worker_pids;
    is(scalar @w, 2, 'reload: two workers') or diag("@w");
}

###############################################################################
# (b2) A reload while a delivery slower than the claim timeout is on its
# way: the old worker, shutting down gracefully, still makes it, and
# still holds it (as a live worker does, t/52): no one else sends it too.

{
    my $repo = '/repos/octo-org/crash-slow';
    my $sh = hook($repo, "$RCV/slow/reload?delay=5");
    my $r = $t->http(POST => '/_webhooks/events', headers => {
            'X-GitHub-Event' => 'push', 'Content-Type' => 'application/json' },
        body => '{"repository":{"id":82,"full_name":"octo-org/crash-slow"}}');
    is($r->{status}, 202, 'slow reload: event taken in');
    my ($first) = $t->wait_received(1, '/slow/reload', timeout => 10 * $SLOW);
    ok($first, 'slow reload: the attempt is on its way');

    my $at = time;
    $t->reload;
    ok($t->wait_for(sub { $t->pending() eq '0' }, 20),
        'slow reload: done')
        or diag('pending: ' . $t->pending());
    sleep 1;
    my @got = $t->received('/slow/reload');
    is(scalar @got, 1, 'slow reload: sent once, by the old worker')
        or diag(join "\n", map { sprintf '%.2f s after the reload by %s',
            $_->{time} - $at, $_->{headers}{'x-test-worker'} } @got);
    my $l = $t->api(GET => "$repo/hooks/$sh/deliveries", $TOK)->{json};
    is(scalar @{ $l || [] }, 1, 'slow reload: one entry in the log');
}

###############################################################################
# (c) A graceful stop during a burst, then a new start: what was taken in
# before the stop is delivered after the start; what the stopped workers
# had taken is claimed after the claim timeout.

{
    my ($took, $left);
    my ($guids) = burst('stop', 75, 60 => sub {
        my $at = time;
        $t->stop;
        $took = time - $at;
        $left = $t->pending();
    });
    note(sprintf 'stop: nginx stopped in %.1f s, leaving %s entries pending',
        $took, $left);
    cmp_ok(scalar @$guids, '>=', 50, 'stop: events taken in before');
    my $seen = scalar(keys %{ $t->tally($guids) });
    note("stop: $seen of " . @$guids * @hooks . ' delivered before the stop');

    $t->run;
    my ($more) = burst('stop, restarted', 25);
    is(scalar @$more, 25, 'stop: events taken in after the start');
    check('stop', [ @$guids, @$more ], \@hooks, 60);
}

###############################################################################

is($t->pending(), 0, 'XPENDING is 0 at the end');
is($t->queue_len, 0, 'the queue stream is empty at the end');

$t->stop;
$t->log_ok(undef, allow => qr/process \Q$killed\E exited on signal 9/,
    killed => [$killed]);
my @sig = grep { !/process \Q$killed\E exited on signal 9/ }
    $t->read_file('error.log') =~ /^.*exited on signal.*$/mg;
is(scalar @sig, 0, 'no other process died') or diag(join "\n", @sig);

done_testing;
