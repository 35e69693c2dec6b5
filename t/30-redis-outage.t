#!/usr/bin/perl

# Redis going away, freezing and losing its scripts: the API answers 503
# promptly, recovers by itself, and loses nothing.  Two workers, each with
# its own connection to Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(time sleep);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->skip_in_cluster('stops, restarts and fills one Redis');
$t->start_redis;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass    127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_redis_prefix  "webhooks:";
    webhooks_redis_timeout 500ms;

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
        }
    }
EOF
$t->run;

my $ODOC = 'https://docs.github.com/rest/orgs/webhooks#';
my $RDOC = 'https://docs.github.com/rest/repos/webhooks#';
my $REPO = '/repos/octo-org/outage';
my $ORG = '/orgs/octo-org';

# Every operation on hook $id: [name, method, path, body, docs url].
sub ops {
    my ($id, $oid) = @_;
    my $cfg = { url => 'https://example.com/during-outage' };
    return (
        [ 'repo list', GET => "$REPO/hooks", undef,
          $RDOC . 'list-repository-webhooks' ],
        [ 'repo create', POST => "$REPO/hooks",
          { config => $cfg, events => ['fork'] },
          $RDOC . 'create-a-repository-webhook' ],
        [ 'repo get', GET => "$REPO/hooks/$id", undef,
          $RDOC . 'get-a-repository-webhook' ],
        [ 'repo update', PATCH => "$REPO/hooks/$id", { active => JSON::PP::false },
          $RDOC . 'update-a-repository-webhook' ],
        [ 'repo get config', GET => "$REPO/hooks/$id/config", undef,
          $RDOC . 'get-a-webhook-configuration-for-a-repository' ],
        [ 'repo update config', PATCH => "$REPO/hooks/$id/config",
          { content_type => 'form' },
          $RDOC . 'update-a-webhook-configuration-for-a-repository' ],
        [ 'repo delete', DELETE => "$REPO/hooks/$id", undef,
          $RDOC . 'delete-a-repository-webhook' ],
        [ 'org list', GET => "$ORG/hooks", undef,
          $ODOC . 'list-organization-webhooks' ],
        [ 'org create', POST => "$ORG/hooks",
          { name => 'web', config => $cfg, events => ['fork'] },
          $ODOC . 'create-an-organization-webhook' ],
        [ 'org get', GET => "$ORG/hooks/$oid", undef,
          $ODOC . 'get-an-organization-webhook' ],
        [ 'org update', PATCH => "$ORG/hooks/$oid",
          { active => JSON::PP::false },
          $ODOC . 'update-an-organization-webhook' ],
        [ 'org get config', GET => "$ORG/hooks/$oid/config", undef,
          $ODOC . 'get-a-webhook-configuration-for-an-organization' ],
        [ 'org update config', PATCH => "$ORG/hooks/$oid/config",
          { content_type => 'form' },
          $ODOC . 'update-a-webhook-configuration-for-an-organization' ],
        [ 'org delete', DELETE => "$ORG/hooks/$oid", undef,
          $ODOC . 'delete-an-organization-webhook' ],
    );
}

sub timed {
    my $start = time;
    my $r = $t->api(@_);
    return ($r, time - $start);
}

sub snapshot {
    my %snap;
    for my $k (sort @{ scalar $t->redis(KEYS => '*') }) {
        my $type = $t->redis(TYPE => $k);
        $snap{$k} = $type eq 'hash' ? { @{ scalar $t->redis(HGETALL => $k) } }
            : $type eq 'string' ? $t->redis(GET => $k) : "<$type>";
    }
    return \%snap;
}

# What the API shows: both lists and every hook, as the owner sees them.
sub api_view {
    my ($ids, $oids) = @_;
    my %v;
    for my $p ("$REPO/hooks", "$ORG/hooks",
        (map {"$REPO/hooks/$_"} @$ids), (map {"$ORG/hooks/$_"} @$oids),
        (map {"$REPO/hooks/$_/config"} @$ids))
    {
        my $r = $t->api(GET => $p, 'demo-owner');
        $v{$p} = [ $r->{status}, $r->{json} ];
    }
    return \%v;
}

# Worker pids that logged a (re)connection to Redis past log offset $from.
sub connected_pids {
    my ($from) = @_;
    my $log = substr($t->read_file('error.log'), $from);
    my %pids = map { $_ => 1 }
        $log =~ /\] (\d+)#\d+: webhooks: connected to redis/g;
    return sort keys %pids;
}

sub check_503 {
    my ($what, $r, $elapsed, $doc) = @_;
    is($r->{status}, 503, "$what: 503") or diag($r->{raw} // $r->{error});
    is($r->{json} && $r->{json}{message}, 'Service Unavailable',
        "$what: message");
    is($r->{json} && $r->{json}{status}, '503', "$what: status string");
    is($r->{headers}{'retry-after'}, '1', "$what: Retry-After: 1");
    like($r->{headers}{'content-type'} // '', qr{^application/json},
        "$what: JSON content type");
    ok($elapsed < 1, "$what: answered in under 1 s")
        or diag(sprintf '%.3f s', $elapsed);
    is($r->{json} && $r->{json}{documentation_url}, $doc,
        "$what: documentation_url of the operation") if defined $doc;
}

###############################################################################
# Hooks to lose.

my (@ids, @oids);
for my $n (1 .. 3) {
    my $r = $t->api(POST => "$REPO/hooks", 'demo-owner',
        { config => { url => "https://example.com/r$n", secret => "s$n" },
          events => ['push', "issues"] });
    is($r->{status}, 201, "repo hook $n created") or diag($r->{raw});
    push @ids, $r->{json}{id};

    $r = $t->api(POST => "$ORG/hooks", 'demo-owner',
        { name => 'web', config => { url => "https://example.com/o$n" } });
    is($r->{status}, 201, "org hook $n created") or diag($r->{raw});
    push @oids, $r->{json}{id};
}

my $view = api_view(\@ids, \@oids);
my $stored = snapshot();
is(scalar grep({ $_->[0] == 200 } values %$view), scalar keys %$view,
    'everything readable before the outage');

###############################################################################
# Redis down: 503 on every operation, at once.

my $down = time;
$t->stop_redis;
ok(!eval { $t->redis('PING'); 1 }, 'redis is down');

# Twice round, to meet both workers, and on the connection right after
# the loss as well as while reconnecting.
for my $round (1, 2) {
    for my $op (ops($ids[0], $oids[0])) {
        my ($name, $method, $path, $body, $doc) = @$op;
        my ($r, $elapsed) = timed($method => $path, 'demo-owner', $body);
        check_503("redis down, $name (round $round)", $r, $elapsed,
            $round == 1 ? $doc : undef);
    }
}

# Long enough down for the reconnect backoff to reach its maximum.
sleep 0.1 while time - $down < 4;

for my $op ((ops($ids[1], $oids[1]))[0, 1, 2, 3]) {
    my ($name, $method, $path, $body, $doc) = @$op;
    my ($r, $elapsed) = timed($method => $path, 'demo-owner', $body);
    check_503("redis down 4 s, $name", $r, $elapsed);
}

# Authentication is still checked first: no Redis needed for those.
is($t->api(GET => "$REPO/hooks")->{status}, 401, 'redis down: anonymous 401');
is($t->api(GET => "$REPO/hooks", 'demo-member')->{status}, 404,
    'redis down: non-admin 404');

###############################################################################
# Redis back: recovery without a reload, nothing lost.

my $offset = length $t->read_file('error.log');
my $back = time;
$t->restart_redis;

my $ok_at;
while (time - $back < 5) {
    my $r = $t->api(GET => "$REPO/hooks", 'demo-owner');
    if (($r->{status} // 0) == 200) {
        $ok_at = time;
        last;
    }
    sleep 0.05;
}
ok($ok_at, 'redis back: 200 within 5 s')
    and note(sprintf 'first 200 after %.2f s', $ok_at - $back);

# Both workers reconnect on their own.
my @pids;
while (time - $back < 5) {
    @pids = connected_pids($offset);
    last if @pids >= 2;
    sleep 0.05;
}
is(scalar @pids, 2, 'both workers reconnected within 5 s')
    or diag(substr($t->read_file('error.log'), $offset));

my @codes = map { $t->api(GET => "$REPO/hooks", 'demo-owner')->{status} }
    1 .. 20;
is_deeply(\@codes, [ (200) x 20 ], 'redis back: 20 requests in a row: 200');

is_deeply(snapshot(), $stored, 'redis back: stored data intact');
is_deeply(api_view(\@ids, \@oids), $view, 'redis back: API shows the same');

# Writes work again.
{
    my $r = $t->api(POST => "$REPO/hooks", 'demo-owner',
        { config => { url => 'https://example.com/after' } });
    is($r->{status}, 201, 'after recovery: create') or diag($r->{raw});
    my $id = $r->{json}{id};
    ok($id && $id > $oids[-1], 'after recovery: the id counter survived');

    $r = $t->api(PATCH => "$REPO/hooks/$id", 'demo-owner',
        { events => ['release'] });
    is($r->{status}, 200, 'after recovery: update') or diag($r->{raw});
    is_deeply($r->{json}{events}, ['release'], 'after recovery: updated');

    $r = $t->api(PATCH => "$REPO/hooks/$ids[0]/config", 'demo-owner',
        { insecure_ssl => '1' });
    is($r->{status}, 200, 'after recovery: update config of an old hook');
    is($r->{json}{insecure_ssl}, '1', 'after recovery: config updated');
    is($r->{json}{secret}, '********', 'after recovery: old secret kept');

    is($t->api(DELETE => "$REPO/hooks/$id", 'demo-owner')->{status}, 204,
        'after recovery: delete');
    is($t->api(GET => "$REPO/hooks/$id", 'demo-owner')->{status}, 404,
        'after recovery: deleted');

    $r = $t->api(GET => "$ORG/hooks", 'demo-owner');
    is_deeply([ map { $_->{id} } @{ $r->{json} || [] } ], \@oids,
        'after recovery: org hooks listed');
}

###############################################################################
# Redis frozen: a command that takes longer than webhooks_redis_timeout
# gets 503, and the connection recovers when Redis thaws.

$stored = snapshot();
$view = api_view(\@ids, \@oids);

my $paused = time;
is($t->redis(CLIENT => 'PAUSE', 3000, 'ALL'), 'OK', 'redis paused for 3 s');

{
    my ($r, $elapsed) = timed(GET => "$REPO/hooks/$ids[1]", 'demo-owner');
    check_503('redis frozen, get', $r, $elapsed);
    ok($elapsed >= 0.4 && $elapsed < 1.5,
        'redis frozen: 503 after about the 500 ms command timeout')
        or diag(sprintf '%.3f s', $elapsed);
}

# More while frozen, on both workers and on reconnected connections.
for my $op ((ops($ids[1], $oids[1]))[0, 2, 3, 4, 7, 9]) {
    last if time - $paused > 2.2;
    my ($name, $method, $path, $body) = @$op;
    my ($r, $elapsed) = timed($method => $path, 'demo-owner', $body);
    is($r->{status}, 503, "redis frozen, $name: 503")
        or diag($r->{raw} // $r->{error});
    ok($elapsed < 1.5, "redis frozen, $name: answered within 1.5 s")
        or diag(sprintf '%.3f s', $elapsed);
}

sleep 0.05 while time - $paused < 3.1;

$ok_at = undef;
while (time - $paused < 3.1 + 5) {
    my $r = $t->api(GET => "$REPO/hooks/$ids[1]", 'demo-owner');
    if (($r->{status} // 0) == 200) {
        $ok_at = time;
        last;
    }
    sleep 0.05;
}
ok($ok_at, 'redis thawed: 200 within 5 s');

# The first 200 may come from one worker while the other waits out its
# reconnection backoff (at most 2 s): within 5 s, both answer.
while (1) {
    @codes = map { $t->api(GET => "$REPO/hooks", 'demo-owner')->{status} }
        1 .. 20;
    last if !grep({ ($_ // 0) != 200 } @codes)
        || time - $paused > 3.1 + 5;
    sleep 0.1;
}
is_deeply(\@codes, [ (200) x 20 ],
    'redis thawed: within 5 s, 20 requests in a row: 200');

is_deeply(snapshot(), $stored,
    'redis thawed: nothing written by the timed-out update');
is_deeply(api_view(\@ids, \@oids), $view, 'redis thawed: API shows the same');

###############################################################################
# Scripts flushed behind the module's back: EVALSHA gets NOSCRIPT, and the
# module resends the script body with EVAL.

sub redis_stat {
    my ($section, $name, $field) = @_;
    my $info = $t->redis(INFO => $section);
    return $info =~ /^\Q$name\E:(?:.*,)?\Q$field\E=(\d+)/m ? $1 : 0;
}

{
    my $eval = redis_stat(commandstats => 'cmdstat_eval', 'calls');
    my $noscript = redis_stat(errorstats => 'errorstat_NOSCRIPT', 'count');

    # Over both workers: each keeps its own idea of what Redis knows.
    for my $n (1 .. 4) {
        is($t->redis(SCRIPT => 'FLUSH'), 'OK', "script flush $n");

        my $r = $t->api(POST => "$REPO/hooks", 'demo-owner',
            { config => { url => "https://example.com/flushed$n" } });
        is($r->{status}, 201, "after SCRIPT FLUSH $n: create")
            or diag($r->{raw});
        my $id = $r->{json}{id};

        $t->redis(SCRIPT => 'FLUSH');
        $r = $t->api(PATCH => "$REPO/hooks/$id", 'demo-owner',
            { events => ['push', 'fork'] });
        is($r->{status}, 200, "after SCRIPT FLUSH $n: update")
            or diag($r->{raw});
        is_deeply([ sort @{ $r->{json}{events} || [] } ], ['fork', 'push'],
            "after SCRIPT FLUSH $n: events updated");

        $t->redis(SCRIPT => 'FLUSH');
        $r = $t->api(PATCH => "$REPO/hooks/$id/config", 'demo-owner',
            { content_type => 'json' });
        is($r->{status}, 200, "after SCRIPT FLUSH $n: update config")
            or diag($r->{raw});
        is($r->{json}{content_type}, 'json',
            "after SCRIPT FLUSH $n: config updated");

        $t->redis(SCRIPT => 'FLUSH');
        $r = $t->api(GET => "$REPO/hooks/$id", 'demo-owner');
        is($r->{status}, 200, "after SCRIPT FLUSH $n: get");
        $t->schema_ok($r->{json}, 'hook', "after SCRIPT FLUSH $n: hook schema");
        is($r->{json}{config}{url}, "https://example.com/flushed$n",
            "after SCRIPT FLUSH $n: stored");

        $t->redis(SCRIPT => 'FLUSH');
        is($t->api(DELETE => "$REPO/hooks/$id", 'demo-owner')->{status}, 204,
            "after SCRIPT FLUSH $n: delete");
        is($t->api(GET => "$REPO/hooks/$id", 'demo-owner')->{status}, 404,
            "after SCRIPT FLUSH $n: deleted");
    }

    # 4 x create, update, update config, delete: 16 scripts, each after a
    # flush.
    my $evals = redis_stat(commandstats => 'cmdstat_eval', 'calls') - $eval;
    ok($evals >= 16, "EVAL used after NOSCRIPT ($evals times)");
    my $errs = redis_stat(errorstats => 'errorstat_NOSCRIPT', 'count')
        - $noscript;
    ok($errs >= 16, "EVALSHA met NOSCRIPT ($errs times)");

    # Org scope too, and the duplicate check still runs in the script.
    $t->redis(SCRIPT => 'FLUSH');
    my $r = $t->api(POST => "$ORG/hooks", 'demo-owner',
        { name => 'web', config => { url => 'https://example.com/o1' } });
    is($r->{status}, 422, 'after SCRIPT FLUSH: duplicate org hook: 422')
        or diag($r->{raw});
    is($r->{json} && $r->{json}{errors} && $r->{json}{errors}[0]{message},
        'Hook already exists on this organization',
        'after SCRIPT FLUSH: duplicate message');
}

###############################################################################
# nginx started while Redis is down: 503 until Redis comes up.

$view = api_view(\@ids, \@oids);
$t->stop;
$t->stop_redis;
$t->run;

for my $op ((ops($ids[1], $oids[1]))[0, 1, 2, 7]) {
    my ($name, $method, $path, $body) = @$op;
    my ($r, $elapsed) = timed($method => $path, 'demo-owner', $body);
    check_503("started without redis, $name", $r, $elapsed);
}

$offset = length $t->read_file('error.log');
$back = time;
$t->start_redis;
$ok_at = undef;
while (time - $back < 5) {
    my $r = $t->api(GET => "$REPO/hooks", 'demo-owner');
    if (($r->{status} // 0) == 200) {
        $ok_at = time;
        last;
    }
    sleep 0.05;
}
ok($ok_at, 'started without redis: 200 within 5 s of redis starting');

# each worker connects on its own backoff: both before "every request"
while (time - $back < 5) {
    @pids = connected_pids($offset);
    last if @pids >= 2;
    sleep 0.05;
}
is(scalar @pids, 2, 'started without redis: both workers connected');
@codes = map { $t->api(GET => "$ORG/hooks", 'demo-owner')->{status} }
    1 .. 20;
is_deeply(\@codes, [ (200) x 20 ],
    'started without redis: 20 requests in a row: 200');
is_deeply(api_view(\@ids, \@oids), $view, 'started without redis: data');

###############################################################################

$t->stop;

# Outages are logged as errors, never as alerts.
$t->log_ok;
my $log = $t->read_file('error.log');
like($log, qr/webhooks: .*command timed out/, 'command timeout logged');
unlike($log, qr/exited on signal/, 'no worker crashed');

done_testing;
