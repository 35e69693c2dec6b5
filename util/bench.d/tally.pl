#!/usr/bin/perl
# The fault run's count: what the feeds were answered against what the
# receiver logged.
# Usage: tally.pl <hook ids, comma-separated> <faults> <receiver log>
#                 <lost pairs out> <strays out> <feed name>=<feed file> ...
# Feed files: "<time> <outcome> <guid or ->" (feed.pl).  Receiver log:
# "<msec> <status> <guid> <hook id> <instance>".  Faults: "<time> <what>".
# A (guid, hook) pair is delivered if it appears at least once; more
# appearances are duplicates.  Prints "name value" lines; writes the lost
# pairs, "<guid> <hook> <feed> <accepted at> <last fault before>", to
# <lost pairs out>, and the events that arrived without a 202 answer,
# "<guid> <arrivals> <first at> <by> <last fault before>", to <strays out>.
use strict;
use warnings;

my ($hooks, $faults, $log, $lostf, $strayf, @feeds) = @ARGV;
my @hooks = split /,/, $hooks;

my @fault;
open my $f, '<', $faults or die "$faults: $!";
while (<$f>) { chomp; my ($t, $what) = split ' ', $_, 2; push @fault, [$t, $what] }

my (%accepted, %out, %from, $t0);
for (@feeds) {
    my ($name, $file) = split /=/, $_, 2;
    open my $fh, '<', $file or die "$file: $!";
    while (<$fh>) {
        my ($t, $o, $g) = split;
        next unless defined $g;
        $t0 = $t if !defined $t0 || $t < $t0;
        my $k = $o eq '202' ? 'accepted' : $o eq '503' ? 'refused'
              : $o =~ /^\d+$/ ? 'other' : $o;
        $out{$k}++;
        $out{sent}++;
        if ($o eq '202' && $g ne '-') { $accepted{$g} = $t; $from{$g} = $name }
    }
}

my (%seen, %by, $lines, %stray, %status);
my %first;    # guid: "<msec> <instance>" of its first arrival
open my $l, '<', $log or die "$log: $!";
while (<$l>) {
    my ($t, $st, $g, $h, $inst) = split;
    next unless defined $h;
    $lines++;
    $status{$st}++;
    $by{$inst // '-'}++;
    $seen{"$g $h"}++;
    unless (exists $accepted{$g}) {
        $stray{$g}++;
        $first{$g} //= "$t " . ($inst // '-');
    }
}

# the last fault at or before time $_[0], as "<s after the start>s:<what>"
sub before {
    my $before = '-';
    for (@fault) {
        $before = sprintf "%.1fs:%s", $_->[0] - $t0, $_->[1] =~ s/ /_/gr
            if $_->[0] <= $_[0];
    }
    return $before;
}

open my $so, '>', $strayf or die "$strayf: $!";
for my $g (sort { $first{$a} <=> $first{$b} } keys %first) {
    my ($t, $inst) = split ' ', $first{$g};
    printf $so "%s %d %.1fs %s %s\n", $g, $stray{$g}, $t - $t0, $inst,
        before($t);
}

my ($delivered, $dup, $lost) = (0, 0, 0);
open my $lo, '>', $lostf or die "$lostf: $!";
for my $g (sort { $accepted{$a} <=> $accepted{$b} } keys %accepted) {
    for my $h (@hooks) {
        my $n = $seen{"$g $h"} // 0;
        if ($n) { $delivered++; $dup += $n - 1; next }
        $lost++;
        printf $lo "%s %s %s %.1fs %s\n", $g, $h, $from{$g},
            $accepted{$g} - $t0, before($accepted{$g});
    }
}

my $acc = keys %accepted;
print "sent ", $out{sent} // 0, "\n";
print "accepted $acc\n";
print "$_ ", $out{$_} // 0, "\n" for qw(refused other conn reset timeout);
print "expected ", $acc * @hooks, "\n";
print "delivered $delivered\n";
print "duplicated $dup\n";
print "lost $lost\n";
print "arrivals ", $lines // 0, "\n";
print "stray ", scalar(keys %stray), "\n";
print "by ", join(' ', map { "$_=$by{$_}" } sort keys %by), "\n";
print "statuses ", join(' ', map { "$_=$status{$_}" } sort keys %status), "\n";
