#!/usr/bin/perl

# An answer cut short is a failed delivery: a receiver that says 200 with
# Content-Length 100000, sends 1000 bytes and closes did not necessarily
# take the delivery (nginx logs "upstream prematurely closed connection").
# The log says so ("Response cut short: 1000 of 100000 bytes", 502) and
# the delivery is tried again like any other failure; so is a chunked
# answer without its last chunk, and one that stops mid-body until
# proxy_read_timeout.  Complete answers stay OK.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

# A receiver that answers by path, each connection in a child.
my $port = $t->port(7);
my $ls = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
    Listen => 64, ReuseAddr => 1, Proto => 'tcp')
    or die "cannot listen on 127.0.0.1:$port: $!";
my $log = $t->testdir . '/cut.log';

$t->run_daemon(sub {
    $SIG{CHLD} = 'IGNORE';
    while (1) {
        my $c = $ls->accept or next;
        my $pid = fork() // next;
        if ($pid) {
            close $c;
            next;
        }
        my $buf = '';
        my $sel = IO::Select->new($c);
        while ($buf !~ /\r\n\r\n/ && $sel->can_read(5)) {
            sysread($c, $buf, 65536, length $buf) or last;
        }
        my ($path) = $buf =~ m{^POST (\S+)};
        my ($len) = $buf =~ /\r\nContent-Length: (\d+)/i;
        my $have = length($buf) - index($buf, "\r\n\r\n") - 4;
        while ($have < ($len // 0) && $sel->can_read(5)) {
            my $n = sysread($c, my $more, 65536) or last;
            $have += $n;
        }
        if (open my $fh, '>>', $log) {
            print $fh sprintf("%.3f %s\n", time, $path // '?');
            close $fh;
        }
        $path //= '';
        my $x = 'x' x 1000;
        if ($path =~ m{^/cut}) {
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                . "Connection: close\r\n\r\n$x";
        } elsif ($path =~ m{^/chunked}) {
            print $c "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                . "Connection: close\r\n\r\n3e8\r\n$x\r\n";
        } elsif ($path =~ m{^/stall}) {
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                . "Connection: close\r\n\r\n$x";
            sleep 4;
        } elsif ($path =~ m{^/fail}) {
            print $c "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n"
                . "Connection: close\r\n\r\noops";
        } else {
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                . "Connection: close\r\n\r\n" . ('y' x 100000);
        }
        close $c;
        POSIX::_exit(0);
    }
});
close $ls;

sub conf {
    my ($retry) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.1;
    webhooks_delivery_retry            $retry;
    webhooks_delivery_deactivate_after off;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            proxy_connect_timeout 2s;
            proxy_read_timeout    1s;
        }

        %%EVENTS_LOCATION%%

        location / {
            %%DEMO_API%%
        }
    }
EOF
    $t->run;
}

conf('1s 1s');

my $TOK = 'demo-owner';
my $R = 'octo-org/cut';
my $RCV = "http://127.0.0.1:$port";

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($url) = @_;
    my $r = api(POST => "/repos/$R/hooks",
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url") or diag($r->{raw});
    return $r->{json}{id};
}

# how many requests to $path the receiver has seen
sub tries {
    my ($path) = @_;
    open my $fh, '<', $log or return 0;
    my @l = grep { (split ' ', $_)[1] eq $path } <$fh>;
    return scalar @l;
}

my %H = (
    cut     => hook("$RCV/cut"),
    chunked => hook("$RCV/chunked"),
    stall   => hook("$RCV/stall"),
    whole   => hook("$RCV/whole"),
);

my $ev = $t->http(POST => '/_webhooks/events',
    headers => { 'Content-Type' => 'application/json',
                 'X-GitHub-Event' => 'push' },
    body => encode_json({ ref => 'refs/heads/main',
        repository => { full_name => $R } }));
is($ev->{status}, 202, 'event taken in');

# the first try and two more for each cut answer, over about 2 s (the
# stalled one 1 s longer each time)
$t->wait_for(sub { tries('/cut') >= 3 && tries('/chunked') >= 3
    && tries('/stall') >= 3 }, 20);
sleep 2.5;

is(tries('/cut'), 3, 'cut short: tried again, twice');
is(tries('/chunked'), 3, 'chunked without its end: tried again');
is(tries('/stall'), 3, 'stalled mid-body: tried again');
is(tries('/whole'), 1, 'a whole answer: one try');

sub log_of {
    my ($id) = @_;
    my $r = api(GET => "/repos/$R/hooks/$id/deliveries");
    return $r->{json} || [];
}

for my $c (
    [ cut => 'Response cut short: 1000 of 100000 bytes' ],
    [ chunked => 'Response cut short after 1000 bytes' ],
    [ stall => 'Response cut short: timed out' ])
{
    my ($name, $want) = @$c;
    my $l = log_of($H{$name});
    is(scalar @$l, 3, "$name: 3 deliveries logged");
    is_deeply([ map { $_->{status} } @$l ], [ ($want) x 3 ],
        "$name: the status says so") or diag(explain($l));
    is_deeply([ map { $_->{status_code} } @$l ], [ 502, 502, 502 ],
        "$name: status code 502");
    my $h = api(GET => "/repos/$R/hooks/$H{$name}")->{json};
    is($h->{last_response}{status}, 'failed', "$name: last response failed");
}

my $l = log_of($H{whole});
is($l->[0]{status}, 'OK', 'a whole answer: OK');
is($l->[0]{status_code}, 200, 'a whole answer: 200');

###############################################################################
# Retries come when due: 1 s spread by +-20%, not up to 1.5 s later
# waiting for the next round of moving due tries to the stream.

conf('1s 1s 1s 1s 1s 1s');

my $fail = hook("$RCV/fail");
$ev = $t->http(POST => '/_webhooks/events',
    headers => { 'Content-Type' => 'application/json',
                 'X-GitHub-Event' => 'push' },
    body => encode_json({ ref => 'refs/heads/main',
        repository => { full_name => $R } }));
is($ev->{status}, 202, 'event taken in');
$t->wait_for(sub { tries('/fail') >= 7 }, 30);

my @at = do {
    open my $fh, '<', $log or die;
    map { (split ' ')[0] } grep { (split ' ')[1] eq '/fail' } <$fh>;
};
is(scalar @at, 7, 'the first try and 6 more');
my @gap = map { sprintf '%.3f', $at[$_] - $at[$_ - 1] } 1 .. $#at;
is(scalar(grep { $_ >= 0.75 && $_ <= 1.3 } @gap), 6,
    "every retry 1 s +-20% after the try before (@gap)");

$t->stop;
$t->log_ok;

done_testing;
