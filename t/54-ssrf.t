#!/usr/bin/perl

# Where deliveries may go.  The module resolves a hook's host itself,
# checks every address against webhooks_delivery_allow/deny and the
# built-in deny list (loopback, private, link-local and cloud metadata,
# carrier-grade NAT, multicast, reserved, and the IPv6 forms of all of
# them), and connects to the address it checked: a name that changes
# its answer between two lookups cannot redirect a delivery.  Literal
# addresses that are denied are a 422 at create and update; names are
# checked when delivered.  Redirects are never followed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
my $d = $t->testdir;

# A CA, and a certificate it signed for tls.test only: a delivery to
# https://tls.test verifies only if TLS uses the name, not the address.
for my $cmd (
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        . " -nodes -keyout $d/ca.key -out $d/ca.crt -days 2 -subj /CN=test-ca",
    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        . " -nodes -keyout $d/tls.key -out $d/tls.csr -subj /CN=tls.test",
    "printf 'subjectAltName=DNS:tls.test\\n' > $d/tls.ext",
    "openssl x509 -req -in $d/tls.csr -CA $d/ca.crt -CAkey $d/ca.key"
        . " -CAcreateserial -out $d/tls.crt -days 2 -extfile $d/tls.ext")
{
    system("$cmd >/dev/null 2>&1") == 0
        or plan(skip_all => "openssl failed: $cmd");
}

$t->start_redis;
my $RCV = $t->start_receiver;
my ($RPORT) = $RCV =~ /:(\d+)$/;

# Something listening on 127.0.0.2 at the receiver's port: what a
# rebinding attack would reach.  It must never be connected to.
my $victim = IO::Socket::INET->new(LocalAddr => "127.0.0.2:$RPORT",
    Listen => 16, ReuseAddr => 1, Proto => 'tcp')
    or plan(skip_all => "cannot listen on 127.0.0.2: $!");
$victim->blocking(0);

my $DNS = $t->start_dns({
    'good.test'    => [ ['127.0.0.1'] ],
    'tls.test'     => [ ['127.0.0.1'] ],
    'private.test' => [ ['10.0.0.1'] ],
    'meta.test'    => [ ['169.254.169.254'] ],
    'cgnat.test'   => [ ['100.64.1.1'] ],
    'mixed.test'   => [ ['127.0.0.1', '192.168.1.1'] ],
    'loop6.test'   => [ ['::1'] ],
    'mapped.test'  => [ ['::ffff:169.254.169.254'] ],
    'nat64.test'   => [ ['64:ff9b::a9fe:a9fe'] ],
    'teredo.test'  => [ ['2001:0:4136:e378:8000:63bf:3fff:fdd2'] ],
    'ula.test'     => [ ['fd00::1'] ],
    # the first lookup gets an allowed address, the next a denied one
    'rebind.test'  => [ ['127.0.0.1'], ['127.0.0.2'] ],
});

my $TOK = 'demo-owner';

sub conf {
    my ($rules) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_retry off;
$rules

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        resolver         127.0.0.1:$DNS valid=1s;
        resolver_timeout 2s;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name                \$webhooks_delivery_host;
            proxy_ssl_server_name         on;
            proxy_ssl_verify              on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/ca.crt;
            proxy_connect_timeout         2s;
            proxy_read_timeout            5s;
        }

        %%EVENTS_LOCATION%%

        location = /hub {
            webhooks_hub   on;
            webhooks_login \$webhooks_demo_login;
            webhooks_admin \$webhooks_demo_admin;
        }

        location / {
            %%DEMO_API%%
        }
    }

    # HTTPS for tls.test, the receiver behind it; it tells the name the
    # client asked for in SNI.
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
        ssl_certificate     %%TESTDIR%%/tls.crt;
        ssl_certificate_key %%TESTDIR%%/tls.key;
        location / {
            proxy_set_header X-Test-SNI  \$ssl_server_name;
            proxy_set_header X-Test-Host \$http_host;
            proxy_pass http://127.0.0.1:$RPORT;
        }
    }
EOF
    $t->run;
}

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub create {
    my ($repo, $url) = @_;
    return api(POST => "/repos/$repo/hooks",
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
}

sub hook {
    my ($repo, $url) = @_;
    my $r = create($repo, $url);
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub refused {
    my ($url, $why, $r) = @_;
    $r //= create('octo-org/refused', $url);
    is($r->{status}, 422, "$url: 422") or diag($r->{raw});
    my $j = $r->{json} || {};
    is($j->{message}, 'Validation Failed', "$url: Validation Failed");
    is_deeply($j->{errors}, [ { resource => 'Hook', code => 'custom',
        message => $why } ], "$url: the reason") or diag($r->{raw});
    like($j->{documentation_url} // '', qr{^https://docs\.github\.com/},
        "$url: documentation_url");
}

sub public {
    my ($url, $what) = @_;
    refused($url, "url is not supported because it isn't reachable over "
        . "the public Internet ($what)");
}

# The newest delivery of a hook, once there is one with a status.
sub last_delivery {
    my ($repo, $id, $n) = @_;
    $n //= 1;
    my $end = time + 15;
    my $list;
    while (time < $end) {
        $list = api(GET => "/repos/$repo/hooks/$id/deliveries")->{json};
        last if ref $list eq 'ARRAY' && @$list >= $n
            && $list->[0]{status} ne 'queued';
        sleep 0.1;
    }
    return ref $list eq 'ARRAY' ? $list->[0] : undef;
}

sub ping {
    my ($repo, $id) = @_;
    my $r = api(POST => "/repos/$repo/hooks/$id/pings");
    is($r->{status}, 204, "hook $id pinged") or diag($r->{raw});
}

sub victim_untouched {
    my ($name) = @_;
    my $c = $victim->accept;
    ok(!$c, "$name: nothing connected to 127.0.0.2");
}

###############################################################################
# The built-in list alone: every literal address it covers is refused.

conf('');

public('http://127.0.0.1/', '127.0.0.1 is a loopback address');
public('http://127.1.2.3:8080/x', '127.1.2.3 is a loopback address');
public('http://localhost/', 'localhost is a loopback address');
public('http://api.localhost:8080/', 'api.localhost is a loopback address');
public('http://LocalHost./', 'LocalHost. is a loopback address');
public('http://10.1.2.3/', '10.1.2.3 is a private address');
public('http://172.16.0.1/', '172.16.0.1 is a private address');
public('http://172.31.255.255/', '172.31.255.255 is a private address');
public('http://192.168.1.1/', '192.168.1.1 is a private address');
public('http://169.254.169.254/latest/meta-data/',
    '169.254.169.254 is a link-local address');
public('http://100.64.0.1/', '100.64.0.1 is a carrier-grade NAT address');
public('http://100.127.255.254/',
    '100.127.255.254 is a carrier-grade NAT address');
public('http://0.0.0.0/', '0.0.0.0 is an unspecified address');
public('http://224.0.0.1/', '224.0.0.1 is a multicast address');
public('http://255.255.255.255/', '255.255.255.255 is a reserved address');
public('http://[::]/', ':: is an unspecified address');
public('http://[::1]:8080/', '::1 is a loopback address');
public('http://[fe80::1]/', 'fe80::1 is a link-local address');
public('http://[fd12:3456::1]/', 'fd12:3456::1 is a private address');
public('http://[ff02::1]/', 'ff02::1 is a multicast address');
public('http://[::ffff:127.0.0.1]/', '::ffff:127.0.0.1 is a loopback address');
public('http://[::ffff:169.254.169.254]/',
    '::ffff:169.254.169.254 is a link-local address');
public('http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe is a link-local address');
public('http://[::10.0.0.1]/', '::10.0.0.1 is an IPv4-compatible address');
public('http://[64:ff9b::a9fe:a9fe]/', '64:ff9b::a9fe:a9fe is a NAT64 address');
public('http://[2002:a9fe:a9fe::1]/', '2002:a9fe:a9fe::1 is a 6to4 address');
public('http://[2001:0:4136:e378::1]/',
    '2001:0:4136:e378::1 is a Teredo address');

# public addresses and names are taken
hook('octo-org/public', 'http://8.8.4.4/');
hook('octo-org/public', 'https://[2606:4700:4700::1111]/');
hook('octo-org/public', 'https://private.test/');    # checked when sent

# an update to a denied address changes nothing
my $pub = hook('octo-org/upd', 'https://example.com/ok');
public_update: {
    my $r = api(PATCH => "/repos/octo-org/upd/hooks/$pub/config",
        { url => 'http://169.254.169.254/' });
    refused('PATCH config 169.254.169.254', "url is not supported because "
        . "it isn't reachable over the public Internet (169.254.169.254 is "
        . "a link-local address)", $r);
    $r = api(PATCH => "/repos/octo-org/upd/hooks/$pub",
        { config => { url => 'http://[::1]/' } });
    is($r->{status}, 422, 'PATCH hook to [::1]: 422');
    $r = api(GET => "/repos/octo-org/upd/hooks/$pub/config");
    is($r->{json}{url}, 'https://example.com/ok', 'the URL is unchanged');
}

# the hub refuses a denied callback too, and subscribes nothing
hub: {
    my $body = join '&', 'hub.mode=subscribe',
        'hub.topic=https://github.com/octo-org/hubbed/events/push',
        'hub.callback=http%3A%2F%2F10.0.0.7%2Fhook';
    my $r = $t->http(POST => '/hub', body => $body, headers => {
        Authorization => "token $TOK",
        'Content-Type' => 'application/x-www-form-urlencoded' });
    is($r->{status}, 422, 'hub: a private callback is a 422');
    like($r->{body}, qr/10\.0\.0\.7 is a private address/,
        'hub: the reason is given');
    my $l = api(GET => '/repos/octo-org/hubbed/hooks');
    is_deeply($l->{json}, [], 'hub: no hook was made');
}

###############################################################################
# The operator's rules come first: loopback 127.0.0.1 only is allowed,
# which lifts nothing else; a public range is denied; ports restricted.

conf(<<'EOF');
    webhooks_delivery_allow 127.0.0.1;
    webhooks_delivery_deny  8.8.8.0/24 2001:4860::/32;
    webhooks_delivery_ports 80 443 1024-65535;
EOF

hook('octo-org/rules', "$RCV/allowed");
public("http://127.0.0.2:$RPORT/", '127.0.0.2 is a loopback address');
public('http://[::1]/', '::1 is a loopback address');
public('http://10.0.0.1/', '10.0.0.1 is a private address');
public('http://8.8.8.8/', "8.8.8.8 is denied by the server's configuration");
public('http://[2001:4860:4860::8888]/',
    "2001:4860:4860::8888 is denied by the server's configuration");
hook('octo-org/rules', 'http://8.8.4.4/');
refused('http://8.8.4.4:22/', 'url port 22 is not allowed');
refused('https://example.com:1023/', 'url port 1023 is not allowed');
hook('octo-org/rules', 'https://example.com:8443/');

###############################################################################
# Names are resolved by the module and every address is checked.

my $R = 'octo-org/dns';
my %status;

for my $case (
    [ 'private.test', 'Blocked: private.test resolves to 10.0.0.1, '
        . 'a private address' ],
    [ 'meta.test', 'Blocked: meta.test resolves to 169.254.169.254, '
        . 'a link-local address' ],
    [ 'cgnat.test', 'Blocked: cgnat.test resolves to 100.64.1.1, '
        . 'a carrier-grade NAT address' ],
    [ 'mixed.test', 'Blocked: mixed.test resolves to 192.168.1.1, '
        . 'a private address' ],
    [ 'loop6.test', 'Blocked: loop6.test resolves to ::1, '
        . 'a loopback address' ],
    [ 'mapped.test', 'Blocked: mapped.test resolves to '
        . '::ffff:169.254.169.254, a link-local address' ],
    [ 'nat64.test', 'Blocked: nat64.test resolves to 64:ff9b::a9fe:a9fe, '
        . 'a NAT64 address' ],
    [ 'teredo.test', 'Blocked: teredo.test resolves to '
        . '2001:0:4136:e378:8000:63bf:3fff:fdd2, a Teredo address' ],
    [ 'ula.test', 'Blocked: ula.test resolves to fd00::1, '
        . 'a private address' ],
    [ 'nowhere.test', 'failed to resolve host' ],
    # names DNS cannot carry: an empty label, one over 63, over 255 in all
    [ 'a..test', 'failed to resolve host' ],
    [ ('l' x 64) . '.test', 'failed to resolve host' ],
    [ join('.', ('n' x 60) x 5), 'failed to resolve host' ])
{
    my ($name, $want) = @$case;
    my $id = hook($R, "http://$name:$RPORT/$name");
    ping($R, $id);
    my $dl = last_delivery($R, $id);
    is($dl->{status}, $want, "$name: delivery status");
    is($dl->{status_code}, 502, "$name: status code 502");
    ok(!$t->received("/$name"), "$name: nothing reached the receiver");
}

# allowed: delivered with the name in Host
my $good = hook($R, "http://good.test:$RPORT/good");
ping($R, $good);
my ($got) = $t->wait_received(1, '/good');
ok($got, 'good.test: delivered');
is($got->{headers}{host}, "good.test:$RPORT", 'good.test: Host is the name');
is(last_delivery($R, $good)->{status}, 'OK', 'good.test: OK');

# TLS: connected to 127.0.0.1, SNI and verification on tls.test
my $TLS = $t->port(3);
my $tls = hook($R, "https://tls.test:$TLS/tls");
ping($R, $tls);
($got) = $t->wait_received(1, '/tls');
ok($got, 'tls.test: delivered over verified TLS')
    or diag(explain(last_delivery($R, $tls)));
is($got->{headers}{'x-test-sni'}, 'tls.test', 'tls.test: SNI is the name');
is($got->{headers}{'x-test-host'}, "tls.test:$TLS",
    'tls.test: Host is the name');

victim_untouched('names');

###############################################################################
# Rebinding: the name answers 127.0.0.1, then 127.0.0.2.  One lookup per
# delivery, and the connection goes to the address that lookup gave.

my $rb = hook($R, "http://rebind.test:$RPORT/rebind");
my @seen;
for my $i (1 .. 4) {
    my @before = grep { /^rebind\.test A$/ } $t->dns_queries;
    ping($R, $rb);
    my $dl = last_delivery($R, $rb, $i);
    push @seen, $dl->{status};
    my @after = grep { /^rebind\.test A$/ } $t->dns_queries;
    is(@after - @before, 1, "rebind try $i: one lookup for the delivery");
    sleep 2.1;    # past the resolver's cache: valid=1s, whole seconds
}
is_deeply(\@seen, [ 'OK', 'Blocked: rebind.test resolves to 127.0.0.2, '
    . 'a loopback address', 'OK', 'Blocked: rebind.test resolves to '
    . '127.0.0.2, a loopback address' ],
    'rebind: the allowed answer delivered, the denied one blocked')
    or diag(explain(\@seen));
is(scalar $t->received('/rebind'), 2, 'rebind: two reached the receiver');
victim_untouched('rebind');

###############################################################################
# Redirects are not followed: a 302 is the receiver's answer.

my $redir = hook($R, "$RCV/status/302/r?location="
    . "http://127.0.0.2:$RPORT/elsewhere");
ping($R, $redir);
my $dl = last_delivery($R, $redir);
is($dl->{status}, 'Invalid HTTP Response: 302', 'redirect: a failure');
$t->wait_received(1, '/status/302/r');
sleep 0.3;
is(scalar $t->received('/status/302/r'), 1, 'redirect: one request');
ok(!$t->received('/elsewhere'), 'redirect: the target was not requested');
victim_untouched('redirect');

###############################################################################
# Rules apply when sent too: a hook made before the rules changed.

conf(<<'EOF');
    webhooks_delivery_allow 127.0.0.1;
    webhooks_delivery_ports 80 443;
EOF

ping($R, $good);
is(last_delivery($R, $good, 2)->{status},
    "Blocked: port $RPORT is not allowed", 'a port no longer allowed');

conf('');
my ($allowed) = grep { $_->{config}{url} eq "$RCV/allowed" }
    @{ api(GET => '/repos/octo-org/rules/hooks')->{json} };
ping('octo-org/rules', $allowed->{id});
is(last_delivery('octo-org/rules', $allowed->{id})->{status},
    'Blocked: 127.0.0.1 is a loopback address',
    'a literal address no longer allowed');
ok(!$t->received('/allowed'), 'and nothing was sent');

$t->stop;
$t->log_ok('no alerts or sanitizer reports');

done_testing;
