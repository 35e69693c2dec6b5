#!/usr/bin/perl

# The Redis scripts of src/lua/, on their own: each, with the libs it
# names, as util/lua2h embeds it, compiles under luac5.1 (Redis runs Lua
# 5.1; luac5.4 too when installed, for Valkey), reads no global but
# Redis's, names in its header every KEYS and ARGV it reads, and loads
# into Redis; then a few are run against Redis directly with KEYS and ARGV,
# their replies and what they leave in Redis checked.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha1_hex);
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $ROOT = Test::Webhooks::repo_root();
my $LUA = "$ROOT/src/lua";

my $t = Test::Webhooks->new;

plan(skip_all => 'luac5.1 not installed (util/deps)')
    unless grep { -x "$_/luac5.1" } split /:/, $ENV{PATH};
my $LUAC54 = grep { -x "$_/luac5.4" } split /:/, $ENV{PATH};

# (table.unpack or unpack): a Lua without unpack never reads it
my %GLOBALS = map { $_ => 1 } qw(KEYS ARGV redis cjson string table
    tonumber tostring type ipairs unpack);

opendir(my $dh, $LUA) or die "$LUA: $!";
my @names = sort map { /^([a-z0-9_]+)\.lua$/ ? $1 : () } readdir $dh;
closedir $dh;

ok(@names >= 14, 'the scripts are there: ' . join(' ', @names));

my (%text, %header);

for my $n (@names) {
    my $text = `"$ROOT/util/lua2h" "$LUA" $n`;
    is($?, 0, "$n: lua2h gives its text") or next;
    $text{$n} = $text;

    my $f = $t->testdir . "/$n.lua";
    $t->write_file("$n.lua", $text);
    my $out = `luac5.1 -l -p "$f" 2>&1`;
    is($?, 0, "$n: luac5.1 -p") or diag $out;

    # Redis refuses globals written; these are all a script may read
    my %g = map { $_ => 1 } $out =~ /\b([GS]ETGLOBAL\b.*?; \w+)/g;
    my @bad = grep { !/^GETGLOBAL.*; (\w+)$/ || !$GLOBALS{$1} } sort keys %g;
    is("@bad", '', "$n: reads only the globals of Redis's Lua");

    SKIP: {
        skip 'no luac5.4', 1 unless $LUAC54;
        $out = `luac5.4 -p "$f" 2>&1`;
        is($?, 0, "$n: luac5.4 -p (Valkey)") or diag $out;
    }

    # its own header: the lines before the code
    open(my $fh, '<', "$LUA/$n.lua") or die "$LUA/$n.lua: $!";
    my (%keys, %argv, $tail, $reply, @code);
    while (my $l = <$fh>) {
        if (!@code && $l =~ /^--/) {
            $keys{$1} = $2 if $l =~ /^-- KEYS\[(\d+)\] +(\w+)/;
            $argv{$1} = $2 if $l =~ /^-- ARGV\[(\d+)\] +(\w+)/;
            $tail = $1 if $l =~ /^-- ARGV\[(\d+)\.\.\] +\w+/;
            $reply = 1 if $l =~ /^-- Reply:/;
            next;
        }
        push @code, $l;
    }
    close $fh;
    $header{$n} = { keys => scalar keys %keys, argv => scalar keys %argv };

    ok($reply, "$n: its header says what it replies");

    # every KEYS[n] and ARGV[n] the code reads, its libs' too, is named
    my (@unnamed, %used);
    $used{"$1\[$2\]"} = 1 while $text =~ /\b(KEYS|ARGV)\[(\d+)\]/g;
    for (sort keys %used) {
        my ($kind, $i) = /^(\w+)\[(\d+)\]$/;
        push @unnamed, $_ unless $kind eq 'KEYS' ? $keys{$i}
            : $argv{$i} || (defined $tail && $i >= $tail);
    }
    is("@unnamed", '', "$n: every KEYS and ARGV it reads is named");
}

# what the build embedded is what lua2h makes of src/lua/ now
(my $objs = $t->module_path) =~ s{[^/]+$}{nginx-src/objs};
SKIP: {
    skip 'no build of the module', 1 unless -f "$objs/ngx_http_webhooks_lua.h";
    my $now = `"$ROOT/util/lua2h" "$LUA"`;
    ok($now eq $t->read_file("$objs/ngx_http_webhooks_lua.h"),
       'the build embeds the scripts of src/lua/ as they are');
}

###############################################################################
# against Redis, a cluster node that serves every slot: a script that
# touches keys of two slots fails there.  A node of the test's own, in
# either mode of the suite (WEBHOOKS_REDIS=cluster would start six).

{
    local $ENV{WEBHOOKS_REDIS} = '';
    $t->start_redis('--cluster-enabled', 'yes', '--cluster-port',
        $t->port(2), '--cluster-config-file', $t->testdir . '/nodes.conf');
}
$t->redis('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
ok($t->wait_for(sub {
    $t->redis('CLUSTER', 'INFO') =~ /cluster_state:ok/ }, 10),
   'a one-node cluster serves every slot');

my %sha;
for my $n (@names) {
    $sha{$n} = $t->redis('SCRIPT', 'LOAD', $text{$n});
    is($sha{$n}, sha1_hex($text{$n}), "$n: loads into Redis");
}

# a script called as the module calls it: KEYS, then ARGV, counted by its
# header
sub run {
    my ($n, @args) = @_;
    my $nk = $header{$n}{keys};
    die "$n: ", scalar @args, " args for $nk keys\n" if @args < $nk;
    return scalar $t->redis('EVALSHA', $sha{$n}, $nk, @args);
}

my $P = 'wh:';
my $HOOKS = "$P\{r:o/r}:hooks";
my $SUBS = "$P\{r:o/r}:subs";
my $SCOPE = "$P\{r:o/r}:";
my $SP = "$P\{q3}:";
my $Q = "${SP}queue";
my $RETRY = "${SP}retry";
my $SEQ = "${SP}seq";
my $NOW = '2026-01-01T00:00:00Z';

# a delivery's record, read by src/lua/lib/record.lua: its fields by
# name, its outcome's over the others, and its response
my $RECORD = $t->read_file("$LUA/lib/record.lua");
sub rec {
    my ($j) = scalar $t->redis('EVAL', $RECORD
        . "\nlocal r = rget(KEYS[1])\nreturn r and cjson.encode(r)", 1, $_[0]);
    return defined $j ? decode_json($j) : undef;
}

sub hook {
    my ($id, $url, @events) = @_;
    return encode_json({ id => $id + 0, active => JSON::PP::true,
        events => \@events, config => { url => $url } });
}

# save: create, then what it refuses; the subscription index follows
my $h1 = hook(1, 'http://a.example/x', 'push');
is_deeply(run('save', $HOOKS, $SUBS, 1, '', $h1, '{"v":1}', '', 'O/R', 20),
          ['ok', 'O/R'], 'save: a hook created');
is_deeply(run('save', $HOOKS, $SUBS, 1, '', $h1, '{}', '', 'o/r', 20),
          ['exists'], 'save: not created twice');
is_deeply(run('save', $HOOKS, $SUBS, 1, 'old', $h1, '{}', '', 'o/r', 20),
          ['conflict'], 'save: not over a hook changed since');
is_deeply(run('save', $HOOKS, $SUBS, 2, '',
              hook(2, 'http://a.example/x', 'push'), '{}', '', 'o/r', 20),
          ['duplicate'], 'save: no second hook of a URL for an event');
is_deeply(run('save', $HOOKS, $SUBS, 2, '',
              hook(2, 'http://b.example/', 'push'), '{}', '', 'o/r', 1),
          ['cap', 'push'], 'save: no more hooks for an event than the cap');
is($t->redis('HGET', $HOOKS, '1:v'), '{"v":1}', 'save: the view stored');
is_deeply(run('save', $HOOKS, $SUBS, 3, '',
              hook(3, 'http://c.example/', 'issues'), '{}', '', 'o/r', 20),
          ['ok', 'O/R'], 'save: a hook of another event');
is($t->redis('HGET', $SUBS, 'push'), '1 http://a.example/x',
   'save: the index has the subscriber of push');

# subs: only the event's subscribers, the index built when missing
my @subs = ($HOOKS, $SUBS, "${SCOPE}object", "${SCOPE}user:u");
is_deeply(run('subs', @subs, 'push', '{"o":1}', '{"u":1}'),
          [1, 'http://a.example/x'], 'subs: the hook that takes push');
is_deeply(run('subs', @subs, 'fork', '', ''), [], 'subs: none for fork');
$t->redis('DEL', $SUBS);
is_deeply(run('subs', @subs, 'issues', '', ''), [3, 'http://c.example/'],
          'subs: the index built again');
is($t->redis('GET', "${SCOPE}user:u"), '{"u":1}', 'subs: the sender kept');
is_deeply(run('subs', "$P\{r:x/y}:hooks", "$P\{r:x/y}:subs",
              "$P\{r:x/y}:object", "$P\{r:x/y}:user:", 'push', '', ''), [],
          'subs: a scope without hooks');
is($t->redis('EXISTS', "$P\{r:x/y}:subs"), 0,
   'subs: no index for a scope without hooks');

# intake: one delivery per subscriber in the shard; ids end in the shard
$t->redis('XGROUP', 'CREATE', $Q, 'senders', '$', 'MKSTREAM');
# the shard's args, then per event: its keys, what its records share and
# its requests say (as the module encodes them), its hooks; its payload
# goes ahead, as the module sends it
sub step {
    my ($g, $max, @hooks) = @_;
    $t->redis('SET', "${SP}event:$g", '{"ref":"x"}', 'EX', 60, 'NX');
    my $shared = join ',', map { '"' . $_ . '"' } $HOOKS, $g, 'push', '',
        42, '', 0, 'repository', 42, "${SP}event:$g", $NOW, 'queued', 0, 0,
        1, 1;
    return ("${SP}event:$g", "${SP}seen:$g:r", "${SP}lastpush:r:o/r", $g,
        $HOOKS, $shared, "$g push 1 1 repository 42", 1, 1, @hooks / 2,
        @hooks);
}
sub intake {
    my ($max, @steps) = @_;
    return run('intake', $Q, $SEQ, $RETRY, 3600, 3, 8, $max, @steps);
}
my @intake = step('g1', 100, 1, 'http://a.example/x');
is_deeply(intake(100, @intake), [1], 'intake: one delivery queued');
is($t->redis('XLEN', $Q), 1, 'intake: one entry in the stream');
my $rec = rec("${SP}delivery:11");
is_deeply([@$rec{qw(id guid event hook status attempt auto payload host)}],
          [11, 'g1', 'push', 1, 'queued', 1, 1, "${SP}event:g1",
           'a.example'], 'intake: the delivery recorded, id 1 * 8 + 3');
is($t->redis('GET', "${SP}event:g1"), '{"ref":"x"}', 'intake: the payload');
ok($t->redis('TTL', "${SP}event:g1") > 60, 'intake: the payload kept');
is($t->redis('GET', "${SP}lastpush:r:o/r"), "${SP}event:g1",
   'intake: a push is the latest push');
is_deeply(intake(100, @intake), [1],
          'intake: the same step again: its count');
is($t->redis('XLEN', $Q), 1, 'intake: nothing queued again');

is_deeply(intake(1, step('g2', 1, 1, 'http://a.example/x')), [-1],
          'intake: a full queue queues nothing');
ok($t->redis('TTL', "${SP}event:g2") <= 60,
   'intake: the payload of an event refused expires');
is_deeply(intake(1, step('g2', 1)), [0],
          'intake: no subscriber, no check of the queue');
is_deeply(intake(1, step('g3', 1, 1, 'http://a.example/x'), step('g4', 1)),
          [-1, 0], 'intake: each event of a call answered');
is_deeply(intake(100, @intake, step('g5', 100, 1, 'http://a.example/x',
                                    3, 'http://c.example/')),
          [1, 2], 'intake: two events of one shard in one call');
is($t->redis('XLEN', $Q), 3, 'intake: the second event\'s deliveries queued');
is($t->redis('GET', "${SP}lastpush:r:o/r"), "${SP}event:g5",
   'intake: the last push of a call is the latest push');
my @keys = map { { @{ $_->[1] } }->{k} }
    @{ $t->redis('XRANGE', $Q, '-', '+') };
is_deeply([map { rec($_)->{guid} } @keys[1, 2]], ['g5', 'g5'],
          'intake: the second event\'s records');
my $bad = intake(100, ("$P\{q4}:event:g6", (step('g6', 100))[1 .. 9]));
like($bad->[0]{error}, qr/not in the shard/,
     'intake: an event whose keys are not in the shard refused');
my @gone = step('g7', 100, 1, 'http://a.example/x');
$t->redis('DEL', "${SP}event:g7");
like(intake(100, @gone)->[0]{error}, qr/payload of g7 is gone/,
     'intake: an event whose payload is gone refused');
is($t->redis('XLEN', $Q), 3, 'intake: nothing queued without its payload');
# as it was before the last events
my @later = map { $_->[0] } @{ $t->redis('XRANGE', $Q, '-', '+') };
$t->redis('XDEL', $Q, @later[1 .. $#later]);
my @ids = map { /(\d+)$/ } @keys[1, 2];
$t->redis('DEL', @keys[1, 2]);
$t->redis('ZREM', "${SP}deliveries:1", $ids[0]);
$t->redis('ZREM', "${SP}deliveries:3", $ids[1]);
$t->redis('SET', $SEQ, 1);

# idem: claimed, resumed, finished, replayed; another event conflicts
my $IK = "${P}idempotency:k1";
is_deeply(run('idem', $IK, 'g1', 'push', '{"a":1}', 3600, ''), ['new'],
          'idem: a new key');
is_deeply(run('idem', $IK, 'g9', 'push', '{"a":1}', 3600, ''),
          ['resume', 'g1'], 'idem: unfinished: the first GUID again');
is(run('idem', $IK, 'g1', 'push', '', 3600, 2), 1, 'idem: finished');
is_deeply(run('idem', $IK, 'g9', 'push', '{"a":1}', 3600, ''),
          ['replay', 'g1', 2], 'idem: the first answer again');
is_deeply(run('idem', $IK, 'g9', 'push', '{"a":2}', 3600, ''),
          ['conflict'], 'idem: another payload conflicts');

# the entry as the sender reads it
my $read = scalar $t->redis('XREADGROUP', 'GROUP', 'senders', 'c1', 'COUNT', 1,
                     'STREAMS', $Q, '>');
my ($eid, $fields) = @{$read->[0][1][0]};
my %e = @$fields;
is_deeply([@e{qw(k h t s p x)}],
          ["${SP}delivery:11", 1, 'a.example', $HOOKS, "${SP}event:g1",
           'g1 push 1 1 repository 42'],
          'intake: the stream entry says what the sender needs');

ok(!eval { run('defer', $Q, $RETRY, "$P\{q4}:delivery:11", '0-1', 'senders',
                1, 'x', ''); 1 }
   && $@ =~ /CROSSSLOT/, 'keys of two shards refused by the cluster')
    or diag $@;
my $take = run('take', "${SP}delivery:11");
is($take->[1], '{"ref":"x"}', 'take: the record and its payload');
is(run('follow', "${SP}lastpush:r:o/r"), '{"ref":"x"}',
   'follow: the latest push');

is_deeply(run('figures', $Q, $RETRY, 'senders'), [1, 1, $eid, 0],
          'figures: one entry, pending');

# the record with an outcome, as the sender makes it for done: the queued
# fields taken, a tab, positions in record.lua's FIELDS and values, the
# response
my %POS = (delivered_at => 13, status => 14, status_code => 15,
           duration => 16, url => 20, s1 => 21, s256 => 22, form => 23);
sub outcome {
    my ($k, $response, @o) = @_;
    my ($line) = (scalar($t->redis('GET', $k)) // '') =~ /^([^\t\n]*)/;
    my @a;
    while (my ($f, $v) = splice @o, 0, 2) { push @a, $POS{$f}, "$v" }
    return "$line\t" . JSON::PP->new->encode(\@a) . "\n$response";
}

# done, as the sender calls it: each record with an outcome SET ahead of
# the call (a delivery gone is not made again), then the script with the
# other five args of each delivery
sub done {
    my (@d) = @_;
    my @args;
    while (my ($dk, $pk, $id, $o, $again, $rec) = splice @d, 0, 6) {
        $t->redis('SET', $dk, $rec, 'XX', 'EX', 3600)
            if $o ne '' && $rec ne '';
        push @args, $dk, $pk, $id, $o, $again;
    }
    return run('done', $Q, $RETRY, 'senders', 3600, @args);
}

# outcome, in the scope, then done, in the shard
is(run('outcome', $HOOKS, $SUBS, 1, 'failed', 1000, 0, '{"code":500}', ''),
   1, 'outcome: recorded');
is($t->redis('HGET', $HOOKS, '1:lr'), '{"code":500}',
   'outcome: the hook\'s last response');
is($t->redis('HGET', $HOOKS, '1:fs'), 1000, 'outcome: failing since');
is(run('outcome', $HOOKS, $SUBS, 7, 'ok', 1000, 0, '{}', ''), 0,
   'outcome: 0 for a hook gone');
my ($queued) = split /\n/, scalar $t->redis('GET', "${SP}delivery:11");
is(done("${SP}delivery:11",
       "${SP}event:g1", $eid, 'failed', 5000,
       outcome("${SP}delivery:11", "{\"Server\":\"x\"}\noops",
               'status', 'Internal Server Error', 'status_code', 500,
               's256', 'ab' x 32)), 1, 'done: recorded');
is(rec("${SP}delivery:11")->{response}, "{\"Server\":\"x\"}\noops",
   'done: the response in the record');
is(rec("${SP}delivery:11")->{status_code}, 500,
   'done: the outcome in the record');
is((split /\t/, scalar $t->redis('GET', "${SP}delivery:11"))[0], $queued,
   'done: the queued fields kept as written, the outcome beside them');
is(rec("${SP}delivery:11")->{status}, 'Internal Server Error',
   'done: the outcome over the queued fields');
is(done("${SP}delivery:11",
       "${SP}event:g1", '0-1', 'failed', '',
       outcome("${SP}delivery:11", "{}\nagain", 'status', 'Bad Gateway',
               'status_code', 502)), 1, 'done: a second outcome');
is_deeply([@{ rec("${SP}delivery:11") }{qw(status_code s256 status id
                                            response)}],
          [502, '', 'Bad Gateway', 11, "{}\nagain"],
          'done: a second outcome in place of the first');
is((split /\t/, scalar $t->redis('GET', "${SP}delivery:11"))[0], $queued,
   'done: the queued fields still as written');
done("${SP}delivery:11",
    "${SP}event:g1", '0-1', 'failed', '',
    outcome("${SP}delivery:11", "{\"Server\":\"x\"}\noops",
            'status', 'Internal Server Error', 'status_code', 500,
            's256', 'ab' x 32));
is($t->redis('ZSCORE', $RETRY, "r:${SP}delivery:11"), 5000,
   'done: due again');
is(run('take', "${SP}delivery:11")->[2], "{\"Server\":\"x\"}\noops",
   'take: the response too');
is($t->redis('XLEN', $Q), 0, 'done: the entry gone from the stream');

# done: what one pass of a worker finished, in one call
my @two = map { scalar $t->redis('XADD', $Q, '*', 'k', "x$_") } 1 .. 2;
$t->redis('XREADGROUP', 'GROUP', 'senders', 'c1', 'COUNT', 2,
          'STREAMS', $Q, '>');
is(done(
       "${SP}delivery:98", "${SP}delivery:98", $two[0], '', '', '',
       "${SP}delivery:99", "${SP}event:g1", $two[1], 'ok', '',
       outcome("${SP}delivery:99", "{}\n", 'status', 'OK')), 2,
   'done: two deliveries in one call');
is($t->redis('XLEN', $Q), 0, 'done: both entries gone from the stream');
is($t->redis('XPENDING', $Q, 'senders')->[0], 0, 'done: both acknowledged');
is($t->redis('EXISTS', "${SP}delivery:99"), 0,
   'done: no record made for a delivery gone');
done("${SP}delivery:97", "${SP}event:g1", '0-1', 'failed', 9000, 'x');
is($t->redis('ZSCORE', $RETRY, "r:${SP}delivery:97"), undef,
   'done: no try more due for a delivery gone');

# promote: the failed one tried again as a delivery of its own
is_deeply(run('promote', $RETRY, $Q, $SEQ, 6000, 10, 3600,
              '2026-01-01T00:01:00Z', 3, 8), [1, ''], 'promote: one due');
my %r2 = %{ rec("${SP}delivery:19") };
is_deeply([@r2{qw(guid attempt redelivery status host)}],
          ['g1', 2, 0, 'queued', 'a.example'],
          'promote: the same GUID, its attempt counted');

# defer: put off
$read = scalar $t->redis('XREADGROUP', 'GROUP', 'senders', 'c1', 'COUNT', 1,
                  'STREAMS', $Q, '>');
$eid = $read->[0][1][0][0];
is(run('defer', $Q, $RETRY, "${SP}delivery:19", $eid, 'senders', 7000,
       "d1:${SP}delivery:19", $NOW), 1, 'defer: put off');
is(rec("${SP}delivery:19")->{throttled_at}, $NOW, 'defer: when, throttled');
ok($t->redis('TTL', "${SP}delivery:19") > 3000, 'defer: the record kept');
is($t->redis('ZSCORE', $RETRY, "d1:${SP}delivery:19"), 7000,
   'defer: due later');
is_deeply(run('figures', $Q, $RETRY, 'senders'), [0, 0, '', 1],
          'figures: none pending, one due later');

# list: newest first, one more than asked for when there are more
my $page = run('list', "${SP}deliveries:1", '+inf', 2, '', '');
is_deeply([map { $_->[0] } @{$page->[0]}], [19, 11], 'list: newest first');
$page = run('list', "${SP}deliveries:1", '+inf', 2, 'failure', '');
is_deeply([map { $_->[0] } @{$page->[0]}], [11], 'list: failures only');

# enqueue: a ping, in the shard
is(run('enqueue', "${SP}event:p1", $Q, $SEQ, $RETRY, 'p1', 'ping', 3600, $NOW,
       '', '', '', 0, '{"zen":1}', 3, 8, $HOOKS, 1, 'http://a.example/x',
       'repository', 42, 100), 27, 'enqueue: a ping queued');

# visible, then bulk: the last attempt of g1, failed, redelivered
done("${SP}delivery:19", "${SP}event:g1",
    '0-1', 'failed', '', outcome("${SP}delivery:19", "{}\n", 'status',
    'failed', 'status_code', 502, 'delivered_at', $NOW));
is_deeply(run('visible', $HOOKS, '', ''), [1, 'a.example', 3, 'c.example'],
          'visible: the hooks, with their hosts');
is_deeply(run('bulk', $Q, $SEQ, $RETRY, '', '9999', 10, '', '', 3600, $NOW,
              100, 3, 8, $HOOKS, 1, 'a.example'), [1, '', ''],
          'bulk: the failed delivery redelivered');
is(rec("${SP}delivery:35")->{redelivery}, 1,
   'bulk: as a redelivery, in the shard');

# context: ids made up once, in the scope
my @ctx = ("${SCOPE}object", "${SCOPE}user:u", "${SCOPE}ids",
           "${SCOPE}seq:id", 'r:o/r', 'u:u', 'u:o');
my $c = run('context', @ctx);
my $again = run('context', @ctx);
is_deeply([@$again[2 .. 4]], [@$c[2 .. 4]], 'context: the same ids again');

# outcome: deactivated after the failing span, out of the index
is(run('outcome', $HOOKS, $SUBS, 1, 'failed', 2000, 500, '{}', '{"off":1}'),
   2, 'outcome: deactivated');
like($t->redis('HGET', $HOOKS, 1), qr/"active":false/,
     'outcome: the hook inactive');
is_deeply(run('subs', @subs, 'push', '', ''), [],
          'outcome: an inactive hook takes nothing');

# delete: the hook, then purge: its deliveries
is(run('delete', $HOOKS, $SUBS, 1), 1, 'delete: the hook deleted');
is(run('delete', $HOOKS, $SUBS, 1), 0, 'delete: 0 for a hook gone');
ok(run('purge', "${SP}deliveries:1") >= 2, 'purge: its deliveries');
is($t->redis('EXISTS', "${SP}delivery:11", "${SP}deliveries:1"), 0,
   'purge: records and list gone');

done_testing;
