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
# against Redis

$t->start_redis;

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
my $SCOPE = "$P\{r:o/r}:";
my $Q = "${P}queue";
my $RETRY = "${P}retry";
my $SEQ = "${P}seq:delivery";

sub hook {
    my ($id, $url, @events) = @_;
    return encode_json({ id => $id + 0, active => JSON::PP::true,
        events => \@events, config => { url => $url } });
}

# save: create, then what it refuses
my $h1 = hook(1, 'http://a.example/x', 'push');
is_deeply(run('save', $HOOKS, 1, '', $h1, '{"v":1}', '', 'O/R', 20),
          ['ok', 'O/R'], 'save: a hook created');
is_deeply(run('save', $HOOKS, 1, '', $h1, '{}', '', 'o/r', 20), ['exists'],
          'save: not created twice');
is_deeply(run('save', $HOOKS, 1, 'old', $h1, '{}', '', 'o/r', 20),
          ['conflict'], 'save: not over a hook changed since');
is_deeply(run('save', $HOOKS, 2, '', hook(2, 'http://a.example/x', 'push'),
              '{}', '', 'o/r', 20),
          ['duplicate'], 'save: no second hook of a URL for an event');
is_deeply(run('save', $HOOKS, 2, '', hook(2, 'http://b.example/', 'push'),
              '{}', '', 'o/r', 1),
          ['cap', 'push'], 'save: no more hooks for an event than the cap');
is($t->redis('HGET', $HOOKS, '1:v'), '{"v":1}', 'save: the view stored');

# intake: one delivery per subscribed hook, under an idempotency key once
$t->redis('XGROUP', 'CREATE', $Q, 'senders', '$', 'MKSTREAM');
my @intake = ("${P}event:g1", $Q, $SEQ, $HOOKS, $P, $RETRY,
    "${P}idempotency:k1",
    'g1', 'push', 3600, '2026-01-01T00:00:00Z', '', 42, '', 0,
    '{"ref":"x"}', $SCOPE, 42, '', '', '', '', "${P}user:u", '', 100, 1);
is(run('intake', @intake), 1, 'intake: one delivery queued');
is($t->redis('XLEN', $Q), 1, 'intake: one entry in the stream');
my $rec = { @{$t->redis('HGETALL', "${SCOPE}delivery:1")} };
is_deeply([@$rec{qw(guid event hook status attempt auto payload)}],
          ['g1', 'push', 1, 'queued', 1, 1, "${P}event:g1"],
          'intake: the delivery recorded');
is($t->redis('GET', "${P}event:g1"), '{"ref":"x"}', 'intake: the payload');
is($t->redis('GET', "${SCOPE}lastpush"), "${P}event:g1",
   'intake: a push is the latest push');
is_deeply(run('intake', @intake), ['replay', 'g1', 1],
          'intake: the same idempotency key replays the first answer');
my @other = @intake;
$other[15] = '{"ref":"y"}';
is_deeply(run('intake', @other), ['conflict'],
          'intake: the same key with another payload conflicts');
is($t->redis('XLEN', $Q), 1, 'intake: nothing queued again');

my @full = @intake;
$full[6] = $P;
$full[25] = '';
$full[24] = 1;
is(run('intake', @full), -1, 'intake: a full queue queues nothing');

# the entry as the sender reads it
my $read = scalar $t->redis('XREADGROUP', 'GROUP', 'senders', 'c1', 'COUNT', 1,
                     'STREAMS', $Q, '>');
my ($eid, $fields) = @{$read->[0][1][0]};
my %e = @$fields;
is_deeply([@e{qw(k h t s p x)}],
          ["${SCOPE}delivery:1", 1, 'a.example', $HOOKS, "${P}event:g1",
           'g1 push 1 1 repository 42'],
          'intake: the stream entry says what the sender needs');

is_deeply(run('fetch', "${SCOPE}delivery:1", $HOOKS, "${P}event:g1", 1),
          [$h1, '{"ref":"x"}'], 'fetch: the hook and the payload');
is(run('fetch', "${SCOPE}delivery:9", $HOOKS, "${P}event:g1", 1), undef,
   'fetch: nil for a delivery gone');
my $take = run('take', "${SCOPE}delivery:1");
is_deeply([$take->[1], $take->[2]], [$h1, '{"ref":"x"}'],
          'take: the record, its hook and payload');
is(run('follow', "${SCOPE}lastpush"), '{"ref":"x"}',
   'follow: the latest push');

is_deeply(run('figures', $Q, $RETRY, 'senders'), [1, 1, $eid, 0],
          'figures: one entry, pending');

# done: a failure to try again, the entry acknowledged
is(run('done', "${SCOPE}delivery:1", $Q, $RETRY, $eid, 'senders', 3600,
       '{"code":500}', $HOOKS, 1, 'failed', 5000, 1000, 0, '',
       "${P}event:g1", 'status', 'Internal Server Error',
       'status_code', 500), 1, 'done: recorded');
is($t->redis('HGET', "${SCOPE}delivery:1", 'status_code'), 500,
   'done: the outcome in the record');
is($t->redis('HGET', $HOOKS, '1:lr'), '{"code":500}',
   'done: the hook\'s last response');
is($t->redis('ZSCORE', $RETRY, "r:${SCOPE}delivery:1"), 5000,
   'done: due again');
is($t->redis('XLEN', $Q), 0, 'done: the entry gone from the stream');

# promote: the failed one tried again as a delivery of its own
is_deeply(run('promote', $RETRY, $Q, $SEQ, 6000, 10, 3600,
              '2026-01-01T00:01:00Z'), [1, ''], 'promote: one due');
my %r2 = @{$t->redis('HGETALL', "${SCOPE}delivery:2")};
is_deeply([@r2{qw(guid attempt redelivery status)}], ['g1', 2, 0, 'queued'],
          'promote: the same GUID, its attempt counted');

# defer: put off; unthrottled, the bare prefix is never touched
$read = scalar $t->redis('XREADGROUP', 'GROUP', 'senders', 'c1', 'COUNT', 1,
                  'STREAMS', $Q, '>');
$eid = $read->[0][1][0][0];
is(run('defer', $Q, $RETRY, $P, $eid, 'senders', 7000,
       "d1:${SCOPE}delivery:2", ''), 1, 'defer: put off');
is($t->redis('EXISTS', $P), 0, 'defer: the bare prefix untouched');
is($t->redis('ZSCORE', $RETRY, "d1:${SCOPE}delivery:2"), 7000,
   'defer: due later');
is_deeply(run('figures', $Q, $RETRY, 'senders'), [0, 0, '', 1],
          'figures: none pending, one due later');

# list: newest first, one more than asked for when there are more
my $page = run('list', "${SCOPE}deliveries:1", $SCOPE, '+inf', 2, '', '');
is_deeply([map { $_->[0] } @{$page->[0]}], [2, 1], 'list: newest first');
$page = run('list', "${SCOPE}deliveries:1", $SCOPE, '+inf', 2, 'failure',
            '');
is_deeply([map { $_->[0] } @{$page->[0]}], [1], 'list: failures only');

# context: ids made up once
my $c = run('context', "${SCOPE}object", "${P}user:u", "${P}ids",
            "${P}seq:id", 'r:o/r', 'u:u', 'u:o');
my $again = run('context', "${SCOPE}object", "${P}user:u", "${P}ids",
                "${P}seq:id", 'r:o/r', 'u:u', 'u:o');
is_deeply([@$again[2 .. 4]], [@$c[2 .. 4]], 'context: the same ids again');

# delete: the hook, its deliveries
is(run('delete', $HOOKS, "${SCOPE}deliveries:1", 1, $SCOPE), 1,
   'delete: the hook deleted');
is($t->redis('EXISTS', "${SCOPE}delivery:1"), 0,
   'delete: its deliveries too');
is(run('delete', $HOOKS, "${SCOPE}deliveries:1", 1, $SCOPE), 0,
   'delete: 0 for a hook gone');

done_testing;
