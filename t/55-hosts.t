#!/usr/bin/perl

# Numeric hosts, read as the WHATWG URL standard (and so curl, browsers
# and every URL library) reads them: "2130706433", "0x7f000001",
# "017700000001", "0177.0.0.1", "127.1", "0" and "127.0.0.1." are IPv4
# addresses.  A hook URL or hub callback with one is kept with the dotted
# quad it means, checked against the rules as that address and delivered
# to it without DNS; a host that ends in a number but is no address is a
# 422.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;
my ($RPORT) = $RCV =~ /:(\d+)$/;

# Every block of IANA's IPv4 and IPv6 Special-Purpose Address Registries
# that is not globally reachable, and multicast: [address, reason].
my @BLOCKS = (
    [ '0.1.2.3', 'an unspecified address' ],
    [ '10.1.2.3', 'a private address' ],
    [ '100.64.1.2', 'a carrier-grade NAT address' ],
    [ '127.0.0.2', 'a loopback address' ],
    [ '169.254.169.254', 'a link-local address' ],
    [ '172.16.1.2', 'a private address' ],
    [ '192.0.0.8', 'a reserved address' ],
    [ '192.0.0.170', 'a reserved address' ],
    [ '192.0.2.1', 'a documentation address' ],
    [ '192.88.99.1', 'a 6to4 relay address' ],
    [ '192.168.1.2', 'a private address' ],
    [ '198.18.0.1', 'a benchmarking address' ],
    [ '198.19.255.1', 'a benchmarking address' ],
    [ '198.51.100.1', 'a documentation address' ],
    [ '203.0.113.1', 'a documentation address' ],
    [ '224.0.0.251', 'a multicast address' ],
    [ '240.0.0.1', 'a reserved address' ],
    [ '255.255.255.255', 'a reserved address' ],
    [ '::', 'an unspecified address' ],
    [ '::1', 'a loopback address' ],
    [ '::a00:1', 'an IPv4-compatible address' ],
    [ '::ffff:0:7f00:1', 'an IPv4-translated address' ],
    [ '::ffff:127.0.0.1', 'a loopback address' ],
    [ '64:ff9b::a9fe:a9fe', 'a NAT64 address' ],
    [ '64:ff9b:1::1', 'a NAT64 address' ],
    [ '100::1', 'a discard address' ],
    [ '100:0:0:1::1', 'a dummy address' ],
    [ '2001::1', 'a Teredo address' ],
    [ '2001:1::1', 'an IETF protocol assignment address' ],
    [ '2001:2::1', 'a benchmarking address' ],
    [ '2001:3::1', 'an IETF protocol assignment address' ],
    [ '2001:10::1', 'an ORCHID address' ],
    [ '2001:20::1', 'an ORCHID address' ],
    [ '2001:1ff::1', 'an IETF protocol assignment address' ],
    [ '2001:db8::1', 'a documentation address' ],
    [ '2002:a9fe:a9fe::1', 'a 6to4 address' ],
    [ '3fff::1', 'a documentation address' ],
    [ '3fff:fff::1', 'a documentation address' ],
    [ '5f00::1', 'a segment routing address' ],
    [ 'fc00::1', 'a private address' ],
    [ 'fd00::1', 'a private address' ],
    [ 'fe80::1', 'a link-local address' ],
    [ 'fec0::1', 'a site-local address' ],
    [ 'ff02::1', 'a multicast address' ],
);

my %zone = ('good.test' => [ ['127.0.0.1'] ]);
$zone{"block$_.test"} = [ [ $BLOCKS[$_][0] ] ] for 0 .. $#BLOCKS;
my $DNS = $t->start_dns(\%zone);

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
            proxy_connect_timeout 2s;
            proxy_read_timeout    5s;
        }

        location = /hub {
            webhooks_hub   on;
            webhooks_login \$webhooks_demo_login;
            webhooks_admin \$webhooks_demo_admin;
        }

        location / {
            %%DEMO_API%%
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

sub refused {
    my ($url, $why) = @_;
    my $r = create('octo-org/refused', $url);
    is($r->{status}, 422, "$url: 422") or diag($r->{raw});
    is_deeply($r->{json} && $r->{json}{errors}, [ { resource => 'Hook',
        code => 'custom', message => $why } ], "$url: $why")
        or diag($r->{raw});
}

sub hub {
    my ($callback) = @_;
    my $body = join '&', 'hub.mode=subscribe',
        'hub.topic=https://github.com/octo-org/hubbed/events/push',
        "hub.callback=$callback";
    return $t->http(POST => '/hub', body => $body, headers => {
        Authorization => "token $TOK",
        'Content-Type' => 'application/x-www-form-urlencoded' });
}

sub last_delivery {
    my ($repo, $id) = @_;
    my $end = time + 15;
    my $list;
    while (time < $end) {
        $list = api(GET => "/repos/$repo/hooks/$id/deliveries")->{json};
        last if ref $list eq 'ARRAY' && @$list
            && $list->[0]{status} ne 'queued';
        sleep 0.1;
    }
    return ref $list eq 'ARRAY' ? $list->[0] : undef;
}

my $INVALID = "The URL you've entered is not valid. Please make sure that "
    . 'you encode all special characters first';

sub loopback {
    "url is not supported because it isn't reachable over the public "
        . "Internet ($_[0] is a loopback address)";
}

###############################################################################
# The built-in list: every form of a loopback address is the loopback
# address, and refused as it.

conf('');

for my $host ('2130706433', '0x7f000001', '0X7F000001', '0x7f.0.0.1',
    '017700000001', '0177.0.0.1', '127.1', '127.0.1', '0x7f.1',
    '127.0.0.1.', '0177.0x0.0.01', '127.000.000.001')
{
    refused("http://$host/", loopback('127.0.0.1'));
}
refused('http://0/', "url is not supported because it isn't reachable "
    . 'over the public Internet (0.0.0.0 is an unspecified address)');
refused('http://0x0a.1/', "url is not supported because it isn't "
    . 'reachable over the public Internet (10.0.0.1 is a private address)');
refused('http://2852039166/', "url is not supported because it isn't "
    . 'reachable over the public Internet (169.254.169.254 is a link-local '
    . 'address)');

# ends in a number, but no address: not valid, not a name to resolve
for my $host ('1.2.3.256', '1.2.3.4.5', '4294967296', '0x100000000',
    '256.1', '09.1.2.3', '08', 'example.123', 'example.0x7f',
    '1..2', '0xg.1')
{
    refused("http://$host/", $INVALID);
}

# public ones are kept as the dotted quad
for my $c ([ '134744072', '8.8.8.8' ], [ '0x8.0x8.0x4.0x4', '8.8.4.4' ],
    [ '010.010.010.010', '8.8.8.8' ], [ '8.8.8.8.', '8.8.8.8' ],
    [ '8.8.8.8', '8.8.8.8' ])
{
    my ($host, $quad) = @$c;
    my $r = create('octo-org/public', "https://$host:8443/$host?q=1#f");
    is($r->{status}, 201, "$host: 201") or diag($r->{raw});
    is($r->{json} && $r->{json}{config}{url},
        "https://$quad:8443/$host?q=1#f", "$host: kept as $quad");
}

# the same address in another form is the same hook
{
    my $r = create('octo-org/public', 'https://0x08080808:8443/8.8.8.8?q=1#f');
    is($r->{status}, 422, '0x08080808: the hook of 8.8.8.8 already exists');
}

# names that end in something else stay names (checked when sent)
for my $host ('0x7f.example', '127.0.0.1.example', 'a1', '1.0xz') {
    my $r = create('octo-org/public', "https://$host/");
    is($r->{status}, 201, "$host: a name, 201") or diag($r->{raw});
    is($r->{json} && $r->{json}{config}{url}, "https://$host/",
        "$host: kept as written");
}

# the hub: a numeric loopback callback is refused, an invalid one too
{
    my $r = hub('http%3A%2F%2F0x7f000001%2Fhook');
    is($r->{status}, 422, 'hub: 0x7f000001 is a 422') or diag($r->{raw});
    like($r->{body}, qr/127\.0\.0\.1 is a loopback address/,
        'hub: as 127.0.0.1');
    $r = hub('http%3A%2F%2F1.2.3.256%2Fhook');
    is($r->{status}, 422, 'hub: 1.2.3.256 is a 422') or diag($r->{raw});
    is(scalar @{ api(GET => '/repos/octo-org/hubbed/hooks')->{json} }, 0,
        'hub: nothing subscribed');
}

# PATCH of the config takes the same reading
{
    my $r = create('octo-org/upd', 'https://example.com/');
    my $id = $r->{json}{id};
    $r = api(PATCH => "/repos/octo-org/upd/hooks/$id/config",
        { url => 'http://0x7f.1/' });
    is($r->{status}, 422, 'PATCH to 0x7f.1: 422');
    $r = api(PATCH => "/repos/octo-org/upd/hooks/$id",
        { config => { url => 'http://134744072/' } });
    is($r->{json} && $r->{json}{config}{url}, 'http://8.8.8.8/',
        'PATCH to 134744072: kept as 8.8.8.8');
}

###############################################################################
# The registries: each block refused as a literal, and blocked when a
# name resolves to it.  Just outside the blocks is public.

for my $b (@BLOCKS) {
    my ($addr, $why) = @$b;
    my $host = $addr =~ /:/ ? "[$addr]" : $addr;
    refused("http://$host/", "url is not supported because it isn't "
        . "reachable over the public Internet ($addr is $why)");
}

for my $addr ('2001:200::1', '3fff:1000::1', '5f01::1', '100:0:0:2::1',
    '2606:4700:4700::1111', '198.20.0.1', '192.0.3.1', '223.255.255.1')
{
    my $host = $addr =~ /:/ ? "[$addr]" : $addr;
    my $r = create('octo-org/public2', "https://$host/");
    is($r->{status}, 201, "$addr: public, 201") or diag($r->{raw});
}

{
    my @ids;
    for my $i (0 .. $#BLOCKS) {
        my $r = create("octo-org/names$i", "http://block$i.test:$RPORT/b$i");
        is($r->{status}, 201, "block$i.test: a name, 201") or diag($r->{raw});
        push @ids, $r->{json}{id};
        api(POST => "/repos/octo-org/names$i/hooks/$ids[$i]/pings");
    }
    for my $i (0 .. $#BLOCKS) {
        my ($addr, $why) = @{ $BLOCKS[$i] };
        my $dl = last_delivery("octo-org/names$i", $ids[$i]);
        like($dl && $dl->{status},
            qr/^Blocked: block$i\.test resolves to \S+, \Q$why\E$/,
            "block$i.test ($addr): blocked as $why");
    }
    ok(!$t->received(qr{^/b\d}), 'nothing reached the receiver');
}

###############################################################################
# Loopback allowed: every form is delivered to 127.0.0.1, without DNS.

conf('    webhooks_delivery_allow 127.0.0.1;');


my $n = 0;
for my $host ('2130706433', '0x7f000001', '017700000001', '0177.0.0.1',
    '127.1', '0x7f.0.0.1', '127.0.0.1.')
{
    $n++;
    my $r = create('octo-org/loop', "http://$host:$RPORT/form$n");
    is($r->{status}, 201, "$host: allowed, 201") or diag($r->{raw});
    my $id = $r->{json}{id};
    is($r->{json}{config}{url}, "http://127.0.0.1:$RPORT/form$n",
        "$host: kept as 127.0.0.1");
    api(POST => "/repos/octo-org/loop/hooks/$id/pings");
    my ($got) = $t->wait_received(1, "/form$n");
    ok($got, "$host: delivered to 127.0.0.1");
    is($got && $got->{headers}{host}, "127.0.0.1:$RPORT",
        "$host: Host is the address");
    is(last_delivery('octo-org/loop', $id)->{status}, 'OK', "$host: OK");
}

ok(!grep({ !/^(?:good|block\d+)\.test/ } $t->dns_queries),
    'no numeric host went to DNS')
    or diag(explain([ $t->dns_queries ]));

# a hub callback in another form is the same subscription
{
    my $r = hub("http%3A%2F%2F2130706433%3A$RPORT%2Fhub");
    is($r->{status}, 204, 'hub: 2130706433 subscribed') or diag($r->{raw});
    $r = hub("http%3A%2F%2F127.1%3A$RPORT%2Fhub");
    is($r->{status}, 204, 'hub: 127.1 subscribed') or diag($r->{raw});
    my $l = api(GET => '/repos/octo-org/hubbed/hooks')->{json};
    is(scalar @$l, 1, 'hub: one hook for both forms');
    is($l->[0]{config}{url}, "http://127.0.0.1:$RPORT/hub",
        'hub: kept as 127.0.0.1');
}

$t->stop;
$t->log_ok('no alerts or sanitizer reports');

done_testing;
