#!/usr/bin/perl

# Redis over TLS, with a client certificate and an ACL user: the whole
# path works on the TLS port; a certificate from another CA, or for
# another name, fails the connection with a clear line and 503, and Redis
# receives no command meanwhile; a Redis that wants a client certificate
# refuses a module without one.  Certificates are made here with openssl.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use POSIX ();
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->skip_in_cluster('runs its Redis over TLS with certificates of its own');
my $D = $t->testdir;

plan skip_all => 'no openssl' unless system('openssl version >/dev/null') == 0;

sub openssl {
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$D/openssl.out";
        open STDERR, '>&', \*STDOUT;
        exec 'openssl', @_ or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "openssl @_:\n" . $t->read_file('openssl.out') if $?;
}

# ca signs the server (localhost, 127.0.0.1) and the client; evil signs a
# server certificate just as good but for nobody we trust.
for my $ca (qw(ca evil)) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-subj', "/CN=test $ca", '-keyout', "$D/$ca.key",
        '-out', "$D/$ca.crt");
}

sub cert {
    my ($name, $ca, $san) = @_;
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$name",
        '-keyout', "$D/$name.key", '-out', "$D/$name.csr");
    $t->write_file("$name.ext", $san ? "subjectAltName=$san\n" : "\n");
    openssl('x509', '-req', '-in', "$D/$name.csr", '-CA', "$D/$ca.crt",
        '-CAkey', "$D/$ca.key", '-CAcreateserial', '-days', '2',
        '-extfile', "$D/$name.ext", '-out', "$D/$name.crt");
}

cert('server', 'ca', 'DNS:localhost,IP:127.0.0.1');
cert('fake', 'evil', 'DNS:localhost,IP:127.0.0.1');
cert('client', 'ca');

my $TLS = $t->port(2);
my @TLS = ('--tls-port', $TLS, '--tls-ca-cert-file', "$D/ca.crt",
    '--tls-auth-clients', 'yes');
$t->start_redis(@TLS, '--tls-cert-file', "$D/server.crt",
    '--tls-key-file', "$D/server.key");
my $RCV = $t->start_receiver;

$t->redis(ACL => 'SETUSER', 'webhooks', 'on', '>tls-secret', '~*', '&*',
    '+@all');
$t->write_file('redis.pass', "tls-secret\n");

my $CONF = <<'EOF';
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%PORT_2%%;
    webhooks_redis_user             webhooks;
    webhooks_redis_password_file    redis.pass;
    webhooks_redis_ssl              on;
%%TLS%%
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_redis_timeout          1s;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        %%OWNER_API_LOCATION%%
    }
EOF

my $CLIENT = "    webhooks_redis_ssl_certificate     client.crt;\n"
    . "    webhooks_redis_ssl_certificate_key client.key;\n";

sub conf {
    my ($tls) = @_;
    (my $c = $CONF) =~ s/%%TLS%%/$tls/;
    $t->nginx_conf($c);
}

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;
my $REPO = '/repos/octo-org/tls';

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub event {
    my ($n) = @_;
    return $t->http(POST => '/_webhooks/events',
        headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' },
        body => $J->encode({ n => $n, ref => 'refs/heads/main',
            repository => { id => 84, name => 'tls',
                full_name => 'octo-org/tls',
                owner => { login => 'octo-org' } } }));
}

sub is_503 {
    my ($r, $what) = @_;
    is($r->{status}, 503, "$what: 503") or diag($r->{raw} // $r->{error});
    ok($r->{json} && ($r->{json}{status} // '') eq '503',
        "$what: GitHub's JSON");
}

sub wait_log {
    my ($re) = @_;
    my $end = time + 5;
    while (time < $end) {
        return 1 if $t->read_file('error.log') =~ $re;
        sleep 0.1;
    }
    return 0;
}

sub tls_clients {
    return scalar grep { /laddr=127\.0\.0\.1:$TLS\b/ && /user=webhooks/ }
        split /\n/, $t->redis(CLIENT => 'LIST');
}

sub commands {
    my ($n) = $t->redis('INFO', 'stats') =~ /total_commands_processed:(\d+)/;
    return $n;
}

# Redis receives no command while the module is refused: two INFO calls
# apart count only the first.
sub no_commands {
    my ($what) = @_;
    my $a = commands();
    api(GET => "$REPO/hooks");
    event(0);
    sleep 1;
    is(commands() - $a, 1, "$what: Redis received no command");
}

###############################################################################
# Verified TLS, client certificate, AUTH: the whole path, on the TLS port.

conf("    webhooks_redis_ssl_trusted_certificate ca.crt;\n$CLIENT");
$t->run;

my $r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/tls",
    content_type => 'json' }, events => ['push'] });
is($r->{status}, 201, 'hook created over TLS') or diag($r->{raw});
my $hid = $r->{json}{id};

for my $n (1 .. 5) {
    is(event($n)->{status}, 202, "event $n taken in");
}

my @got = $t->wait_received(5, qr{^/ok/tls}, timeout => 10);
is(scalar @got, 5, 'events delivered');
is(api(GET => "$REPO/hooks/$hid/deliveries")->{status}, 200,
    'deliveries listed');
cmp_ok(tls_clients(), '>=', 2, 'the module is connected on the TLS port');
ok(wait_log(qr/connected to redis "127\.0\.0\.1:$TLS"/), 'connected logged');

###############################################################################
# A certificate from another CA: refused, never a clear-text fallback.

$t->stop_redis;
$t->start_redis(@TLS, '--tls-cert-file', "$D/fake.crt",
    '--tls-key-file', "$D/fake.key");
$t->redis(ACL => 'SETUSER', 'webhooks', 'on', '>tls-secret', '~*', '&*',
    '+@all');

ok(wait_log(qr/redis "127\.0\.0\.1:$TLS" certificate verify error: \(\d+:/),
    'untrusted certificate: logged');
is_503(api(GET => "$REPO/hooks"), 'untrusted certificate, API');
is_503(event(6), 'untrusted certificate, intake');
no_commands('untrusted certificate');
is(tls_clients(), 0, 'untrusted certificate: no client authenticated');

###############################################################################
# The right CA again, the wrong name.

$t->stop_redis;
$t->start_redis(@TLS, '--tls-cert-file', "$D/server.crt",
    '--tls-key-file', "$D/server.key");
$t->redis(ACL => 'SETUSER', 'webhooks', 'on', '>tls-secret', '~*', '&*',
    '+@all');

{
    my $end = time + 5;
    sleep 0.1 while time < $end
        && (api(GET => "$REPO/hooks")->{status} // 0) != 200;
    is(api(GET => "$REPO/hooks")->{status}, 200,
        'trusted again: recovered without a reload');
}

conf("    webhooks_redis_ssl_trusted_certificate ca.crt;\n$CLIENT"
    . "    webhooks_redis_ssl_name redis.example.com;\n");
$t->reload;

ok(wait_log(qr/certificate does not match "redis\.example\.com"/),
    'wrong name: logged');
is_503(api(GET => "$REPO/hooks"), 'wrong name, API');
no_commands('wrong name');

###############################################################################
# No client certificate for a Redis that wants one.

conf("    webhooks_redis_ssl_trusted_certificate ca.crt;\n"
    . "    webhooks_redis_ssl_name localhost;\n");
$t->reload;
sleep 1;
is_503(api(GET => "$REPO/hooks"), 'no client certificate, API');
is_503(event(7), 'no client certificate, intake');
is(tls_clients(), 0, 'no client certificate: no client authenticated');

###############################################################################
# nginx -t: verify without a CA is a configuration error.

conf('');
my ($rc, $out) = $t->nginx_test;
isnt($rc, 0, 'verify without a trusted certificate: nginx -t fails');
like($out, qr/no "webhooks_redis_ssl_trusted_certificate"/, '... and says why');

conf("    webhooks_redis_ssl_trusted_certificate ca.crt;\n$CLIENT");
$t->reload;
{
    my $end = time + 5;
    sleep 0.1 while time < $end
        && (api(GET => "$REPO/hooks")->{status} // 0) != 200;
    is(api(GET => "$REPO/hooks")->{status}, 200, 'back to a good config');
}

###############################################################################
# Addresses and names that read as hex digits are told apart without a
# crash: an address gets no SNI and is checked as an IP name, "db" as a
# name (verify off: the connection works either way).

for my $name ('::1', 'db', '127.0.0.1') {
    conf("    webhooks_redis_ssl_verify off;\n$CLIENT"
        . "    webhooks_redis_ssl_name $name;\n");
    $t->reload;
    my $end = time + 5;
    sleep 0.1 while time < $end
        && (api(GET => "$REPO/hooks")->{status} // 0) != 200;
    is(api(GET => "$REPO/hooks")->{status}, 200, "ssl name $name, verify off");
}
unlike($t->read_file('error.log'), qr/exited on signal/,
    'no worker crashed');

conf("    webhooks_redis_ssl_trusted_certificate ca.crt;\n$CLIENT");
$t->reload;

###############################################################################
# Sentinel over TLS: a sentinel on a TLS port only, watching the master by
# its TLS port; the module finds the master through it, both verified.

my $SP = $t->port(6);
$t->write_file('sentinel.conf', <<"EOF");
port 0
tls-port $SP
bind 127.0.0.1
daemonize no
dir $D
logfile $D/sentinel.log
tls-cert-file $D/server.crt
tls-key-file $D/server.key
tls-ca-cert-file $D/ca.crt
tls-replication yes
tls-auth-clients no
sentinel monitor mymaster 127.0.0.1 $TLS 1
EOF
$t->run_daemon('redis-server', "$D/sentinel.conf", '--sentinel');
ok($t->waitforsocket("127.0.0.1:$SP"), 'a sentinel on a TLS port');

(my $sconf = $CONF) =~ s/webhooks_redis_pass\s+127\.0\.0\.1:%%PORT_2%%;/webhooks_redis_sentinel mymaster 127.0.0.1:$SP;/;
$sconf =~ s/%%TLS%%/    webhooks_redis_ssl_trusted_certificate ca.crt;\n$CLIENT/;
$t->nginx_conf($sconf);
$t->reload;
{
    my $r;
    my $end = time + 10;
    do {
        $r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/s" },
            events => ['push'] });
    } while (($r->{status} // 0) != 201 && time < $end && sleep 0.2);
    is($r->{status}, 201, 'sentinel over TLS: a write') or diag($r->{raw});
    is(event(8)->{status}, 202, 'sentinel over TLS: an event taken in');
    my @got = $t->wait_received(1, qr{^/ok/s}, timeout => 10);
    is(scalar @got, 1, 'sentinel over TLS: delivered');
    like($t->read_file('error.log'),
        qr/redis sentinel "127\.0\.0\.1:$SP": master "mymaster" is 127\.0\.0\.1:$TLS/,
        'sentinel over TLS: the master named');
}

$t->log_ok(undef, allow => qr/SSL_do_handshake|SSL_read|SSL_write/);

done_testing;
