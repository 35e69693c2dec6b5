#!/usr/bin/perl
# A receiver for the latency phase: answers every request 204 on kept
# connections, and appends "<time, epoch s, to the us> 204 <X-GitHub-
# Delivery>" to <log> once a request has come whole.  nginx's $msec is
# truncated to the millisecond, which is the size of what is measured.
# The log is opened for each line, so that it may be moved meanwhile.
# Usage: stamp.pl <port> <log>
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($port, $log) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
    Listen => 128, ReuseAddr => 1) or die "stamp.pl: $port: $!";
my $sel = IO::Select->new($l);
my %buf;

$SIG{PIPE} = 'IGNORE';

sub gone { my ($c) = @_; $sel->remove($c); delete $buf{$c}; close $c }

while (1) {
    for my $c ($sel->can_read) {
        if ($c == $l) {
            my $n = $l->accept or next;
            $sel->add($n);
            $buf{$n} = '';
            next;
        }
        sysread($c, $buf{$c}, 65536, length $buf{$c}) or gone($c), next;
        # every request that came whole, in order
        while ((my $h = index($buf{$c}, "\r\n\r\n")) >= 0) {
            my $head = substr($buf{$c}, 0, $h);
            my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            last if length($buf{$c}) < $h + 4 + ($len // 0);
            my $at = time;
            substr($buf{$c}, 0, $h + 4 + ($len // 0), '');
            my ($guid) = $head =~ /^X-GitHub-Delivery:\s*(\S+)/mi;
            open my $f, '>>', $log or die "stamp.pl: $log: $!";
            printf $f "%.6f 204 %s\n", $at, $guid // '-';
            close $f;
            syswrite($c, "HTTP/1.1 204 No Content\r\n\r\n") or gone($c), last;
        }
    }
}
