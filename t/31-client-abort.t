#!/usr/bin/perl

# Clients that hang up mid-request: half a body, or a request whose Redis
# command is still in flight (Redis paused).  None of it may crash the
# worker, leak connections or descriptors, or disturb later requests.
# Run it under WEBHOOKS_VALGRIND=1 and WEBHOOKS_SAN=1 too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(time sleep);

my $t = Test::Webhooks->new(workers => 1)->skip_unless_module;
$t->start_redis;

# Valgrind slows nginx down: longer pauses, and a command timeout that
# stays above them (but for the batch that is meant to time out).
my $SLOW = $ENV{WEBHOOKS_VALGRIND} ? 3 : 1;
my $PAUSE = 1000 * $SLOW;
my $TIMEOUT = 1500 * $SLOW;

(my $conf = <<'EOF') =~ s/%%TIMEOUT%%/${TIMEOUT}ms/;
    %%DEMO_MAPS%%

    webhooks_redis_pass    127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_redis_prefix  "webhooks:";
    webhooks_redis_timeout %%TIMEOUT%%;

    server {
        listen 127.0.0.1:%%PORT%%;

        client_max_body_size    1m;
        client_body_buffer_size 1m;

        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
            webhooks_max_hooks_per_event 1000;
        }

        location = /status {
            stub_status;
        }
    }
EOF
$t->nginx_conf($conf);
$t->run;

my $REPO = '/repos/octo-org/abort';
my $ORG = '/orgs/octo-org';

###############################################################################
# Helpers

sub master_pid { ($t->read_file('nginx.pid') =~ /(\d+)/)[0] }

sub worker_pids {
    my $master = master_pid() or return;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = $t->read_file($stat);
        my ($pid, $ppid) = $s =~ /^(\d+) \(.*\) \S+ (\d+)/s or next;
        push @pids, $pid if $ppid == $master;
    }
    return sort { $a <=> $b } @pids;
}

sub fd_count {
    my ($pid) = @_;
    opendir my $d, "/proc/$pid/fd" or return -1;
    return scalar grep { /^\d+$/ } readdir $d;
}

sub active_connections {
    my $r = $t->http(GET => '/status');
    return ($r->{body} // '') =~ /Active connections:\s*(\d+)/ ? $1 : -1;
}

# Until nginx holds no connection but the one asking.
sub wait_idle {
    my ($what) = @_;
    my $end = time + 10 * $SLOW;
    my $n;
    while (time < $end) {
        $n = active_connections();
        last if $n == 1;
        sleep 0.05;
    }
    is($n, 1, "$what: all connections closed");
}

# Connections to Redis but the harness's own and, on a cluster, the
# replicas' (CLIENT LIST of every master).
sub redis_clients {
    my $list = $t->redis(CLIENT => 'LIST');
    return scalar grep { !/ cmd=client/ && !/ flags=S / } split /\n/, $list;
}

# CLIENT PAUSE, on every master of a cluster.
sub pause_redis {
    my ($ms, $what) = @_;
    my @to = $t->cluster_mode ? $t->cluster_masters : ('redis');
    return $t->redis(CLIENT => 'PAUSE', $ms, $what // 'ALL') eq 'OK' x @to;
}

sub request {
    my ($method, $path, $body, %h) = @_;
    my %hdr = (Host => 'localhost', Authorization => 'token demo-owner');
    if (defined $body) {
        $hdr{'Content-Type'} = 'application/json';
        $hdr{'Content-Length'} = length $body;
    }
    # given headers win; undef ones are left out
    %hdr = (%hdr, %h);
    defined $hdr{$_} or delete $hdr{$_} for keys %hdr;
    return "$method $path HTTP/1.1\r\n"
        . join('', map {"$_: $hdr{$_}\r\n"} sort keys %hdr)
        . "\r\n" . ($body // '');
}

sub connect_nginx {
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->port(0), Timeout => 2);
}

# Hang up: a FIN, or a RST with linger 0.
sub hang_up {
    my ($s, $rst) = @_;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $rst;
    close $s;
}

# Sends each request on its own connection and hangs up: at once for the
# first third, after $delay s for the rest (FIN or RST alternately).
sub abort_batch {
    my ($delay, @reqs) = @_;
    my (@later, $sent);
    for my $i (0 .. $#reqs) {
        my $s = connect_nginx() or next;
        binmode $s;
        syswrite($s, $reqs[$i]) or next;
        $sent++;
        if ($i % 3 == 0) {
            hang_up($s, $i % 2);
        } else {
            push @later, [ $s, $i % 2 ];
        }
    }
    sleep $delay;
    hang_up(@$_) for @later;
    return $sent;
}

# Polls $code until it returns $want (a timed-out command drops the
# connection to Redis, which comes back after a backoff).
sub settles {
    my ($code, $want) = @_;
    my $end = time + 5 * $SLOW;
    my $got;
    while (1) {
        $got = $code->();
        last if $got == $want || time > $end;
        sleep 0.05;
    }
    return $got;
}

sub check_alive {
    my ($what, $pid, $fds) = @_;
    is_deeply([ worker_pids() ], [$pid], "$what: same worker");
    is(settles(sub { fd_count($pid) }, $fds), $fds,
        "$what: no descriptor leaked");
    is(settles(\&redis_clients, $::conns), $::conns,
        "$what: $::conns connection(s) to redis, as at rest");

    my $r = $t->api(GET => "$REPO/hooks/$::hook", 'demo-owner');
    is($r->{status}, 200, "$what: get works") or diag($r->{raw});
    $r = $t->api(GET => "$REPO/hooks?per_page=100", 'demo-owner');
    is($r->{status}, 200, "$what: list works");
    $t->schema_array_ok($r->{json}, 'hook', "$what: list is hooks");
    $r = $t->api(PATCH => "$REPO/hooks/$::hook/config", 'demo-owner',
        { content_type => 'json' });
    is($r->{status}, 200, "$what: update config works") or diag($r->{raw});
    unlike($t->read_file('error.log'), qr/exited on signal/,
        "$what: no crash");
}

###############################################################################
# A hook to work on, and the worker as it is at rest.

my $r = $t->api(POST => "$REPO/hooks", 'demo-owner',
    { config => { url => 'https://example.com/keep', secret => 'k' } });
is($r->{status}, 201, 'hook created') or diag($r->{raw});
our $hook = $r->{json}{id};

$r = $t->api(POST => "$ORG/hooks", 'demo-owner',
    { name => 'web', config => { url => 'https://example.com/org' } });
is($r->{status}, 201, 'org hook created') or diag($r->{raw});
my $ohook = $r->{json}{id};

wait_idle('at rest');
my @workers = worker_pids();
is(scalar @workers, 1, 'one worker');
my $worker = $workers[0];
my $fds = fd_count($worker);
ok($fds > 0, "worker $worker has $fds descriptors");
# One connection to a single Redis; on a cluster, one to each master at
# least (a handle connects to the masters it sends to).
our $conns = settles(\&redis_clients, 1);
if ($t->cluster_mode) {
    cmp_ok($conns, '>=', scalar(() = $t->cluster_masters),
        "the worker holds $conns connections to the cluster");
} else {
    is($conns, 1, 'the worker holds one connection to redis');
}

###############################################################################
# (a) Half a body, then gone: Content-Length 1000, 10 bytes sent.

my $half = '{"config":';
is(length $half, 10, 'ten bytes');

my @partial = (
    (request(POST => "$REPO/hooks", $half, 'Content-Length' => 1000)) x 20,
    (request(POST => "$ORG/hooks", $half, 'Content-Length' => 1000)) x 5,
    (request(PATCH => "$REPO/hooks/$hook", $half,
        'Content-Length' => 1000)) x 10,
    (request(PATCH => "$REPO/hooks/$hook/config", $half,
        'Content-Length' => 1000)) x 10,
    # Bodies that nginx discards: no identity, not an admin, bad media
    # type.  With "Connection: close": nginx 1.22 itself keeps a
    # keep-alive connection whose discarded body ended in a reset for
    # keepalive_timeout ("return 415;" does the same), which is not the
    # module's doing.
    (request(POST => "$REPO/hooks", $half, 'Content-Length' => 1000,
        Authorization => undef, Connection => 'close')) x 5,
    (request(PATCH => "$REPO/hooks/$hook", $half, 'Content-Length' => 1000,
        Authorization => 'token demo-member', Connection => 'close')) x 5,
    (request(POST => "$REPO/hooks", $half, 'Content-Length' => 1000,
        'Content-Type' => 'text/plain', Connection => 'close')) x 5,
    (request(PATCH => "$REPO/hooks/999999", $half,
        'Content-Length' => 1000)) x 5,
    # chunked, the last chunk never comes
    (request(POST => "$REPO/hooks", "a\r\n$half\r\n",
        'Transfer-Encoding' => 'chunked', 'Content-Length' => undef)) x 5,
);

is(abort_batch(0.3, @partial), scalar @partial,
    'partial bodies sent: ' . scalar @partial);
wait_idle('partial bodies');
check_alive('partial bodies', $worker, $fds);

# Nothing was created from half a body.
$r = $t->api(GET => "$REPO/hooks", 'demo-owner');
is_deeply([ map { $_->{id} } @{ $r->{json} || [] } ], [$hook],
    'partial bodies: no hook created');

###############################################################################
# (b) Gone while Redis still owes the reply: Redis paused, so every
# command is in flight when the client hangs up.

my %batch = (
    get => [ (request(GET => "$REPO/hooks/$hook")) x 25,
             (request(GET => "$ORG/hooks/$ohook/config")) x 25 ],
    list => [ (request(GET => "$REPO/hooks")) x 25,
              (request(GET => "$ORG/hooks?per_page=1&page=1")) x 25 ],
    patch => [
        (request(PATCH => "$REPO/hooks/$hook",
            '{"events":["push","fork"],"active":true}')) x 20,
        (request(PATCH => "$REPO/hooks/$hook/config",
            '{"content_type":"form"}')) x 20,
        (request(PATCH => "$ORG/hooks/$ohook",
            '{"events":["*"]}')) x 10 ],
    post => [ map {
        request(POST => "$REPO/hooks", sprintf(
            '{"config":{"url":"https://example.com/gone%d"},"events":["push"]}',
            $_)) } 1 .. 50 ],
    delete => [ (request(DELETE => "$REPO/hooks/999999")) x 20,
                (request(DELETE => "$ORG/hooks/999998")) x 20 ],
    apps => [ (request(GET => "$REPO/hooks/$hook",
                   undef, Authorization => 'token demo-app')) x 25,
              (request(GET => "$REPO/hooks",
                   undef, Authorization => 'token demo-app')) x 25 ],
);

for my $kind (qw(get list patch post delete apps)) {
    my $reqs = $batch{$kind};

    my $pause = $PAUSE;
    ok(pause_redis($pause), "$kind: redis paused");
    my $start = time;
    # Hang up well inside the pause: replies are still owed then.
    my $sent = abort_batch(0.2, @$reqs);
    is($sent, scalar @$reqs, "$kind: sent and hung up on $sent requests");
    ok(time - $start < $pause / 1000,
        "$kind: all hung up while redis was paused")
        or diag(sprintf '%.3f s', time - $start);

    # Requests keep coming while the aborted ones wait.
    sleep 0.05 while time - $start < $pause / 1000 + 0.1;
    wait_idle("$kind aborted");
    check_alive("$kind aborted", $worker, $fds);
}

# Everything at once, and a normal client among the aborted ones.
{
    my @all = map { @{ $batch{$_} }[0 .. 9] } sort keys %batch;
    my $pause = $PAUSE;
    pause_redis($pause);
    my $start = time;

    my $s = connect_nginx();
    binmode $s;
    syswrite($s, request(GET => "$REPO/hooks/$hook", undef,
        Connection => 'close'));

    abort_batch(0.1, @all);

    my $raw = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10 * $SLOW)) {
        sysread($s, $raw, 65536, length $raw) or last;
    }
    like($raw, qr{^HTTP/1\.1 200 }, 'mixed: the patient client gets 200');
    ok(time - $start >= $pause / 1000 - 0.05,
        'mixed: after the pause ended');
    close $s;

    wait_idle('mixed aborted');
    check_alive('mixed aborted', $worker, $fds);
}

# Gone, and then the command times out: Redis paused for longer than
# webhooks_redis_timeout, so the connection to Redis is dropped with the
# replies still owed to requests whose clients are gone.
{
    my @all = map { @{ $batch{$_} }[10 .. 19] } sort keys %batch;
    my $pause = $TIMEOUT + $PAUSE;
    pause_redis($pause);
    my $start = time;

    my $s = connect_nginx();
    binmode $s;
    syswrite($s, request(GET => "$REPO/hooks/$hook", undef,
        Connection => 'close'));

    abort_batch(0.1, @all);

    my $raw = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10 * $SLOW)) {
        sysread($s, $raw, 65536, length $raw) or last;
    }
    my $elapsed = time - $start;
    like($raw, qr{^HTTP/1\.1 503 }, 'timed out: the patient client gets 503');
    like($raw, qr{\r\nRetry-After: 1\r\n}i, 'timed out: Retry-After');
    ok($elapsed >= $TIMEOUT / 1000 - 0.1 && $elapsed < $pause / 1000,
        'timed out: after the command timeout, before the pause ended')
        or diag(sprintf '%.3f s', $elapsed);
    close $s;

    sleep 0.05 while time - $start < $pause / 1000 + 0.1;
    wait_idle('timed out aborted');
    check_alive('timed out aborted', $worker, $fds);
}

# Gone while the second command is in flight: with writes paused, the
# read of the hook passes and the script that writes it waits.
{
    $r = $t->api(GET => "$REPO/hooks?per_page=100", 'demo-owner');
    my @gone = grep { $_ != $hook } map { $_->{id} } @{ $r->{json} || [] };

    # A create whose client left while Redis was paused is dropped once
    # the module notices; one that got as far as its write lands whole.
    ok(@gone <= 50, 'hooks from the aborted posts: ' . scalar @gone);

    for my $i (scalar(@gone) + 1 .. 50) {
        my $c = $t->api(POST => "$REPO/hooks", 'demo-owner',
            { config => { url => "https://example.com/topup$i" } });
        push @gone, $c->{json}{id} if $c->{status} == 201;
    }
    is(scalar @gone, 50, 'hooks to abort writes on');
    my @del = @gone[0 .. 19];
    my @upd = @gone[20 .. $#gone];

    my @reqs = ((map { request(DELETE => "$REPO/hooks/$_") } @del),
        (map { request(PATCH => "$REPO/hooks/$_",
            '{"events":["release"],"active":false}') } @upd),
        (map { request(PATCH => "$REPO/hooks/$_/config",
            '{"insecure_ssl":"1"}') } @upd[0 .. 9]),
        (map { request(POST => "$REPO/hooks",
            qq({"config":{"url":"https://example.com/late$_"}})) } 1 .. 10));

    ok(pause_redis($PAUSE, 'WRITE'), 'redis writes paused');
    my $start = time;
    my $sent = abort_batch(0.3, @reqs);
    is($sent, scalar @reqs, "writes paused: hung up on $sent requests");

    # The module got as far as the write: its connection waits on one
    # (on a cluster, one of its connections).
    my @nginx = grep { !/ cmd=client/ && !/ flags=S / } split /\n/,
        $t->redis(CLIENT => 'LIST');
    my ($nginx) = (grep({ / flags=\w*b/ } @nginx), @nginx);
    like($nginx // '', qr/ flags=\w*b\w* .* cmd=(?:evalsha|eval|incr) /,
        'writes paused: the module waits on a write')
        or diag($nginx);

    sleep 0.05 while time - $start < $PAUSE / 1000 + 0.1;
    wait_idle('writes aborted');
    check_alive('writes aborted', $worker, $fds);

    # With writes paused, the first blocked write holds up the module's
    # pipelined connection, so which aborted requests got to write before
    # their client left is up to timing.  Each is all or nothing: a hook
    # is gone or intact, updated entirely or not at all.
    my %st = map { $_ => $t->api(GET => "$REPO/hooks/$_", 'demo-owner')
        ->{status} } @del;
    is(scalar(grep { $st{$_} == 404 || $st{$_} == 200 } @del), scalar @del,
        'writes paused: each deleted or intact');
    my $whole = 0;
    for my $id (@upd) {
        my $h = $t->api(GET => "$REPO/hooks/$id", 'demo-owner')->{json};
        my $updated = join(',', @{ $h->{events} }) eq 'release'
            && !$h->{active};
        my $intact = join(',', @{ $h->{events} }) eq 'push' && $h->{active};
        $whole++ if $updated || $intact;
    }
    is($whole, scalar @upd, 'writes paused: each updated entirely or not');
}

# What the aborted writes did is still consistent: every hook readable.
$r = $t->api(GET => "$REPO/hooks?per_page=100", 'demo-owner');
is($r->{status}, 200, 'list after aborts');
$t->schema_array_ok($r->{json}, 'hook', 'list after aborts: hooks');
for my $h (@{ $r->{json} || [] }) {
    my $g = $t->api(GET => "$REPO/hooks/$h->{id}", 'demo-owner');
    is($g->{status}, 200, "hook $h->{id} readable");
    is_deeply($g->{json}, $h, "hook $h->{id} as listed") or last;
}
my %urls;
$urls{ $_->{config}{url} }++ for @{ $r->{json} || [] };
ok(!grep({ $_ > 1 } values %urls), 'no duplicate urls from the aborted posts');

###############################################################################
# nginx stopping while commands are in flight.

{
    pause_redis(2000 * $SLOW);
    my @held;
    for (1 .. 10) {
        my $s = connect_nginx() or next;
        syswrite($s, request(GET => "$REPO/hooks/$hook"));
        push @held, $s;
    }
    sleep 0.2;
    my $start = time;
    $t->stop;
    ok(!kill(0, $worker), 'stopped with commands in flight');
    ok(time - $start < 5 * $SLOW, 'stopped promptly')
        or diag(sprintf '%.3f s', time - $start);
    close $_ for @held;
}

my $log = $t->read_file('error.log');
unlike($log, qr/exited on signal/, 'no worker crashed');
unlike($log, qr/open socket #\d+ left/, 'no socket left at exit');
$t->log_ok;

done_testing;
