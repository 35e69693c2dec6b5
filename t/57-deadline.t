#!/usr/bin/perl

# No delivery in flight for ever: whatever holds the subrequest (an
# upstream that never answers under a long proxy_read_timeout, a
# limit_req delay far longer than any receiver's time), the attempt ends
# at its deadline (webhooks_delivery_timeout, or "auto"), is recorded as
# timed out, and is tried again as a failure; nothing leaks.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;
use Time::HiRes qw(sleep time);

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;
my $TOK = 'demo-owner';

sub conf {
    my ($http, $limits) = @_;
    $t->stop if $t->nginx_pid;
    $t->nginx_conf(<<"EOF");
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_delivery_deactivate_after off;
$http
    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            internal;
$limits
            client_max_body_size  0;
            proxy_pass            \$webhooks_delivery_url;
            proxy_set_header      Host \$webhooks_delivery_host;
            proxy_connect_timeout 1h;
            proxy_send_timeout    1h;
            proxy_read_timeout    1h;
        }

        %%EVENTS_LOCATION%%

        location / {
            %%DEMO_API%%
        }
    }
EOF
    $t->run;
}

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub hook {
    my ($repo, $url) = @_;
    my $r = api(POST => "/repos/$repo/hooks",
        { config => { url => $url, content_type => 'json' },
          events => ['push'] });
    is($r->{status}, 201, "hook to $url created") or diag($r->{raw});
    return $r->{json}{id};
}

sub event {
    my ($repo) = @_;
    return $t->http(POST => '/_webhooks/events',
        headers => { 'Content-Type' => 'application/json',
                     'X-GitHub-Event' => 'push' },
        body => encode_json({ ref => 'refs/heads/main',
            repository => { full_name => $repo } }));
}

sub at {
    my ($path) = @_;
    return sub { $_[0]{path} eq $path };
}

# the deliveries of a hook once $n of them have an outcome
sub outcomes {
    my ($repo, $id, $n, $timeout) = @_;
    my $log = [];
    $t->wait_for(sub {
        $log = api(GET => "/repos/$repo/hooks/$id/deliveries")->{json} || [];
        return (grep { $_->{status_code} } @$log) >= $n;
    }, $timeout);
    return [ grep { $_->{status_code} } @$log ];
}

sub fds {
    my ($w) = $t->worker_pids;
    opendir my $dh, "/proc/$w/fd" or return -1;
    return scalar grep { !/^\./ } readdir $dh;
}

my $LATE = qr/^timed out: past the delivery deadline$/;

###############################################################################
# The directive: "auto" or a time above 0, once.

for ([ '0', qr/must be "auto" or a time above 0, not "0"/ ],
     [ 'soon', qr/must be "auto" or a time above 0, not "soon"/ ],
     [ "auto;\n    webhooks_delivery_timeout 5s", qr/is duplicate/ ])
{
    my ($v, $err) = @$_;
    $t->nginx_conf(<<"EOF");
    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_timeout $v;
    server { listen 127.0.0.1:%%PORT%%; location / { webhooks_api on; } }
EOF
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "webhooks_delivery_timeout $v: refused");
    like($out, $err, "webhooks_delivery_timeout $v: why");
}

###############################################################################
# A receiver that takes the connection and never answers, with nginx's
# own timeouts an hour long: the deadline of 2 s ends the attempt, and
# the try after it succeeds.

conf(<<'EOF', '');
    webhooks_delivery_timeout 2s;
    webhooks_delivery_retry   1s;
EOF

my $R = 'octo-org/hang';
my $once = hook($R, "$RCV/hang-once/a");

my $t0 = time;
is(event($R)->{status}, 202, 'event to a receiver that never answers');
my $log = outcomes($R, $once, 2, 20);
my ($late) = grep { $_->{status_code} == 504 } @$log;
my ($ok) = grep { $_->{status} eq 'OK' } @$log;
ok($late, 'the first attempt ended at its deadline') or diag explain $log;
like($late->{status} // '', $LATE, 'recorded as past the deadline');
ok($late && $late->{duration} >= 1.9 && $late->{duration} < 5,
    'after about 2 s (' . ($late->{duration} // '?') . ')');
ok($ok, 'tried again as a failure, and delivered');
is(scalar $t->received(at('/hang-once/a')), 2, 'the receiver got 2 tries');
my $hk = api(GET => "/repos/$R/hooks/$once");
is($hk->{json}{last_response}{code}, 200, 'the last response is the try');

# more attempts ended the same way: the worker keeps no descriptor of them
my $never = hook($R, "$RCV/hang/b");
is(api(PATCH => "/repos/$R/hooks/$once", { active => JSON::PP::false })
    ->{status}, 200, 'the first hook off');
my $fd0 = fds();
is(event($R)->{status}, 202, "event $_ to a hook that never answers")
    for 1 .. 3;
$log = outcomes($R, $never, 6, 30);
is(scalar(grep { ($_->{status} // '') =~ $LATE } @$log), 6,
    '3 events, 2 attempts each, all past the deadline');
ok($t->wait_for(sub { fds() <= $fd0 }, 5),
    "no descriptor left behind ($fd0 before, " . fds() . ' after)');

###############################################################################
# limit_req delaying a delivery for a minute (1 r/m): nothing in nginx
# would end it before the limit lets it go.

conf(<<'EOF', <<'EOF');
    limit_req_zone $webhooks_hook_id zone=slow:1m rate=1r/m;
    webhooks_delivery_timeout 2s;
    webhooks_delivery_retry   off;
EOF
            limit_req zone=slow burst=5;
EOF

my $L = 'octo-org/delayed';
my $dl = hook($L, "$RCV/ok/delayed");
is(event($L)->{status}, 202, "event $_ to a hook limited to 1 r/m") for 1 .. 2;
$log = outcomes($L, $dl, 2, 20);
is(scalar(grep { $_->{status} eq 'OK' } @$log), 1, 'the first one goes');
my ($held) = grep { $_->{status_code} == 504 } @$log;
like($held->{status} // '', $LATE, 'the delayed one ends at the deadline');
is(scalar $t->received(at('/ok/delayed')), 1, 'and is not sent');

###############################################################################
# "auto", the default: GitHub's 10 s and a margin while no upstream is
# started.

conf(<<'EOF', <<'EOF');
    limit_req_zone $webhooks_hook_id zone=slow:1m rate=1r/m;
    webhooks_delivery_retry off;
EOF
            limit_req zone=slow burst=5;
EOF

my $A = 'octo-org/auto';
my $au = hook($A, "$RCV/ok/auto");
is(event($A)->{status}, 202, "event $_ to a hook limited to 1 r/m") for 1 .. 2;
$log = outcomes($A, $au, 2, 30);
($held) = grep { $_->{status_code} == 504 } @$log;
like($held->{status} // '', $LATE, 'auto: the delayed one ends');
ok($held && $held->{duration} >= 14.5 && $held->{duration} < 20,
    'auto: after 15 s (' . ($held->{duration} // '?') . ')');

$t->log_ok;
done_testing;
