#!/usr/bin/perl
# Sends the event in <body file> to the intake at a fixed rate on one
# keep-alive connection; prints "<guid> <send time, epoch s>" per event
# taken in (202), so that arrival times at the receiver give latencies.
# Usage: pace.pl <port> <path> <body file> <events/s> <seconds>
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($port, $path, $file, $rate, $secs) = @ARGV;
open my $fh, '<', $file or die "$file: $!";
my $body = do { local $/; <$fh> };
my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body";

my $s;
my $n = int($rate * $secs);
my ($bad, $t0) = (0, time);
$| = 1;
for my $i (0 .. $n - 1) {
    my $due = $t0 + $i / $rate;
    my $now = time;
    sleep($due - $now) if $due > $now;
    $s //= IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    my $sent = time;
    print $s $req;
    # One response: headers, then Content-Length bytes.
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        sysread($s, $buf, 4096, length $buf) or die "intake closed\n";
    }
    my ($len) = $buf =~ /^Content-Length:\s*(\d+)/mi;
    my $head = index($buf, "\r\n\r\n") + 4;
    while (length($buf) < $head + ($len // 0)) {
        sysread($s, $buf, 4096, length $buf) or die "intake closed\n";
    }
    my ($guid) = $buf =~ /"guid":"([0-9a-f-]+)"/;
    if ($buf =~ m{^HTTP/1\.1 202} && $guid) {
        printf "%s %.6f\n", $guid, $sent;
    } else {
        $bad++;
    }
    undef $s if $buf =~ /^Connection:\s*close/mi;
}
print STDERR "pace: $bad events not taken in\n" if $bad;
