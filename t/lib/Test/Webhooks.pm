package Test::Webhooks;

# Test harness for ngx_http_webhooks in the style of nginx-tests: a temp
# dir per test file, free ports, a private redis-server, nginx started
# with -p.  Core Perl only, plus JSON::Validator for the OpenAPI schemas.
#
# The one module tests use; its parts live in Test/Webhooks/*.pm, one per
# concern, and this object inherits their methods.

use strict;
use warnings;

use Exporter qw(import);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Scalar::Util qw(weaken);
use Test::More;

use Test::Webhooks::Process qw(repo_root json _stop_pid);
use Test::Webhooks::Redis;
use Test::Webhooks::Nginx;
use Test::Webhooks::HTTP qw(_parse_response);
use Test::Webhooks::Schema qw(spec_dir);
use Test::Webhooks::Receiver;
use Test::Webhooks::DNS;

our @ISA = qw(Test::Webhooks::Process Test::Webhooks::Redis
    Test::Webhooks::Nginx Test::Webhooks::HTTP Test::Webhooks::Schema
    Test::Webhooks::Receiver Test::Webhooks::DNS);
our @EXPORT_OK = qw(repo_root json);

my @LIVE;

# A closed socket must fail a test, not kill it.
$SIG{PIPE} = q{IGNORE};

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
    return repo_root() . "/$sub/ngx_http_webhooks_module.so";
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

=head1 DESCRIPTION

Every test uses this module alone. Its methods come from its parts, each
documented in its own POD:

=over

=item L<Test::Webhooks::Process>

files in the testdir, children and daemons, C<wait_for>; C<repo_root> and
C<json>

=item L<Test::Webhooks::Nginx>

nginx.conf and its shared fragments, running nginx, error.log checks

=item L<Test::Webhooks::Redis>

the private redis-server and a RESP client

=item L<Test::Webhooks::HTTP>

HTTP requests and API calls

=item L<Test::Webhooks::Schema>

checks against GitHub's OpenAPI descriptions

=item L<Test::Webhooks::Receiver>

webhook receivers and what they recorded

=item L<Test::Webhooks::DNS>

a DNS server for nginx's resolver

=back

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

=back

=cut
