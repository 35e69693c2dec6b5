#!/usr/bin/perl

# The delivery log: outcomes (success, receiver errors, refused, timed
# out, TLS), last_response, listing with cursors and filters, one
# delivery in full, redelivery, pings, tests, deletion with the hook, and
# insecure_ssl through webhooks_delivery_insecure_location.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha1_hex hmac_sha256_hex);
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;

# A self-signed certificate for the HTTPS receiver, and an unrelated CA
# as the only one the verifying location trusts.
my $d = $t->testdir;
for my $cmd (
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        . " -nodes -keyout $d/recv.key -out $d/recv.crt -days 2"
        . " -subj /CN=127.0.0.1",
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        . " -nodes -keyout $d/ca.key -out $d/ca.crt -days 2"
        . " -subj /CN=other-ca")
{
    system("$cmd >/dev/null 2>&1") == 0
        or plan(skip_all => "openssl failed: $cmd");
}

$t->start_redis;
my $RCV = $t->start_receiver;
my $RPORT = $t->port(9);
my $TLS = 'https://127.0.0.1:' . $t->port(3);
my $REFUSED = 'http://127.0.0.1:' . $t->port(7);    # nobody listens

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location          /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver-insecure;

        %%EVENTS_LOCATION%%

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_ssl_name                $webhooks_delivery_host;
            # the TLS handshake (slow under valgrind) is under this one
            proxy_connect_timeout         5s;
            proxy_read_timeout            1s;
            proxy_ssl_verify              on;
            proxy_ssl_trusted_certificate %%TESTDIR%%/ca.crt;
        }

        location /_webhooks/deliver-insecure {
            %%DELIVERY_PROXY%%
            proxy_ssl_name        $webhooks_delivery_host;
            proxy_connect_timeout 5s;
            proxy_read_timeout    5s;
            proxy_ssl_verify      off;
        }

        location / {
            %%DEMO_API%%
        }
    }

    # The HTTPS receiver: TLS here, the Perl receiver behind it.
    server {
        listen 127.0.0.1:%%PORT_3%% ssl;
        ssl_certificate     %%TESTDIR%%/recv.crt;
        ssl_certificate_key %%TESTDIR%%/recv.key;
        location / {
            proxy_pass http://127.0.0.1:%%PORT_9%%;
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $BASE = 'http://localhost';
my $TS = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
my $J = JSON::PP->new->canonical;
my @TRANSPORT = qw(host connection content-length);

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($path, $url, %o) = @_;
    my %body = (config => { url => $url, %{ $o{config} || {} } },
        events => $o{events} // ['push']);
    $body{name} = 'web' if $path =~ m{^/orgs/};
    my $r = api(POST => "$path/hooks", \%body);
    is($r->{status}, 201, "hook $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($name, $body) = @_;
    $body = $J->encode($body) if ref $body;
    my $r = $t->http(POST => '/_webhooks/events', body => $body,
        headers => { 'X-GitHub-Event' => $name,
            'Content-Type' => 'application/json' });
    is($r->{status}, 202, "event $name: 202") or diag($r->{raw});
    return $r->{json} || {};
}

sub guid_of {
    my ($g) = @_;
    return sub { ($_[0]{headers}{'x-github-delivery'} // '') eq $g };
}

# The hook's log once $n deliveries are there and none is queued.
sub settled {
    my ($path, $n, %o) = @_;
    my $end = time + ($o{timeout} // 10);
    my $r;
    while (1) {
        $r = api(GET => "$path/deliveries?per_page=100");
        my @l = @{ ref $r->{json} eq 'ARRAY' ? $r->{json} : [] };
        last if @l >= $n && !grep { $_->{status} eq 'queued' } @l;
        if (time > $end) {
            diag("$path/deliveries not settled: " . ($r->{body} // ''));
            last;
        }
        sleep 0.05;
    }
    return $r->{json} || [];
}

sub form_decode {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub body_json {
    my ($req) = @_;
    my $b = $req->{body} // '';
    $b = form_decode($1) if $b =~ /^payload=(.*)$/s;
    return eval { JSON::PP->new->decode($b) };
}

###############################################################################
# Outcomes of one push to five hooks.

my $LREPO = '/repos/octo-org/log-repo';
my %id;
$id{ok} = hook($LREPO, "$RCV/ok/a",
    config => { content_type => 'json', secret => 'sa' });
$id{fail} = hook($LREPO, "$RCV/fail/f");
$id{refused} = hook($LREPO, "$REFUSED/x");
$id{hang} = hook($LREPO, "$RCV/hang/t");
$id{big} = hook($LREPO, "$RCV/big/b");
$id{s204} = hook($LREPO, "$RCV/status/204/n");
$id{s302} = hook($LREPO, "$RCV/status/302/m");
$id{s404} = hook($LREPO, "$RCV/status/404/g");
my %hp = map { $_ => "$LREPO/hooks/$id{$_}" } keys %id;

{
    my $r = api(GET => "$hp{ok}/deliveries");
    is($r->{status}, 200, 'no deliveries yet: 200');
    is($r->{body}, '[]', 'no deliveries yet: []');
    ok(!exists $r->{headers}{link}, 'no deliveries yet: no Link');
    is_deeply(api(GET => $hp{ok})->{json}{last_response},
        { code => undef, status => 'unused', message => undef },
        'last_response before any delivery: unused');
}

my $PUSH = { ref => 'refs/heads/main', before => '0' x 40,
    repository => { id => 4242, name => 'log-repo',
        full_name => 'octo-org/log-repo',
        owner => { login => 'octo-org', id => 9919 } },
    commits => [ { id => 'abc', message => "caf\x{e9} \x{2603}" } ] };
my $PUSH_BYTES = $J->encode($PUSH);
utf8::encode($PUSH_BYTES);

my $e1 = event(push => $PUSH_BYTES);
is($e1->{deliveries}, 8, 'push: 8 deliveries');

{
    my ($hang) = $t->wait_received(1, '/hang/t');
    ok($hang, 'hanging receiver got the request');
    my $r = api(GET => "$hp{hang}/deliveries");
    my $item = $r->{json}[0] // {};
    # proxy_read_timeout is 1 s: still in flight.
    is($item->{status}, 'queued', 'in flight: status queued');
    is($item->{status_code}, 0, 'in flight: status_code 0');
    $t->schema_array_ok($r->{json}, 'hook-delivery-item',
        'in flight: schema');
}

my %first;
for my $k (sort keys %id) {
    my $l = settled($hp{$k}, 1);
    is(scalar @$l, 1, "$k: one delivery");
    $first{$k} = $l->[0] // {};
    $t->schema_array_ok($l, 'hook-delivery-item', "$k: list schema");
}

my %expect = (
    ok => [ 200, 'OK', 'active' ],
    big => [ 200, 'OK', 'active' ],
    fail => [ 500, 'Invalid HTTP Response: 500', 'failed' ],
    refused => [ 502, 'failed to connect to host', 'failed' ],
    hang => [ 504, 'timed out', 'failed' ],
    s204 => [ 204, 'OK', 'active' ],
    s302 => [ 302, 'Invalid HTTP Response: 302', 'failed' ],
    s404 => [ 404, 'Invalid HTTP Response: 404', 'failed' ],
);

for my $k (sort keys %expect) {
    my ($code, $status, $lr) = @{ $expect{$k} };
    my $it = $first{$k};
    is($it->{status_code}, $code, "$k: status_code $code");
    is($it->{status}, $status, "$k: status \"$status\"");
    is($it->{guid}, $e1->{guid}, "$k: the event's GUID");
    is($it->{event}, 'push', "$k: event");
    is($it->{action}, undef, "$k: action null");
    is($it->{repository_id}, 4242, "$k: repository_id");
    is($it->{installation_id}, undef, "$k: installation_id null");
    ok(defined $it->{redelivery} && !$it->{redelivery},
        "$k: not a redelivery");
    like($it->{delivered_at} // '', $TS, "$k: delivered_at");
    ok(defined $it->{duration} && $it->{duration} >= 0, "$k: duration");

    my $h = api(GET => $hp{$k});
    is_deeply($h->{json}{last_response}, { code => $code, status => $lr,
        message => $status }, "$k: hook's last_response")
        or diag($h->{body});
}
ok($first{hang}{duration} >= 0.9, 'timed out after about 1 s')
    or diag("duration $first{hang}{duration}");

# The filters go by status code: 200-399 success, 400-599 failure.
for my $c ([ s204 => 'success', 1 ], [ s204 => 'failure', 0 ],
    [ s302 => 'success', 1 ], [ s302 => 'failure', 0 ],
    [ s404 => 'success', 0 ], [ s404 => 'failure', 1 ],
    [ refused => 'failure', 1 ], [ hang => 'success', 0 ])
{
    my ($k, $f, $n) = @$c;
    my $r = api(GET => "$hp{$k}/deliveries?status=$f");
    is(scalar @{ $r->{json} || [] }, $n, "$k, status=$f: $n");
}

###############################################################################
# One delivery in full.

my ($sent_ok) = $t->received('/ok/a');
{
    my $r = api(GET => "$hp{ok}/deliveries/$first{ok}{id}");
    is($r->{status}, 200, 'get delivery: 200');
    $t->schema_ok($r->{json}, 'hook-delivery', 'get delivery: schema');
    my $dv = $r->{json} || {};
    is($dv->{id}, $first{ok}{id}, 'get delivery: id');
    is($dv->{guid}, $e1->{guid}, 'get delivery: guid');
    is($dv->{url}, "$RCV/ok/a", 'get delivery: url');
    is($dv->{status}, 'OK', 'get delivery: status');
    is($dv->{status_code}, 200, 'get delivery: status_code');

    my %sent = map { $_->[0] => $_->[1] } grep {
        my $n = lc $_->[0]; !grep { $_ eq $n } @TRANSPORT }
        @{ $sent_ok->{header_list} || [] };
    is_deeply($dv->{request}{headers}, \%sent,
        'get delivery: request headers as sent (names and values)')
        or diag(explain $dv->{request}{headers});
    is($dv->{request}{headers}{'X-Hub-Signature-256'},
        'sha256=' . hmac_sha256_hex($PUSH_BYTES, 'sa'),
        'get delivery: signature as sent');
    is($dv->{request}{headers}{'X-Hub-Signature'},
        'sha1=' . hmac_sha1_hex($PUSH_BYTES, 'sa'),
        'get delivery: sha1 signature as sent');
    is_deeply($dv->{request}{payload}, $PUSH,
        'get delivery: request payload is the event payload');
    is($dv->{response}{payload}, 'thanks', 'get delivery: response body');
    my %rh = map { lc $_ => $dv->{response}{headers}{$_} }
        keys %{ $dv->{response}{headers} || {} };
    is($rh{'x-receiver'}, 'webhooks-test',
        'get delivery: response headers as the receiver sent them');
    is($rh{'content-type'}, 'text/plain', 'get delivery: content-type');
    is($rh{'content-length'}, '6', 'get delivery: content-length');

    $r = api(GET => "$hp{fail}/deliveries/$first{fail}{id}");
    is($r->{status}, 200, 'failed delivery: 200');
    $t->schema_ok($r->{json}, 'hook-delivery', 'failed delivery: schema');
    is($r->{json}{response}{payload}, 'oops', 'failed delivery: response');
    is($r->{json}{status}, 'Invalid HTTP Response: 500',
        'failed delivery: status');

    $r = api(GET => "$hp{refused}/deliveries/$first{refused}{id}");
    is($r->{status}, 200, 'refused delivery: 200');
    $t->schema_ok($r->{json}, 'hook-delivery', 'refused delivery: schema');
    is($r->{json}{url}, "$REFUSED/x", 'refused delivery: url');

    $r = api(GET => "$hp{big}/deliveries/$first{big}{id}");
    is(length($r->{json}{response}{payload} // ''), 8192,
        'big response: kept up to webhooks_delivery_response_max (8k)');
    is($r->{json}{response}{payload}, 'x' x 8192, 'big response: bytes');

    $r = api(GET => "$hp{ok}/deliveries/$first{fail}{id}");
    is($r->{status}, 404, "another hook's delivery: 404");
    $r = api(GET => "$hp{ok}/deliveries/999999");
    is($r->{status}, 404, 'unknown delivery: 404');
    $r = api(GET => "/repos/octo-org/other/hooks/$id{ok}/deliveries");
    is($r->{status}, 404, 'deliveries of a hook in another repo: 404');
    $r = $t->api(GET => "$hp{ok}/deliveries");
    is($r->{status}, 401, 'deliveries, anonymous: 401');
    $r = $t->api(GET => "$hp{ok}/deliveries", 'demo-member');
    is($r->{status}, 404, 'deliveries, not an admin: 404');
    $r = $t->api(GET => "$hp{ok}/deliveries/$first{ok}{id}", 'demo-member');
    is($r->{status}, 404, 'delivery, not an admin: 404');
}

###############################################################################
# Redelivery.

{
    my $n = () = $t->received(guid_of($e1->{guid}));
    my $r = api(POST => "$hp{ok}/deliveries/$first{ok}{id}/attempts");
    is($r->{status}, 202, 'redeliver: 202') or diag($r->{raw});
    is_deeply($r->{json}, {}, 'redeliver: {}');

    my @got = $t->wait_received(2, sub { guid_of($e1->{guid})->($_[0])
        && $_[0]{path} eq '/ok/a' });
    is(scalar @got, 2, 'redeliver: the receiver got it again');
    my $again = $got[1] // {};
    is($again->{body}, $sent_ok->{body}, 'redeliver: same body bytes');
    is($again->{headers}{'x-github-delivery'}, $e1->{guid},
        'redeliver: same GUID');
    is($again->{headers}{'x-hub-signature-256'},
        $sent_ok->{headers}{'x-hub-signature-256'},
        'redeliver: same signature');
    is($again->{headers}{'x-github-event'}, 'push', 'redeliver: event');

    my $l = settled($hp{ok}, 2);
    is(scalar @$l, 2, 'redeliver: two entries in the log');
    $t->schema_array_ok($l, 'hook-delivery-item', 'redeliver: list schema');
    ok($l->[0]{id} > $l->[1]{id}, 'redeliver: newest first');
    is($l->[0]{guid}, $e1->{guid}, 'redeliver: new entry, same GUID');
    ok($l->[0]{redelivery}, 'redeliver: new entry has redelivery true');
    ok(!$l->[1]{redelivery}, 'redeliver: old entry unchanged');
    is($l->[0]{status}, 'OK', 'redeliver: new entry OK');

    $r = api(GET => "$hp{ok}/deliveries/$l->[0]{id}");
    $t->schema_ok($r->{json}, 'hook-delivery', 'redelivery: schema');
    ok($r->{json}{redelivery}, 'redelivery: redelivery true in full');
    is_deeply($r->{json}{request}{payload}, $PUSH,
        'redelivery: same payload');

    # A failed one can be redelivered as well; still fails.
    $r = api(POST => "$hp{fail}/deliveries/$first{fail}{id}/attempts");
    is($r->{status}, 202, 'redeliver failed: 202');
    $l = settled($hp{fail}, 2);
    is($l->[0]{status}, 'Invalid HTTP Response: 500',
        'redeliver failed: fails again');
    ok($l->[0]{redelivery}, 'redeliver failed: redelivery true');

    $r = api(POST => "$hp{ok}/deliveries/$first{fail}{id}/attempts");
    is($r->{status}, 404, "redeliver another hook's delivery: 404");
    $r = api(POST => "$hp{ok}/deliveries/999999/attempts");
    is($r->{status}, 404, 'redeliver unknown delivery: 404');
}

###############################################################################
# Listing: pages with cursors, newest first, status filters.

my $PREPO = '/repos/octo-org/pages';
my $pid = hook($PREPO, "$RCV/ok/p");
my $pp = "$PREPO/hooks/$pid";
my @pguids;
for my $i (1 .. 5) {
    if ($i == 4) {
        my $r = api(PATCH => "$pp/config", { url => "$RCV/fail/p" });
        is($r->{status}, 200, 'page hook now fails');
    }
    my $e = event(push => { n => $i, repository => { id => 77,
        full_name => 'octo-org/pages' } });
    push @pguids, $e->{guid};
    settled($pp, $i);
}

{
    my $all = settled($pp, 5);
    is_deeply([ map { $_->{guid} } @$all ], [ reverse @pguids ],
        'list: newest first');
    my @ids = map { $_->{id} } @$all;
    is_deeply(\@ids, [ sort { $b <=> $a } @ids ], 'list: ids descending');
    is_deeply([ map { $_->{status_code} } @$all ], [ 500, 500, 200, 200, 200 ],
        'list: outcomes');

    my $r = api(GET => "$pp/deliveries");
    is(scalar @{ $r->{json} }, 5, 'default per_page: all 5');
    ok(!exists $r->{headers}{link}, 'default per_page: no Link');
    $r = api(GET => "$pp/deliveries?per_page=500");
    is(scalar @{ $r->{json} }, 5, 'per_page over the max: all 5');

    for my $f ([ '', 2, \@ids ],
        [ 'success', 2, [ @ids[2 .. 4] ] ],
        [ 'failure', 1, [ @ids[0, 1] ] ])
    {
        my ($status, $per, $want) = @$f;
        my $q = $status ? "&status=$status" : '';
        my $url = "$pp/deliveries?per_page=$per$q";
        my (@seen, @pages);
        for (1 .. 10) {
            $r = api(GET => $url);
            is($r->{status}, 200, "pages $status: 200");
            $t->schema_array_ok($r->{json}, 'hook-delivery-item',
                "pages $status: schema");
            push @pages, scalar @{ $r->{json} };
            push @seen, map { $_->{id} } @{ $r->{json} };
            my $link = $r->{headers}{link} // '';
            my %rel = reverse $link =~ /<([^>]+)>; rel="(\w+)"/g;
            ok(@pages == 1 || $rel{prev}, "pages $status: Link rel=prev");
            my $next = $rel{next} or last;
            like($next, qr{^\Q$BASE$pp/deliveries?per_page=$per&cursor=v1_\E
                \d+\Q$q\E$}x, "pages $status: Link format");
            ($url = $next) =~ s{^\Q$BASE\E}{};
        }
        is_deeply(\@seen, $want,
            "pages $status: every delivery once, newest first");
        my $full = int(@$want / $per);
        is_deeply(\@pages, [ ($per) x $full, (@$want % $per ? @$want % $per
            : ()) ], "pages $status: page sizes");

        $r = api(GET => "$pp/deliveries?per_page=100$q");
        $t->schema_array_ok($r->{json}, 'hook-delivery-item',
            "status $status: schema");
        is_deeply([ map { $_->{id} } @{ $r->{json} } ], $want,
            "status $status: filtered") if $status;
    }

    for my $bad ('bogus', 'v1_', 'v1_abc', 'v2_5', 'v1_-1') {
        $r = api(GET => "$pp/deliveries?cursor=$bad");
        is($r->{status}, 400, "bad cursor $bad: 400") or diag($r->{raw});
    }
    for my $bad ('ok', 'SUCCESS', 'failed', '') {
        $r = api(GET => "$pp/deliveries?status=$bad");
        is($r->{status}, 422, "bad status \"$bad\": 422") or diag($r->{raw});
        is($r->{json} && $r->{json}{message}, 'Validation Failed',
            "bad status \"$bad\": Validation Failed");
    }
}

###############################################################################
# Pings, before and after an event told about the repository or org.

sub ping_ok {
    my ($path, $hid, $scope, $what) = @_;
    my $n = () = $t->received(sub { ($_[0]{headers}{'x-github-event'}
        // '') eq 'ping' && $_[0]{headers}{'x-github-hook-id'} eq $hid });
    my $r = api(POST => "$path/hooks/$hid/pings");
    is($r->{status}, 204, "$what: 204") or diag($r->{raw});
    is($r->{body}, '', "$what: no body");
    my @got = $t->wait_received($n + 1, sub {
        ($_[0]{headers}{'x-github-event'} // '') eq 'ping'
        && $_[0]{headers}{'x-github-hook-id'} eq $hid });
    is(scalar @got, $n + 1, "$what: receiver got a ping");
    my $req = $got[-1] // {};
    my $p = body_json($req) || {};
    $t->schema_ok($p, 'webhook-ping', "$what: payload is a webhook-ping");
    is($p->{hook_id}, $hid, "$what: hook_id");
    is($p->{hook}{id}, $hid, "$what: hook.id");
    ok(defined $p->{zen} && length $p->{zen}, "$what: zen");
    is($p->{sender}{login}, 'octocat', "$what: sender is the caller");
    like($req->{headers}{'x-github-delivery'} // '',
        qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        "$what: GUID");
    is($req->{headers}{'x-github-hook-installation-target-type'}, $scope,
        "$what: target type $scope");

    my $h = api(GET => "$path/hooks/$hid")->{json} || {};
    my %want = %$h;
    my %got = %{ $p->{hook} || {} };
    delete $_->{last_response} for \%want, \%got;
    is_deeply(\%got, \%want, "$what: hook as the API shows it");
    return ($p, $req);
}

my $PGREPO = '/repos/octo-org/ping-repo';
my $PORG = '/orgs/ping-org';
my $prid = hook($PGREPO, "$RCV/ok/ping-r",
    config => { content_type => 'json', secret => 'ps' });
my $poid = hook($PORG, "$RCV/ok/ping-o");

{
    # No event told about these yet (nor about the sender: no event so far
    # had one), so everything is made up, and complete.
    my ($p, $req) = ping_ok($PGREPO, $prid, 'repository',
        'repo ping before any event');
    is($p->{hook}{config}{secret}, '********', 'repo ping: secret masked');
    is($p->{repository}{full_name}, 'octo-org/ping-repo',
        'repo ping: a made-up repository');
    ok(!exists $p->{organization}, 'repo ping: no organization');
    is($req->{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($req->{body}, 'ps'), 'repo ping: signed');
    is($req->{headers}{'content-type'}, 'application/json',
        'repo ping: json hook gets json');
    my $made_repo = $p->{repository};
    my $made_sender = $p->{sender};

    my ($po) = ping_ok($PORG, $poid, 'organization',
        'org ping before any event');
    is($po->{organization}{login}, 'ping-org',
        'org ping: a made-up organization');
    ok(!exists $po->{repository}, 'org ping: no repository');
    ok(!exists $po->{hook}{config}{secret}, 'org ping: no secret, none shown');
    my $made_org = $po->{organization};

    # An event with complete objects of its own: the pings then tell those.
    my $repo = { %{ $made_repo || {} }, id => 5555,
        description => 'from the event', stargazers_count => 42 };
    my $org = { %{ $made_org || {} }, id => 6666,
        description => 'from the event' };
    my $sender = { %{ $made_sender || {} }, id => 7777 };
    event(issues => { action => 'opened', repository => $repo,
        sender => $sender });
    event(member => { action => 'added', organization => $org });

    ($p) = ping_ok($PGREPO, $prid, 'repository', 'repo ping after an event');
    is_deeply($p->{repository}, $repo,
        'repo ping: the repository object of the event');
    is_deeply($p->{sender}, $sender, 'repo ping: the sender of the event');
    ($p) = ping_ok($PORG, $poid, 'organization', 'org ping after an event');
    is_deeply($p->{organization}, $org,
        'org ping: the organization object of the event');

    my $l = settled("$PGREPO/hooks/$prid", 2);
    is($l->[0]{event}, 'ping', 'ping in the log');
    is($l->[0]{status}, 'OK', 'ping delivered OK');
    $t->schema_array_ok($l, 'hook-delivery-item', 'ping log schema');
}

###############################################################################
# Tests: the latest push again, to hooks that take pushes.

{
    my $TREPO = '/repos/octo-org/test-repo';
    my $tpush = hook($TREPO, "$RCV/ok/tp", events => ['push']);
    my $tstar = hook($TREPO, "$RCV/ok/ts", events => ['*']);
    my $tiss = hook($TREPO, "$RCV/ok/ti", events => ['issues']);

    my $r = api(POST => "$TREPO/hooks/$tpush/tests");
    is($r->{status}, 204, 'test before any push: 204');
    sleep 1;
    is(scalar($t->received(qr{^/ok/t[psi]$})), 0,
        'test before any push: nothing sent');
    is(scalar @{ api(GET => "$TREPO/hooks/$tpush/deliveries")->{json} }, 0,
        'test before any push: nothing logged');

    my $body = "{\"ref\":\"refs/heads/x\",  \"repository\":{\"id\":8,"
        . "\"full_name\":\"octo-org/test-repo\"}}";
    my $e = event(push => $body);
    is($e->{deliveries}, 2, 'push to test-repo: 2 deliveries');
    $t->wait_received(2, qr{^/ok/t[ps]$});

    for my $c ([ $tpush, '/ok/tp', 'push hook' ], [ $tstar, '/ok/ts', '"*"' ])
    {
        my ($hid, $path, $what) = @$c;
        $r = api(POST => "$TREPO/hooks/$hid/tests");
        is($r->{status}, 204, "test, $what: 204");
        my @got = $t->wait_received(2, $path);
        is(scalar @got, 2, "test, $what: the push sent again");
        my $req = $got[1] // {};
        is($req->{headers}{'x-github-event'}, 'push', "test, $what: push");
        isnt($req->{headers}{'x-github-delivery'}, $e->{guid},
            "test, $what: a new GUID");
        is(form_decode(($req->{body} // '') =~ /^payload=(.*)$/s ? $1 : ''),
            $body, "test, $what: the latest push payload");
    }

    $r = api(POST => "$TREPO/hooks/$tiss/tests");
    is($r->{status}, 204, 'test, hook without push: 204');
    sleep 1;
    is(scalar($t->received('/ok/ti')), 0, 'test, hook without push: nothing');

    $r = api(POST => "/orgs/ping-org/hooks/$poid/tests");
    is($r->{status}, 404, 'test on an org hook: 404 (no such endpoint)');

    my $l = settled("$TREPO/hooks/$tpush", 2);
    is(scalar @$l, 2, 'test: logged');
    isnt($l->[0]{guid}, $l->[1]{guid}, 'test: logged with its own GUID');
}

###############################################################################
# insecure_ssl: "0" verifies the certificate, "1" goes through the
# insecure location.

{
    my $SREPO = '/repos/octo-org/tls-repo';
    my $s0 = hook($SREPO, "$TLS/ok/s0", config => { insecure_ssl => '0' });
    my $s1 = hook($SREPO, "$TLS/ok/s1", config => { insecure_ssl => '1' });
    my $e = event(push => { repository => { id => 9,
        full_name => 'octo-org/tls-repo' } });
    is($e->{deliveries}, 2, 'tls push: 2 deliveries');

    my @got = $t->wait_received(1, '/ok/s1');
    is(scalar @got, 1, 'insecure_ssl 1: delivered through TLS');
    is($got[0]{headers}{'x-github-delivery'}, $e->{guid},
        'insecure_ssl 1: GUID');
    my $l = settled("$SREPO/hooks/$s1", 1);
    is($l->[0]{status}, 'OK', 'insecure_ssl 1: OK');
    is($l->[0]{status_code}, 200, 'insecure_ssl 1: 200');

    $l = settled("$SREPO/hooks/$s0", 1);
    is($l->[0]{status},
        'Peer certificate cannot be authenticated with given CA certificates',
        'insecure_ssl 0: certificate not accepted');
    is($l->[0]{status_code}, 502, 'insecure_ssl 0: 502');
    is(scalar($t->received('/ok/s0')), 0, 'insecure_ssl 0: nothing sent');
    is_deeply(api(GET => "$SREPO/hooks/$s0")->{json}{last_response},
        { code => 502, status => 'failed', message =>
          'Peer certificate cannot be authenticated with given CA certificates'
        }, 'insecure_ssl 0: last_response');
}

###############################################################################
# Deleting a hook deletes its deliveries.

{
    my $scope = $t->shard_of('r:octo-org/log-repo');
    my @mine = @{ scalar $t->redis(ZRANGE => "${scope}deliveries:$id{ok}",
        0, -1) };
    is(scalar @mine, 2, 'hook has 2 deliveries in redis');
    is($t->redis(EXISTS => map { "${scope}delivery:$_" } @mine), 2,
        'their records exist');
    my @theirs = @{ scalar $t->redis(ZRANGE =>
        "${scope}deliveries:$id{fail}", 0, -1) };

    my $r = api(DELETE => $hp{ok});
    is($r->{status}, 204, 'delete hook: 204');
    is($t->redis(EXISTS => "${scope}deliveries:$id{ok}"), 0,
        'delete hook: its delivery list is gone');
    is($t->redis(EXISTS => map { "${scope}delivery:$_" } @mine), 0,
        'delete hook: its delivery records are gone');
    is($t->redis(EXISTS => map { "${scope}delivery:$_" } @theirs),
        scalar @theirs, "delete hook: other hooks' deliveries stay");
    is(api(GET => "$hp{ok}/deliveries")->{status}, 404,
        'delete hook: deliveries 404');
    is(api(GET => "$hp{ok}/deliveries/$mine[0]")->{status}, 404,
        'delete hook: delivery 404');
}

is($t->queue_len, 0, 'queue empty at the end');
is($t->pending, 0,
    'nothing pending at the end');

###############################################################################

$t->stop;
$t->log_ok;
unlike($t->read_file('error.log'), qr/exited on signal/, 'no worker crashed');

done_testing;
