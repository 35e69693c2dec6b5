#!/usr/bin/perl

# The API under limit_req, with the recipe of conf/example.conf (taken
# from it, a lower rate put in): a caller going too fast gets GitHub's
# answer, 403 with its JSON and Retry-After; other callers are not held
# by it; Octokit with @octokit/plugin-throttling sees the limit, waits as
# told, and every one of its calls succeeds.
#
# node and t/node_modules are required (make npm): missing, the test fails.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;

my $script = "$FindBin::Bin/octokit/throttled.mjs";
my $node = `node --version 2>/dev/null` // "";
chomp $node;
ok($? == 0 && $node =~ /^v(\d+)/ && $1 >= 18, "node 18+ ($node)");
ok(-f "$FindBin::Bin/node_modules/\@octokit/plugin-throttling/package.json",
    '@octokit/plugin-throttling is installed in t/node_modules (make npm)')
    or BAIL_OUT('npm packages missing');

# the recipe, as operators find it
my $example = $t->read_file($t->repo_root . '/conf/example.conf');
my ($map) = $example =~ /^(    map \$webhooks_auth_token \$webhooks_api_caller \{.*?^    \})/ms;
my ($zone) = $example =~ /^(    limit_req_zone \$webhooks_api_caller .*?;)$/m;
my ($page) = $example =~ /^(        error_page 429 = \@webhooks_rate_limited;)$/m;
my ($named) = $example =~ /^(        location \@webhooks_rate_limited \{.*?^        \})/ms;
my ($limit) = $example =~ /^(            limit_req +zone=webhooks_api .*?;\n +limit_req_status 429;)$/m;
ok($map && $zone && $page && $named && $limit,
    'conf/example.conf has the rate limiting recipe')
    or BAIL_OUT('no recipe in conf/example.conf');

# 5 calls a second, bursts of 2: a test's worth
$zone =~ s/rate=\S+;/rate=5r\/s;/;
$limit =~ s/burst=\d+/burst=2/;

$t->start_redis;
$t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;

$map

$zone

    server {
        listen 127.0.0.1:%%PORT%%;

$page

$named

        location / {
$limit

            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $R = '/repos/octo-org/limited/hooks';

###############################################################################
# Too fast: GitHub's answer.

my (@ok, @limited);
for (1 .. 10) {
    my $r = $t->api(GET => $R, 'demo-owner');
    push @{ $r->{status} == 200 ? \@ok : \@limited }, $r;
}
ok(@ok >= 2, 'the burst passes (' . @ok . ')');
ok(@limited >= 3, 'past it, calls are refused (' . @limited . ')');
is(scalar(grep { $_->{status} != 403 } @limited), 0, 'with 403');

my $l = $limited[0];
is($l->{headers}{'retry-after'}, '1', 'Retry-After: 1');
like($l->{headers}{'content-type'} // '', qr{^application/json},
    'a JSON answer');
like($l->{json}{message} // '', qr/\bsecondary rate limit\b/,
    'GitHub\'s message');
like($l->{json}{documentation_url} // '', qr{^https://docs\.github\.com/},
    'and its documentation_url');
$t->schema_ok($l->{json}, 'basic-error', 'the body is a GitHub error');

my $other = $t->api(GET => $R, 'demo-member');
isnt($other->{status}, 403, 'another caller is not held by it')
    or diag($other->{raw});

###############################################################################
# Octokit with the throttling plugin: waits as told, and all succeed.

sleep 2;

my $errfile = $t->testdir . '/node.err';
my $base = 'http://127.0.0.1:' . $t->port(0);
my $out = do {
    local $ENV{NODE_PATH} = "$FindBin::Bin/node_modules";
    `cd \Q$FindBin::Bin\E && timeout 90 node \Q$script\E \Q$base\E demo-owner \Q$R\E 20 2>\Q$errfile\E`;
};
is($? >> 8, 0, 'every call succeeded in the end')
    or diag($t->read_file($errfile));
my $res = eval { decode_json($out) } || {};
is(scalar(grep { $_ == 200 } @{ $res->{statuses} || [] }), 20,
    '20 calls, 20 answers 200');
my @limits = @{ $res->{limits} || [] };
ok(@limits >= 5, 'the client saw the limit (' . @limits . ' times)');
is(scalar(grep { $_->{kind} ne 'secondary' || $_->{retryAfter} != 1 }
    @limits), 0, 'as a secondary rate limit, to retry after 1 s');
ok(($res->{ms} // 0) >= 1000, "it waited as told ($res->{ms} ms)");

$t->log_ok;
done_testing;
