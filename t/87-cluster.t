#!/usr/bin/perl

# The Redis Cluster client (webhooks_redis_cluster on): scripts loaded on
# every master, MOVED after a hook's slot moved, ASK while it moves,
# TRYAGAIN and CLUSTERDOWN retried until the slot is served again, or
# answered 503.  Runs under make test REDIS=cluster only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
plan(skip_all => 'needs a Redis Cluster: make test REDIS=cluster')
    unless $t->cluster_mode;
$t->start_redis;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_redis_timeout 1500ms;
    webhooks_delivery_allow 127.0.0.0/8;
    webhooks_status_zone 1m;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /status {
            webhooks_status;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';

sub create {
    my ($repo) = @_;
    my $r = $t->api(POST => "/repos/octocat/$repo/hooks", $TOK,
        { config => { url => "http://127.0.0.1:9/$repo" } });
    is($r->{status}, 201, "$repo: hook created") or diag $r->{body};
    return $r->{json}{id};
}

sub fetch {
    my ($repo, $id, $name) = @_;
    my $r = $t->api(GET => "/repos/octocat/$repo/hooks/$id", $TOK);
    is($r->{status}, 200, "$name: hook fetched") or diag $r->{body};
    is($r->{json}{id}, $id, "$name: the hook");
    return $r;
}

sub redirects {
    my $r = $t->http(GET => '/status');
    return $r->{body} =~ /^webhooks_redis_redirects_total (\d+)/m ? $1 : -1;
}

sub slot_of { $t->key_slot("webhooks:{r:octocat/$_[0]}:hooks") }

sub node_id { scalar $t->redis_node($_[0], CLUSTER => 'MYID') }

sub other_master {
    my ($port) = @_;
    return (grep { $_ != $port } $t->cluster_masters)[0];
}

# A slot moved by hand as redis-cli --cluster reshard does; $finish: the
# slot is given to $to everywhere, else it stays migrating (ASK).
sub migrate {
    my ($slot, $from, $to, $finish) = @_;
    my ($fid, $tid) = (node_id($from), node_id($to));
    $t->redis_node($to, CLUSTER => SETSLOT => $slot, IMPORTING => $fid);
    $t->redis_node($from, CLUSTER => SETSLOT => $slot, MIGRATING => $tid);
    my $keys = $t->redis_node($from, CLUSTER => GETKEYSINSLOT => $slot, 1000);
    $t->redis_node($from, MIGRATE => '127.0.0.1', $to, '', 0, 5000,
        KEYS => @$keys) if @$keys;
    finish($slot, $to) if $finish;
    return scalar @$keys;
}

sub finish {
    my ($slot, $to) = @_;
    my $tid = node_id($to);
    $t->redis_node($_, CLUSTER => SETSLOT => $slot, NODE => $tid)
        for $to, $t->cluster_masters;
}

###############################################################################

# A hook's keys are all in its repository's slot; the id counter elsewhere.
my $id = create('alpha');
ok($id, 'hook id');
fetch('alpha', $id, 'before any move');

# SCRIPT LOAD on every master, as each was connected
my @cached = map {
    my $i = $t->redis_node($_, INFO => 'memory');
    $i =~ /number_of_cached_scripts:(\d+)/ ? $1 : -1
} $t->cluster_masters;
cmp_ok($cached[0], '>=', 10, 'scripts loaded on a master');
is_deeply(\@cached, [ ($cached[0]) x 3 ], 'the same scripts on every master')
    or diag "@cached";

# MOVED: the slot is served by another master now
my $slot = slot_of('alpha');
my $from = $t->cluster_map->{$slot};
my $to = other_master($from);
my $before = redirects();
cmp_ok(migrate($slot, $from, $to, 1), '>=', 1, 'hook keys migrated');
is($t->cluster_map->{$slot}, $to, 'slot moved');
fetch('alpha', $id, 'after MOVED');
cmp_ok(redirects(), '>', $before, 'MOVED counted as a redirect');
my $r = $t->api(PATCH => "/repos/octocat/alpha/hooks/$id", $TOK,
    { events => ['issues'] });
is($r->{status}, 200, 'a script runs on the new master') or diag $r->{body};
is_deeply($r->{json}{events}, ['issues'], 'and changes the hook');

# ASK: the slot is migrating, its keys are on the target already
my $id2 = create('beta');
$slot = slot_of('beta');
$from = $t->cluster_map->{$slot};
$to = other_master($from);
$before = redirects();
cmp_ok(migrate($slot, $from, $to, 0), '>=', 1, 'beta keys migrating');
my (undef, $err) = $t->redis_node($from, HGETALL =>
    "webhooks:{r:octocat/beta}:hooks");
like($err // '', qr/^ASK $slot /, 'the source answers ASK');
fetch('beta', $id2, 'during ASK');
cmp_ok(redirects(), '>', $before, 'ASK counted as a redirect');

# the slot's new key does not exist on either side: TRYAGAIN or ASK again
# until the move is over
my $pid = fork() // die "fork: $!";
if (!$pid) {
    sleep 0.5;
    finish($slot, $to);
    POSIX::_exit(0);
}
$r = $t->api(POST => "/repos/octocat/beta/hooks", $TOK,
    { config => { url => 'http://127.0.0.1:9/beta2' } });
waitpid($pid, 0);
is($r->{status}, 201, 'create while the slot moved: done once it did')
    or diag $r->{body};
fetch('beta', $id2, 'after the move');

# CLUSTERDOWN: no one serves the slot
$slot = slot_of('alpha');
my $owner = $t->cluster_map->{$slot};
$t->redis_node($_, CLUSTER => DELSLOTS => $slot) for $t->cluster_ports;
my $end = time + 10;
sleep 0.1 until time > $end || ($t->redis_node($owner, CLUSTER => 'INFO')
    =~ /cluster_state:fail/);
my $start = time;
$r = $t->api(GET => "/repos/octocat/alpha/hooks/$id", $TOK);
is($r->{status}, 503, 'slot not served: 503');
cmp_ok(time - $start, '>=', 1.2, 'after retrying for webhooks_redis_timeout');

$pid = fork() // die "fork: $!";
if (!$pid) {
    sleep 0.4;
    $t->redis_node($owner, CLUSTER => ADDSLOTS => $slot);
    POSIX::_exit(0);
}
$r = $t->api(GET => "/repos/octocat/alpha/hooks/$id", $TOK);
waitpid($pid, 0);
is($r->{status}, 200, 'CLUSTERDOWN retried until the slot is served again')
    or diag $r->{body};
$t->wait_cluster;

$t->stop;
$t->log_ok;

done_testing;
