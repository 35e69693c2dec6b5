#!/usr/bin/perl
# Sends the event in <body file> (X-GitHub-Event: push) to the intake at
# a fixed rate on one keep-alive connection, reconnecting when it is
# lost, until <seconds> have passed.  Prints one line per event tried:
#   <send time, epoch s> <outcome> <guid or ->
# where <outcome> is the HTTP status, "conn" (no connection: nothing
# sent), "reset" (the connection went away before a response: the event
# may or may not have been taken in) or "timeout" (no response in 10 s).
# Usage: feed.pl <port> <path> <body file> <events/s> <seconds>
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my ($port, $path, $file, $rate, $secs) = @ARGV;
open my $fh, '<', $file or die "$file: $!";
my $body = do { local $/; <$fh> };
my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n$body";

$SIG{PIPE} = 'IGNORE';
$| = 1;

my $s;
my $t0 = time;
my $end = $t0 + $secs;

# Reads up to the end of one response; undef when the connection is
# lost, "" on timeout.
sub response {
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10;
    my $head;
    while (1) {
        if (!defined $head && (my $i = index($buf, "\r\n\r\n")) >= 0) {
            $head = $i + 4;
        }
        if (defined $head) {
            my ($len) = substr($buf, 0, $head) =~ /^Content-Length:\s*(\d+)/mi;
            return $buf if length($buf) >= $head + ($len // 0);
        }
        my $left = $deadline - time;
        return "" if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        return undef unless $n;
    }
}

for (my $i = 0; ; $i++) {
    my $due = $t0 + $i / $rate;
    last if $due >= $end;
    my $now = time;
    sleep($due - $now) if $due > $now;

    my $sent = time;
    # readable while idle: the server closed it (a reload, a dead worker)
    undef $s if $s && IO::Select->new($s)->can_read(0);
    if (!$s) {
        $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                   Timeout => 2);
        if (!$s) {
            printf "%.6f conn -\n", $sent;
            next;
        }
    }

    if (!defined syswrite($s, $req)) {
        # written to a connection the server had closed: nothing taken in
        printf "%.6f reset -\n", $sent;
        undef $s;
        next;
    }

    my $buf = response();
    if (!defined $buf || $buf eq '') {
        printf "%.6f %s -\n", $sent, defined $buf ? "timeout" : "reset";
        undef $s;
        next;
    }

    my ($status) = $buf =~ m{^HTTP/1\.[01] (\d+)};
    my ($guid) = $buf =~ /"guid":"([0-9a-f-]+)"/;
    printf "%.6f %s %s\n", $sent, $status // "bad",
        ($status // 0) == 202 && $guid ? $guid : "-";
    undef $s if $buf =~ /^Connection:\s*close/mi;
}
