#!/usr/bin/perl

# Idempotent intake: an event posted again under the same Idempotency-Key
# (one after the other, from several connections at once, or after the
# worker that took the first was killed) is taken in once; receivers get
# one GUID once per hook.  The same key with another event is refused.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          2s;
    webhooks_delivery_claim_timeout 2s;
    webhooks_delivery_retention     1h;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
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

my @hooks = (
    hook('/repos/octo-org/idem', "$RCV/ok/a"),
    hook('/repos/octo-org/idem', "$RCV/ok/b"),
    hook('/orgs/octo-org', "$RCV/ok/o"),
);

sub payload {
    my ($n) = @_;
    return $J->encode({ n => $n, ref => 'refs/heads/main',
        repository => { id => 61, full_name => 'octo-org/idem' },
        organization => { id => 62, login => 'octo-org' } });
}

sub request {
    my ($key, $body, $event) = @_;
    my %h = ('X-GitHub-Event' => $event // 'push',
        'Content-Type' => 'application/json', Host => 'localhost',
        Connection => 'close', 'Content-Length' => length $body);
    $h{'Idempotency-Key'} = $key if defined $key;
    return "POST /_webhooks/events HTTP/1.1\r\n"
        . join('', map {"$_: $h{$_}\r\n"} sort keys %h) . "\r\n" . $body;
}

sub post {
    my ($key, $body, $event) = @_;
    my %h = ('X-GitHub-Event' => $event // 'push',
        'Content-Type' => 'application/json');
    $h{'Idempotency-Key'} = $key if defined $key;
    return $t->http(POST => '/_webhooks/events', body => $body,
        headers => \%h, timeout => 10);
}

sub entries { scalar $t->queue_len }

# Waits for every (guid, hook) pair, then for stragglers; returns the
# tally of the GUIDs the receivers got for the events of $n.
sub delivered_once {
    my ($tag, $guids, $least) = @_;
    ok($t->wait_for(sub { !$t->lost($guids, \@hooks, $t->tally($guids)) },
        20), "$tag: every hook got the event");
    ok($t->wait_for(sub { $t->pending() eq '0' }, 10),
        "$tag: nothing pending");
    sleep 0.5;
    my $n = $t->tally($guids);
    my @more = grep { $n->{$_} != 1 } sort keys %$n;
    # a delivery the killed worker was making is made again (at least
    # once, t/80): the same GUID, never another one
    return @more && note("$tag: made again after the kill: @more")
        if $least;
    is_deeply(\@more, [], "$tag: once per hook");
}

# the GUIDs the receivers got for the event $n
sub guids_of {
    my ($n) = @_;
    my %g;
    for ($t->received) {
        my $b = eval { $J->decode($_->{body}) } or next;
        $g{ $_->{headers}{'x-github-delivery'} } = 1
            if ref $b eq 'HASH' && ($b->{n} // '') eq $n;
    }
    return sort keys %g;
}

###############################################################################
# The same event twice, one after the other.

{
    my $body = payload(1);
    my $a = post('key-1', $body);
    is($a->{status}, 202, 'first post: 202') or diag($a->{raw});
    is($a->{json}{deliveries}, 3, 'first post: 3 deliveries');
    ok(!$a->{headers}{'idempotent-replayed'}, 'first post: not a replay');

    my $b = post('key-1', $body);
    is($b->{status}, 202, 'second post: 202') or diag($b->{raw});
    is_deeply($b->{json}, $a->{json}, 'second post: the same answer');
    is($b->{headers}{'idempotent-replayed'}, 'true',
        'second post: Idempotent-Replayed');

    my $ttl = $t->redis(TTL => 'webhooks:idempotency:key-1');
    ok($ttl > 3500 && $ttl <= 3600, "the key is kept for the retention ($ttl)");

    delivered_once('twice', [ $a->{json}{guid} ]);
    is_deeply([ guids_of(1) ], [ $a->{json}{guid} ],
        'twice: receivers saw one GUID');

    # the quoted form of the draft standard is the same key
    my $c = post('"key-1"', $body);
    is_deeply($c->{json}, $a->{json}, 'the quoted key is the same key');

    # without a key, each post is an event of its own, as before
    my $d = post(undef, $body);
    my $e = post(undef, $body);
    isnt($d->{json}{guid}, $e->{json}{guid}, 'no key: two events');
}

###############################################################################
# The same key with another event: 422, nothing queued.

{
    my $seq = $t->delivery_seq;
    my $r = post('key-1', payload(2));
    is($r->{status}, 422, 'another payload: 422') or diag($r->{raw});
    like($r->{json}{message}, qr/Idempotency-Key/, 'another payload: says why');
    is($r->{json}{errors}[0]{field}, 'Idempotency-Key',
        'another payload: the field');
    ok($r->{json}{documentation_url}, 'another payload: documentation_url');

    $r = post('key-1', payload(1), 'issues');
    is($r->{status}, 422, 'another event name: 422') or diag($r->{raw});

    is($t->delivery_seq, $seq,
        'another payload: no delivery made');
    is_deeply([ guids_of(2) ], [], 'another payload: nothing delivered');
}

###############################################################################
# Bounds of the key: 1 to 255 visible ASCII characters.

{
    my $seq = $t->delivery_seq;
    for my $bad ('', 'a b', 'x' x 256, "caf\xc3\xa9", '""', '"a"b"') {
        my $r = post($bad, payload(3));
        is($r->{status}, 422, 'bad key ' . length($bad) . ' bytes: 422')
            or diag($r->{raw});
        is($r->{json}{errors}[0]{field}, 'Idempotency-Key',
            'bad key: the field');
    }
    is($t->delivery_seq, $seq,
        'bad keys: nothing queued');

    my $long = 'k' x 255;
    my $r = post($long, payload(4));
    is($r->{status}, 202, 'a key of 255 characters: 202') or diag($r->{raw});
    is(post($long, payload(4))->{json}{guid}, $r->{json}{guid},
        'a key of 255 characters: replayed');
}

###############################################################################
# Concurrently: 8 connections post the same event under the same key at
# once; one takes it in, the others get its answer.

{
    my $req = request('key-c', payload(5));
    my @s = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $t->port(0), Timeout => 2) or die "connect: $!"
    } 1 .. 8;
    # all the headers first, the bodies' last byte together
    print {$_} substr($req, 0, -1) for @s;
    sleep 0.2;
    print {$_} substr($req, -1) for @s;

    my (%guid, $fresh, $ok);
    for my $s (@s) {
        my $raw = '';
        my $sel = IO::Select->new($s);
        while ($sel->can_read(10)) {
            last unless sysread($s, $raw, 65536, length $raw);
        }
        $ok++ if $raw =~ m{^HTTP/1\.1 202 };
        $fresh++ unless $raw =~ /^Idempotent-Replayed: true\r$/mi;
        $guid{$1}++ if $raw =~ /"guid":"([^"]+)"/;
    }
    is($ok, 8, 'concurrent: 8 answers 202');
    is(scalar keys %guid, 1, 'concurrent: one GUID in every answer');
    is($fresh, 1, 'concurrent: one took it in, the others replayed');
    delivered_once('concurrent', [ keys %guid ]);
    is_deeply([ guids_of(5) ], [ keys %guid ],
        'concurrent: receivers saw one GUID');
}

###############################################################################
# Cut short between the scopes: the repository's shard takes the event in,
# the organization's is full (webhooks_delivery_queue_max, 100000 by
# default).  503; posted again once there is room, the event is taken in
# under its first GUID, the repository's hooks not sent to twice.

{
    my $retry = $t->shard_of('o:octo-org') . 'retry';
    isnt($retry, $t->shard_of('r:octo-org/idem') . 'retry',
        'cut short: the repository and the org in two shards');
    for my $k (0 .. 9) {
        $t->redis(ZADD => $retry,
            map { (9e12, "d1:junk$_") } $k * 10000 + 1 .. $k * 10000 + 10000);
    }
    my $body = payload(30);
    my $a = post('key-s', $body);
    is($a->{status}, 503, 'cut short: the org\'s shard is full: 503')
        or diag($a->{raw});
    $t->redis(DEL => $retry);

    my $b = post('key-s', $body);
    is($b->{status}, 202, 'cut short, again: 202') or diag($b->{raw});
    is($b->{json}{deliveries}, 3, 'cut short, again: 3 deliveries');
    is($b->{headers}{'idempotent-replayed'}, 'true',
        'cut short, again: under the first GUID');
    delivered_once('cut short', [ $b->{json}{guid} ]);
    is_deeply([ guids_of(30) ], [ $b->{json}{guid} ],
        'cut short: receivers saw one GUID');
}

###############################################################################
# Across a worker kill: the workers are killed with the post in flight
# (its answer lost, whether or not the event was taken in); the producer
# posts again until it gets an answer.  Then after the answer: the new
# workers answer as the killed one did.

my @killed;
for my $i (1 .. 3) {
    my $n = 10 + $i;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port(0), Timeout => 2) or die "connect: $!";
    print $s request("key-k$i", payload($n));
    sleep 0.002 * $i;
    my @w = $t->worker_pids;
    kill 'KILL', @w;
    push @killed, @w;
    close $s;
    ok($t->wait_for(sub { my %k = map { $_ => 1 } @killed;
        my @n = $t->worker_pids; @n == 2 && !grep { $k{$_} } @n }, 10),
        "kill $i: new workers");

    my $r;
    for (1 .. 20) {
        $r = post("key-k$i", payload($n));
        last if ($r->{status} // 0) == 202;
        sleep 0.2;
    }
    is($r->{status}, 202, "kill $i: taken in") or diag($r->{raw});
    note("kill $i: " . ($r->{headers}{'idempotent-replayed'}
        ? 'the killed worker had taken it in' : 'taken in by the retry'));
    delivered_once("kill $i", [ $r->{json}{guid} ], 1);
    is_deeply([ guids_of($n) ], [ $r->{json}{guid} ],
        "kill $i: receivers saw one GUID");
}

{
    my $a = post('key-k9', payload(19));
    is($a->{status}, 202, 'kill after: taken in');
    ok($t->wait_for(sub { !$t->lost([ $a->{json}{guid} ], \@hooks,
        $t->tally([ $a->{json}{guid} ])) && $t->pending() eq '0' }, 20),
        'kill after: delivered before the kill');
    my @w = $t->worker_pids;
    kill 'KILL', @w;
    push @killed, @w;
    ok($t->wait_for(sub { my %k = map { $_ => 1 } @killed;
        my @n = $t->worker_pids; @n == 2 && !grep { $k{$_} } @n }, 10),
        'kill after: new workers');
    my $b = post('key-k9', payload(19));
    is_deeply($b->{json}, $a->{json}, 'kill after: the same answer');
    delivered_once('kill after', [ $a->{json}{guid} ]);
    is_deeply([ guids_of(19) ], [ $a->{json}{guid} ],
        'kill after: receivers saw one GUID');
}

###############################################################################
# conf/demo.conf's intake, as util/run renders it, honours the key too.

{
    my $d = Test::Webhooks->new;
    $d->start_redis;
    my $dir = $d->testdir;
    $d->write_file('secret.key', ('ab' x 32) . "\n");
    my $conf = $d->read_file(Test::Webhooks->repo_root . '/conf/demo.conf');
    $conf =~ s{%%VAR%%/nginx/}{$dir/}g;
    $conf =~ s{%%VAR%%}{$dir}g;
    $conf =~ s{%%RESOLVER%%}{127.0.0.1}g;
    $d->write_file_expand('nginx.conf', $conf);
    $d->run;

    my $h = $d->api(POST => '/repos/octocat/demo/hooks', $TOK,
        { config => { url => "$RCV/ok/demo", content_type => 'json' } });
    is($h->{status}, 201, 'demo: hook created') or diag($h->{raw});
    my $body = $J->encode({ n => 60,
        repository => { id => 60, full_name => 'octocat/demo' } });
    my @r = map { $d->http(POST => '/_webhooks/events', body => $body,
        headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json',
            'Idempotency-Key' => 'demo-1' }) } 1 .. 2;
    is($r[0]{status}, 202, 'demo: taken in') or diag($r[0]{raw});
    is($r[0]{json}{deliveries}, 1, 'demo: one delivery');
    is_deeply($r[1]{json}, $r[0]{json}, 'demo: the same answer again');
    is($r[1]{headers}{'idempotent-replayed'}, 'true', 'demo: replayed');
    ok($t->wait_received(1, '/ok/demo'), 'demo: delivered');
    sleep 0.5;
    is(scalar $t->received('/ok/demo'), 1, 'demo: delivered once');
    $d->stop;
}

###############################################################################

$t->stop;
my $k = join '|', @killed;
$t->log_ok(undef, allow => qr/process (?:$k) exited on signal 9/,
    killed => \@killed);

done_testing;
