#!/usr/bin/perl
# Creates <count> push hooks spread over <repos> repositories
# (<owner>/m0 .. m<repos - 1>, or <owner>/<name> when named) through the
# API, on one keep-alive connection, each request in one write; prints how
# many were created (201).  With events, the hooks take those instead of
# push, one each in turn.
# Usage: hooks.pl <port> <owner> <count> <repos> <receiver url>
#                 [<name> <event,...>]
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $owner, $count, $repos, $url, $name, $events) = @ARGV;
my @events = split /,/, $events // 'push';
my ($s, $created) = (undef, 0);
for my $i (0 .. $count - 1) {
    my $repo = $name // "m" . ($i % $repos);
    my $event = $events[$i % @events];
    my $body = qq({"events":["$event"],"config":{"url":"$url/$i",)
             . qq("content_type":"json","secret":"bench-secret"}});
    $s //= IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or die "connect: $!";
    syswrite $s, "POST /repos/$owner/$repo/hooks HTTP/1.1\r\n"
        . "Host: 127.0.0.1\r\nAuthorization: token demo-owner\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        sysread($s, $buf, 65536, length $buf) or die "API closed\n";
    }
    my ($len) = $buf =~ /^Content-Length:\s*(\d+)/mi;
    my $head = index($buf, "\r\n\r\n") + 4;
    while (length($buf) < $head + ($len // 0)) {
        sysread($s, $buf, 65536, length $buf) or die "API closed\n";
    }
    $created++ if $buf =~ m{^HTTP/1\.1 201};
    undef $s if $buf =~ /^Connection:\s*close/mi;
}
print "$created\n";
