#!/usr/bin/perl

# The module's files depend on each other one way: util/deps-graph finds
# no include cycle among src/ (a file and its header counted as one).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use Test::More;
use Test::Webhooks;

my $root = Test::Webhooks::repo_root();

my $out = `$root/util/deps-graph $root/src 2>&1`;
is($? >> 8, 0, 'no include cycle among src/') or diag($out);
like($out, qr/\bqueue\b/, 'the graph names the files');

# a cycle is found: two files of a scratch copy that include each other
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/src";
for ([a => 'b'], [b => 'a']) {
    my ($f, $g) = @$_;
    open my $fh, '>', "$dir/src/ngx_http_webhooks_$f.c" or die $!;
    print $fh "#include \"ngx_http_webhooks_$g.h\"\n";
    close $fh;
    open $fh, '>', "$dir/src/ngx_http_webhooks_$f.h" or die $!;
    close $fh;
}
$out = `$root/util/deps-graph $dir/src 2>&1`;
isnt($? >> 8, 0, 'a cycle fails the check') or diag($out);

done_testing;
