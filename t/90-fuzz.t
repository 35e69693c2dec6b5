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

my (%runs, %repro);
for (@out) {
    if (/^fuzz: (\w+): (\d+) executions(: FAILED \((.*?)\))?/) {
        $runs{$1} = { n => $2, failed => $4 };
    } elsif (/^fuzz: (\w+): reproducer (.*)$/) {
        $repro{$1} = $2;
    }
}

is($rc, 0, 'util/fuzz exits 0') or diag(join '', @out);

my ($total, $failed) = (0, 0);

for my $t (@targets) {
    my $run = $runs{$t} // { n => 0, failed => 'not run' };

    $total += $run->{n};
    $failed++ if $run->{failed};

    ok($run->{n} > 0, "$t ran");
    ok(!$run->{failed}, "$t: no crash, leak or timeout")
        or diag("fuzz $t: $run->{failed}, reproducer: "
                . ($repro{$t} // 'none'));
    diag("fuzz $t: $run->{n} executions");
}

diag("fuzz: $total executions, $failed crashes");

done_testing;
