#!/usr/bin/perl

# What real GitHub clients lean on, beyond bodies: conditional GETs (ETag,
# If-None-Match), API versions and request ids, the deliveries list's
# redelivery filter, prev links and short durations, and the web URLs of
# pings in a GitHub Enterprise layout (webhooks_web_url).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

my $LOC = <<'EOF';
            %%DEMO_API%%
EOF

$t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass     127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_delivery_retry off;

    log_format ids '\$status \$webhooks_request_id';

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%TESTDIR%%/ids.log ids;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
        }

        location / {
$LOC        }

        location /api/v3/ {
$LOC        }

        location /web/ {
$LOC            webhooks_web_url https://github.example.com/;
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $REPO = '/repos/octo-org/hello-world';
my $ORG = '/orgs/octo-org';
my $RID = qr/^[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{6}:[0-9A-F]{6}:[0-9A-F]{8}$/;

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

my $r = api(POST => "$REPO/hooks", { events => ['push'],
    config => { url => "$RCV/ok/repo", content_type => 'json' } });
is($r->{status}, 201, 'repo hook') or diag($r->{body});
my $hid = $r->{json}{id};
my $hp = "$REPO/hooks/$hid";

$r = api(POST => "$ORG/hooks", { name => 'web',
    config => { url => "$RCV/ok/org" } });
is($r->{status}, 201, 'org hook') or diag($r->{body});
my $ohp = "$ORG/hooks/$r->{json}{id}";

# Three pings, then a redelivery of the first.
for (1 .. 3) {
    is(api(POST => "$hp/pings")->{status}, 204, "ping $_");
}
ok($t->wait_received(3, '/ok/repo'), 'pings received');
my @done;
ok($t->wait_for(sub {
    @done = grep { $_->{status} ne 'queued' }
        @{ api(GET => "$hp/deliveries")->{json} };
    @done == 3 }, 10), 'three deliveries done');
my $first = $done[-1]{id};
is(api(POST => "$hp/deliveries/$first/attempts")->{status}, 202,
    'redelivered');
ok($t->wait_received(4, '/ok/repo'), 'redelivery received');
ok($t->wait_for(sub {
    my $l = api(GET => "$hp/deliveries")->{json};
    @$l == 4 && !grep { $_->{status} eq 'queued' } @$l }, 10),
    'four deliveries done');

###############################################################################
# Conditional requests.

sub conditional {
    my ($name, $path) = @_;
    my $r = api(GET => $path);
    is($r->{status}, 200, "$name: 200");
    my $tag = $r->{headers}{etag} // '';
    like($tag, qr{^W/"[0-9a-f]{32}"$}, "$name: weak ETag");
    my $again = api(GET => $path);
    is($again->{headers}{etag}, $tag, "$name: the same tag again");
    my $c = api(GET => $path, undef, headers => { 'If-None-Match' => $tag });
    is($c->{status}, 304, "$name: If-None-Match: 304");
    is($c->{body}, '', "$name: 304 without a body");
    like($c->{headers}{'x-github-request-id'} // '', $RID,
        "$name: 304 has a request id");
    $c = api(GET => $path, undef,
        headers => { 'If-None-Match' => "W/\"x\", $tag" });
    is($c->{status}, 304, "$name: tag in a list: 304");
    $c = api(GET => $path, undef, headers => { 'If-None-Match' => 'W/"x"' });
    is($c->{status}, 200, "$name: another tag: 200");
    $c = $t->api(GET => $path, undef, undef,
        headers => { 'If-None-Match' => $tag });
    is($c->{status}, 401, "$name: no token: 401, not 304");
    $c = $t->api(GET => $path, 'demo-member', undef,
        headers => { 'If-None-Match' => $tag });
    is($c->{status}, 404, "$name: not an admin: 404, not 304");
    return $tag;
}

my $delivery = "$hp/deliveries/$first";
my %tag;
$tag{hook} = conditional('hook', $hp);
$tag{list} = conditional('hook list', "$REPO/hooks");
$tag{config} = conditional('config', "$hp/config");
$tag{deliveries} = conditional('deliveries', "$hp/deliveries");
$tag{delivery} = conditional('delivery', $delivery);
$tag{org} = conditional('org hook', $ohp);

# Any change to what an answer shows changes its tag.
$r = api(PATCH => $hp, { add_events => ['issues'] });
is($r->{status}, 200, 'events changed');
for (['hook', $hp], ['list', "$REPO/hooks"]) {
    my ($name, $path) = @$_;
    $r = api(GET => $path, undef,
        headers => { 'If-None-Match' => $tag{$name} });
    is($r->{status}, 200, "$name changed: 200 for the old tag");
    isnt($r->{headers}{etag}, $tag{$name}, "$name changed: new tag");
}
$r = api(GET => "$hp/config", undef,
    headers => { 'If-None-Match' => $tag{config} });
is($r->{status}, 304, 'config unchanged: still 304');
is(api(POST => "$hp/pings")->{status}, 204, 'one more ping');
$r = api(GET => "$hp/deliveries", undef,
    headers => { 'If-None-Match' => $tag{deliveries} });
is($r->{status}, 200, 'deliveries changed: 200 for the old tag');
# A write is never answered 304.
$r = api(PATCH => "$hp/config", { content_type => 'json' }, headers => {
    'If-None-Match' => '*' });
is($r->{status}, 200, 'PATCH with If-None-Match: 200');
ok(!exists $r->{headers}{etag}, 'no ETag on a PATCH');

###############################################################################
# API versions and request ids.

my %ids;
sub request_id {
    my ($r, $name) = @_;
    my $id = $r->{headers}{'x-github-request-id'} // '';
    like($id, $RID, "$name: X-GitHub-Request-Id");
    ok(!$ids{$id}++, "$name: request id unique");
}

for my $v (undef, '2022-11-28', '2026-03-10') {
    my $name = 'version ' . ($v // 'absent');
    $r = api(GET => $hp, undef,
        headers => { defined $v ? ('X-GitHub-Api-Version' => $v) : () });
    is($r->{status}, 200, "$name: 200");
    is($r->{headers}{'x-github-api-version-selected'}, $v // '2022-11-28',
        "$name: selected");
    request_id($r, $name);
}

for my $v ('2021-01-01', '2022-11-28x', 'latest', '"x"') {
    $r = api(GET => $hp, undef, headers => { 'X-GitHub-Api-Version' => $v });
    is($r->{status}, 400, "version $v: 400");
    $t->schema_ok($r->{json}, 'basic-error', "version $v: schema");
    (my $shown = $v) =~ s/"/\\"/g;
    is_deeply($r->{json}, { message => 'Bad Request',
        errors => 'The version you specified in the "X-GitHub-API-Version" '
            . "request header, \"$shown\", is not a supported version. "
            . 'The following versions are currently supported: '
            . '"2026-03-10" (most recent) and "2022-11-28".',
        documentation_url => 'https://docs.github.com/rest',
        status => '400' }, "version $v: GitHub's body");
    ok(!exists $r->{headers}{'x-github-api-version-selected'},
        "version $v: none selected");
    request_id($r, "version $v");
}
$r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/v" } },
    headers => { 'X-GitHub-Api-Version' => '1999-01-01' });
is($r->{status}, 400, 'bad version on a POST: 400');
is(scalar @{ api(GET => "$REPO/hooks")->{json} }, 1, 'nothing created');

request_id($t->api(GET => $hp), '401');
request_id($t->api(GET => $hp, 'demo-member'), '404');
request_id(api(GET => '/nowhere'), 'unknown route');
request_id(api(POST => "$REPO/hooks", '[1]'), '422');
request_id(api(POST => "$REPO/hooks", '{'), '400');
request_id(api(DELETE => "$REPO/hooks/999999"), '404 delete');

# The same id in the access log, through $webhooks_request_id.
$r = api(GET => "$hp/config");
my $id = $r->{headers}{'x-github-request-id'};
ok($t->wait_for(sub {
    ($t->read_file('ids.log') // '') =~ /^200 \Q$id\E$/m }, 5),
    '$webhooks_request_id logged');

###############################################################################
# Deliveries: the redelivery filter, prev links, durations, queued ones.

sub ids { [ map { $_->{id} } @{ $_[0]{json} } ] }

my $all = ids(api(GET => "$hp/deliveries"));
is(scalar @$all, 5, 'five deliveries');
$r = api(GET => "$hp/deliveries?redelivery=true");
is($r->{status}, 200, 'redelivery=true: 200');
$t->schema_array_ok($r->{json}, 'hook-delivery-item', 'redelivery=true');
ok(@{ $r->{json} } == 1 && $r->{json}[0]{redelivery}, 'only the redelivery');
$r = api(GET => "$hp/deliveries?redelivery=false");
is(scalar @{ $r->{json} }, 4, 'redelivery=false: the other four');
ok(!grep({ $_->{redelivery} } @{ $r->{json} }), 'none a redelivery');
$r = api(GET => "$hp/deliveries?redelivery=maybe");
is($r->{status}, 422, 'redelivery=maybe: 422');
$r = api(GET => "$hp/deliveries?redelivery=false&per_page=2");
like($r->{headers}{link} // '', qr/redelivery=false/, 'filter in Link');

# Page by page, forward with rel="next", then back with rel="prev".
my $url = "$hp/deliveries?per_page=2";
my (@pages, @links);
while ($url) {
    $r = api(GET => $url);
    push @pages, ids($r);
    my %rel = reverse(($r->{headers}{link} // '')
        =~ /<([^>]+)>; rel="(\w+)"/g);
    push @links, \%rel;
    ($url = $rel{next} // '') =~ s{^http://[^/]+}{};
}
is_deeply([ map {@$_} @pages ], $all, 'pages: every delivery once');
ok(!$links[0]{prev}, 'first page: no prev');
ok($links[$_]{prev}, "page $_: prev") for 1 .. $#links;
for my $i (reverse 1 .. $#links) {
    (my $prev = $links[$i]{prev}) =~ s{^http://[^/]+}{};
    is_deeply(ids(api(GET => $prev)), $pages[$i - 1],
        "page $i: prev is page " . ($i - 1));
}

$r = api(GET => "$hp/deliveries");
my @d = $r->{body} =~ /"duration":([^,}]+)/g;
is(scalar @d, 5, 'five durations');
ok(!grep({ !/^\d+(?:\.\d{1,3})?$/ } @d), 'durations are short decimals')
    or diag("@d");
$r = api(GET => $delivery);
like($r->{body}, qr/"duration":\d+(?:\.\d{1,3})?[,}]/, 'and in a delivery');

# A delivery still on its way: queued, status_code 0.
$r = api(POST => "$REPO/hooks", { events => ['push'],
    config => { url => "$RCV/slow/queued?delay=2" } });
my $slow = "$REPO/hooks/$r->{json}{id}";
is(api(POST => "$slow/pings")->{status}, 204, 'slow ping');
$r = api(GET => "$slow/deliveries");
is($r->{json}[0]{status}, 'queued', 'on its way: status queued');
is($r->{json}[0]{status_code}, 0, 'on its way: status_code 0');
$t->schema_array_ok($r->{json}, 'hook-delivery-item', 'queued: schema');

###############################################################################
# Web URLs: below the API base without /api/v3, or webhooks_web_url.

sub ping_payload {
    my ($prefix, $name) = @_;
    my $r = $t->api(POST => "$prefix$REPO/hooks", $TOK, { events => ['push'],
        config => { url => "$RCV/ok/$name", content_type => 'json' } });
    is($r->{status}, 201, "$name: hook") or diag($r->{body});
    is($t->api(POST => "$prefix$REPO/hooks/$r->{json}{id}/pings", $TOK)
        ->{status}, 204, "$name: ping");
    my ($rec) = $t->wait_received(1, "/ok/$name");
    ok($rec, "$name: ping received") or return {};
    return decode_json($rec->{body});
}

for (['', 'plain', "http://localhost"],
    ['/api/v3', 'ghe', "http://localhost"],
    ['/web', 'web', 'https://github.example.com'])
{
    my ($prefix, $name, $web) = @$_;
    my $p = ping_payload($prefix, $name);
    my $api = "http://localhost$prefix";
    my $repo = $p->{repository};
    is($repo->{html_url}, "$web/octo-org/hello-world", "$name: html_url");
    is($repo->{clone_url}, "$web/octo-org/hello-world.git",
        "$name: clone_url");
    is($repo->{url}, "$api/repos/octo-org/hello-world", "$name: API url");
    is($repo->{owner}{html_url}, "$web/octo-org", "$name: owner html_url");
    is($p->{sender}{html_url}, "$web/octocat", "$name: sender html_url");
    is($p->{sender}{avatar_url}, "$web/avatars/octocat",
        "$name: sender avatar_url");
    is($p->{sender}{url}, "$api/users/octocat", "$name: sender API url");
    $t->schema_ok($p, 'webhook-ping', "$name: ping payload schema");
}

$t->log_ok;
done_testing;
