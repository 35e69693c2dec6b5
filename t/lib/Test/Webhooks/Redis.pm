package Test::Webhooks::Redis;

# A private redis-server per test and a small RESP client to it.

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use Test::Webhooks::Process qw(_stop_pid);

# make test REDIS=cluster: every test's redis is a Redis Cluster of three
# masters and three replicas (see cluster_mode below).
sub cluster_mode { ($ENV{WEBHOOKS_REDIS} // '') eq 'cluster' }

sub skip_in_cluster {
    my ($self, $why) = @_;
    Test::More::plan(skip_all => "single Redis only: $why")
        if cluster_mode();
    return $self;
}

sub start_redis {
    my ($self, @extra) = @_;
    die "start_redis: this object uses the redis on port $self->{redis_port}"
        . " (new(redis_port => ...)); start it from its owner\n"
        if $self->{redis_port};
    $self->{_redis_args} = \@extra if @_ > 1 || !$self->{_redis_args};
    return $self->start_cluster if cluster_mode();
    my $dir = "$self->{_dir}/redis";
    make_path($dir);

    $self->{_redis_pid} = $self->_spawn('redis.out', {}, 'redis-server',
        '--port', $self->redis_port, '--bind', '127.0.0.1',
        '--dir', $dir, '--logfile', "$dir/redis.log",
        '--daemonize', 'no', '--save', '', '--appendonly', 'yes',
        '--enable-debug-command', 'local', @{$self->{_redis_args}});

    my $end = time + 10;
    while (time < $end) {
        if (waitpid($self->{_redis_pid}, WNOHANG) > 0) {
            delete $self->{_redis_pid};
            die "redis-server exited:\n" . $self->read_file('redis.out')
                . $self->read_file("$dir/redis.log");
        }
        delete $self->{_redis_sock};
        my ($res) = eval { $self->redis('PING') };
        return $self if defined $res && $res eq 'PONG';
        sleep 0.05;
    }
    die "redis-server did not answer PING";
}

sub stop_redis {
    my ($self) = @_;
    return $self->stop_cluster if $self->{_cluster};
    my $pid = delete $self->{_redis_pid} or return;
    delete $self->{_redis_sock};
    if (my $s = $self->_redis_connect) {
        print $s "*2\r\n\$8\r\nSHUTDOWN\r\n\$6\r\nNOSAVE\r\n";
        _stop_pid(0, $pid, 10);
    } else {
        _stop_pid('TERM', $pid, 10);
    }
    return $self;
}

sub restart_redis {
    my ($self) = @_;
    $self->stop_redis;
    return $self->start_redis;
}

sub redis_pid {
    my ($self) = @_;
    return $self->{_cluster} ? $self->{_cluster}{pid}{ $self->redis_port }
        : $self->{_redis_pid};
}

# With redis_auth => [user, password] set, every connection the harness
# opens authenticates first (a Redis whose default user is off).
sub _redis_connect {
    my ($self, $port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port // $self->redis_port, Timeout => 2) or return;
    if (my $auth = $self->{redis_auth}) {
        my $req = '*' . (@$auth + 1) . "\r\n\$4\r\nAUTH\r\n";
        $req .= '$' . length($_) . "\r\n$_\r\n" for @$auth;
        print $s $req;
        my (undef, $err) = _resp_read($s);
        die "redis AUTH: $err\n" if defined $err;
    }
    return $s;
}

sub redis {
    my ($self, @cmd) = @_;
    return $self->_cluster_redis(@cmd) if $self->{_cluster};
    return $self->_redis_on(undef, @cmd);
}

# One command on the node at $port, not routed (redirects are answers).
sub redis_node { my $self = shift; return $self->_redis_on(@_) }

# One command on the redis at $port (the test's redis if undef).
sub _redis_on {
    my ($self, $port, @cmd) = @_;

    my $slot = defined $port ? "_redis_sock_$port" : '_redis_sock';
    my $s = $self->{$slot};
    # Readable while idle means the server closed it (restart).
    if (!$s || IO::Select->new($s)->can_read(0)) {
        $s = $self->{$slot} = $self->_redis_connect($port)
            or die "cannot connect to redis: $!";
    }

    my $req = '*' . @cmd . "\r\n";
    for my $a (@cmd) {
        my $b = $a;
        utf8::encode($b) if utf8::is_utf8($b);
        $req .= '$' . length($b) . "\r\n$b\r\n";
    }

    my ($res, $err);
    eval {
        local $SIG{ALRM} = sub { die "redis timeout\n" };
        alarm 10;
        print $s $req or die "redis write: $!\n";
        ($res, $err) = _resp_read($s);
        alarm 0;
        1;
    } or do {
        alarm 0;
        delete $self->{$slot};
        die $@;
    };

    return ($res, $err) if wantarray;
    die "redis @cmd: $err\n" if defined $err;
    return $res;
}

# Returns (value, error); nested error replies become { error => msg }.
sub _resp_read {
    my ($s) = @_;
    local $/ = "\r\n";
    my $line = <$s>;
    die "redis connection closed\n" unless defined $line;
    chomp $line;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return ($rest, undef) if $type eq '+';
    return (0 + $rest, undef) if $type eq ':';
    return (undef, $rest) if $type eq '-';
    if ($type eq '$') {
        return (undef, undef) if $rest < 0;
        my $buf = '';
        while (length $buf < $rest + 2) {
            read($s, $buf, $rest + 2 - length $buf, length $buf)
                or die "redis connection closed\n";
        }
        return (substr($buf, 0, $rest), undef);
    }
    if ($type eq '*') {
        return (undef, undef) if $rest < 0;
        my @a;
        for (1 .. $rest) {
            my ($v, $e) = _resp_read($s);
            push @a, defined $e ? { error => $e } : $v;
        }
        return (\@a, undef);
    }
    die "bad redis reply: $line\n";
}

# Entries of the queue's consumer group not acknowledged yet, or the error:
# of one stream, or of all the queue shards'.
sub pending {
    my ($self, $queue, $prefix) = @_;
    my $n = 0;
    for my $q (defined $queue ? ($queue) : $self->shards('queue', $prefix)) {
        my ($r, $err) = eval { $self->redis(XPENDING => $q, 'senders') };
        next if defined $err && $err =~ /^NOGROUP/ && !defined $queue;
        return defined $err ? "error: $err" : ref $r ? $r->[0] : "error: $@"
            if defined $err || !ref $r;
        $n += $r->[0];
    }
    return $n;
}

# the queue shards, as NGX_HTTP_WEBHOOKS_SHARDS in the module
our $SHARDS = 8;

sub shards {
    my ($self, $what, $prefix) = @_;
    $prefix //= 'webhooks:';
    return map { "$prefix\{q$_}:$what" } 0 .. $SHARDS - 1;
}

sub shard_of {
    my ($self, $tag) = @_;
    require Compress::Zlib;
    return 'webhooks:{q' . (Compress::Zlib::crc32($tag) % $SHARDS) . '}:';
}

sub _sum {
    my ($self, $cmd, $what, $prefix) = @_;
    my $n = 0;
    $n += scalar($self->redis($cmd => $_)) // 0
        for $self->shards($what, $prefix);
    return $n;
}

sub queue_len { $_[0]->_sum(XLEN => 'queue', $_[1]) }
sub retry_len { $_[0]->_sum(ZCARD => 'retry', $_[1]) }
sub delivery_seq { $_[0]->_sum(GET => 'seq', $_[1]) }


###############################################################################
# Redis Cluster: 3 masters and 3 replicas on free ports, the first master on
# redis_port; redis(...) routes by key and follows MOVED and ASK as
# redis-cli -c does, and sends what spans the keyspace to every master.

sub cluster_ports {
    my ($self) = @_;
    return ($self->redis_port, map { $self->port(200 + $_) } 1 .. 5);
}

sub start_cluster {
    my ($self) = @_;
    my @ports = $self->cluster_ports;
    my $fresh = !$self->{_cluster};
    my $c = $self->{_cluster} //= { pid => {}, map => {} };

    my @started;
    for my $i (0 .. $#ports) {
        my $p = $ports[$i];
        next if $c->{pid}{$p};    # only what was stopped or killed
        push @started, $p;
        my $dir = "$self->{_dir}/redis-$p";
        make_path($dir);
        $c->{pid}{$p} = $self->_spawn("redis-$p.out", {}, 'redis-server',
            '--port', $p, '--bind', '127.0.0.1',
            '--cluster-enabled', 'yes', '--cluster-port',
            $self->port(210 + $i), '--cluster-config-file', "$dir/nodes.conf",
            '--cluster-node-timeout', 2000, '--dir', $dir,
            '--logfile', "$dir/redis.log", '--daemonize', 'no',
            '--save', '', '--appendonly', 'yes',
            '--enable-debug-command', 'local',
            @{$self->{_redis_args} // []});
    }
    for my $p (@started) {
        $self->wait_redis($p);
    }

    if ($fresh) {
        my $out = `redis-cli --cluster create @{[ map { "127.0.0.1:$_" }
            @ports ]} --cluster-replicas 1 --cluster-yes 2>&1`;
        die "redis-cli --cluster create failed:\n$out" if $?;
    }
    $self->wait_cluster;
    return $self;
}

sub wait_redis {
    my ($self, $port) = @_;
    my $end = time + 10;
    while (time < $end) {
        my $pid = $self->{_cluster}{pid}{$port};
        if ($pid && waitpid($pid, WNOHANG) > 0) {
            delete $self->{_cluster}{pid}{$port};
            die "redis-server $port exited:\n"
                . $self->read_file("redis-$port.out");
        }
        delete $self->{"_redis_sock_$port"};
        my ($res) = eval { $self->_redis_on($port, 'PING') };
        return $self if defined $res && $res eq 'PONG';
        sleep 0.05;
    }
    die "redis-server $port did not answer PING";
}

# Every live node says cluster_state:ok and knows a master for each slot.
sub wait_cluster {
    my ($self, $timeout) = @_;
    my $end = time + ($timeout // 30);
    my $last = '';
    while (time < $end) {
        my $ok = 1;
        for my $p (sort keys %{$self->{_cluster}{pid}}) {
            my $info = eval { $self->_redis_on($p, CLUSTER => 'INFO') } // '';
            $last = "$p: $info";
            $ok = 0, last unless $info =~ /cluster_state:ok/
                && $info =~ /cluster_slots_ok:16384/;
        }
        if ($ok) {
            $self->cluster_map;
            return $self;
        }
        sleep 0.1;
    }
    die "redis cluster not ok: $last";
}

sub stop_cluster {
    my ($self) = @_;
    my $c = $self->{_cluster} or return;
    for my $p (keys %{$c->{pid}}) {
        my $pid = delete $c->{pid}{$p} or next;
        delete $self->{"_redis_sock_$p"};
        _stop_pid('TERM', $pid, 10);
    }
    return $self;
}

# Kills one node as a crash would (SIGKILL); start_cluster brings it back.
sub kill_node {
    my ($self, $port) = @_;
    my $pid = delete $self->{_cluster}{pid}{$port} or return;
    delete $self->{"_redis_sock_$port"};
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return $self;
}

# slot => master port, from CLUSTER SLOTS of any live node
sub cluster_map {
    my ($self) = @_;
    my $c = $self->{_cluster};
    for my $p (sort keys %{$c->{pid}}) {
        my $r = eval { $self->_redis_on($p, CLUSTER => 'SLOTS') } or next;
        my %m;
        for my $e (@$r) {
            $m{$_} = $e->[2][1] for $e->[0] .. $e->[1];
        }
        return $c->{map} = \%m;
    }
    die "no redis cluster node answers CLUSTER SLOTS";
}

sub cluster_masters {
    my ($self) = @_;
    my %m = map { $_ => 1 } values %{ $self->cluster_map };
    return sort keys %m;
}

sub key_slot {
    my ($class, $key) = @_;
    $key = $1 if $key =~ /\{([^}]+)\}/ && index($key, '{') == $-[0];
    my $crc = 0;
    for my $b (unpack 'C*', $key) {
        $crc ^= $b << 8;
        $crc = $crc & 0x8000 ? (($crc << 1) ^ 0x1021) & 0xffff
            : ($crc << 1) & 0xffff for 1 .. 8;
    }
    return $crc & 16383;
}

my %KEYLESS = map { $_ => 1 } qw(PING INFO TIME ECHO ROLE CLUSTER COMMAND
    ACL WAIT);
my %EVERY = map { $_ => 1 } qw(KEYS FLUSHALL FLUSHDB DBSIZE SCRIPT CONFIG
    CLIENT);
my %KEY2 = map { $_ => 1 } qw(XGROUP XINFO MEMORY OBJECT);

sub _cluster_key {
    my ($cmd, @args) = @_;
    $cmd = uc $cmd;
    return if $KEYLESS{$cmd};
    return $args[1] if $KEY2{$cmd};
    if ($cmd eq 'EVAL' || $cmd eq 'EVALSHA') {
        return $args[1] ? $args[2] : undef;
    }
    if ($cmd eq 'XREAD' || $cmd eq 'XREADGROUP') {
        for my $i (0 .. $#args - 1) {
            return $args[$i + 1] if uc $args[$i] eq 'STREAMS';
        }
        return;
    }
    return $args[0];
}

sub _cluster_redis {
    my ($self, @cmd) = @_;
    my $c = $self->{_cluster};
    my $name = uc $cmd[0];

    if ($EVERY{$name}) {
        my (@all, $err);
        for my $p ($self->cluster_masters) {
            my ($r, $e) = $self->_redis_on($p, @cmd);
            $err //= $e;
            push @all, $r;
        }
        my $res = $name eq 'KEYS' ? [ map { @{ $_ // [] } } @all ]
            : $name eq 'DBSIZE' ? eval { my $n = 0; $n += $_ for @all; $n }
            : $name eq 'CLIENT' && !ref $all[0] ? join('', @all)
            : $all[0];
        return ($res, $err) if wantarray;
        die "redis @cmd: $err\n" if defined $err;
        return $res;
    }

    # keys of several slots: one command per key, the counts added up
    if (($name eq 'DEL' || $name eq 'UNLINK' || $name eq 'EXISTS')
        && @cmd > 2)
    {
        my ($n, $err) = (0);
        for my $k (@cmd[1 .. $#cmd]) {
            my ($r, $e) = $self->_cluster_redis($cmd[0], $k);
            $err //= $e;
            $n += $r // 0;
        }
        return ($n, $err) if wantarray;
        die "redis @cmd: $err\n" if defined $err;
        return $n;
    }

    my $key = _cluster_key(@cmd);
    my $port = defined $key ? $c->{map}{ $self->key_slot($key) }
        : ($self->cluster_masters)[0];
    $port //= $self->redis_port;
    my $asking;
    for (1 .. 10) {
        $self->_redis_on($port, 'ASKING') if $asking;
        my ($r, $e) = $self->_redis_on($port, @cmd);
        if (defined $e && $e =~ /^(MOVED|ASK) (\d+) [\d.]+:(\d+)/) {
            $asking = $1 eq 'ASK';
            $c->{map}{$2} = $3 unless $asking;
            $port = $3;
            next;
        }
        if (defined $e && $e =~ /^(TRYAGAIN|CLUSTERDOWN)/) {
            sleep 0.1;
            next;
        }
        return ($r, $e) if wantarray;
        die "redis @cmd: $e\n" if defined $e;
        return $r;
    }
    die "redis @cmd: redirected too often\n";
}

1;

__END__

=head1 NAME

Test::Webhooks::Redis - the Redis of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module).

=over

=item start_redis(@args), stop_redis, restart_redis, redis(@cmd), redis_pid

Private redis-server with AOF (data survives restart_redis). C<redis>
returns the decoded reply and dies on an error reply, or returns
($reply, $error) in list context. Mind argument lists (is_deeply, push):
write C<scalar $t->redis(...)> there. With C<< $t->{redis_auth} = [$user,
$password] >> every connection it opens sends AUTH first.

An object made with C<new(redis_port =E<gt> $port)> uses a redis it does
not own: C<start_redis> dies, and C<stop_redis> and the end of the test
leave that redis alone.

=item cluster_mode, skip_in_cluster($why)

True under C<make test REDIS=cluster> (C<WEBHOOKS_REDIS=cluster>): then
C<start_redis> starts a Redis Cluster of three masters and three replicas
(C<redis-server --cluster-enabled yes> on free ports, the first master on
C<redis_port>, C<redis-cli --cluster create ... --cluster-replicas 1>) and
waits for C<cluster_state:ok>; C<write_file_expand> adds
C<webhooks_redis_cluster on> after every C<webhooks_redis_pass>; C<redis>
routes each command by the slot of its key, follows C<MOVED> and C<ASK>,
and sends C<KEYS>, C<FLUSHALL>, C<DBSIZE>, C<SCRIPT>, C<CONFIG> and
C<CLIENT> to every master (C<KEYS> and C<DBSIZE> add up, C<CLIENT LIST>
is joined). C<skip_in_cluster> skips a test that needs a single Redis.

=item redis_node($port, @cmd)

One command on the node at C<$port>, as C<redis> but not routed.

=item cluster_ports, cluster_masters, cluster_map, wait_cluster, kill_node($port), key_slot($key)

The six node ports; the master ports; slot => master port; wait for
C<cluster_state:ok> on every live node; SIGKILL one node (C<start_redis>
starts what is not running again); a key's slot (CRC16 of its hash tag).

=item pending($queue, $prefix)

The count of unacknowledged entries in the queue stream (group
C<senders>; default: all queue shards, C<webhooks:{qN}:queue>, or
C<$prefix{qN}:queue>) or C<"error: ...">.

=item shards($what, $prefix), shard_of($tag)

The keys C<$what> of every queue shard (C<queue>, C<retry>, C<seq>), and
the key prefix of the shard of a scope tag (C<"r:owner/repo">,
C<"o:org">), as the module picks it.

=item queue_len($prefix), retry_len($prefix), delivery_seq($prefix)

Summed over the shards: entries in the streams, members of the retry
sets, and the delivery counters.

=back

=cut
