package Test::Webhooks;

# Test harness for ngx_http_webhooks in the style of nginx-tests: a temp
# dir per test file, free ports, a private redis-server, nginx started
# with -p.  Core Perl only, plus JSON::Validator for the OpenAPI schemas.

use strict;
use warnings;

use Exporter qw(import);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use Fcntl ();
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Socket ();
use Test::More;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(repo_root json);

my $NGINX = '/usr/sbin/nginx';
my $ROOT = abs_path(dirname(__FILE__) . '/../../..');
my $JSON = JSON::PP->new->canonical->utf8->allow_nonref;
my @LIVE;

# A closed socket must fail a test, not kill it.
$SIG{PIPE} = q{IGNORE};

sub repo_root { $ROOT }
sub json { $JSON }

sub new {
    my ($class, %opts) = @_;

    my $dir = tempdir('webhooks-XXXXXX', TMPDIR => 1,
        CLEANUP => !$ENV{TEST_NGINX_LEAVE});
    # Workers run as nobody when tests run as root.
    chmod 0755, $dir;
    make_path("$dir/san", { mode => 01777 });
    chmod 01777, "$dir/san";
    diag("testdir $dir") if $ENV{TEST_NGINX_LEAVE};

    my $self = bless {
        %opts,
        _dir => $dir,
        _owner => $$,
        _ports => {},
        _used => {},
        _daemons => [],
    }, $class;
    # Another object's redis: its port is taken, not to be handed out.
    $self->{_used}{ $self->{redis_port} } = 1 if $self->{redis_port};
    push @LIVE, $self;
    weaken($LIVE[-1]);
    return $self;
}

sub testdir { $_[0]{_dir} }

sub module_path {
    my $sub = $ENV{WEBHOOKS_SAN} ? 'build/san' : 'build';
    return "$ROOT/$sub/ngx_http_webhooks_module.so";
}

sub skip_unless_module {
    my ($self) = @_;
    my $m = $self->module_path;
    plan(skip_all => "module not built: $m (make build)") unless -f $m;
    return $self;
}

# Free ports, never handed out twice per object.  Picked below the
# ephemeral range, so that no outgoing connection takes one before nginx
# binds it, and no connect to it can meet itself (TCP self-connect).
sub port {
    my ($self, $n) = @_;
    $n //= 0;
    return $self->{_ports}{$n} if $self->{_ports}{$n};

    my $range = $self->read_file('/proc/sys/net/ipv4/ip_local_port_range');
    my ($lo) = $range =~ /(\d+)/;
    $lo = 32768 if !$lo || $lo < 12000;

    for (1 .. 1000) {
        my $p = 10000 + int rand($lo - 10000);
        next if $self->{_used}{$p};
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$p",
            Listen => 1, ReuseAddr => 1, Proto => 'tcp') or next;
        close $s;
        $self->{_used}{$p} = 1;
        return $self->{_ports}{$n} = $p;
    }
    die "no free port";
}

sub redis_port { $_[0]{redis_port} // $_[0]->port(1) }

###############################################################################
# Files

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

sub write_file_expand {
    my ($self, $name, $content) = @_;
    $content =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
    $content =~ s/%%PORT%%/$self->port(0)/ge;
    $content =~ s/%%REDIS_PORT%%/$self->redis_port/ge;
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

###############################################################################
# Processes

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

###############################################################################
# Redis

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

###############################################################################
# nginx

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
        my $supp = "$ROOT/t/valgrind.supp";
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

###############################################################################
# HTTP

sub http_raw {
    my ($self, $req, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port} // $self->port(0), Timeout => 2)
        or return (undef, "connect: $!");
    binmode $s;
    print $s $req;

    my ($buf, $err) = ('');
    my $sel = IO::Select->new($s);
    my $end = time + ($o{timeout} // 5);
    while (1) {
        my $left = $end - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $err = 'timeout';
            last;
        }
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return ($buf, $err);
}

sub http {
    my ($self, $method, $path, %o) = @_;
    my %h = (Host => 'localhost', Connection => 'close',
        %{$o{headers} || {}});
    my $body = $o{body};
    if (defined $body) {
        utf8::encode($body) if utf8::is_utf8($body);
        $h{'Content-Length'} //= length $body;
    }

    my $req = "$method $path HTTP/1.1\r\n"
        . join('', map { "$_: $h{$_}\r\n" } sort keys %h)
        . "\r\n" . ($body // '');

    my ($raw, $err) = $self->http_raw($req, %o);
    return _parse_response($raw // '', $err, $method);
}

sub _parse_response {
    my ($raw, $err, $method) = @_;
    my %r = (raw => $raw, error => $err, headers => {});
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return \%r unless defined $body;

    my ($status, @lines) = split /\r\n/, $head;
    ($r{status}) = $status =~ m{^HTTP/\d\.\d (\d{3})};
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $r{headers}{$k} = exists $r{headers}{$k}
            ? "$r{headers}{$k}, $v" : $v;
    }

    my $h = $r{headers};
    if ($method eq q{HEAD} || ($r{status} // q{}) =~ /^(?:1..|204|304)$/) {
        $body = '';
    } elsif (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
        $body = _dechunk($body);
    } elsif (defined $h->{'content-length'}) {
        $body = substr($body, 0, $h->{'content-length'});
    }
    $r{body} = $body;
    $r{json} = length $body ? eval { $JSON->decode($body) } : undef;
    return \%r;
}

sub _dechunk {
    my ($in) = @_;
    my $out = '';
    while ($in =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr($in, 0, $n, '');
        $in =~ s/^\r\n//;
    }
    return $out;
}

sub api {
    my ($self, $method, $path, $token, $data, %o) = @_;
    my %h = (Accept => 'application/vnd.github+json',
        %{$o{headers} || {}});
    $h{Authorization} = "token $token" if defined $token;

    my $body;
    if (defined $data) {
        $body = ref $data ? $JSON->encode($data) : $data;
        $h{'Content-Type'} //= 'application/json';
    }
    return $self->http($method, $path, %o, headers => \%h, body => $body);
}

###############################################################################
# OpenAPI schemas

my %SCHEMA;

# GitHub's descriptions, cut by t/octokit/spec.mjs from @octokit/openapi
# and @octokit/openapi-webhooks (t/node_modules) into build/spec: the whole
# files take seconds to load in every test file.
sub spec_dir {
    my $dir = "$ROOT/build/spec";
    my @want = map {"$dir/$_.openapi.json"} qw(github-hooks
        github-webhook-payloads);
    my $lock = "$ROOT/t/package-lock.json";
    return $dir unless grep { !-f $_ || -M $_ > -M $lock } @want;
    system('node', "$ROOT/t/octokit/spec.mjs", $dir) == 0
        or die "t/octokit/spec.mjs failed (make npm installs its input)\n";
    return $dir;
}

# Schemas by name from the hooks spec (OpenAPI 3.0, with "nullable"), else
# from the payloads spec (OpenAPI 3.1, read as draft 2019-09: Debian ships
# no json-schema.org meta-schemas, so nothing may fetch them).
sub _schema_for {
    my ($name) = @_;
    my $dir = spec_dir();
    require JSON::Validator;
    require JSON::Validator::Schema::Draft201909;

    $SCHEMA{hooks} //= JSON::Validator->new
        ->schema("$dir/github-hooks.openapi.json")->schema;
    $SCHEMA{payloads} //= do {
        open my $fh, '<', "$dir/github-webhook-payloads.openapi.json"
            or die "cannot read payloads spec: $!";
        local $/;
        JSON::Validator::Schema::Draft201909->new($JSON->decode(<$fh>));
    };

    for my $s (@SCHEMA{qw(hooks payloads)}) {
        # No coercion: "1" must not pass as a number, 1 not as a string.
        $s->coerce({});
        # OpenAPI's integer formats, unknown to JSON Schema drafts.
        $s->formats->{int32} //= sub {
            $_[0] =~ /^-?\d+$/ && $_[0] >= -2**31 && $_[0] < 2**31
                ? undef : 'Does not fit in int32.';
        };
        $s->formats->{int64} //= sub {
            $_[0] =~ /^-?\d{1,19}$/ ? undef : 'Does not fit in int64.';
        };
        my $sub = $s->get("/components/schemas/$name");
        return ($s, $sub) if $sub;
    }
    die "no schema $name in $dir\n";
}

sub schema_errors {
    my ($self, $data, $name) = @_;
    my ($s, $sub) = _schema_for($name);
    return map {"$_"} $s->validate($data, $sub);
}

sub schema_array_errors {
    my ($self, $data, $name) = @_;
    my ($s, $sub) = _schema_for($name);
    return map {"$_"} $s->validate($data, { type => 'array', items => $sub });
}

sub schema_ok {
    my ($self, $data, $name, $test) = @_;
    my @e = $self->schema_errors($data, $name);
    ok(!@e, $test // "matches $name") or diag(join "\n", @e);
}

sub schema_array_ok {
    my ($self, $data, $name, $test) = @_;
    my @e = $self->schema_array_errors($data, $name);
    ok(!@e, $test // "array of $name") or diag(join "\n", @e);
}

###############################################################################
# Webhook receivers

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
    print $c $resp;
    my $mb = 'y' x (1024 * 1024);
    while ($stream > 0) {
        my $n = $stream < length $mb ? $stream : length $mb;
        last unless print $c substr($mb, 0, $n);
        $stream -= $n;
    }
    unlink $mine;
    shutdown $c, 1;
    # Let the client read everything before the close.
    _receiver_read($c, \(my $drain = q{}), sub { 0 }, time + 2);
    close $c;
}

###############################################################################
# DNS

# A DNS server on UDP for nginx's resolver.  $zone maps a name to a list
# of answers; the n-th query of a type for a name gets the n-th answer
# (cycling), of which the addresses of that type (A or AAAA) are sent.
# Names not in the zone get NXDOMAIN.  Every query is logged.
sub start_dns {
    my ($self, $zone, %o) = @_;
    my $port = $self->port($o{port} // 20);
    my $ttl = $o{ttl} // 0;
    my $log = "$self->{_dir}/dns.log";

    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
        Proto => 'udp') or die "dns cannot bind 127.0.0.1:$port: $!";

    $self->run_daemon(sub {
        my %seen;
        while (1) {
            my $from = $s->recv(my $q, 512) // next;
            next if length $q < 17;
            my ($id, $flags) = unpack 'n n', $q;
            my ($off, @labels) = (12);
            while ((my $n = ord substr $q, $off, 1) != 0) {
                push @labels, substr $q, $off + 1, $n;
                $off += $n + 1;
                last if $off >= length $q;
            }
            my $name = lc join '.', @labels;
            my ($type) = unpack 'n', substr $q, $off + 1, 2;
            my $question = substr $q, 12, $off + 5 - 12;
            my $tname = $type == 1 ? 'A' : $type == 28 ? 'AAAA' : $type;

            if (open my $fh, '>>', $log) {
                print $fh "$name $tname\n";
                close $fh;
            }

            my ($rcode, @an) = (0);
            if (my $sets = $zone->{$name}) {
                my $set = $sets->[ $seen{"$name $type"}++ % @$sets ];
                for my $a (@$set) {
                    my $v6 = $a =~ /:/;
                    next unless $type == ($v6 ? 28 : 1);
                    my $rd = Socket::inet_pton($v6 ? Socket::AF_INET6()
                        : Socket::AF_INET(), $a);
                    push @an, pack('n n n N n', 0xc00c, $type, 1, $ttl,
                        length $rd) . $rd;
                }
            } else {
                $rcode = 3;
            }

            my $r = pack('n n n n n n', $id, 0x8180 | $rcode, 1,
                scalar @an, 0, 0) . $question . join '', @an;
            $s->send($r, 0, $from);
        }
    });
    close $s;
    return $port;
}

# The names and types asked so far: ("good.test A", ...)
sub dns_queries {
    my ($self) = @_;
    open my $fh, '<', "$self->{_dir}/dns.log" or return ();
    chomp(my @q = <$fh>);
    return @q;
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

# Entries of the queue's consumer group not acknowledged yet, or the error.
sub pending {
    my ($self, $queue) = @_;
    my ($r, $err) = eval {
        $self->redis(XPENDING => $queue // 'webhooks:queue', 'senders') };
    return defined $err ? "error: $err" : ref $r ? $r->[0] : "error: $@";
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

###############################################################################

sub _shutdown {
    my ($self) = @_;
    return if $self->{_owner} != $$ || $self->{_down}++;
    local ($?, $@);
    $self->stop;
    _stop_pid('TERM', $_, 5) for @{$self->{_daemons}};
    $self->stop_redis;
    diag($self->read_file('error.log')) if $ENV{TEST_NGINX_CATLOG};
}

sub DESTROY { $_[0]->_shutdown }

# Before File::Temp removes the testdir (END blocks run last first).
END { $_ && $_->_shutdown for @LIVE }

1;

__END__

=head1 NAME

Test::Webhooks - harness for the ngx_http_webhooks tests

=head1 SYNOPSIS

    use FindBin; use lib "$FindBin::Bin/lib";
    use Test::More;
    use Test::Webhooks;

    my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
    $t->start_redis;
    $t->nginx_conf(<<'EOF');
        webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
        server { listen 127.0.0.1:%%PORT%%; location / { webhooks_api on; } }
    EOF
    $t->run;
    my $r = $t->api(GET => '/repos/o/r/hooks', 'demo-owner');
    is($r->{status}, 200);
    $t->schema_array_ok($r->{json}, 'hook');
    $t->log_ok;
    done_testing;

=head1 METHODS

=over

=item new(%opts)

Temp dir (kept with TEST_NGINX_LEAVE). Options: C<workers>, C<log_level>,
C<redis_port>.

C<redis_port =E<gt> $port> makes the object use a redis it does not own,
e.g. C<$t1-E<gt>redis_port>, so that two nginx instances (two objects, each
with its own testdir, ports and nginx) share one Redis: %%REDIS_PORT%% and
C<redis(...)> use that port, C<start_redis> dies, and C<stop_redis> and the
end of the test leave that redis alone (its owner starts and stops it).

=item port($n), redis_port, testdir, module_path, repo_root

Free ports, stable per object; redis uses port 1 (unless new() was given
C<redis_port>), nginx port 0.
C<module_path> is build/ or, with WEBHOOKS_SAN=1, build/san/.

=item skip_unless_module

skip_all when the module is not built.

=item write_file($name, $text), read_file($name), write_file_expand(...)

C<write_file_expand> replaces %%PORT%%, %%PORT_n%%, %%REDIS_PORT%%,
%%TESTDIR%% and %%MODULE%%, and a line %%DEMO_MAPS%% with conf/demo.conf's
identity maps ($webhooks_demo_login, _admin and _app from the token).

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

=item start_redis(@args), stop_redis, restart_redis, redis(@cmd), redis_pid

Private redis-server with AOF (data survives restart_redis). C<redis>
returns the decoded reply and dies on an error reply, or returns
($reply, $error) in list context. Mind argument lists (is_deeply, push):
write C<scalar $t->redis(...)> there. With C<< $t->{redis_auth} = [$user,
$password] >> every connection it opens sends AUTH first.

=item run_daemon($cmd_or_coderef, @args), waitforsocket("host:port")

Background helpers (receivers), killed at the end. Allocate ports with
C<port> before the fork: a child's allocations stay in the child.

=item http($method, $path, headers => {}, body => $s, timeout => 5, port => $p)

Returns { status, headers (lowercase, repeats joined by ", "), body, json,
raw, error }. C<http_raw($text)> returns ($raw_response, $error).

=item api($method, $path, $token, $data, %http_opts)

JSON request with C<Authorization: token $token> when $token is defined;
$data is encoded (or sent as is when a plain string).

=item schema_ok($data, $name, $test), schema_array_ok(...)

=item schema_errors($data, $name), schema_array_errors(...)

Validate against C<#/components/schemas/$name> of GitHub's REST API
description (C<@octokit/openapi>), else of its webhook payloads description
(C<@octokit/openapi-webhooks>), both pinned in t/package.json and cut to the
hook routes and the ping and push payloads into build/spec by
t/octokit/spec.mjs (C<spec_dir()> runs it when the cut is missing or older
than t/package-lock.json),
without type coercion. Validate before comparing fields with C<==>: that
gives Perl strings a number flag.

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

=item start_dns(\%zone, port =E<gt> $n, ttl =E<gt> $s), dns_queries

A DNS server on UDP for nginx's C<resolver>: C<$zone> maps a name to a
list of answers, each a list of IPv4 and IPv6 addresses; the n-th query of
a type for a name gets the n-th answer (cycling). Other names get
NXDOMAIN. Returns the port. C<dns_queries> lists what was asked, as
C<"name A"> and C<"name AAAA">.

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

=item tally($guids), lost($guids, $hooks, $tally), pending($queue), wait_for($cond, $timeout)

C<tally> counts the recorded deliveries of the GUIDs in C<@$guids> by
C<"guid hook-id">, and in list context also by their C<X-Test-Instance>
header. C<lost> lists the pairs of C<@$guids> and C<@$hooks> a tally lacks.
C<pending> is the count of unacknowledged entries in the queue stream
(default C<webhooks:queue>) or C<"error: ...">. C<wait_for> polls C<$cond>
every 0.1 s until it is true or C<$timeout> seconds (four times that under
valgrind) have passed, and returns its last value.

=back

=cut
