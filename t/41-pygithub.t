#!/usr/bin/perl

# PyGithub (Debian's python3-github), a second real GitHub client beside
# Octokit: org and repository hooks created, listed, read, edited (the
# config as read sent back, events replaced, added and removed), pinged,
# tested and deleted by t/pygithub/hooks.py.  Its pings are signed with
# the secret given at creation: the edit kept it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256_hex);
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $PY = '/usr/bin/python3';
# CI installs it (util/deps): there its absence is a failure
unless (system($PY, '-c', 'import github') == 0) {
    die "no python3-github\n" if $ENV{CI};
    plan(skip_all => 'no python3-github (util/deps installs it)');
}

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;
my $RCV = $t->start_receiver;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass     127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_delivery_retry off;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
        }

        location /api/v3/ {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $base = 'http://127.0.0.1:' . $t->port(0) . '/api/v3';
my $script = "$FindBin::Bin/pygithub/hooks.py";
my $json = `$PY $script $base demo-owner octo-org octo-org/hello-world $RCV`;
is($?, 0, 'hooks.py ran') or diag($json);
my $out = eval { decode_json($json) } // {};

for my $label (qw(repo org)) {
    my $s = $out->{$label} or do { fail("$label: nothing seen"); next };
    my $id = $s->{created}{id};
    my $u = "$base/" . ($label eq 'repo' ? 'repos/octo-org/hello-world'
        : 'orgs/octo-org') . "/hooks/$id";

    like($id, qr/^\d+$/, "$label: created");
    is($s->{created}{url}, $u, "$label: url");
    is($s->{created}{ping_url}, "$u/pings", "$label: ping_url");
    is_deeply($s->{created}{events}, ['push', 'issues'], "$label: events");
    is($s->{created}{config}{secret}, '********', "$label: secret masked");
    is_deeply($s->{listed}, [$id], "$label: listed");
    is_deeply($s->{got}, $s->{created}, "$label: got as created");
    is_deeply($s->{edited}{events}, ['push', 'fork'], "$label: edited");
    is_deeply($s->{refetched}, $s->{edited}, "$label: edit stored");
    is_deeply($s->{edited}{config}, $s->{created}{config},
        "$label: config as sent back");
    ok($s->{pinged}, "$label: pinged");
    ok($s->{tested}, "$label: tested") if $label eq 'repo';
    is($s->{after_delete}, 404, "$label: deleted");
    is_deeply($s->{listed_after}, [], "$label: none left");

    # The ping, made after the edit, is signed with the secret of the
    # creation.
    my ($ping) = grep { ($_->{headers}{'x-github-event'} // '') eq 'ping' }
        $t->wait_received(1, "/ok/py-$label");
    ok($ping, "$label: ping received") or next;
    is($ping->{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($ping->{body}, "py-$label-secret"),
        "$label: signed with the secret kept through the edit");
    is(decode_json($ping->{body})->{hook_id}, $id, "$label: ping hook_id");
}

is_deeply($out->{bad_name}, [422, 'Validation Failed',
    [{ resource => 'Hook', field => 'name', code => 'invalid' }]],
    "GithubException for GitHub's 422");

$t->log_ok;
done_testing;
