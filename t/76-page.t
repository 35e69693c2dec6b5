#!/usr/bin/perl

# The webhooks page in a real browser (Debian's chromium, driven by
# playwright-core from t/node_modules through t/page.js): it loads with
# no console error; a hook added through the form is seen by the API with
# exactly those settings, edited (events added and removed, secret kept),
# pinged; its delivery shows request and response; Redeliver makes a new
# delivery with the same GUID; a bad URL shows GitHub's 422 message; the
# hook is deactivated, activated, tested and deleted.  Screenshots go to
# t/artifacts/76-page/ (git-ignored).
# chromium and node are required: missing, the test fails.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use JSON::PP;
use MIME::Base64 ();
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;

my $chromium = $ENV{CHROMIUM} // '/usr/bin/chromium';
my $has_chromium = ok(-x $chromium, "chromium is installed ($chromium)");
my $has_playwright = ok(-d "$FindBin::Bin/node_modules/playwright-core",
    'playwright-core is installed in t/node_modules (make npm)');
unless ($has_chromium && $has_playwright) {
    done_testing;
    exit;
}

$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8;
    webhooks_status_zone 1m;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
        }

        %%EVENTS_LOCATION%%

        location = /status {
            if ($webhooks_demo_admin = 0) {
                add_header WWW-Authenticate 'Basic realm="webhooks"' always;
                return 401;
            }

            webhooks_status;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $R = 'octo-org/page';
my $base = 'http://127.0.0.1:' . $t->port(0);

# the page asks for credentials; with them, it is there, locked down
my $r = $t->http(GET => '/status', headers => { Accept => 'text/html' });
is($r->{status}, 401, 'the page wants credentials');
$r = $t->http(GET => '/status', headers => { Accept => 'text/html',
    Authorization => 'Basic ' . MIME::Base64::encode_base64(
        'octocat:demo-owner', '') });
is($r->{status}, 200, 'the page');
like($r->{body}, qr/<title>Webhooks<\/title>/, 'the page is HTML');
unlike($r->{body}, qr/<script>|<style>|\son\w+=|https?:\/\//i,
    'no inline script or style, no handler attributes, nothing external');

my $art = "$FindBin::Bin/artifacts/76-page";
make_path($art);
unlink glob "$art/*.png";

my $cmd = "cd \Q$FindBin::Bin\E && CHROMIUM=\Q$chromium\E timeout 120 "
    . "node page.js \Q$base\E \Q$R\E \Q$RCV\E \Q$art\E 2>"
    . $t->testdir . '/node.err';
my $out = `$cmd`;
is($?, 0, 'the browser script ran') or diag($out, $t->read_file('node.err'));
my $seen = eval { decode_json($out) } || {};
diag($seen->{error}) if $seen->{error};

is($seen->{title}, 'Webhooks', 'the page loaded');
is_deeply($seen->{load_console}, [], 'no console error while loading')
    or diag(explain($seen->{load_console}));
cmp_ok($seen->{figures} // 0, '>', 0, 'live figures shown');

# added: exactly what the form said
like($seen->{add_flash} // '', qr/created/, 'added through the form');
my $h = $seen->{created} || {};
is($h->{config}{url}, "$RCV/ok/page", 'API: the URL');
is($h->{config}{content_type}, 'json', 'API: the content type');
is($h->{config}{insecure_ssl}, '1', 'API: SSL verification off');
is($h->{config}{secret}, '********', 'API: a secret');
is_deeply([sort @{ $h->{events} || [] }], ['issues', 'push'],
    'API: the events chosen');
is($h->{active}, JSON::PP::false, 'API: inactive');

# edited
ok($seen->{keep_secret_checked}, 'the form keeps the secret by default');
like($seen->{edit_flash} // '', qr/updated/, 'edited through the form');
$h = $seen->{edited} || {};
is_deeply([sort @{ $h->{events} || [] }], ['pull_request', 'push'],
    'API: issues removed, pull_request added');
is($h->{config}{secret}, '********', 'API: the secret kept');
is($h->{active}, JSON::PP::true, 'API: active');

# pinged, its delivery shown
like($seen->{ping_flash} // '', qr/Ping sent/, 'pinged');
like($seen->{ping_row} // '', qr/ping.*200/s, 'the ping in Recent Deliveries');
like($seen->{request_headers} // '', qr/^X-GitHub-Event: ping$/m,
    'the request headers');
like($seen->{request_headers} // '', qr/^X-Hub-Signature-256: sha256=/m,
    'signed with the secret kept');
like($seen->{request_payload} // '', qr/"zen"/, 'the request payload');
like($seen->{response_code} // '', qr/^200 OK/, 'the response code');
like($seen->{response_headers} // '', qr/^X-Receiver: webhooks-test$/mi,
    'the response headers');
is($seen->{response_body}, 'thanks', 'the response body');

# redelivered under the same GUID
like($seen->{redeliver_flash} // '', qr/Redelivery/, 'Redeliver clicked');
my @rows = @{ $seen->{rows_after_redeliver} || [] };
is(scalar @rows, 2, 'a new delivery');
is(scalar(grep { $_->{guid} eq ($seen->{ping_guid} // '') } @rows), 2,
    'with the same GUID');
my %ids = map { $_->{id} => 1 } @rows;
is(scalar keys %ids, 2, 'under a new id');
like($rows[0]{text} // '', qr/redelivery/, 'marked as a redelivery');
is(scalar $t->received(sub { $_[0]{path} eq '/ok/page'
    && $_[0]{headers}{'x-github-event'} eq 'ping' }), 2,
    'the receiver got both');

# markup in a payload stays text
is($seen->{hostile_status}, 202, 'an event with markup in its payload');
ok($seen->{hostile_shown}, 'the markup shown as text');
is($seen->{hostile_title}, 'Webhooks', 'and never run');

# deactivated and activated again; a test push asked for
like($seen->{deactivate_flash} // '', qr/deactivated/, 'Deactivate clicked');
is($seen->{deactivated}, JSON::PP::false, 'API: inactive');
like($seen->{activate_flash} // '', qr/active/, 'Activate clicked');
is($seen->{activated}, JSON::PP::true, 'API: active again');
like($seen->{test_flash} // '', qr/Test push sent/, 'Test push clicked');

# GitHub's 422, in its words
my $bad = $seen->{bad_api} || {};
is($bad->{message}, 'Validation Failed', 'API: a bad URL is a 422');
like($seen->{bad_flash} // '', qr/^\Q$bad->{message}\E: \S/,
    'the page shows GitHub\'s message and its errors');

# deleted
like($seen->{delete_flash} // '', qr/deleted/, 'deleted');
is($seen->{after_delete}, 404, 'API: gone');
is($seen->{list_after_delete}, 0, 'the list is empty');

# Chromium logs the answer to the bad URL, which was meant to fail
my @errors = grep { !/status of 422 \(Unprocessable Entity\)$/ }
    @{ $seen->{console} || [] };
is(scalar @{ $seen->{console} || [] } - @errors, 1, 'the 422 logged');
is_deeply(\@errors, [], 'no other console error afterwards')
    or diag(explain(\@errors));
is($seen->{injected}, 0, 'nothing read was taken as HTML');
is(scalar(@{ $seen->{steps} || [] }), 9, 'screenshots kept in t/artifacts');

$t->log_ok;

done_testing;
