#!/usr/bin/perl

# webhooks_delivery_peer: a delivery location's upstream that sends each
# delivery to the address its hook was checked to, and keeps the
# connection for the next delivery there: for the same address and
# location only, and over TLS for the same hook host only.  Idle ones
# the receiver closes are not used again; without keepalive= none is
# kept; the block takes no server, no "keepalive", and no request but a
# delivery.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;

my $d = $t->testdir;
my $cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    . " -nodes -keyout $d/recv.key -out $d/recv.crt -days 2 -subj /CN=a.test";
system("$cmd >/dev/null 2>&1") == 0 or plan(skip_all => "openssl failed");

$t->start_redis;
my $DNS = $t->start_dns({ 'a.test' => [ ['127.0.0.1'] ],
                          'b.test' => [ ['127.0.0.1'] ] });
my $HTTP = $t->port(2);
my $TLS = $t->port(3);
my $TOK = 'demo-owner';

# $1: webhooks_delivery_peer's parameters; $2: the receivers' keepalive
sub conf {
    my ($peer, $keepalive) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF", workers => 1);
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_delivery_retry off;

    upstream webhooks_delivery {
        webhooks_delivery_peer $peer;
    }

    log_format peer '\$connection \$connection_requests \$http_host '
                    '\$request_uri \$http_x_github_event';

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location          /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver-insecure;

        resolver         127.0.0.1:$DNS valid=1s;
        resolver_timeout 2s;

        location /_webhooks/deliver {
            internal;
            proxy_pass \$webhooks_delivery_scheme://webhooks_delivery\$webhooks_delivery_uri;
            proxy_http_version 1.1;
            proxy_set_header   Connection "";
            proxy_set_header   Host \$webhooks_delivery_host;
            proxy_ssl_name     \$webhooks_delivery_host;
            proxy_ssl_server_name on;
            proxy_read_timeout 5s;
        }

        location /_webhooks/deliver-insecure {
            internal;
            proxy_pass \$webhooks_delivery_scheme://webhooks_delivery\$webhooks_delivery_uri;
            proxy_http_version 1.1;
            proxy_set_header   Connection "";
            proxy_set_header   Host \$webhooks_delivery_host;
            proxy_ssl_name     \$webhooks_delivery_host;
            proxy_ssl_server_name on;
            proxy_ssl_verify   off;
            proxy_read_timeout 5s;
        }

        # not a delivery: refused
        location = /not-a-delivery {
            proxy_pass http://webhooks_delivery/x;
        }

        %%EVENTS_LOCATION%%

        location / {
            %%DEMO_API%%
        }
    }

    # the receivers, logging which connection brought what
    server {
        listen 127.0.0.1:$HTTP;
        listen 127.0.0.1:$TLS ssl;
        ssl_certificate     %%TESTDIR%%/recv.crt;
        ssl_certificate_key %%TESTDIR%%/recv.key;
        keepalive_timeout   $keepalive;
        location / {
            access_log %%TESTDIR%%/peer.log peer;
            return 204;
        }
    }
EOF
    $t->run;
    mark();
}

# arrivals count from here (nginx keeps the log open: never unlinked)
my $mark = 0;
sub mark { $mark = length $t->read_file('peer.log') }
sub logged { substr($t->read_file('peer.log'), $mark) }

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

my $n = 0;

sub hook {
    my ($url, %config) = @_;
    my $repo = 'peer/r' . ++$n;
    my $r = api(POST => "/repos/$repo/hooks",
        { config => { url => $url, content_type => 'json', %config },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $repo;
}

# what the receivers logged: [connection, its request number, Host, URI,
# event], of pushes only
sub arrivals {
    my @a = map { [ split / / ] }
        grep { / push$/ } split /\n/, logged();
    return \@a;
}

# one push to each repo in turn, each delivered before the next is sent
sub pushes {
    my ($rounds, @repos) = @_;
    for (1 .. $rounds) {
        for my $repo (@repos) {
            my $want = @{ arrivals() } + 1;
            my $r = $t->http(POST => '/_webhooks/events',
                headers => { 'Content-Type' => 'application/json',
                             'X-GitHub-Event' => 'push' },
                body => encode_json({ ref => 'refs/heads/main',
                    repository => { full_name => $repo } }));
            is($r->{status}, 202, "push to $repo taken in")
                or diag($r->{raw});
            # the access log is written once the response is
            $t->wait_for(sub { @{ arrivals() } >= $want }, 10)
                or diag("push to $repo not delivered");
        }
    }
    return arrivals();
}

sub conns { my %c = map { $_->[0] => 1 } @_; return scalar keys %c }

###############################################################################

conf('keepalive=8', '60s');

# one hook, plain HTTP: to its path and query, over one connection
my $one = hook("http://127.0.0.1:$HTTP/one?x=1");
my $a = pushes(5, $one);
is(scalar @$a, 5, 'five pushes arrived');
is_deeply([ map { $_->[3] } @$a ], [ ('/one?x=1') x 5 ],
    'each to the hook URL\'s path and query');
is_deeply([ map { $_->[2] } @$a ], [ ("127.0.0.1:$HTTP") x 5 ],
    'each with the hook\'s Host');
is(conns(@$a), 1, 'all five over one kept connection');
is_deeply([ map { $_->[1] } @$a ], [ 1 .. 5 ], 'its requests 1 to 5');

# two locations, one address: never one connection
mark();
my $sec = hook("http://127.0.0.1:$HTTP/secure");
my $ins = hook("http://127.0.0.1:$HTTP/insecure", insecure_ssl => '1');
$a = pushes(3, $sec, $ins);
my (%by);
for (@$a) { $by{ $_->[3] }{ $_->[0] } = 1 }
ok(!grep({ $by{'/insecure'}{$_} } keys %{ $by{'/secure'} }),
    'the secure and the insecure location keep apart connections')
    or diag(explain($a));
is(scalar keys %{ $by{'/secure'} }, 1, 'the secure one kept one');
is(scalar keys %{ $by{'/insecure'} }, 1, 'the insecure one kept one');

# TLS, one address, two hosts: a connection made for a.test never takes
# a delivery to b.test
mark();
my $ta = hook("https://a.test:$TLS/a", insecure_ssl => '1');
my $tb = hook("https://b.test:$TLS/b", insecure_ssl => '1');
$a = pushes(3, $ta, $tb);
%by = ();
for (@$a) { $by{ $_->[0] }{ $_->[2] } = 1 }
ok(!grep({ keys %{ $by{$_} } > 1 } keys %by),
    'over TLS no connection carried two hosts') or diag(explain($a));
is(conns(grep { $_->[2] eq "a.test:$TLS" } @$a), 1,
    'a.test\'s three over one connection');
is(conns(grep { $_->[2] eq "b.test:$TLS" } @$a), 1,
    'b.test\'s three over another');
is(conns(@$a), 2, 'two connections in all');

# plain HTTP to two hosts at one address may share one
mark();
my $pa = hook("http://a.test:$HTTP/pa");
my $pb = hook("http://b.test:$HTTP/pb");
$a = pushes(2, $pa, $pb);
is(conns(@$a), 1, 'plain HTTP: two hosts at one address, one connection');
is_deeply([ map { $_->[2] } @$a ],
    [ ("a.test:$HTTP", "b.test:$HTTP") x 2 ], 'each with its own Host');

# a receiver that refuses: one attempt, recorded, no second connect
my $CLOSED = $t->port(7);
my $refused = hook("http://127.0.0.1:$CLOSED/refused");
my $r = $t->http(POST => '/_webhooks/events',
    headers => { 'Content-Type' => 'application/json',
                 'X-GitHub-Event' => 'push' },
    body => encode_json({ ref => 'refs/heads/main',
        repository => { full_name => $refused } }));
is($r->{status}, 202, 'a push to a closed port taken in');
my $hid = api(GET => "/repos/$refused/hooks")->{json}[0]{id};
my $dl = $t->wait_for(sub {
    my $l = api(GET => "/repos/$refused/hooks/$hid/deliveries")->{json};
    return ref $l eq 'ARRAY' && @$l ? $l : undef }, 10);
is($dl && $dl->[0]{status}, 'failed to connect to host',
    'recorded as failed to connect') or diag(explain($dl));
sleep 0.5;
my @tries = grep { /connect\(\) failed.*:$CLOSED\b/ }
    split /\n/, $t->read_file('error.log');
is(scalar @tries, 1, 'after one connect, not another') or diag("@tries");

# not a delivery
$r = $t->http(GET => '/not-a-delivery');
is($r->{status}, 500, 'a request that is no delivery: 500');
like($t->read_file('error.log'), qr/takes deliveries only/,
    'and why, in error.log');

$t->log_ok;

###############################################################################

# a receiver that closes idle connections after 1 s: the next delivery
# goes over a new one, and arrives
conf('keepalive=8 keepalive_timeout=30s', '1s');
my $late = hook("http://127.0.0.1:$HTTP/late");
pushes(1, $late);
sleep 1.5;
$a = pushes(1, $late);
is(scalar @$a, 2, 'a delivery after the receiver closed the kept one');
isnt($a->[0][0], $a->[1][0], 'went over a new connection');
$r = api(GET => "/repos/$late/hooks");
$hid = $r->{json}[0]{id};
$r = api(GET => "/repos/$late/hooks/$hid/deliveries");
is_deeply([ map { $_->{status_code} } @{ $r->{json} } ], [ 204, 204 ],
    'it and the one before: 204, none failed')
    or diag($r->{raw});
$t->log_ok;

###############################################################################

# without keepalive=, none is kept
conf('', '60s');
my $none = hook("http://127.0.0.1:$HTTP/none");
$a = pushes(3, $none);
is(conns(@$a), 3, 'without keepalive=: a connection per delivery');
is_deeply([ map { $_->[1] } @$a ], [ 1, 1, 1 ], 'one request each');
$t->log_ok;
$t->stop;

###############################################################################

# what the block refuses
sub refused {
    my ($block, $re, $name) = @_;
    $t->nginx_conf(<<"EOF");
    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    upstream webhooks_delivery {
$block
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { proxy_pass http://webhooks_delivery; }
    }
EOF
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "nginx -t refuses $name");
    like($out, $re, "and says why: $name");
}

refused("webhooks_delivery_peer;\n server 127.0.0.1:1;",
    qr/takes no "server"/, 'a server');
refused("webhooks_delivery_peer keepalive=8;\n keepalive 8;",
    qr/cannot go with "keepalive"/, 'nginx\'s keepalive');
refused("keepalive 8;\n webhooks_delivery_peer keepalive=8;",
    qr/cannot go with "keepalive"/, 'nginx\'s keepalive before it');
refused("webhooks_delivery_peer keepalive=8;\n zone peers 64k;",
    qr/cannot go with "zone"/, 'a zone');
refused('webhooks_delivery_peer keepalive=0;',
    qr/invalid parameter "keepalive=0"/, 'keepalive=0');
refused('webhooks_delivery_peer keepalive_timeout=soon;',
    qr/invalid parameter "keepalive_timeout=soon"/, 'a bad timeout');
refused("webhooks_delivery_peer;\n webhooks_delivery_peer;",
    qr/is duplicate/, 'two of it');

done_testing;
