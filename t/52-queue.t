#!/usr/bin/perl

# The queue: deliveries survive a Redis restart, Redis down at intake
# queues nothing, two workers share a burst with every delivery made
# once, and a worker killed mid-delivery has its delivery taken over.

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

# Without delivery locations the workers take events in but send nothing;
# with them, the worker's pid goes along in a header of the test's own.
sub conf {
    my ($deliver) = @_;
    my $srv = $deliver ? <<'EOF' : '';
        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_set_header      X-Test-Worker $pid;
            proxy_connect_timeout 2s;
            proxy_read_timeout    30s;
        }
EOF
    $t->nginx_conf(<<"EOF");
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          1s;
    webhooks_delivery_claim_timeout 2s;

    server {
        listen 127.0.0.1:%%PORT%%;

$srv
        %%EVENTS_LOCATION%%

        %%OWNER_API_LOCATION%%
    }
EOF
}

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($path, $url, %o) = @_;
    my %body = (config => { url => $url, content_type => 'json' },
        events => $o{events} // ['push']);
    $body{name} = 'web' if $path =~ m{^/orgs/};
    my $r = api(POST => "$path/hooks", \%body);
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($name, $body) = @_;
    $body = $J->encode($body) if ref $body;
    return $t->http(POST => '/_webhooks/events', body => $body,
        headers => { 'X-GitHub-Event' => $name,
            'Content-Type' => 'application/json' });
}

sub guid_of {
    my ($g) = @_;
    return sub { ($_[0]{headers}{'x-github-delivery'} // '') eq $g };
}

# Connections blocked in XREADGROUP: workers waiting for the queue.
sub readers {
    my $list = $t->redis(CLIENT => 'LIST');
    return scalar grep { /\bcmd=xreadgroup\b/ && /\bflags=\S*b/ }
        split /\n/, $list;
}


###############################################################################
# Queued, then Redis goes away: the intake says 503 and keeps nothing; what
# was queued before is delivered once Redis is back.

conf(0);
$t->run;

my $RREPO = '/repos/octo-org/queue';
my $rh = hook($RREPO, "$RCV/ok/q");
my $oh = hook('/orgs/octo-org', "$RCV/ok/o");
my $gone = hook($RREPO, "$RCV/ok/gone");

my @before;
for my $n (1 .. 3) {
    my $r = event(push => { n => $n, repository => { id => 11,
        full_name => 'octo-org/queue' }, organization => { id => 12,
        login => 'octo-org' } });
    is($r->{status}, 202, "queued $n: 202") or diag($r->{raw});
    is($r->{json}{deliveries}, 3, "queued $n: 3 deliveries");
    push @before, $r->{json}{guid};
}
sleep 1;
is(scalar $t->received, 0, 'no delivery location: nothing sent');
is($t->queue_len, 9, '9 entries in the stream');

# A hook deleted while its deliveries wait: they are dropped, and their
# entries do not stay in the queue.
is(api(DELETE => "$RREPO/hooks/$gone")->{status}, 204,
    'hook with queued deliveries deleted');
my $seq = $t->delivery_seq;
# a payload is kept once per event in each queue shard it has deliveries in
sub events {
    my %g = map { /:event:(.*)$/ ? ($1 => 1) : () }
        @{ scalar $t->redis(KEYS => 'webhooks:{q*}:event:*') };
    return scalar keys %g;
}
my $events = events();
is($events, 3, '3 payloads stored');

$t->stop_redis;

# Both workers, on the connection that saw Redis go and on a new one.
for my $n (1 .. 4) {
    my $start = time;
    my $r = event(push => { repository => { id => 11,
        full_name => 'octo-org/queue' } });
    is($r->{status}, 503, "redis down, intake $n: 503") or diag($r->{raw});
    is($r->{json} && $r->{json}{message}, 'Service Unavailable',
        "redis down, intake $n: message");
    is($r->{headers}{'retry-after'}, '1', "redis down, intake $n: Retry-After");
    ok(time - $start < 1.5, "redis down, intake $n: answered at once");
}

# The workers that send start while Redis is down.
conf(1);
$t->reload;
sleep 0.5;
is(scalar $t->received, 0, 'redis down: nothing sent');

my $back = time;
$t->start_redis;
is($t->delivery_seq, $seq,
    'redis down: no delivery was numbered');
is(events(), $events,
    'redis down: no payload was stored');

{
    my @got = $t->wait_received(6, undef, timeout => $VG ? 30 : 15);
    is(scalar @got, 6, 'after redis is back: the 6 queued deliveries made');
    note(sprintf 'within %.1f s of redis starting', time - $back);
    my %n;
    $n{ $_->{headers}{'x-github-delivery'} . ' ' . $_->{path} }++ for @got;
    is_deeply(\%n, { map { ("$_ /ok/q" => 1, "$_ /ok/o" => 1) } @before },
        'after redis is back: each once, to both hooks');
    ok($t->wait_for(sub { $t->pending eq '0'
        && $t->queue_len == 0 }, 5),
        'after redis is back: stream and pending list empty')
        or diag('pending ' . $t->pending . ', length '
            . $t->queue_len);
    is(scalar($t->received('/ok/gone')), 0,
        'the deleted hook got nothing');
}

###############################################################################
# A burst over two workers: each delivery made exactly once.

$t->clear_received;
my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers') or diag("@workers");
# A worker that met Redis down retries on its own time: wait until both
# are waiting on the queue.
# on a cluster each worker reads each queue shard on a connection of its own
my $per = $t->cluster_mode ? scalar($t->shards('queue')) : 1;
ok($t->wait_for(sub { readers() == 2 * $per }, 10),
    'both workers wait on the queue')
    or diag($t->redis(CLIENT => 'LIST'));

my $N = 50;
my @guids;
for my $n (1 .. $N) {
    my $r = event(push => { n => $n, repository => { id => 11,
        full_name => 'octo-org/queue' }, organization => { id => 12,
        login => 'octo-org' } });
    is($r->{status}, 202, "burst $n: 202") if $r->{status} != 202;
    push @guids, $r->{json}{guid};
}
is(scalar(grep { defined } @guids), $N, "burst: $N events taken in");

{
    my @got = $t->wait_received(2 * $N, undef, timeout => $VG ? 60 : 20);
    sleep 1;
    @got = $t->received;
    is(scalar @got, 2 * $N, 'burst: ' . 2 * $N . ' requests, no more');

    my %n;
    $n{ $_->{headers}{'x-github-delivery'} . ' ' . $_->{path} }++ for @got;
    my @dup = grep { $n{$_} > 1 } sort keys %n;
    my @lost = grep { !$n{"$_ /ok/q"} || !$n{"$_ /ok/o"} } @guids;
    is(scalar @dup, 0, 'burst: no delivery made twice') or diag("@dup");
    is(scalar @lost, 0, 'burst: no delivery lost') or diag("@lost");

    my %by;
    $by{ $_->{headers}{'x-test-worker'} // 'none' }++ for @got;
    note('by worker: ' . join ', ', map {"$_: $by{$_}"} sort keys %by);
    is_deeply([ sort { $a <=> $b } keys %by ], \@workers,
        'burst: both workers sent some, nobody else');

    ok($t->wait_for(sub { $t->pending eq '0' }, 5), 'burst: nothing pending');
    is($t->queue_len, 0, 'burst: stream empty');

    my $r = api(GET => "$RREPO/hooks/$rh/deliveries?per_page=100");
    my @l = grep { my $g = $_->{guid}; grep { $_ eq $g } @guids }
        @{ $r->{json} || [] };
    is(scalar @l, $N, "burst: $N entries in the repo hook's log");
    is(scalar(grep { $_->{status} ne 'OK' } @l), 0, 'burst: all OK');
}

###############################################################################
# A worker killed in the middle of a delivery: another one takes the
# delivery over after the claim timeout, under the same GUID.

$t->clear_received;
my $kh = hook('/repos/octo-org/kill', "$RCV/hang-once/k");
my $killed = 0;
{
    my $payload = '{"repository":{"id":13,"full_name":"octo-org/kill"},'
        . ' "x": "\u00e9"}';
    my $r = event(push => $payload);
    is($r->{status}, 202, 'kill: event taken in');
    my $guid = $r->{json}{guid} // '';

    my ($first) = $t->wait_received(1, '/hang-once/k');
    ok($first, 'kill: the first attempt reached the receiver');
    $killed = $first->{headers}{'x-test-worker'};
    ok($killed && grep({ $_ == $killed } $t->worker_pids),
        "kill: sent by worker $killed");
    is($t->pending, 1, 'kill: the entry is pending');

    my $at = time;
    kill 'KILL', $killed;

    ok($t->wait_for(sub { my @w = $t->worker_pids;
        @w == 2 && !grep { $_ == $killed } @w }, 10),
        'kill: the master started a new worker');

    my @got = $t->wait_received(2, '/hang-once/k',
        timeout => $VG ? 30 : 10);
    is(scalar @got, 2, 'kill: the delivery was made again');
    my $second = $got[1] // {};
    note(sprintf 'again after %.1f s', ($second->{time} // time) - $at);
    ok(($second->{time} // 1e10) - $at < ($VG ? 30 : 10),
        'kill: within 10 s');
    isnt($second->{headers}{'x-test-worker'}, $killed,
        'kill: by another worker');
    is($second->{headers}{'x-github-delivery'}, $guid, 'kill: same GUID');
    is($second->{body}, $payload, 'kill: same body');
    is($second->{body}, $first->{body}, 'kill: body as the first attempt');

    ok($t->wait_for(sub { $t->pending eq '0' }, 5),
        'kill: pending list empty');
    is($t->queue_len, 0, 'kill: stream empty');

    my $l = api(GET => "/repos/octo-org/kill/hooks/$kh/deliveries")->{json};
    is(scalar @$l, 1, 'kill: one entry in the log');
    is($l->[0]{status}, 'OK', 'kill: logged OK');
    is($l->[0]{guid}, $guid, 'kill: logged with the GUID');

    sleep 3;
    is(scalar($t->received('/hang-once/k')), 2, 'kill: not sent a third time');
}

###############################################################################
# A delivery slower than the claim timeout, by a worker that is alive.

{
    my $sh = hook('/repos/octo-org/slow', "$RCV/slow/live?delay=4");
    my $r = event(push => { repository => { id => 14,
        full_name => 'octo-org/slow' } });
    is($r->{status}, 202, 'slow: event taken in');
    my @got = $t->wait_received(1, '/slow/live');
    ok($t->wait_for(sub { $t->pending eq '0' }, 12), 'slow: done');
    sleep 1;
    @got = $t->received('/slow/live');
    is(scalar @got, 1,
        'slow: a live worker\'s delivery is not taken over (sent once)')
        or diag(join "\n", map { sprintf '%.2f by %s',
            $_->{time}, $_->{headers}{'x-test-worker'} } @got);
}

###############################################################################
# An entry that does not say what its request is made of (no "x" field):
# no release wrote one, so it is dropped with an error, never sent.

{
    my $before = scalar $t->received;
    my $shard = $t->shard_of('r:octo-org/old');
    my ($n) = $shard =~ /\{q(\d+)\}/;
    my $key = $shard . 'delivery:'
        . (99999 * $Test::Webhooks::Redis::SHARDS + $n);
    $t->redis(SET => $key, '["g-old","push","1"]');
    my $id = $t->redis(XADD => $shard . 'queue', '*', k => $key);
    ok($t->wait_for(sub { $t->read_file('error.log')
        =~ /queue entry "\Q$id\E" of delivery "\Q$key\E" is malformed, dropped/
        }, 5), 'an entry without "x": dropped, with an error');
    ok($t->wait_for(sub { $t->pending eq '0' }, 5),
        'an entry without "x": acknowledged');
    sleep 0.5;
    is(scalar $t->received, $before, 'an entry without "x": nothing sent');
}

###############################################################################

$t->stop;
$t->log_ok(undef, allow => qr/worker process \Q$killed\E exited on signal 9/,
    killed => [$killed]);
my @sig = grep { !/process \Q$killed\E exited on signal 9/ }
    $t->read_file('error.log') =~ /^.*exited on signal.*$/mg;
is(scalar @sig, 0, 'no other process died') or diag(join "\n", @sig);

done_testing;
