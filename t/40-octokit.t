#!/usr/bin/perl

# Octokit (@octokit/rest, as pinned in t/package-lock.json) against the
# module: all 14 hook operations, pagination by the Link header, and the
# errors a client sees, each reply checked against GitHub's schemas.
# node and t/node_modules are required (make npm): missing, the test fails.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks qw(json);

my $t = Test::Webhooks->new->skip_unless_module;

my $script = "$FindBin::Bin/octokit/hooks.mjs";
my $node_version = `node --version 2>/dev/null` // '';
chomp $node_version;
my $has_node = ok($? == 0 && $node_version =~ /^v(\d+)/ && $1 >= 18,
    "node 18+ is installed ($node_version)");
my $has_octokit = ok(-f "$FindBin::Bin/node_modules/\@octokit/rest/package.json",
    '@octokit/rest is installed in t/node_modules (make npm)');
ok(-f $script, 'octokit script present');

unless ($has_node && $has_octokit) {
    done_testing;
    exit;
}

$t->start_redis;
$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass   127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_redis_prefix "webhooks:";

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
        }
    }
EOF
$t->run;

my $base = 'http://127.0.0.1:' . $t->port(0);

###############################################################################
# Run the script: one JSON line per step.

my $errfile = $t->testdir . '/node.err';
my $out = do {
    # cwd t/: "@octokit/rest" resolves from t/node_modules.
    local $ENV{NODE_PATH} = "$FindBin::Bin/node_modules";
    my $cmd = "cd \Q$FindBin::Bin\E && timeout 60 node \Q$script\E "
        . "\Q$base\E demo-owner 2>\Q$errfile\E";
    `$cmd`;
};
my $rc = $? >> 8;
is($rc, 0, 'octokit script succeeded')
    or diag("exit $rc\n" . $t->read_file($errfile));
is($t->read_file($errfile), '', 'nothing on stderr');

my %step;
for my $line (split /\n/, $out) {
    my $s = eval { json->decode($line) };
    ok($s && $s->{op}, 'output line is JSON with an op') or diag($line), next;
    ok(!exists $step{ $s->{op} }, "op $s->{op} reported once");
    $step{ $s->{op} } = $s;
}

my @ops = qw(
    repos.createWebhook repos.listWebhooks repos.getWebhook
    repos.updateWebhook repos.getWebhookConfigForRepo
    repos.updateWebhookConfigForRepo repos.deleteWebhook
    orgs.createWebhook orgs.listWebhooks orgs.getWebhook orgs.updateWebhook
    orgs.getWebhookConfigForOrg orgs.updateWebhookConfigForOrg
    orgs.deleteWebhook
    repos.getWebhook.deleted repos.createWebhook.badUrl
    orgs.getWebhook.deleted orgs.createWebhook.badUrl
    repos.listWebhooks.page1 paginate
);
ok($step{$_}, "step $_ ran") for @ops;

sub step {
    my ($op) = @_;
    return $step{$op} || { data => undef, headers => {}, status => 0 };
}

###############################################################################
# Repository hooks.

my $repo_url = "$base/repos/octo-org/octokit-repo/hooks";

my $s = step('repos.createWebhook');
is($s->{status}, 201, 'repos.createWebhook: 201');
$t->schema_ok($s->{data}, 'hook', 'repos.createWebhook: hook');
my $created = $s->{data};
my $id = $created->{id};
is($created->{type}, 'Repository', 'repos.createWebhook: type');
is($created->{name}, 'web', 'repos.createWebhook: name defaults to web');
is_deeply($created->{events}, [ 'push', 'pull_request' ],
    'repos.createWebhook: events');
is($created->{active}, JSON::PP::true, 'repos.createWebhook: active');
is_deeply($created->{config}, { url => 'https://example.com/octokit/repo',
    content_type => 'json', secret => '********', insecure_ssl => '0' },
    'repos.createWebhook: config, secret masked');
is($created->{url}, "$repo_url/$id", 'repos.createWebhook: url');
is($created->{test_url}, "$repo_url/$id/test", 'repos.createWebhook: test_url');
is($created->{ping_url}, "$repo_url/$id/pings",
    'repos.createWebhook: ping_url');
is($created->{deliveries_url}, "$repo_url/$id/deliveries",
    'repos.createWebhook: deliveries_url');
is_deeply($created->{last_response},
    { code => undef, status => 'unused', message => undef },
    'repos.createWebhook: last_response');
like($created->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    'repos.createWebhook: created_at');
is($s->{headers}{location}, "$repo_url/$id", 'repos.createWebhook: Location');
like($s->{headers}{'content-type'} // '', qr{^application/json},
    'repos.createWebhook: content type');

$s = step('repos.listWebhooks');
is($s->{status}, 200, 'repos.listWebhooks: 200');
$t->schema_array_ok($s->{data}, 'hook', 'repos.listWebhooks: hooks');
is_deeply($s->{data}, [$created], 'repos.listWebhooks: the created hook');

$s = step('repos.getWebhook');
is($s->{status}, 200, 'repos.getWebhook: 200');
$t->schema_ok($s->{data}, 'hook', 'repos.getWebhook: hook');
is_deeply($s->{data}, $created, 'repos.getWebhook: as created');

$s = step('repos.updateWebhook');
is($s->{status}, 200, 'repos.updateWebhook: 200');
$t->schema_ok($s->{data}, 'hook', 'repos.updateWebhook: hook');
is($s->{data}{id}, $id, 'repos.updateWebhook: id');
is_deeply([ sort @{ $s->{data}{events} || [] } ], [ 'issues', 'push' ],
    'repos.updateWebhook: add_events and remove_events');
is($s->{data}{active}, JSON::PP::false, 'repos.updateWebhook: inactive');
is_deeply($s->{data}{config}, $created->{config},
    'repos.updateWebhook: config untouched');
is($s->{data}{created_at}, $created->{created_at},
    'repos.updateWebhook: created_at kept');

$s = step('repos.getWebhookConfigForRepo');
is($s->{status}, 200, 'repos.getWebhookConfigForRepo: 200');
$t->schema_ok($s->{data}, 'webhook-config',
    'repos.getWebhookConfigForRepo: webhook-config');
is_deeply($s->{data}, $created->{config},
    'repos.getWebhookConfigForRepo: the config');

$s = step('repos.updateWebhookConfigForRepo');
is($s->{status}, 200, 'repos.updateWebhookConfigForRepo: 200');
$t->schema_ok($s->{data}, 'webhook-config',
    'repos.updateWebhookConfigForRepo: webhook-config');
is_deeply($s->{data}, { url => 'https://example.com/octokit/repo',
    content_type => 'form', secret => '********', insecure_ssl => '1' },
    'repos.updateWebhookConfigForRepo: named fields changed, others kept');

$s = step('repos.deleteWebhook');
is($s->{status}, 204, 'repos.deleteWebhook: 204');
ok(!defined $s->{data} || $s->{data} eq '', 'repos.deleteWebhook: no body');

$s = step('repos.getWebhook.deleted');
ok(!$s->{unexpected}, 'repos.getWebhook after delete: fails');
is($s->{error}, 'HttpError', 'repos.getWebhook after delete: RequestError');
is($s->{status}, 404, 'repos.getWebhook after delete: 404');
$t->schema_ok($s->{data}, 'basic-error',
    'repos.getWebhook after delete: basic-error');
is($s->{data}{message}, 'Not Found', 'repos.getWebhook after delete: message');
is($s->{data}{documentation_url},
    'https://docs.github.com/rest/repos/webhooks#get-a-repository-webhook',
    'repos.getWebhook after delete: documentation_url');

my $bad_url = { resource => 'Hook', code => 'custom',
    message => "The URL you've entered is not valid. Please make sure that "
        . "you encode all special characters first" };

$s = step('repos.createWebhook.badUrl');
ok(!$s->{unexpected}, 'repos.createWebhook with a bad url: fails');
is($s->{error}, 'HttpError', 'repos.createWebhook with a bad url: RequestError');
is($s->{status}, 422, 'repos.createWebhook with a bad url: 422');
$t->schema_ok($s->{data}, 'validation-error',
    'repos.createWebhook with a bad url: validation-error');
is($s->{data}{message}, 'Validation Failed',
    'repos.createWebhook with a bad url: message');
is_deeply($s->{data}{errors}, [$bad_url],
    'repos.createWebhook with a bad url: errors');
is($s->{data}{documentation_url},
    'https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook',
    'repos.createWebhook with a bad url: documentation_url');

###############################################################################
# Organization hooks.

my $org_url = "$base/orgs/octo-org/hooks";

$s = step('orgs.createWebhook');
is($s->{status}, 201, 'orgs.createWebhook: 201');
$t->schema_ok($s->{data}, 'org-hook', 'orgs.createWebhook: org-hook');
my $ocreated = $s->{data};
my $oid = $ocreated->{id};
ok($oid && $id && $oid != $id, 'orgs.createWebhook: an id of its own');
is($ocreated->{type}, 'Organization', 'orgs.createWebhook: type');
is($ocreated->{name}, 'web', 'orgs.createWebhook: name');
is_deeply($ocreated->{events}, ['push'], 'orgs.createWebhook: events');
is($ocreated->{active}, JSON::PP::true, 'orgs.createWebhook: active');
is_deeply($ocreated->{config}, { url => 'https://example.com/octokit/org',
    content_type => 'json', secret => '********', insecure_ssl => '0' },
    'orgs.createWebhook: config');
is($ocreated->{url}, "$org_url/$oid", 'orgs.createWebhook: url');
is($ocreated->{ping_url}, "$org_url/$oid/pings", 'orgs.createWebhook: ping_url');
is($ocreated->{deliveries_url}, "$org_url/$oid/deliveries",
    'orgs.createWebhook: deliveries_url');
ok(!exists $ocreated->{test_url} && !exists $ocreated->{last_response},
    'orgs.createWebhook: no test_url, no last_response');
is($s->{headers}{location}, "$org_url/$oid", 'orgs.createWebhook: Location');

$s = step('orgs.listWebhooks');
is($s->{status}, 200, 'orgs.listWebhooks: 200');
$t->schema_array_ok($s->{data}, 'org-hook', 'orgs.listWebhooks: org-hooks');
is_deeply($s->{data}, [$ocreated], 'orgs.listWebhooks: the created hook');

$s = step('orgs.getWebhook');
is($s->{status}, 200, 'orgs.getWebhook: 200');
$t->schema_ok($s->{data}, 'org-hook', 'orgs.getWebhook: org-hook');
is_deeply($s->{data}, $ocreated, 'orgs.getWebhook: as created');

$s = step('orgs.updateWebhook');
is($s->{status}, 200, 'orgs.updateWebhook: 200');
$t->schema_ok($s->{data}, 'org-hook', 'orgs.updateWebhook: org-hook');
is_deeply([ sort @{ $s->{data}{events} || [] } ], [ 'fork', 'push' ],
    'orgs.updateWebhook: events replaced');
is($s->{data}{active}, JSON::PP::false, 'orgs.updateWebhook: inactive');
is_deeply($s->{data}{config}, $ocreated->{config},
    'orgs.updateWebhook: config untouched');

$s = step('orgs.getWebhookConfigForOrg');
is($s->{status}, 200, 'orgs.getWebhookConfigForOrg: 200');
$t->schema_ok($s->{data}, 'webhook-config',
    'orgs.getWebhookConfigForOrg: webhook-config');
is_deeply($s->{data}, $ocreated->{config},
    'orgs.getWebhookConfigForOrg: the config');

$s = step('orgs.updateWebhookConfigForOrg');
is($s->{status}, 200, 'orgs.updateWebhookConfigForOrg: 200');
$t->schema_ok($s->{data}, 'webhook-config',
    'orgs.updateWebhookConfigForOrg: webhook-config');
is_deeply($s->{data}, { url => 'https://example.com/octokit/org',
    content_type => 'form', insecure_ssl => '0' },
    'orgs.updateWebhookConfigForOrg: content_type changed, secret removed');

$s = step('orgs.deleteWebhook');
is($s->{status}, 204, 'orgs.deleteWebhook: 204');

$s = step('orgs.getWebhook.deleted');
ok(!$s->{unexpected}, 'orgs.getWebhook after delete: fails');
is($s->{error}, 'HttpError', 'orgs.getWebhook after delete: RequestError');
is($s->{status}, 404, 'orgs.getWebhook after delete: 404');
$t->schema_ok($s->{data}, 'basic-error',
    'orgs.getWebhook after delete: basic-error');
is($s->{data}{documentation_url},
    'https://docs.github.com/rest/orgs/webhooks#get-an-organization-webhook',
    'orgs.getWebhook after delete: documentation_url');

$s = step('orgs.createWebhook.badUrl');
ok(!$s->{unexpected}, 'orgs.createWebhook with a bad url: fails');
is($s->{status}, 422, 'orgs.createWebhook with a bad url: 422');
$t->schema_ok($s->{data}, 'validation-error',
    'orgs.createWebhook with a bad url: validation-error');
is_deeply($s->{data}{errors}, [$bad_url],
    'orgs.createWebhook with a bad url: errors');

###############################################################################
# Pagination.

my $paged_url = "$base/repos/octo-org/octokit-paged/hooks";

$s = step('repos.listWebhooks.page1');
is($s->{status}, 200, 'page 1: 200');
is(scalar @{ $s->{data} || [] }, 2, 'page 1: 2 hooks');
is($s->{headers}{link},
    qq{<$paged_url?per_page=2&page=2>; rel="next", }
    . qq{<$paged_url?per_page=2&page=3>; rel="last"},
    'page 1: Link header');

$s = step('paginate');
$t->schema_array_ok($s->{data}, 'hook', 'paginate: hooks');
is(scalar @{ $s->{data} || [] }, 5, 'paginate: all 5 hooks');
is_deeply([ map { $_->{id} } @{ $s->{data} || [] } ], $s->{created},
    'paginate: in id order, none twice');
is($s->{requests}, 3, 'paginate: 3 requests for 3 pages');
is_deeply([ map { $_->{config}{url} } @{ $s->{data} || [] } ],
    [ map {"https://example.com/octokit/paged/$_"} 1 .. 5 ],
    'paginate: the hooks created');

###############################################################################
# What Octokit did is what the API shows to a plain client.

my $r = $t->api(GET => '/repos/octo-org/octokit-repo/hooks', 'demo-owner');
is_deeply($r->{json}, [], 'repo hook gone');
$r = $t->api(GET => '/orgs/octo-org/hooks', 'demo-owner');
is_deeply($r->{json}, [], 'org hook gone');

$t->stop;
$t->log_ok;

done_testing;
