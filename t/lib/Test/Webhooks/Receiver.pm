package Test::Webhooks::Receiver;

# Webhook receivers: forked Perl HTTP servers that answer by the request
# path and record every request, and the readers of that record.

use strict;
use warnings;

use Fcntl ();
use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use Test::Webhooks::HTTP qw(_dechunk);

# What a receiver does, by the first segment of the request path:
#   /ok/...          200 "thanks" (also any other path)
#   /fail/...        500 "oops"
#   /status/NNN/...  NNN "status NNN"; ?retry_after=V adds Retry-After: V
#   /flaky/N/...     500 to the first N requests to this exact path, then
#                    200 "thanks"
#   /slow/...        sleeps (?delay=S, default 2 s), then 200 "thanks"
#   /hang/...        never answers (the connection stays open)
#   /hang-once/...   never answers the first request to this exact path,
#                    answers 200 "thanks" to the ones after it
#   /big/...         200 with a body of ?size=N bytes (default 20000) of "x"
#   /huge/...        200 with ?size=N bytes (default 100 MB), streamed
#   /utf8/...        200 with ?size=N bytes (default 20000) of "\x{20ac}" in
#                    UTF-8, three bytes each (the last cut short when N
#                    is not a multiple of 3)
#   /headers/...     200 with ?n=N headers (default 100) "X-Header-<i>",
#                    each value ?size=S bytes (default 100) of "h", or of
#                    "\x{20ac}" in UTF-8 with ?utf8=1
# Every response carries "X-Receiver: webhooks-test" and
# "Connection: close".  Each logged request has "inflight": how many
# requests to its exact path were being answered when it came, itself
# included.

my %REASON = (200 => 'OK', 201 => 'Created', 202 => 'Accepted',
    204 => 'No Content', 301 => 'Moved Permanently', 302 => 'Found',
    400 => 'Bad Request', 404 => 'Not Found', 408 => 'Request Timeout',
    410 => 'Gone', 429 => 'Too Many Requests',
    500 => 'Internal Server Error', 502 => 'Bad Gateway',
    503 => 'Service Unavailable');

sub start_receiver {
    my ($self, %o) = @_;
    my $n = $o{port} // 9;
    my $port = $self->port($n);
    my $log = "$self->{_dir}/" . ($o{file} // 'received.jsonl');

    # Listening before the fork: connections wait in the backlog.
    my $ls = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
        Listen => 128, ReuseAddr => 1, Proto => 'tcp')
        or die "receiver cannot listen on 127.0.0.1:$port: $!";

    my $pid = $self->run_daemon(\&_receiver_main, $ls, $log,
        $self->{_dir}, $port);
    close $ls;
    $self->{_receivers}{$n} = $pid;
    $self->{_received_file} //= $log;
    return "http://127.0.0.1:$port";
}

sub receiver_pid { $_[0]{_receivers}{ $_[1] // 9 } }

sub _receiver_main {
    my ($ls, $log, $dir, $port) = @_;
    my %kids;

    $SIG{TERM} = sub {
        kill 'KILL', keys %kids;
        POSIX::_exit(0);
    };
    $SIG{CHLD} = sub {
        while ((my $p = waitpid(-1, WNOHANG)) > 0) { delete $kids{$p} }
    };

    while (1) {
        my $c = $ls->accept or next;    # EINTR on SIGCHLD
        my $pid = fork();
        if (!defined $pid) {
            close $c;
            next;
        }
        if ($pid == 0) {
            $SIG{TERM} = 'DEFAULT';
            $SIG{CHLD} = 'DEFAULT';
            close $ls;
            eval { _receiver_conn($c, $log, $dir, $port) };
            POSIX::_exit(0);
        }
        $kids{$pid} = 1;
        close $c;
    }
}

sub _receiver_read {
    my ($c, $buf, $want, $end) = @_;
    my $sel = IO::Select->new($c);
    while (!$want->()) {
        my $left = $end - time;
        return 0 if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($c, $$buf, 65536, length $$buf);
        return 0 unless $n;
    }
    return 1;
}

sub _receiver_conn {
    my ($c, $log, $dir, $port) = @_;
    binmode $c;
    # A hung answer must not outlive the test run.
    alarm 300;
    my $end = time + 30;

    my $buf = '';
    _receiver_read($c, \$buf, sub { $buf =~ /\r\n\r\n/ }, $end) or return;
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($line, @lines) = split /\r\n/, $head;
    my ($method, $uri, $proto) = split / /, $line, 3;

    my (@list, %h);
    for (@lines) {
        my ($k, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @list, [ $k, $v ];
        my $lk = lc $k;
        $h{$lk} = exists $h{$lk} ? "$h{$lk}, $v" : $v;
    }

    my $body;
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        _receiver_read($c, \$rest, sub { $rest =~ /(?:^|\r\n)0\r\n\r\n/ },
            $end) or return;
        $body = _dechunk($rest);
    } else {
        my $len = $h{'content-length'} // 0;
        _receiver_read($c, \$rest, sub { length $rest >= $len }, $end)
            or return;
        $body = substr($rest, 0, $len);
    }

    my ($path, $query) = split /\?/, $uri, 2;
    my %q = map { my ($k, $v) = split /=/, $_, 2; ($k => $v // '') }
        split /&/, $query // '';

    my $now = time;

    # Requests to the same path being answered now, this one included.
    (my $key = $path) =~ s/[^A-Za-z0-9]/_/g;
    make_path("$dir/inflight");
    my $mine = "$dir/inflight/$key.$$";
    if (open my $ifh, '>', $mine) { close $ifh }
    my $inflight = () = glob("$dir/inflight/$key.*");

    # The body in a file of its own: JSON::PP is slow on megabytes.
    make_path("$log.bodies");
    my $bf = sprintf '%s.bodies/%.6f-%d', $log, $now, $$;
    open my $bfh, '>', $bf or die "cannot write $bf: $!";
    binmode $bfh;
    print $bfh $body;
    close $bfh;

    my $rec = {
        method => $method, uri => $uri, path => $path,
        query => $query // '', proto => $proto, headers => \%h,
        header_list => \@list, body_file => $bf, time => $now,
        port => $port, pid => $$, inflight => $inflight,
    };

    # Header bytes as Latin-1 characters: JSON round-trips them exactly.
    my $json = JSON::PP->new->canonical->utf8->encode($rec) . "\n";
    if (open my $fh, '>>', $log) {
        binmode $fh;
        flock $fh, 2;
        print $fh $json;
        close $fh;
    }

    my ($seg) = $path =~ m{^/([^/]*)};
    $seg //= '';
    my ($code, $out, $extra, $stream) = (200, 'thanks', '', 0);

    if ($seg eq 'hang') {
        sleep 1 while 1;
    } elsif ($seg eq 'hang-once') {
        (my $m = $path) =~ s/[^A-Za-z0-9]/_/g;
        if (sysopen(my $fh, "$dir/hang-once$m",
            Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_EXCL()))
        {
            sleep 1 while 1;
        }
    } elsif ($seg eq 'slow') {
        sleep($q{delay} // 2);
    } elsif ($seg eq 'fail') {
        ($code, $out) = (500, 'oops');
    } elsif ($seg eq 'status') {
        ($code) = $path =~ m{^/status/(\d{3})} or $code = 200;
        $out = "status $code";
        $extra = "Retry-After: $q{retry_after}\r\n"
            if defined $q{retry_after};
        $extra .= "Location: $q{location}\r\n" if defined $q{location};
    } elsif ($seg eq 'flaky') {
        # /flaky/N: 500 for the first N requests to the path, then 200.
        my $n = $path =~ m{^/flaky/(\d+)} ? $1 : 1;
        my $f = "$dir/flaky$key";
        open my $fh, '+>>', $f or die "cannot open $f: $!";
        flock $fh, 2;
        seek $fh, 0, 0;
        my $seen = () = <$fh>;
        print $fh "x\n";
        close $fh;
        ($code, $out) = (500, 'not yet') if $seen < $n;
    } elsif ($seg eq 'big') {
        $out = 'x' x ($q{size} // 20000);
    } elsif ($seg eq 'utf8') {
        $out = substr("\xe2\x82\xac" x (($q{size} // 20000) / 3 + 1), 0,
            $q{size} // 20000);
    } elsif ($seg eq 'headers') {
        my $size = $q{size} // 100;
        my $v = $q{utf8} ? substr("\xe2\x82\xac" x ($size / 3 + 1), 0, $size)
            : 'h' x $size;
        $extra = join '', map { "X-Header-$_: $v\r\n" } 1 .. ($q{n} // 100);
    } elsif ($seg eq 'huge') {
        # size bytes, written a megabyte at a time
        $stream = $q{size} // 100 * 1024 * 1024;
        $out = '';
    }

    # No body, and no length, where HTTP allows none.
    my $len = "Content-Length: " . ($stream || length($out)) . "\r\n";
    ($out, $len) = ('', '') if $code =~ /^(?:1..|204|304)$/;

    my $resp = "HTTP/1.1 $code " . ($REASON{$code} // 'Unknown') . "\r\n"
        . "Content-Type: text/plain\r\n"
        . $len . $extra
        . "X-Receiver: webhooks-test\r\n"
        . "Connection: close\r\n\r\n" . $out;
    local $SIG{PIPE} = 'IGNORE';
    # No longer counted once its answer goes out: the client may start the
    # next request the moment it has read it, before this child runs on.
    unlink $mine;
    print $c $resp;
    my $mb = 'y' x (1024 * 1024);
    while ($stream > 0) {
        my $n = $stream < length $mb ? $stream : length $mb;
        last unless print $c substr($mb, 0, $n);
        $stream -= $n;
    }
    shutdown $c, 1;
    # Let the client read everything before the close.
    _receiver_read($c, \(my $drain = q{}), sub { 0 }, time + 2);
    close $c;
}

# Records are read once and kept: only new lines are decoded.
sub received {
    my ($self, $filter) = @_;
    my $file = $self->{_received_file} // "$self->{_dir}/received.jsonl";
    my $c = $self->{_rcv_cache}{$file} //= { off => 0, recs => [] };

    if (open my $fh, '<', $file) {
        binmode $fh;
        # Emptied by clear_received: start over.
        $c = $self->{_rcv_cache}{$file} = { off => 0, recs => [] }
            if -s $fh < $c->{off};
        seek $fh, $c->{off}, 0;
        my $dec = JSON::PP->new->utf8;
        while (defined(my $line = <$fh>)) {
            last unless $line =~ /\n\z/;    # not fully written yet
            $c->{off} += length $line;
            my $r = eval { $dec->decode($line) } or next;
            $r->{body} = $self->read_file(delete $r->{body_file});
            push @{ $c->{recs} }, $r;
        }
        close $fh;
    }

    my @all = @{ $c->{recs} };
    return @all unless defined $filter;
    if (ref $filter eq 'CODE') {
        return grep { $filter->($_) } @all;
    }
    if (ref $filter eq 'Regexp') {
        return grep { $_->{path} =~ $filter } @all;
    }
    return grep { $_->{path} eq $filter } @all;
}

sub wait_received {
    my ($self, $n, $filter, %o) = @_;
    my $end = time + ($o{timeout} // 10);
    my @r;
    while (1) {
        @r = $self->received($filter);
        last if @r >= $n || time >= $end;
        sleep 0.05;
    }
    return @r;
}

# Deliveries by "guid hook-id" among @$guids, from the receivers' log,
# and by the X-Test-Instance header that delivered them.
sub tally {
    my ($self, $guids) = @_;
    my %want = map { $_ => 1 } @$guids;
    my (%n, %by);
    for ($self->received) {
        my $g = $_->{headers}{'x-github-delivery'} // next;
        next unless $want{$g};
        $n{ $g . ' ' . ($_->{headers}{'x-github-hook-id'} // '?') }++;
        $by{ $_->{headers}{'x-test-instance'} // 'none' }++;
    }
    return wantarray ? (\%n, \%by) : \%n;
}

# The (guid, hook) pairs of a tally that never arrived.
sub lost {
    my ($self, $guids, $hooks, $n) = @_;
    return grep { !$n->{$_} } map { my $g = $_; map {"$g $_"} @$hooks }
        @$guids;
}

sub clear_received {
    my ($self) = @_;
    my $file = $self->{_received_file} // "$self->{_dir}/received.jsonl";
    # Truncate in place: receivers append with flock.
    if (open my $fh, '+<', $file) {
        flock $fh, 2;
        truncate $fh, 0;
        close $fh;
    }
    delete $self->{_rcv_cache}{$file};
    return $self;
}

1;

__END__

=head1 NAME

Test::Webhooks::Receiver - webhook receivers of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module).

=over

=item start_receiver(port =E<gt> $n, file =E<gt> $name)

Starts a webhook receiver: a forked Perl HTTP server on 127.0.0.1 at
C<port($n)> (default 9), one child per connection; returns its base URL,
C<http://127.0.0.1:PORT>. It listens before returning. What it answers
depends on the first segment of the path:

    /ok/...          200 "thanks" (so does any other path)
    /fail/...        500 "oops"
    /status/NNN/...  NNN "status NNN" (no body for 1xx, 204 and 304)
    /slow/...        sleeps ?delay=S seconds (default 2), then 200
    /hang/...        never answers
    /hang-once/...   never answers the first request to this exact path,
                     200 "thanks" to the later ones
    /big/...         200 with ?size=N (default 20000) bytes of "x"
    /utf8/...        200 with ?size=N (default 20000) bytes of a
                     three-byte UTF-8 character (the last cut short when
                     N is not a multiple of 3)
    /headers/...     200 with ?n=N (default 100) headers X-Header-1..N,
                     each of ?size=S (default 100) bytes: "h", or a
                     three-byte UTF-8 character with ?utf8=1

Every answer has C<Content-Type: text/plain>, C<X-Receiver: webhooks-test>
and C<Connection: close>. Every request is recorded once fully read, before
the answer, as one JSON line appended (under flock) to C<$name> in the
testdir (default received.jsonl; all receivers of a test share it unless
told otherwise), with the body in a file of its own under C<$name.bodies/>.

=item received($filter), wait_received($n, $filter, timeout =E<gt> 10), clear_received, receiver_pid($n)

The recorded requests, in arrival order, each
C<{ method, uri, path, query, proto, headers, header_list, body, time,
port, pid }>: C<headers> by lowercase name (repeats joined with ", "),
C<header_list> as C<[name, value]> pairs as sent, C<body> the raw bytes,
C<time> the arrival time (Time::HiRes), C<pid> the receiver child.
C<$filter>: a path (exact), a regexp on the path, or a sub taking the
record. Records are decoded once and shared between calls: do not modify
them. C<wait_received> polls until at least C<$n> match or the timeout
passes, and returns the matches. C<clear_received> empties the file of the
first receiver.

=item tally($guids), lost($guids, $hooks, $tally)

C<tally> counts the recorded deliveries of the GUIDs in C<@$guids> by
C<"guid hook-id">, and in list context also by their C<X-Test-Instance>
header. C<lost> lists the pairs of C<@$guids> and C<@$hooks> a tally lacks.

=back

=cut
