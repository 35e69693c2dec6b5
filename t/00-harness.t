#!/usr/bin/perl

# Tests of the test harness itself: redis, nginx without the module, HTTP
# client and schema checks.

use strict;
use warnings;

use FindBin;
use IO::Socket::INET;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new;

isnt($t->port(0), $t->port(1), 'distinct ports');
is($t->port(1), $t->redis_port, 'redis on port 1');

# Redis, and AOF across a restart.

$t->start_redis;
is($t->redis(SET => 'a', '1'), 'OK', 'redis SET');
is($t->redis(GET => 'a'), '1', 'redis GET');
is($t->redis(GET => 'missing'), undef, 'redis nil');
$t->redis(RPUSH => 'l', 'x', "\x{263a}");    # wide: sent as UTF-8
is_deeply(scalar $t->redis(LRANGE => 'l', 0, -1), ['x', "\xe2\x98\xba"],
    'redis array');
is($t->redis(INCR => 'n'), 1, 'redis integer');

my ($res, $err) = $t->redis(INCR => 'a', 'b');
like($err, qr/^ERR/, 'redis error in list context');
ok(!eval { $t->redis('NOSUCHCOMMAND'); 1 }, 'redis error dies');

$t->stop_redis;
ok(!eval { $t->redis('PING'); 1 }, 'redis stopped');
$t->restart_redis;
is($t->redis(GET => 'a'), '1', 'AOF kept the key');

# nginx without the module.

$t->write_file_expand('nginx.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
pid %%TESTDIR%%/nginx.pid;

events {}

http {
    access_log off;
    client_body_temp_path %%TESTDIR%%/client_body_temp;
    proxy_temp_path %%TESTDIR%%/proxy_temp;
    fastcgi_temp_path %%TESTDIR%%/fastcgi_temp;
    uwsgi_temp_path %%TESTDIR%%/uwsgi_temp;
    scgi_temp_path %%TESTDIR%%/scgi_temp;

    server {
        listen 127.0.0.1:%%PORT%%;
        default_type application/json;

        location = /ok { return 200 '{"ok":true}'; }
        location = /echo {
            add_header X-Multi a;
            add_header X-Multi b;
            return 201 '{"auth":"$http_authorization","ct":"$content_type"}';
        }
        # sub_filter drops Content-Length: the reply comes chunked.
        location = /chunked {
            proxy_pass http://127.0.0.1:%%PORT%%/ok;
            sub_filter_types application/json;
            sub_filter true false;
        }
    }
}
EOF

my ($code, $out) = $t->nginx_test;
is($code, 0, 'nginx -t') or diag($out);
$t->run;

my $r = $t->http(GET => '/ok');
is($r->{status}, 200, 'http status');
ok($r->{json} && $r->{json}{ok}, 'http json');
is($r->{headers}{'content-type'}, 'application/json', 'http header');

$r = $t->api(POST => '/echo', 'demo-owner', { a => 1 });
is($r->{status}, 201, 'api status');
is($r->{json}{auth}, 'token demo-owner', 'api token');
is($r->{json}{ct}, 'application/json', 'api content type');
is($r->{headers}{'x-multi'}, 'a, b', 'repeated headers joined');

$r = $t->http(GET => '/nothing');
is($r->{status}, 404, 'not found');
is($r->{json}, undef, 'html is not json');

$r = $t->http(GET => '/chunked');
is($r->{headers}{'transfer-encoding'}, 'chunked', 'chunked reply');
is($r->{body}, '{"ok":false}', 'chunked body');

# An in-file receiver, as delivery tests use.

my $rport = $t->port(3);    # before the fork
$t->run_daemon(sub {
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$rport",
        Listen => 5, ReuseAddr => 1) or die $!;
    while (my $c = $l->accept) {
        print $c "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        close $c;
    }
});
ok($t->waitforsocket("127.0.0.1:$rport"), "daemon listens");
is($t->http(GET => "/", port => $rport)->{body}, "hi", "daemon answers");

$t->reload;
is($t->http(GET => '/ok')->{status}, 200, 'after reload');

$t->stop;
ok(!$t->http(GET => '/ok')->{status}, 'stopped');
$t->log_ok;

# OpenAPI schemas.

my $spec = Test::Webhooks::spec_dir() . '/github-hooks.openapi.json';
my $doc = do {
    open my $fh, '<', $spec or die "$spec: $!";
    local $/;
    decode_json(<$fh>);
};
my $hook = $doc->{components}{examples}{hook}{value};

$t->schema_ok($hook, 'hook', 'example hook matches');
$t->schema_array_ok([$hook, $hook], 'hook', 'array of hooks');

my %broken = %$hook;
delete $broken{id};
my @e = $t->schema_errors(\%broken, 'hook');
ok(@e, 'hook without id fails');
like("@e", qr{/id}, 'error names id');

ok($t->schema_array_errors([$hook, \%broken], 'hook'), 'bad array fails');
ok($t->schema_errors({ %$hook, id => '12' }, 'hook'), 'string id fails');
ok($t->schema_errors({ %$hook, active => 1 }, 'hook'), 'int bool fails');

$t->schema_ok({ message => 'Not Found', documentation_url => 'x' },
    'basic-error', 'basic-error');
ok(!eval { $t->schema_errors({}, 'no-such-schema'); 1 }, 'unknown schema');

my $ping = { zen => 'z', hook_id => 1, hook => { %$hook } };
$t->schema_ok($ping, 'webhook-ping', 'payloads spec: ping');
ok($t->schema_errors({ %$ping, hook_id => 'x' }, 'webhook-ping'),
    'payloads spec: bad ping fails');

done_testing;
