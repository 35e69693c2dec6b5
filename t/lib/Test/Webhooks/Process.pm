package Test::Webhooks::Process;

# Files and processes of a test: the testdir's files, children run with
# their output in the testdir, daemons killed at the end, polling.  The
# repository root and the shared JSON codec live here too, so that every
# part of the harness can reach them without the entry point.

use strict;
use warnings;

use Exporter qw(import);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(repo_root json _stop_pid);

my $ROOT = abs_path(dirname(__FILE__) . '/../../../..');
my $JSON = JSON::PP->new->canonical->utf8->allow_nonref;

sub repo_root { $ROOT }
sub json { $JSON }


sub write_file {
    my ($self, $name, $content) = @_;
    my $path = "$self->{_dir}/$name";
    make_path(dirname($path));
    open my $fh, '>', $path or die "cannot write $path: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{_dir}/$name";
    open my $fh, '<', $path or return '';
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

# Runs a command or a Perl sub in a child with stdout/stderr sent to
# $log (a file in the testdir); returns the pid.
sub _spawn {
    my ($self, $log, $env, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    return $pid if $pid;

    open STDIN, '<', '/dev/null';
    if (defined $log) {
        open STDOUT, q{>>}, "$self->{_dir}/$log";
        open STDERR, q{>&}, \*STDOUT;
    } else {
        # STDOUT carries TAP.
        open STDOUT, q{>&}, \*STDERR;
    }
    @ENV{keys %$env} = values %$env;
    if (ref $cmd[0] eq 'CODE') {
        my $code = shift @cmd;
        eval { $code->(@cmd) };
        print STDERR $@ if $@;
        POSIX::_exit($@ ? 1 : 0);
    }
    exec @cmd or print STDERR "exec $cmd[0]: $!\n";
    POSIX::_exit(127);
}

sub _alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    # A daemonized nginx is not our child: treat a zombie as gone.
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    return $stat !~ /^\d+ \(.*\) Z/s;
}

# Signals $pid and waits up to $timeout s, then KILLs; returns the wait
# status when $pid is our child.
sub _stop_pid {
    my ($sig, $pid, $timeout) = @_;
    kill $sig, $pid;
    my $end = time + $timeout;
    while (time < $end) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        return undef if $r < 0 && !_alive($pid);
        sleep 0.05;
    }
    kill 'KILL', $pid;
    return waitpid($pid, 0) == $pid ? $? : undef;
}

sub run_daemon {
    my ($self, @cmd) = @_;
    my $pid = $self->_spawn(undef, {}, @cmd);
    push @{$self->{_daemons}}, $pid;
    return $pid;
}

sub waitforsocket {
    my ($self, $addr, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $s = IO::Socket::INET->new(PeerAddr => $addr, Timeout => 1);
        return 1 if $s;
        sleep 0.05;
    }
    return 0;
}

# Polls $cond until it is true or $timeout seconds (longer under valgrind)
# passed; returns its last value.
sub wait_for {
    my ($self, $cond, $timeout) = @_;
    my $end = time + $timeout * ($ENV{WEBHOOKS_VALGRIND} ? 4 : 1);
    my $v;
    while (time < $end) {
        $v = $cond->() and return $v;
        sleep 0.1;
    }
    return $cond->();
}

1;

__END__

=head1 NAME

Test::Webhooks::Process - files and processes of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module), and the functions C<repo_root> and C<json> it exports.

=over

=item repo_root, json

The repository's root directory; the shared L<JSON::PP> codec (canonical,
UTF-8, allow_nonref). Both are functions, and methods.

=item write_file($name, $text), read_file($name)

Files in the testdir (C<read_file> also takes an absolute path and
returns '' for a file it cannot read).

=item run_daemon($cmd_or_coderef, @args), waitforsocket("host:port")

Background helpers (receivers), killed at the end. Allocate ports with
C<port> before the fork: a child's allocations stay in the child.

=item wait_for($cond, $timeout)

Polls C<$cond> every 0.1 s until it is true or C<$timeout> seconds (four
times that under valgrind) have passed, and returns its last value.

=back

=cut
