#!/usr/bin/perl

# The libFuzzer harnesses of t/fuzz: each runs for a while (about a minute
# in all, FUZZ_SECONDS each if set) and none may crash, leak or time out.
# No skipping: without clang and libFuzzer this fails, saying so.

use strict;
use warnings;

use FindBin;
use File::Basename qw(basename);

use Test::More;

my $root = "$FindBin::Bin/..";

my @targets = map { basename($_) =~ /^fuzz_(\w+)\.c$/ ? $1 : () }
              grep { !/fuzz_support\.c$/ } glob "$root/t/fuzz/fuzz_*.c";

ok(@targets, 'harnesses in t/fuzz') or BAIL_OUT('no harnesses');

if (system('sh', '-c', 'command -v clang-14 >/dev/null') != 0) {
    fail('clang-14 with libFuzzer is installed');
    diag('clang-14 is missing: run util/deps (clang-14, libclang-rt-14-dev)');
    done_testing;
    exit;
}

my @cmd = ("$root/util/fuzz");
push @cmd, $ENV{FUZZ_SECONDS} if defined $ENV{FUZZ_SECONDS};

open my $fh, '-|', "@cmd 2>&1" or die "util/fuzz: $!";
my @out = <$fh>;
close $fh;
my $rc = $? >> 8;

my %runs;
for (@out) {
    next unless /^fuzz: (\w+): (\d+) executions/;
    my ($t, $n) = ($1, $2);
    $runs{$t} = { n => $n, failed => /FAILED/ ? 1 : 0 };
}

is($rc, 0, 'util/fuzz exits 0') or diag(join '', @out);

for my $t (@targets) {
    my $run = $runs{$t} // { n => 0, failed => 1 };

    ok($run->{n} > 0, "$t ran");
    ok(!$run->{failed}, "$t: no crash, leak or timeout");
    diag("fuzz $t: $run->{n} executions");
}

my ($total) = map { /^fuzz: total: (\d+)/ ? $1 : () } @out;
diag("fuzz total: " . ($total // 0) . " executions");

done_testing;
