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

sub start_redis {
    my ($self, @extra) = @_;
    die "start_redis: this object uses the redis on port $self->{redis_port}"
        . " (new(redis_port => ...)); start it from its owner\n"
        if $self->{redis_port};
    my $dir = "$self->{_dir}/redis";
    make_path($dir);
    $self->{_redis_args} = \@extra if @_ > 1 || !$self->{_redis_args};

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

sub redis_pid { $_[0]{_redis_pid} }

# With redis_auth => [user, password] set, every connection the harness
# opens authenticates first (a Redis whose default user is off).
sub _redis_connect {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $self->redis_port, Timeout => 2) or return;
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

    my $s = $self->{_redis_sock};
    # Readable while idle means the server closed it (restart).
    if (!$s || IO::Select->new($s)->can_read(0)) {
        $s = $self->{_redis_sock} = $self->_redis_connect
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
        delete $self->{_redis_sock};
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
