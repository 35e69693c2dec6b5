#!/usr/bin/perl

# Secrets at rest: with webhooks_secret_key, hook secrets (config.secret,
# an org hook's config.password, hub.secret) are kept in Redis sealed
# with AES-256-GCM, never in clear: not in any key (SCAN, DUMP, and reads
# by type), not in the AOF, not in error.log at debug level, not in any
# API answer, ping or delivery record.  Deliveries are signed with the
# secret all along a key rotation: key A; keys "B A" after a reload;
# util/rekey seals all with B; key B alone.  A secret whose key is not
# configured, or that was moved to another hook, fails its delivery with
# a plain status and an error line, and nothing is sent unsigned.
# util/rekey --clear makes secrets clear again for nginx without a key.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha1_hex hmac_sha256_hex sha256_hex);
use File::Find ();
use JSON::PP;
use POSIX ();
use Test::More;
use Test::Webhooks qw(json repo_root);
use Time::HiRes qw(sleep);

my $t = Test::Webhooks->new->skip_unless_module;
# Uncompressed DUMPs, so that a secret in them would show.
$t->start_redis('--rdbcompression', 'no');
my $RCV = $t->start_receiver;
my $WAIT = $ENV{WEBHOOKS_VALGRIND} ? 60 : 10;
my $TOK = 'demo-owner';
my $REDIS = '127.0.0.1:' . $t->redis_port;

my @REKEY = $ENV{WEBHOOKS_SAN}
    ? (repo_root() . '/build/san/webhooks-rekey')
    : (repo_root() . '/util/rekey');

sub random_hex {
    my ($n) = @_;
    open my $fh, '<', '/dev/urandom' or die "urandom: $!";
    read($fh, my $b, $n) == $n or die "urandom: short read";
    return unpack 'H*', $b;
}

# Key files as "openssl rand -hex 32" writes them, and their ids: the
# first 8 hex digits of the SHA-256 of the key's bytes.
my (%KEY, %KID);
for my $k (qw(A B C)) {
    my $hex = random_hex(32);
    $KEY{$k} = $t->write_file("$k.key", "$hex\n");
    $KID{$k} = substr(sha256_hex(pack 'H*', $hex), 0, 8);
}

sub conf {
    my (@keys) = @_;
    my $directive = @keys
        ? 'webhooks_secret_key ' . join(' ', map { $KEY{$_} } @keys) . ';'
        : '';
    $t->nginx_conf(<<"EOF", log_level => 'debug');
    %%DEMO_MAPS%%

    webhooks_redis_pass     127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_delivery_retry off;
    $directive

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        %%EVENTS_LOCATION%%

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            client_max_body_size 0;
            proxy_ssl_name       \$webhooks_delivery_host;
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
}

conf('A');
$t->run;

# A worker shutting down still makes the deliveries it read, with the
# keys it had: wait for it to go.
sub reload {
    $t->reload;
    ok($t->wait_for(sub { my @w = $t->worker_pids; @w == 1 }, 10),
        'reloaded, the old worker gone');
}

my $REPO = '/repos/octo-org/hello-world';
my $ORG = '/orgs/octo-org';
my $RKEY = 'webhooks:{r:octo-org/hello-world}:hooks';
my $OKEY = 'webhooks:{o:octo-org}:hooks';

# Every secret, each unique so that any trace of it is found.
my %S = (
    repo => 'repo-secret-' . random_hex(8),
    org => 'org-secret-' . random_hex(8),
    password => 'org-password-' . random_hex(8),
    hub => 'hub-secret-' . random_hex(8),
    # a user's secret may look like a sealed one: it is a secret still
    trick => "v1.$KID{A}." . random_hex(8),
    later => 'later-secret-' . random_hex(8),
    new => 'new-secret-' . random_hex(8),
    clear => 'clear-secret-' . random_hex(8),
);

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

# No secret in $text; $what names where.
sub no_secret {
    my ($text, $what) = @_;
    my @found = grep { index($text // '', $S{$_}) >= 0 } sort keys %S;
    ok(!@found, "$what: no secret") or diag("found: @found");
}

###############################################################################
# Hooks with secrets, sealed with key A.

my (%id, %path);

sub hook {
    my ($label, $scope, %config) = @_;
    my $body = { config => { url => "$RCV/ok/$label", content_type => 'json',
        %config }, events => ['push'] };
    $body->{name} = 'web' if $scope eq $ORG;
    my $r = api(POST => "$scope/hooks", $body);
    is($r->{status}, 201, "$label: created") or diag $r->{raw};
    no_secret($r->{body}, "$label: create answer");
    $id{$label} = $r->{json}{id};
    $path{$label} = "$scope/hooks/$r->{json}{id}";
}

hook(repo => $REPO, secret => $S{repo});
hook(org => $ORG, secret => $S{org}, username => 'receiver',
    password => $S{password});
hook(trick => $REPO, secret => $S{trick});
hook(plain => $REPO);

{
    my $r = $t->http(POST => '/hub', headers => {
        Authorization => "token $TOK",
        'Content-Type' => 'application/x-www-form-urlencoded' },
        body => 'hub.mode=subscribe&hub.topic=https%3A%2F%2Fgithub.com%2F'
            . 'octo-org%2Fhello-world%2Fevents%2Fpush&hub.callback='
            . "$RCV/ok/hub&hub.secret=$S{hub}");
    is($r->{status}, 204, 'hub subscription') or diag $r->{raw};
    my ($h) = grep { $_->{config}{url} eq "$RCV/ok/hub" }
        @{ api(GET => "$REPO/hooks")->{json} || [] };
    $id{hub} = $h->{id};
    $path{hub} = "$REPO/hooks/$h->{id}";
    ok($id{hub}, 'hub subscription is a hook');
}

sub stored {
    my ($label) = @_;
    my $key = $path{$label} =~ m{^/orgs/} ? $OKEY : $RKEY;
    my $v = $t->redis(HGET => $key, $id{$label});
    return defined $v ? json->decode($v) : {};
}

# Which key each secret field is sealed with, or "clear".
sub sealing {
    my ($label) = @_;
    my $c = stored($label)->{config};
    my %s;
    for my $f (qw(secret password)) {
        if (defined $c->{$f}) {
            $s{$f} = 'clear';
        } elsif (defined $c->{"${f}_enc"}) {
            my ($kid) = $c->{"${f}_enc"}
                =~ m{^v1\.([0-9a-f]{8})\.[A-Za-z0-9+/]+=*$}
                or $s{$f} = 'malformed';
            ($s{$f}) = grep { $KID{$_} eq ($kid // '') } sort keys %KID
                unless $s{$f};
            $s{$f} //= "unknown $kid";
        }
    }
    return \%s;
}

is_deeply(sealing('repo'), { secret => 'A' }, 'repo: secret sealed with A');
is_deeply(sealing('org'), { secret => 'A', password => 'A' },
    'org: secret and password sealed with A');
is_deeply(sealing('hub'), { secret => 'A' }, 'hub: secret sealed with A');
is_deeply(sealing('trick'), { secret => 'A' },
    'a secret that looks sealed is sealed too');
is_deeply(sealing('plain'), {}, 'a hook without a secret has none');
is(stored('org')->{config}{username}, 'receiver', 'username stays clear');

###############################################################################
# The API shows "********", never a secret.

for my $l (qw(repo org hub trick)) {
    my $r = api(GET => $path{$l});
    is($r->{json}{config}{secret}, '********', "$l: GET shows ********");
    no_secret($r->{body}, "$l: GET");
    $r = api(GET => "$path{$l}/config");
    is($r->{json}{secret}, '********', "$l: GET config shows ********");
    no_secret($r->{body}, "$l: GET config");
}
{
    my $r = api(GET => "$ORG/hooks/$id{org}/config");
    is($r->{json}{password}, '********', 'org: password shows ********');
    is($r->{json}{username}, 'receiver', 'org: username shown');
    no_secret(api(GET => "$REPO/hooks")->{body}, 'repo hooks list');
    no_secret(api(GET => "$ORG/hooks")->{body}, 'org hooks list');
    is(api(GET => "$path{plain}/config")->{json}{secret}, undef,
        'plain: no secret shown');
}

###############################################################################
# Deliveries are signed with the secrets.

my %SECRET = (repo => $S{repo}, org => $S{org}, hub => $S{hub},
    trick => $S{trick}, plain => undef);
my $N = 0;

sub push_event {
    my $body = '{"ref":"refs/heads/main","after":"' . ++$N . '",'
        . '"repository":{"id":1296269,"name":"hello-world",'
        . '"full_name":"octo-org/hello-world",'
        . '"owner":{"login":"octo-org","id":9919}},'
        . '"organization":{"login":"octo-org","id":9919},'
        . '"sender":{"login":"octocat","id":1,"type":"User"}}';
    my $r = $t->http(POST => '/_webhooks/events', body => $body,
        headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' });
    is($r->{status}, 202, "push $N taken in") or diag $r->{raw};
    return $r->{json}{guid} // '';
}

# What each of @labels got of $guid, once all came.
sub got {
    my ($guid, @labels) = @_;
    my $of = sub { ($_[0]{headers}{'x-github-delivery'} // '') eq $guid };
    $t->wait_received(scalar @labels, $of, timeout => $WAIT);
    my %got;
    for ($t->received($of)) {
        my ($l) = $_->{path} =~ m{^/ok/(\w+)} or next;
        push @{ $got{$l} }, $_;
    }
    return \%got;
}

sub signed_ok {
    my ($req, $secret, $what) = @_;
    if (!$req) {
        fail("$what: delivered");
        return;
    }
    my $h = $req->{headers};
    if (!defined $secret) {
        ok(!exists $h->{'x-hub-signature-256'}, "$what: not signed");
        return;
    }
    is($h->{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($req->{body}, $secret),
        "$what: X-Hub-Signature-256 is right");
    is($h->{'x-hub-signature'}, 'sha1=' . hmac_sha1_hex($req->{body}, $secret),
        "$what: X-Hub-Signature is right");
}

sub all_signed {
    my ($what) = @_;
    my $guid = push_event();
    my $got = got($guid, sort keys %SECRET);
    for my $l (sort keys %SECRET) {
        is(scalar @{ $got->{$l} || [] }, 1, "$what: $l got the push once");
        signed_ok($got->{$l}[0], $SECRET{$l}, "$what: $l");
        no_secret(join("\n", map {"$_->[0]: $_->[1]"}
            @{ $got->{$l}[0]{header_list} || [] }) . $got->{$l}[0]{body},
            "$what: $l request");
    }
    return $guid;
}

my $g1 = all_signed('key A');

# ping and test
{
    my $r = api(POST => "$path{repo}/pings");
    is($r->{status}, 204, 'ping') or diag $r->{raw};
    my ($req) = $t->wait_received(1, sub {
        ($_[0]{headers}{'x-github-event'} // '') eq 'ping' }, timeout => $WAIT);
    signed_ok($req, $S{repo}, 'ping');
    my $p = eval { json->decode($req->{body} // '') } || {};
    is($p->{hook}{config}{secret}, '********', 'ping payload: ********');
    no_secret($req->{body}, 'ping payload');

    my $before = () = $t->received('/ok/repo');
    $r = api(POST => "$path{repo}/tests");
    is($r->{status}, 204, 'test') or diag $r->{raw};
    my @all = $t->wait_received($before + 1, '/ok/repo', timeout => $WAIT);
    is(scalar @all, $before + 1, 'test: sent');
    signed_ok($all[-1], $S{repo}, 'test');
}

# PATCH of the config without a secret keeps it; with one, replaces it.
{
    my $r = api(PATCH => "$path{repo}/config", { content_type => 'form' });
    is($r->{status}, 200, 'PATCH config without secret') or diag $r->{raw};
    is($r->{json}{secret}, '********', 'the secret is kept');
    no_secret($r->{body}, 'PATCH config answer');
    is_deeply(sealing('repo'), { secret => 'A' }, 'still sealed with A');

    $r = api(PATCH => "$path{trick}/config", { secret => $S{new} });
    is($r->{status}, 200, 'PATCH config with a secret') or diag $r->{raw};
    no_secret($r->{body}, 'PATCH config with a secret: answer');
    $SECRET{trick} = $S{new};

    $r = api(PATCH => $path{org}, { config => { url => "$RCV/ok/org",
        content_type => 'json', secret => $S{org},
        password => $S{password} }, events => ['push'] });
    is($r->{status}, 200, 'PATCH org hook with a new config')
        or diag $r->{raw};
    no_secret($r->{body}, 'PATCH hook answer');
    is_deeply(sealing('org'), { secret => 'A', password => 'A' },
        'org: sealed again');
}

all_signed('after PATCHes');

# Delivery records keep the request as sent: signatures, never secrets.
for my $l (qw(repo org hub trick)) {
    my $list = api(GET => "$path{$l}/deliveries?per_page=100");
    no_secret($list->{body}, "$l: deliveries list");
    for my $d (@{ $list->{json} || [] }) {
        my $r = api(GET => "$path{$l}/deliveries/$d->{id}");
        is($r->{status}, 200, "$l: delivery $d->{id}");
        no_secret($r->{body}, "$l: delivery $d->{id}");
    }
}

###############################################################################
# Redis holds no secret in clear: every key, by DUMP and by type, and
# the AOF.

sub redis_clean {
    my ($what) = @_;
    my @keys = map { split /\n/, `redis-cli -p $_ --scan` }
        $t->cluster_mode ? $t->cluster_masters : $t->redis_port;
    ok(scalar(@keys) > 5, "$what: redis-cli --scan lists the keys")
        or diag "@keys";
    my $all = '';
    for my $k (@keys) {
        $all .= "$k\n" . ($t->redis(DUMP => $k) // '') . "\n";
        my $type = $t->redis(TYPE => $k);
        my $v = $type eq 'string' ? $t->redis(GET => $k)
            : $type eq 'hash' ? $t->redis(HGETALL => $k)
            : $type eq 'zset' ? $t->redis(ZRANGE => $k, 0, -1, 'WITHSCORES')
            : $type eq 'stream' ? $t->redis(XRANGE => $k, '-', '+')
            : $type eq 'set' ? $t->redis(SMEMBERS => $k)
            : $type eq 'list' ? $t->redis(LRANGE => $k, 0, -1)
            : "unknown type $type";
        $all .= json->encode($v) . "\n";
    }
    no_secret($all, "$what: keys, DUMPs and values");

    my $aof = '';
    File::Find::find(sub { $aof .= $t->read_file($File::Find::name) if -f },
        grep { -d } map { $t->testdir . $_ } '/redis',
            map {"/redis-$_"} $t->cluster_ports);
    ok(length $aof, "$what: the AOF was read");
    no_secret($aof, "$what: AOF");
}

# A secret sealed for one hook does not open for another.
{
    my $r = stored('repo');
    my $x = stored('trick');
    my $keep = $t->redis(HGET => $RKEY, $id{trick});
    $x->{config}{secret_enc} = $r->{config}{secret_enc};
    $t->redis(HSET => $RKEY, $id{trick}, json->encode($x));

    my $guid = push_event();
    my $d = delivery_of('trick', $guid);
    is($d->{status}, 'the secret cannot be decrypted: it is damaged',
        'moved secret: the delivery says so');
    is($d->{status_code}, 500, 'moved secret: status code 500');
    my $got = got($guid, qw(repo org hub plain));
    ok(!$got->{trick}, 'moved secret: nothing sent');
    $t->redis(HSET => $RKEY, $id{trick}, $keep);
}

# The delivery of $guid to the hook $label, once it is made.
sub delivery_of {
    my ($label, $guid) = @_;
    my $d;
    $t->wait_for(sub {
        ($d) = grep { $_->{guid} eq $guid }
            @{ api(GET => "$path{$label}/deliveries")->{json} || [] };
        $d && $d->{status} ne 'queued';
    }, $WAIT);
    return $d || {};
}

redis_clean('key A');

###############################################################################
# Rotation: "B A" seals with B and opens both.

conf('B', 'A');
reload();

hook(later => $REPO, secret => $S{later});
$SECRET{later} = $S{later};
is_deeply(sealing('later'), { secret => 'B' }, 'a new hook is sealed with B');
is_deeply(sealing('repo'), { secret => 'A' }, 'an old one stays with A');

all_signed('keys B A');

sub rekey {
    my (@args) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @REKEY, '--redis', $REDIS, '--prefix', 'webhooks:', @args
            or print "exec $REKEY[0]: $!\n";
        POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

{
    my ($rc, $out) = rekey($KEY{B}, $KEY{A});
    is($rc, 0, 'rekey B A: exit 0') or diag $out;
    like($out, qr/\b6 hooks, 4 changed \(sealed with the first key\), 0 failed/,
        'rekey B A: the 4 hooks under A changed') or diag $out;
    no_secret($out, 'rekey output');
    for my $l (qw(repo hub trick later)) {
        is_deeply(sealing($l), { secret => 'B' }, "$l: sealed with B");
    }
    is_deeply(sealing('org'), { secret => 'B', password => 'B' },
        'org: secret and password sealed with B');

    ($rc, $out) = rekey($KEY{B}, $KEY{A});
    like($out, qr/\b6 hooks, 0 changed/, 'rekey again: nothing to do')
        or diag $out;

    ($rc, $out) = rekey($KEY{C});
    is($rc, 1, 'rekey with an unknown key: exit 1');
    like($out, qr/sealed with key $KID{B}, which is not given/,
        'rekey with an unknown key: says which key is missing') or diag $out;
    like($out, qr/\b5 failed/, 'rekey with an unknown key: 5 hooks failed')
        or diag $out;
    is_deeply(sealing('repo'), { secret => 'B' }, 'and changed nothing');
}

conf('B');
reload();
all_signed('key B');
redis_clean('key B');

###############################################################################
# A key not configured: the delivery fails, plainly, and nothing is sent.

conf('C');
reload();
{
    my $guid = push_event();
    my $got = got($guid, 'plain');
    signed_ok($got->{plain}[0], undef, 'key C: the hook without a secret');
    for my $l (qw(repo org hub trick later)) {
        my $d = delivery_of($l, $guid);
        is($d->{status}, "the secret cannot be decrypted: key $KID{B} is not "
            . 'configured in webhooks_secret_key', "key C: $l fails plainly");
        is($d->{status_code}, 500, "key C: $l status code 500");
    }
    sleep 0.5;
    is_deeply([ sort keys %{ got($guid) } ], ['plain'],
        'key C: only the hook without a secret got the push');
    like($t->read_file('error.log'),
        qr/\[error\].*to hook $id{repo} not sent: the secret cannot be/,
        'key C: an error line says so');
    my $r = api(GET => $path{repo});
    like($r->{json}{last_response}{message} // '', qr/cannot be decrypted/,
        'key C: so does last_response');
}

###############################################################################
# No key: new secrets are kept clear, sealed ones do not open; rekey
# --clear makes them all clear, rekey seals them again.

conf();
reload();
like($t->read_file('error.log'),
    qr/\[notice\].*no "webhooks_secret_key": hook secrets are kept in Redis/,
    'no key: a notice at start');
hook(clear => $REPO, secret => $S{clear});
$SECRET{clear} = $S{clear};
is_deeply(sealing('clear'), { secret => 'clear' }, 'no key: kept clear');
{
    my $guid = push_event();
    my $got = got($guid, qw(plain clear));
    signed_ok($got->{clear}[0], $S{clear}, 'no key: the clear secret signs');
    is(delivery_of('repo', $guid)->{status},
        'the secret cannot be decrypted: no webhooks_secret_key',
        'no key: a sealed secret fails plainly');
}

{
    my ($rc, $out) = rekey('--clear', $KEY{B});
    is($rc, 0, 'rekey --clear: exit 0') or diag $out;
    like($out, qr/\b7 hooks, 5 changed \(made clear\)/, 'rekey --clear')
        or diag $out;
    is_deeply(sealing('org'), { secret => 'clear', password => 'clear' },
        'org: made clear');
    is(stored('repo')->{config}{secret}, $S{repo}, 'repo: the secret itself');
}
all_signed('no key, made clear');

{
    my ($rc, $out) = rekey($KEY{A});
    like($out, qr/\b7 hooks, 6 changed \(sealed with the first key\)/,
        'rekey seals clear secrets') or diag $out;
}
conf('A');
reload();
all_signed('key A again');
is_deeply(sealing('clear'), { secret => 'A' }, 'the clear one sealed too');

###############################################################################

no_secret($t->read_file('error.log'), 'error.log at debug level');
$t->log_ok;

done_testing;
