#!/usr/bin/perl

# Redis Cluster faults under a paced stream of events, with
# webhooks_redis_wait_replicas on: a slot moved (redis-cli --cluster
# reshard), a master failed over while alive (CLUSTER FAILOVER on its
# replica) and a master killed (SIGKILL; its replica takes over, the old
# master comes back as a replica).  The intake answers 202 or 503, takes
# events in again without a reload, every event answered 202 is
# delivered to every hook, and a delivery made twice keeps its GUID.
# Runs under make test REDIS=cluster only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
plan(skip_all => 'needs a Redis Cluster: make test REDIS=cluster')
    unless $t->cluster_mode;
my $SLOW = $ENV{WEBHOOKS_VALGRIND} ? 4 : 1;

$t->start_redis('--appendfsync', 'everysec');

# A repository whose slot is among the first ones of its master, so that
# the reshard below (it takes the lowest slots first) moves it.
my $first = $t->cluster_map->{0};
my ($NAME) = grep {
    my $s = $t->key_slot("webhooks:{r:octo-org/$_}:hooks");
    $s < 200 && $t->cluster_map->{$s} == $first
} map {"fault$_"} 1 .. 100000;
my $REPO = "/repos/octo-org/$NAME";

my $RCV = $t->start_receiver;

$t->nginx_conf(<<"EOF");
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
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

sub node_id { scalar $t->redis_node($_[0], CLUSTER => 'MYID') }

sub master_of_repo {
    return $t->cluster_map->{
        $t->key_slot("webhooks:{r:octo-org/$NAME}:hooks") };
}

# A master's replica, as the master sees it: just after a failover the
# old master takes a moment to show up as the new one's replica.
sub replica_of {
    my ($port) = @_;
    my $id = node_id($port);
    my $end = time + 15 * $SLOW;
    while (1) {
        for (split /\n/, scalar $t->redis_node($port, CLUSTER => 'NODES')) {
            my @f = split / /;
            return $1 if $f[3] eq $id && $f[1] =~ /:(\d+)\@/
                && $f[2] !~ /fail/;
        }
        return if time > $end;
        sleep 0.1;
    }
}

sub cluster_ok {
    my ($port) = @_;
    my $i = eval { $t->redis_node($port, CLUSTER => 'INFO') } // '';
    return $i =~ /cluster_state:ok/;
}

###############################################################################
# Events every 20 ms; the fault 1 s in; then more, until the fault is over
# and the intake has taken 20 in again.

my $GAP = 0.02;
my (@ev, $n);

sub post {
    my ($phase) = @_;
    my $i = ++$n;
    my $body = $J->encode({ n => $i, ref => 'refs/heads/main',
        repository => { id => 860, name => $NAME,
            full_name => "octo-org/$NAME",
            owner => { login => 'octo-org' } } });
    my $sent = time;
    my $r = $t->http(POST => '/_webhooks/events', body => $body,
        timeout => 10, headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' });
    push @ev, { n => $i, phase => $phase, sent => $sent, done => time,
        status => $r->{status} // 'none', guid => $r->{json}{guid},
        raw => $r->{raw} // $r->{error} };
}

# $fault->() at 1 s returns a sub that says when the fault is over.
sub phase {
    my ($name, $fault) = @_;
    my ($at, $over);
    my $t0 = time;
    my $i = 0;
    while (time - $t0 < 60 * $SLOW) {
        my $due = $t0 + ++$i * $GAP;
        sleep($due - time) if $due > time;
        if (!$at && time - $t0 >= 1) {
            $over = $fault->();
            $at = time;
        }
        post($name);
        next unless $at && $over && $over->();
        $over = sub { 1 };
        last if grep({ $_->{phase} eq $name && $_->{sent} > $at
            && $_->{status} eq '202' } @ev) >= 20;
    }

    my @mine = grep { $_->{phase} eq $name } @ev;
    my %status;
    $status{ $_->{status} }++ for @mine;
    note("$name: " . join ', ', map {"$_: $status{$_}"} sort keys %status);
    cmp_ok(scalar(grep { $_->{status} eq '202' && $_->{done} < $at } @mine),
        '>=', 30, "$name: events taken in before");
    cmp_ok(scalar(grep { $_->{status} eq '202' && $_->{sent} > $at } @mine),
        '>=', 20, "$name: events taken in after, without a reload");
    is(scalar(grep { $_->{status} !~ /^(?:202|503)$/ } @mine), 0,
        "$name: every answer was 202 or 503")
        or diag(join "\n", map {"event $_->{n}: $_->{raw}"}
            grep { $_->{status} !~ /^(?:202|503)$/ } @mine);
}

# A slot moved: redis-cli --cluster reshard takes the first master's
# lowest slots, the repository's among them.
my $to = (grep { $_ != $first } $t->cluster_masters)[0];
phase(reshard => sub {
    my $pid = $t->_spawn('reshard.out', {}, 'redis-cli', '--cluster',
        'reshard', "127.0.0.1:$first", '--cluster-from', node_id($first),
        '--cluster-to', node_id($to), '--cluster-slots', 200,
        '--cluster-yes');
    return sub { waitpid($pid, WNOHANG) > 0 };
});
$t->wait_cluster;
is(master_of_repo(), $to, 'reshard: the repository moved')
    or diag($t->read_file('reshard.out'));

# A master failed over while alive
my $old = master_of_repo();
my $new = replica_of($old);
phase(failover => sub {
    $t->redis_node($new, CLUSTER => 'FAILOVER');
    return sub { master_of_repo() == $new };
});
is(master_of_repo(), $new, 'failover: its replica is the master');

# A master killed: its replica takes over after cluster-node-timeout;
# the old one comes back as a replica, so that WAIT 1 is answered again.
$old = master_of_repo();
$new = replica_of($old);
phase(kill => sub {
    $t->kill_node($old);
    my $back;
    return sub {
        return 0 unless cluster_ok($new) && master_of_repo() == $new;
        $t->start_cluster, $back = 1 unless $back;
        return 1;
    };
});
is(master_of_repo(), $new, 'kill: the replica is the master');
$t->wait_cluster;

###############################################################################
# Every (GUID, hook) of an event answered 202 arrives at least once; an
# event delivered twice to a hook is delivered with the same GUID.

my @guids = map { $_->{guid} } grep { $_->{status} eq '202' } @ev;
is(scalar(grep { !defined } @guids), 0, 'every 202 names a GUID');

my $tally;
$t->wait_for(sub { $tally = $t->tally(\@guids);
    !$t->lost(\@guids, \@hooks, $tally) }, 60);
my @lost = $t->lost(\@guids, \@hooks, $tally);
is(scalar @lost, 0, 'no delivery lost (' . @guids * @hooks . ' expected)')
    or diag(scalar(@lost) . ' lost: '
        . join ', ', grep {defined} @lost[0 .. 19]);

my (%guid_of, $twice);
for my $rec ($t->received) {
    my $body = eval { $J->decode($rec->{body}) } or next;
    my $key = ($body->{n} // next) . ' '
        . ($rec->{headers}{'x-github-hook-id'} // '?');
    $guid_of{$key}{ $rec->{headers}{'x-github-delivery'} // '' }++;
}
my @changed = grep { keys %{ $guid_of{$_} } > 1 } sort keys %guid_of;
$twice = grep { my $g = $guid_of{$_}; grep { $_ > 1 } values %$g }
    keys %guid_of;
note("events delivered more than once to a hook: $twice");
is(scalar @changed, 0, 'a delivery made again keeps its GUID')
    or diag("@changed[0 .. 9]");

$t->log_ok;

done_testing;
