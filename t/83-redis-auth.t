#!/usr/bin/perl

# Redis with ACL users: the module authenticates from a password file on
# every connection; a wrong password, a deleted user or NOAUTH give one
# clear error.log line, 503 with GitHub's JSON, and recovery without a
# reload once Redis is fixed.  The whole API and delivery path runs as a
# user made by README's ACL rule, and Redis's ACL LOG stays empty.

use strict;
use warnings;

use File::Path qw(make_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->skip_in_cluster('sets ACL users on one Redis');
my $D = $t->testdir;
$t->start_redis;
my $RCV = $t->start_receiver;

my $PW = 'pw-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 24);

# The harness's own connections: an admin user, the default user off.
$t->redis(ACL => 'SETUSER', 'admin', 'on', '>adminpw', '~*', '&*', '+@all');
$t->{redis_auth} = ['admin', 'adminpw'];
delete $t->{_redis_sock};
$t->redis(ACL => 'SETUSER', 'default', 'off');
$t->redis(CLIENT => 'KILL', 'USER', 'default');

# README's rule, word for word.
my ($rule) = $t->read_file($t->repo_root . '/README.md')
    =~ /<!-- acl -->\n\s+ACL SETUSER (webhooks [^\n]+)\n/;
ok($rule, 'README gives the ACL rule');
my @rule = split ' ', $rule // '';

sub acl_user {
    my ($pw) = @_;
    $t->redis(ACL => 'DELUSER', 'webhooks');
    $t->redis(ACL => 'SETUSER', map { $_ eq '>PASSWORD' ? ">$pw" : $_ }
        @rule);
}

acl_user('not-the-password');
$t->write_file('redis.pass', "$PW\n");

my $CONF = <<'EOF';
    %%OWNER_MAPS%%

    webhooks_redis_pass             127.0.0.1:%%REDIS_PORT%%;
%%AUTH%%
    webhooks_delivery_allow         127.0.0.0/8 ::1;
    webhooks_delivery_retry         1s;
    webhooks_redis_timeout          1s;
    webhooks_delivery_claim_timeout 2s;
    webhooks_status_zone            1m;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_connect_timeout 2s;
            proxy_read_timeout    10s;
        }

        %%EVENTS_LOCATION%%

        location = /status {
            webhooks_status;
        }

        %%OWNER_API_LOCATION%%
    }
EOF

sub conf {
    my ($auth) = @_;
    (my $c = $CONF) =~ s/%%AUTH%%/$auth/;
    $t->nginx_conf($c);
}

conf("    webhooks_redis_user webhooks;\n"
    . "    webhooks_redis_password_file redis.pass;\n");
$t->run;

my $TOK = 'demo-owner';
my $J = JSON::PP->new->canonical;
my $REPO = '/repos/octo-org/acl';
my $ORG = '/orgs/octo-org';

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub event {
    my ($n) = @_;
    return $t->http(POST => '/_webhooks/events',
        headers => { 'X-GitHub-Event' => 'push',
            'Content-Type' => 'application/json' },
        body => $J->encode({ n => $n, ref => 'refs/heads/main',
            repository => { id => 83, name => 'acl',
                full_name => 'octo-org/acl',
                owner => { login => 'octo-org' } },
            organization => { login => 'octo-org' } }));
}

sub is_503 {
    my ($r, $what) = @_;
    is($r->{status}, 503, "$what: 503") or diag($r->{raw} // $r->{error});
    ok($r->{json} && defined $r->{json}{message}
        && $r->{json}{status} eq '503', "$what: GitHub's JSON");
}

sub wait_api_ok {
    my ($what) = @_;
    my $end = time + 10;
    my $r;
    while (time < $end) {
        $r = api(GET => "$REPO/hooks");
        last if ($r->{status} // 0) == 200;
        sleep 0.1;
    }
    is($r->{status}, 200, "$what: the API answers again") or diag($r->{raw});
}

sub log_count {
    my ($re) = @_;
    return scalar(() = $t->read_file('error.log') =~ /$re/g);
}

###############################################################################
# A wrong password: 503, one line on each attempt, no secret anywhere.

my $REFUSED = qr/webhooks: redis "127\.0\.0\.1:\d+" refused AUTH as user "webhooks": WRONGPASS/;

{
    my $end = time + 5;
    sleep 0.1 while time < $end && log_count($REFUSED) < 2;
    cmp_ok(log_count($REFUSED), '>=', 2,
        'wrong password: logged at start and on reconnect');

    is_503(api(GET => "$REPO/hooks"), 'wrong password, API');
    is_503(api(POST => "$REPO/hooks",
        { config => { url => "$RCV/ok/x" } }), 'wrong password, create');
    is_503(event(0), 'wrong password, intake');

    my $pid = $t->_spawn('nginx-T.out', $t->_nginx_env, $t->_nginx_cmd('-T'));
    waitpid($pid, 0);
    my $dump = $t->read_file('nginx-T.out');
    like($dump, qr/webhooks_redis_password_file redis\.pass;/,
        'nginx -T prints the file name');
    unlike($dump, qr/\Q$PW\E/, 'nginx -T prints no password');
}

###############################################################################
# Redis fixed: the workers recover without a reload.

acl_user($PW);
wait_api_ok('password fixed');

###############################################################################
# The whole path as the restricted user.

$t->redis(ACL => 'LOG', 'RESET');

my $r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/repo",
    content_type => 'json', secret => 's3cret' }, events => ['push'] });
is($r->{status}, 201, 'repo hook created') or diag($r->{raw});
my $rid = $r->{json}{id};

$r = $t->api(POST => "$ORG/hooks", $TOK, { name => 'web',
    config => { url => "$RCV/flaky/1/org", content_type => 'json' },
    events => ['push'] });
is($r->{status}, 201, 'org hook created') or diag($r->{raw});
my $oid = $r->{json}{id};

is(api(PATCH => "$REPO/hooks/$rid", { add_events => ['issues'] })->{status},
    200, 'hook updated');
is(api(PATCH => "$REPO/hooks/$rid/config", { insecure_ssl => '0' })->{status},
    200, 'config updated');
is(api(GET => "$REPO/hooks/$rid/config")->{status}, 200, 'config read');
is(api(GET => "$ORG/hooks")->{status}, 200, 'org hooks listed');
is(api(POST => "$REPO/hooks/$rid/pings")->{status}, 204, 'ping');

my @guids;
for my $n (1 .. 5) {
    $r = event($n);
    is($r->{status}, 202, "event $n taken in") or diag($r->{raw});
    push @guids, $r->{json}{guid} if $r->{json};
}

my @got = $t->wait_received(6, qr{^/ok/repo}, timeout => 10);
is(scalar @got, 6, 'repo hook: ping and 5 events delivered');

# a test push resends the latest push: there is one now
is(api(POST => "$REPO/hooks/$rid/tests")->{status}, 204, 'test push');
@got = $t->wait_received(7, qr{^/ok/repo}, timeout => 10);
is(scalar @got, 7, 'the test push arrives');
@got = $t->wait_received(6, qr{^/flaky/1/org}, timeout => 10);
is(scalar @got, 6, 'org hook: 5 events, one of them retried');

$r = api(GET => "$REPO/hooks/$rid/deliveries");
is($r->{status}, 200, 'deliveries listed');
my $did = $r->{json} && $r->{json}[0] && $r->{json}[0]{id};
ok($did, 'a delivery id');
is(api(GET => "$REPO/hooks/$rid/deliveries/$did")->{status}, 200,
    'delivery read');
is(api(POST => "$REPO/hooks/$rid/deliveries/$did/attempts")->{status}, 202,
    'redelivered');
@got = $t->wait_received(8, qr{^/ok/repo}, timeout => 10);
is(scalar @got, 8, 'the redelivery arrives');

is(api(DELETE => "$ORG/hooks/$oid")->{status}, 204, 'org hook deleted');

# a bulk redelivery of a failed ping, and the queue figures of /status
$r = api(POST => "$REPO/hooks", { config => { url => "$RCV/fail/bulk" },
    events => ['issues'] });
is($r->{status}, 201, 'failing hook created') or diag($r->{raw});
my $fid = $r->{json}{id};
is(api(POST => "$REPO/hooks/$fid/pings")->{status}, 204, 'failing ping');
@got = $t->wait_received(1, qr{^/fail/bulk}, timeout => 10);
my $failed;
for (1 .. 50) {
    $r = api(GET => "$REPO/hooks/$fid/deliveries");
    $failed = $r->{json} && $r->{json}[0]
        && $r->{json}[0]{status_code} == 500;
    last if $failed;
    select undef, undef, undef, 0.1;
}
ok($failed, 'the ping failed');
$r = api(POST => "/_webhooks$REPO/hooks/$fid/redeliveries", {});
is($r->{status}, 202, 'bulk redelivery') or diag($r->{raw});
is($r->{json} && $r->{json}{queued}, 1, 'the failed ping queued again');
@got = $t->wait_received(2, qr{^/fail/bulk}, timeout => 10);
is(scalar @got, 2, 'the bulk redelivery arrives');
$r = $t->http(GET => '/status?format=prometheus');
is($r->{status}, 200, 'status scraped');
like($r->{body}, qr/^webhooks_queue_pending \d+$/m,
    'the queue figures are read as the restricted user');

my $acl = $t->redis(ACL => 'LOG');
is(scalar @$acl, 0, 'ACL LOG is empty: the rule grants all the module uses')
    or diag(explain $acl);

###############################################################################
# The user deleted: Redis drops its connections; the reconnect is refused.

my $before = log_count($REFUSED);
$t->redis(ACL => 'DELUSER', 'webhooks');
{
    my $end = time + 5;
    sleep 0.1 while time < $end && log_count($REFUSED) <= $before;
    cmp_ok(log_count($REFUSED), '>', $before,
        'user deleted: the reconnect is refused, and logged');
    is_503(api(GET => "$REPO/hooks"), 'user deleted, API');
    is_503(event(9), 'user deleted, intake');
}

acl_user($PW);
wait_api_ok('user back');
is(event(10)->{status}, 202, 'user back: intake takes events in');

###############################################################################
# No password configured, Redis wants one: NOAUTH.

my $NOAUTH = qr/refused PING \(no "webhooks_redis_password_file"\): NOAUTH/;
conf('');
$t->reload;
{
    my $end = time + 5;
    sleep 0.1 while time < $end && !log_count($NOAUTH);
    ok(log_count($NOAUTH), 'NOAUTH: logged');
    is_503(api(GET => "$REPO/hooks"), 'NOAUTH, API');
    is_503(event(11), 'NOAUTH, intake');
}

$t->redis(ACL => 'SETUSER', 'default', 'on', 'nopass', '~*', '&*', '+@all');
wait_api_ok('default user on');

###############################################################################
# Demoted to a replica behind the module's back: writes meet READONLY;
# the module answers 503, reconnects, and writes again once it is master.

{
    my $other = $t->port(5);
    make_path("$D/other");
    $t->run_daemon('redis-server', '--port', $other, '--bind', '127.0.0.1',
        '--dir', "$D/other", '--logfile', "$D/other/redis.log",
        '--save', '', '--appendonly', 'no');
    $t->waitforsocket("127.0.0.1:$other") or die "no second redis";
    $t->redis(REPLICAOF => '127.0.0.1', $other);

    my $r;
    my $end = time + 5;
    do {
        $r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/ro" } });
    } while (($r->{status} // 0) != 503 && time < $end && sleep 0.1);
    is_503($r, 'read-only, create');
    ok(log_count(qr/redis "127\.0\.0\.1:\d+" is read-only/),
        'read-only: logged');

    $t->redis(REPLICAOF => 'NO', 'ONE');
    $end = time + 10;
    do {
        $r = api(POST => "$REPO/hooks", { config => { url => "$RCV/ok/ro" } });
    } while (($r->{status} // 0) != 201 && time < $end && sleep 0.1);
    is($r->{status}, 201, 'master again: writes work') or diag($r->{raw});
}

unlike($t->read_file('error.log'), qr/\Q$PW\E/, 'no password in error.log');
$t->log_ok;

###############################################################################
# Configuration errors (nginx -t), after the log was checked.

for ([ "    webhooks_redis_user webhooks;\n",
       qr/"webhooks_redis_user" needs "webhooks_redis_password_file"/ ],
     [ "    webhooks_redis_password_file missing.pass;\n",
       qr/open\(\) ".*missing\.pass" failed/ ],
     [ "    webhooks_redis_password_file empty.pass;\n",
       qr/"webhooks_redis_password_file" ".*empty\.pass" must hold one line/ ],
     [ "    webhooks_redis_password_file two.pass;\n",
       qr/must hold one line/ ],
     [ "    webhooks_redis_wait_replicas 0;\n",
       qr/invalid number of replicas "0"/ ],
     [ "    webhooks_redis_wait_replicas 1 x;\n", qr/invalid timeout "x"/ ],
     [ "    webhooks_redis_sentinel mymaster 127.0.0.1:26379;\n",
       qr/"webhooks_redis_pass" and "webhooks_redis_sentinel" exclude each other/ ],
     [ "    webhooks_redis_cluster on;\n"
       . "    webhooks_redis_sentinel mymaster 127.0.0.1:26379;\n",
       qr/"webhooks_redis_sentinel" and "webhooks_redis_cluster" exclude each other/ ])
{
    my ($conf, $re) = @$_;
    (my $name = $conf) =~ s/^\s+|\s+$//g;
    $t->write_file('empty.pass', "\n");
    $t->write_file('two.pass', "one\ntwo\n");
    conf($conf);
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, $re, '... and says why');
    unlike($out, qr/\Q$PW\E|one\ntwo/, '... with no password');
}

done_testing;
