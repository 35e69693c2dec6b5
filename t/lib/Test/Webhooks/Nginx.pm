package Test::Webhooks::Nginx;

# nginx of a test: its nginx.conf (with the shared fragments every test
# builds on), starting, stopping and reloading it, and its error.log,
# sanitizer and valgrind reports.

use strict;
use warnings;

use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);

use Test::Webhooks::Process qw(repo_root _stop_pid);

my $NGINX = '/usr/sbin/nginx';

# conf/demo.conf's identities: demo-owner is octocat, owner and admin of
# everything; demo-member is hubot, admin of nothing; demo-app is OAuth
# app 1 acting for octocat
my $DEMO_MAPS = <<'MAPS';
    map $webhooks_auth_token $webhooks_demo_login {
        demo-owner   octocat;
        demo-member  hubot;
        demo-app     octocat;
        default      "";
    }

    map $webhooks_auth_token $webhooks_demo_admin {
        demo-owner   1;
        demo-app     1;
        default      0;
    }

    map $webhooks_auth_token $webhooks_demo_app {
        demo-app     1;
        default      "";
    }
MAPS

# Blocks many tests share, put where a line holds only %%NAME%%, at that
# line's indentation (see fragment in the POD).
my %FRAGMENT = (
    # conf/demo.conf's identities given to an API location
    DEMO_API => <<'F',
webhooks_api   on;
webhooks_login $webhooks_demo_login;
webhooks_admin $webhooks_demo_admin;
F
    # Only demo-owner: octocat, admin of everything
    OWNER_MAPS => <<'F',
map $http_authorization $wh_token {
    "~*^(?:token|bearer)\s+(?<tok>\S+)\s*$"  $tok;
    default                                 "";
}
map $wh_token $wh_login { demo-owner octocat; default ""; }
map $wh_token $wh_admin { demo-owner 1; default 0; }
F
    OWNER_API_LOCATION => <<'F',
location / {
    webhooks_api   on;
    webhooks_login $wh_login;
    webhooks_admin $wh_admin;
}
F
    EVENTS_LOCATION => <<'F',
location = /_webhooks/events {
    webhooks_events on;
}
F
    # The lines every delivery location starts with
    DELIVERY_PROXY => <<'F',
internal;
proxy_pass            $webhooks_delivery_url;
proxy_set_header      Host $webhooks_delivery_host;
F
);

sub fragment {
    my ($self, $name, $indent) = @_;
    my $f = $FRAGMENT{$name} // die "no nginx.conf fragment $name\n";
    $f =~ s/^/$indent/gm if defined $indent;
    return $f;
}

sub write_file_expand {
    my ($self, $name, $content) = @_;
    my $names = join '|', sort keys %FRAGMENT;
    $content =~ s/^([ \t]*)%%($names)%%[ \t]*\n/$self->fragment($2, $1)/gme;
    $content =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
    $content =~ s/%%PORT%%/$self->port(0)/ge;
    $content =~ s/%%REDIS_PORT%%/$self->redis_port/ge;
    # make test REDIS=cluster: the redis of the test is a cluster
    $content =~ s/^([ \t]*)(webhooks_redis_pass\s[^;]*;[^\n]*\n)/$1$2$1webhooks_redis_cluster on;\n/gm
        if $self->cluster_mode;
    $content =~ s/%%TESTDIR%%/$self->{_dir}/g;
    $content =~ s/%%MODULE%%/$self->module_path/ge;
    $content =~ s/^[ \t]*%%DEMO_MAPS%%[ \t]*\n/$DEMO_MAPS/gm;
    return $self->write_file($name, $content);
}

sub nginx_conf {
    my ($self, $http, %o) = @_;
    my $workers = $o{workers} // $self->{workers} // 1;
    my $level = $o{log_level} // $self->{log_level}
        // ($ENV{TEST_NGINX_VERBOSE} ? 'debug' : 'info');
    my $main = $o{main} // '';
    my $mod = $o{no_module} ? '' : "load_module %%MODULE%%;\n";

    return $self->write_file_expand('nginx.conf', <<"EOF");
$mod
worker_processes $workers;
error_log %%TESTDIR%%/error.log $level;
pid %%TESTDIR%%/nginx.pid;
$main

events {}

http {
    access_log off;
    client_body_temp_path %%TESTDIR%%/client_body_temp;
    proxy_temp_path %%TESTDIR%%/proxy_temp;
    fastcgi_temp_path %%TESTDIR%%/fastcgi_temp;
    uwsgi_temp_path %%TESTDIR%%/uwsgi_temp;
    scgi_temp_path %%TESTDIR%%/scgi_temp;

$http
}
EOF
}

sub _valgrind { $ENV{WEBHOOKS_VALGRIND} }

sub _nginx_env {
    my ($self) = @_;
    return {} unless $ENV{WEBHOOKS_SAN};
    my $d = "$self->{_dir}/san";
    my @libs = map { my $l = `gcc -print-file-name=$_`; chomp $l; $l }
        qw(libasan.so libubsan.so);
    return {
        LD_PRELOAD => join(' ', @libs),
        # The master forks workers, so leaks at exit are meaningless.
        ASAN_OPTIONS =>
            "detect_leaks=0:abort_on_error=1:log_path=$d/asan",
        UBSAN_OPTIONS => "print_stacktrace=1:log_path=$d/ubsan",
    };
}

sub _nginx_cmd {
    my ($self, @extra) = @_;
    return ($NGINX, '-p', "$self->{_dir}/", '-c', 'nginx.conf', @extra);
}

# Runs "nginx -t"; returns (exit code, output).
sub nginx_test {
    my ($self) = @_;
    unlink "$self->{_dir}/nginx-t.out";
    my $pid = $self->_spawn('nginx-t.out', $self->_nginx_env,
        $self->_nginx_cmd('-t'));
    waitpid($pid, 0);
    return ($? >> 8, $self->read_file('nginx-t.out'));
}

sub run {
    my ($self) = @_;
    my $d = $self->{_dir};
    my $timeout = 10;
    unlink "$d/nginx.pid";

    if (_valgrind()) {
        $timeout = 60;
        my $supp = repo_root() . "/t/valgrind.supp";
        my @vg = ('valgrind', '--error-exitcode=42', '--leak-check=full',
            '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
            '--num-callers=40', "--log-file=$d/valgrind.%p.log",
            (-f $supp ? "--suppressions=$supp" : ()));
        $self->{_nginx_pid} = $self->_spawn('nginx.out', {}, @vg,
            $self->_nginx_cmd('-g', 'daemon off;'));
        $self->{_nginx_child} = 1;

    } else {
        my $pid = $self->_spawn('nginx.out', $self->_nginx_env,
            $self->_nginx_cmd);
        waitpid($pid, 0);
        die "nginx failed to start:\n" . $self->read_file('nginx.out')
            if $?;
    }

    my $end = time + $timeout;
    while (time < $end) {
        if ($self->{_nginx_child}
            && waitpid($self->{_nginx_pid}, WNOHANG) > 0)
        {
            delete $self->{_nginx_pid};
            die "nginx exited:\n" . $self->read_file('nginx.out');
        }
        # nginx writes the pid file once its sockets listen.
        my ($pid) = $self->read_file('nginx.pid') =~ /(\d+)/;
        if ($pid && (!$self->{_nginx_child} || $pid == $self->{_nginx_pid}))
        {
            $self->{_nginx_pid} = $pid;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                PeerPort => $self->port(0), Timeout => 1);
            return $self if $s;
        }
        sleep 0.05;
    }
    die "nginx did not listen on port " . $self->port(0) . "\n"
        . $self->read_file('error.log');
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{_nginx_pid} or return $self;
    _stop_pid('QUIT', $pid, _valgrind() ? 60 : 10);
    delete $self->{_nginx_child};
    return $self;
}

sub reload {
    my ($self) = @_;
    my $pid = $self->{_nginx_pid} or die "nginx not running";
    my $count = () = $self->read_file('error.log') =~ /reconfiguring/g;
    kill 'HUP', $pid;
    # Wait for the new cycle (logged at notice); give up quietly.
    my $end = time + 5;
    while (time < $end) {
        my $n = () = $self->read_file('error.log') =~ /reconfiguring/g;
        last if $n > $count;
        sleep 0.05;
    }
    sleep 0.2;
    return $self;
}

sub nginx_pid { $_[0]{_nginx_pid} }

# The master's children that are workers (not cache processes), by
# /proc: pid, parent pid and the title nginx gives them.
sub worker_pids {
    my ($self) = @_;
    my $master = $self->{_nginx_pid} or return ();
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = $self->read_file($stat);
        my ($pid, $state, $ppid) = $s =~ /^(\d+) \(.*\) (\S) (\d+) /s
            or next;
        next if $ppid != $master || $state eq 'Z';
        my ($dir) = $stat =~ m{^(/proc/\d+)/};
        my $cmd = $self->read_file("$dir/cmdline");
        # Under valgrind the title is not set: take every child.
        next if $cmd =~ /^nginx: / && $cmd !~ /^nginx: worker process/;
        push @pids, $pid;
    }
    return sort { $a <=> $b } @pids;
}

# One log per process (master, workers); each must be clean.
sub valgrind_problems {
    my ($self, %o) = @_;
    my %killed = map { $_ => 1 } @{ $o{killed} || [] };
    my @bad;
    for my $f (glob "$self->{_dir}/valgrind.*.log") {
        # A process killed with SIGKILL never writes its summary.
        next if $f =~ /valgrind\.(\d+)\.log$/ && $killed{$1};
        my $log = $self->read_file($f);
        next if $log =~ /ERROR SUMMARY: 0 errors/
            && $log !~ /definitely lost: [1-9]/;
        push @bad, "$f:\n$log";
    }
    return @bad;
}

sub valgrind_clean { !$_[0]->valgrind_problems }

sub error_log_problems {
    my ($self, %o) = @_;
    my $san = qr/AddressSanitizer|LeakSanitizer|runtime error/;
    my @bad = grep { /\[(?:alert|crit|emerg)\]/ || /$san/ }
        split /\n/, $self->read_file('error.log');
    # Alerts the test caused on purpose (never sanitizer reports).
    @bad = grep { /$san/ || !/$o{allow}/ } @bad if $o{allow};

    # Workers report to stderr, which nginx points at error.log; the
    # master may report to its own files or, before that, to nginx.out.
    for my $f (glob("$self->{_dir}/san/*"), "$self->{_dir}/nginx.out") {
        push @bad, map { "$f: $_" } grep {/$san/}
            split /\n/, $self->read_file($f);
    }
    return @bad;
}

sub error_log_clean { !$_[0]->error_log_problems }

sub log_ok {
    my ($self, $name, %o) = @_;
    my @bad = $self->error_log_problems(allow => $o{allow});
    ok(!@bad, $name // 'no alerts or sanitizer reports')
        or diag(join "\n", @bad);

    return unless _valgrind();
    # Valgrind reports are complete only once nginx has exited.
    $self->stop;
    my @vg = $self->valgrind_problems(killed => $o{killed});
    ok(!@vg, 'valgrind clean') or diag(join "\n", @vg);
}

1;

__END__

=head1 NAME

Test::Webhooks::Nginx - nginx of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module).

=over

=item write_file_expand($name, $text)

Replaces %%PORT%%, %%PORT_n%%, %%REDIS_PORT%%,
%%TESTDIR%% and %%MODULE%%, the fragments below, and a line %%DEMO_MAPS%% with conf/demo.conf's
identity maps ($webhooks_demo_login, _admin and _app from the token).

=item fragment($name, $indent)

A block of nginx.conf that many tests share, each line prefixed with
C<$indent>. C<write_file_expand> (so C<nginx_conf>) puts it in place of a
line holding only C<%%$name%%>, at that line's indentation:

    DEMO_API            webhooks_api on, webhooks_login and webhooks_admin
                        from %%DEMO_MAPS%%' $webhooks_demo_login and _admin
    OWNER_MAPS          $wh_token from Authorization ("token" or "bearer"),
                        $wh_login (octocat for demo-owner, else "") and
                        $wh_admin (1 for demo-owner, else 0)
    OWNER_API_LOCATION  location / with webhooks_api on, $wh_login and
                        $wh_admin
    EVENTS_LOCATION     location = /_webhooks/events { webhooks_events on; }
    DELIVERY_PROXY      internal, proxy_pass $webhooks_delivery_url and
                        Host $webhooks_delivery_host: the start of every
                        delivery location (add timeouts, TLS and headers)

=item nginx_conf($http_body, %o)

Writes nginx.conf: load_module, workers, error.log (info; debug with
TEST_NGINX_VERBOSE), pid and temp paths in the testdir. C<%o>: C<workers>,
C<log_level>, C<main> (main-context text), C<no_module>.

=item run, stop, reload, nginx_test

Start nginx (waits for port 0), stop with QUIT (KILL after 10 s), reload
with HUP (waits for the new cycle). C<nginx_test> returns (exit code,
output) of C<nginx -t>. WEBHOOKS_VALGRIND=1 runs nginx (daemon off) under
valgrind, one log per process, with t/valgrind.supp. WEBHOOKS_SAN=1
preloads libasan and libubsan; workers report into error.log.

=item error_log_clean, error_log_problems(%o), log_ok($name, %o), valgrind_clean

No [alert], [crit] or [emerg] in error.log and no sanitizer reports;
C<log_ok> also stops nginx and checks valgrind.*.log under valgrind
(C<valgrind_problems(%o)> lists the bad logs). Options, for tests that
cause alerts on purpose: C<allow =E<gt> qr/.../> accepts the alert lines it
matches (sanitizer reports never), C<killed =E<gt> [pids]> skips the
valgrind logs of processes killed with SIGKILL (they have no summary).

=item nginx_pid, worker_pids

The master's pid; the pids of its worker processes now, from /proc
(sorted; under valgrind every child of the master).

=back

=cut
