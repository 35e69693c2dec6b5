#!/usr/bin/perl

# Every error path: unknown routes, authentication, media types, JSON
# parsing, validation (422), duplicates and the per-event cap.  After each
# rejected request the hooks in Redis must be exactly as before.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;
    webhooks_max_hooks_per_event 3;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            %%DEMO_API%%
            webhooks_oauth_app $webhooks_demo_app;
        }
    }
EOF
$t->run;

my $OWNER = 'demo-owner';
my $RDOC = 'https://docs.github.com/rest/repos/webhooks#';
my $ODOC = 'https://docs.github.com/rest/orgs/webhooks#';
my %DOC = (
    list => "${RDOC}list-repository-webhooks",
    create => "${RDOC}create-a-repository-webhook",
    get => "${RDOC}get-a-repository-webhook",
    update => "${RDOC}update-a-repository-webhook",
    delete => "${RDOC}delete-a-repository-webhook",
    config => "${RDOC}update-a-webhook-configuration-for-a-repository",
    ocreate => "${ODOC}create-an-organization-webhook",
    none => 'https://docs.github.com/rest',
);
my $REPO = '/repos/octocat/hello-world';

# Every key but the id counter, with its full content.
sub snapshot {
    my %d;
    for my $k (@{scalar $t->redis(KEYS => '*')}) {
        next if $k eq 'webhooks:seq:hook';
        my $type = $t->redis(TYPE => $k);
        $d{$k} = $type eq 'hash' ? { @{scalar $t->redis(HGETALL => $k)} }
            : $type eq 'string' ? $t->redis(GET => $k) : "<$type>";
    }
    return \%d;
}

sub created {
    my ($path, $data, $name) = @_;
    my $r = $t->api(POST => $path, $OWNER, $data);
    is($r->{status}, 201, "$name: 201") or diag $r->{body};
    return $r->{json}{id};
}

# reject($name, [$method, $path, $token, $data, %http], $status, $message,
#     $doc, $errors): exact body, schema, and nothing written.
sub reject {
    my ($name, $req, $status, $message, $doc, $errors) = @_;
    my $before = snapshot();
    my $r = $t->api(@$req);
    is($r->{status}, $status, "$name: $status");
    my %exp = (message => $message, documentation_url => $DOC{$doc},
        status => "$status", $errors ? (errors => $errors) : ());
    $t->schema_ok($r->{json}, $status == 422 ? 'validation-error'
        : 'basic-error', "$name: schema");
    is_deeply($r->{json}, \%exp, "$name: body") or diag $r->{body};
    is_deeply(snapshot(), $before, "$name: nothing stored");
}

sub custom { [{ resource => 'Hook', code => 'custom', message => $_[0] }] }
sub field { [{ resource => 'Hook', field => $_[0], code => $_[1] }] }
sub typed { "Invalid request.\n\nFor '$_[0]', $_[1] is not $_[2]." }

my $BAD_URL = custom('The URL you\'ve entered is not valid. Please make '
    . 'sure that you encode all special characters first');
my $NO_URL = custom('Config must contain URL for webhooks');

###############################################################################
# Some state to keep intact.

my $ha = created("$REPO/hooks", { events => ['push', 'issues'],
    config => { url => 'http://example.com/a', secret => 's' } }, 'hook a');
created("$REPO/hooks", { events => ['*'],
    config => { url => 'http://example.com/star' } }, 'hook *');
created('/orgs/octo-org/hooks', { name => 'web',
    config => { url => 'http://example.com/a' } }, 'org hook');

###############################################################################
# Unknown routes and methods: 404 before anything else.

for my $req (
    [PUT => "$REPO/hooks"],
    [DELETE => "$REPO/hooks"],
    [POST => "$REPO/hooks/$ha"],
    [PUT => "$REPO/hooks/$ha"],
    [POST => "$REPO/hooks/$ha/config"],
    [DELETE => "$REPO/hooks/$ha/config"],
    [GET => "$REPO/hooks/"],
    [GET => "$REPO/hooks/$ha/"],
    [GET => "$REPO/hooks/$ha/config/"],
    [GET => "$REPO/hooks/$ha/other"],
    [GET => "$REPO/hooks/0"],
    [GET => "$REPO/hooks/abc"],
    [GET => "$REPO/hooks/99999999999999999999"],
    [GET => "$REPO/hooks/9223372036854775808"],
    [GET => "$REPO/hooks/-1"],
    [GET => "$REPO/hooks/+1"],
    [GET => "$REPO/hooks/1x"],
    [GET => '/repos/octocat/hooks'],
    [GET => $REPO],
    [GET => '/orgs/octo-org'],
    [GET => '/orgs/hooks'],
    [GET => '/users/x/hooks'],
    [GET => '/'],
    [GET => '/abc'],
    [GET => '/repos/a~b/c/hooks'],
    [GET => '/repos/a/b%20c/hooks'],
    [GET => '/repos/' . ('a' x 101) . '/b/hooks'],
    [GET => '/orgs/' . ('a' x 101) . '/hooks'],
    [GET => '/repos//b/hooks'],
    [GET => '/orgs/x/hooks/1/config/x'],
    [POST => '/orgs/x/hooks/1'],
) {
    my ($m, $p) = @$req;
    reject("$m $p", [$m, $p, $OWNER, $m =~ /^(?:POST|PUT)$/ ? {} : undef],
        404, 'Not Found', 'none');
}
reject('unknown route without token', [PUT => "$REPO/hooks", undef, {}],
    404, 'Not Found', 'none');

# Names at the limit (t/15 has the limits) and ids below 2^63 route: the
# hook is not found.
my $r = $t->api(GET => '/repos/' . ('a' x 39) . '/b.c_d-e' . ('f' x 93)
    . '/hooks', $OWNER);
is($r->{status}, 200, 'owner of 39, repo of 100 chars routes');
is($r->{body}, '[]', 'owner of 39, repo of 100 chars: []');
reject('id 2^63-1', [GET => "$REPO/hooks/9223372036854775807", $OWNER],
    404, 'Not Found', 'get');

###############################################################################
# Identity: 401 without a login, 404 for a non-admin.

reject('list without token', [GET => "$REPO/hooks", undef],
    401, 'Requires authentication', 'list');
reject('create without token', [POST => "$REPO/hooks", undef,
    { config => { url => 'http://example.com/x' } }],
    401, 'Requires authentication', 'create');
reject('create, unknown token', [POST => "$REPO/hooks", 'nope',
    { config => { url => 'http://example.com/x' } }],
    401, 'Requires authentication', 'create');
reject('401 before 415', [POST => "$REPO/hooks", undef, '{bad',
    headers => { 'Content-Type' => 'text/plain' }],
    401, 'Requires authentication', 'create');
reject('delete without token', [DELETE => "$REPO/hooks/$ha", undef],
    401, 'Requires authentication', 'delete');

reject('member: list', [GET => "$REPO/hooks", 'demo-member'],
    404, 'Not Found', 'list');
reject('member: get', [GET => "$REPO/hooks/$ha", 'demo-member'],
    404, 'Not Found', 'get');
reject('member: create', [POST => "$REPO/hooks", 'demo-member',
    { config => { url => 'http://example.com/m' } }], 404, 'Not Found',
    'create');
reject('member: delete', [DELETE => "$REPO/hooks/$ha", 'demo-member'],
    404, 'Not Found', 'delete');
reject('member: update', [PATCH => "$REPO/hooks/$ha", 'demo-member',
    { active => JSON::PP::false }], 404, 'Not Found', 'update');
reject('member: 404 before 415', [POST => "$REPO/hooks", 'demo-member',
    'x', headers => { 'Content-Type' => 'text/plain' }],
    404, 'Not Found', 'create');

###############################################################################
# Media type: 415; then the body must be a JSON object: 400.

for my $ct ('text/plain', 'multipart/form-data; boundary=x', 'text/json',
    'application/xml')
{
    reject("POST as $ct", [POST => "$REPO/hooks", $OWNER,
        '{"config":{"url":"http://example.com/ct"}}',
        headers => { 'Content-Type' => $ct }],
        415, 'Unsupported Media Type', 'create');
}
reject('PATCH config as text/plain', [PATCH => "$REPO/hooks/$ha/config",
    $OWNER, '{"content_type":"json"}',
    headers => { 'Content-Type' => 'text/plain' }],
    415, 'Unsupported Media Type', 'config');
reject('415 before hook lookup', [PATCH => "$REPO/hooks/999999", $OWNER,
    '{}', headers => { 'Content-Type' => 'text/plain' }],
    415, 'Unsupported Media Type', 'update');

for my $body ('{bad', '{"config":{"url":"http://example.com/t"}} x') {
    reject("POST $body", [POST => "$REPO/hooks", $OWNER, $body],
        400, 'Problems parsing JSON', 'create');
}
# JSON, but not an object: GitHub's schema check of the whole body.
for (['[]', '[]'], ['"x"', '"x"'], ['1', '1'], ['null', 'nil'],
    ['true', 'true'],
    ['[{"config":{"url":"http://example.com/arr"}}]',
        '[{"config"=>{"url"=>"http://example.com/arr"}}]'])
{
    my ($body, $shown) = @$_;
    reject("POST $body", [POST => "$REPO/hooks", $OWNER, $body],
        422, typed('links/0/schema', $shown, 'an object'), 'create');
}
reject('PATCH {bad', [PATCH => "$REPO/hooks/$ha", $OWNER, '{bad'],
    400, 'Problems parsing JSON', 'update');
reject('422 before hook lookup', [PATCH => "$REPO/hooks/999999", $OWNER,
    '[]'], 422, typed('links/0/schema', '[]', 'an object'), 'update');
reject('404 before 422', [PATCH => "$REPO/hooks/999999", $OWNER,
    { name => 'irc' }], 404, 'Not Found', 'update');

# Accepted media types.
my @ev = qw(ea eb ec ed ee);
for my $ct (undef, 'application/json; charset=utf-8', 'Application/JSON',
    'application/vnd.github+json', 'application/x-www-form-urlencoded')
{
    my $e = shift @ev;
    my $r = $t->http(POST => '/repos/o/media/hooks', body =>
        qq({"config":{"url":"http://example.com/$e"},"events":["$e"]}),
        headers => { Authorization => "token $OWNER",
            defined $ct ? ('Content-Type' => $ct) : () });
    is($r->{status}, 201, 'accepted: ' . ($ct // 'no Content-Type'))
        or diag $r->{body};
}

###############################################################################
# 422: semantic problems, listed in "errors".

my $C = "$REPO/hooks";
for my $case (
    ['empty body', '', $NO_URL],
    ['no config', {}, $NO_URL],
    ['empty config', { config => {} }, $NO_URL],
    ['config without url', { config => { content_type => 'json' } },
        $NO_URL],
    (map { ["url $_", { config => { url => $_ } }, $BAD_URL] }
        'ftp://x', 'http://', 'http:// x', 'notaurl', 'http://host:99999/',
        '//example.com/x', 'https:/example.com'),
    ['content_type xml', { config => { url => 'http://example.com/c',
        content_type => 'xml' } }, field('content_type', 'invalid')],
    ['insecure_ssl "2"', { config => { url => 'http://example.com/c',
        insecure_ssl => '2' } }, field('insecure_ssl', 'invalid')],
    ['insecure_ssl 5', { config => { url => 'http://example.com/c',
        insecure_ssl => 5 } }, field('insecure_ssl', 'invalid')],
    ['unknown config key', { config => { url => 'http://example.com/c',
        foo => 'bar' } }, custom('Invalid config attribute: foo')],
    ['username on a repo hook', { config => { url => 'http://example.com/c',
        username => 'u' } }, custom('Invalid config attribute: username')],
    ['name irc', { name => 'irc', config => { url => 'http://example.com/c' }
        }, field('name', 'invalid')],
    (map { ["event \"$_\"", { events => [$_], config => {
        url => 'http://example.com/c' } }, field('events', 'invalid')] }
        'Push', 'pull-request', '', 'push1', '**'),
    ['duplicate: overlapping events', { events => ['fork', 'issues'],
        config => { url => 'http://example.com/a' } },
        custom('Hook already exists on this repository')],
    ['duplicate: default events', { config => {
        url => 'http://example.com/a', content_type => 'json' } },
        custom('Hook already exists on this repository')],
    ['duplicate: new "*"', { events => ['*'], config => {
        url => 'http://example.com/a' } },
        custom('Hook already exists on this repository')],
    ['duplicate: existing "*"', { events => ['release'], config => {
        url => 'http://example.com/star' } },
        custom('Hook already exists on this repository')],
) {
    my ($name, $data, $errors) = @$case;
    reject("create, $name", [POST => $C, $OWNER, $data], 422,
        'Validation Failed', 'create', $errors);
}

reject('org without name', [POST => '/orgs/octo-org/hooks', $OWNER,
    { config => { url => 'http://example.com/o' } }], 422,
    'Validation Failed', 'ocreate', field('name', 'missing_field'));
reject('org duplicate', [POST => '/orgs/OCTO-ORG/hooks', $OWNER,
    { name => 'web', config => { url => 'http://example.com/a' } }], 422,
    'Validation Failed', 'ocreate',
    custom('Hook already exists on this organization'));

# Wrong JSON types: 422 at once, without "errors".
for my $case (
    ['events', { events => 'push' }, typed('properties/events', '"push"',
        'an array')],
    ['active', { active => 'yes' }, typed('properties/active', '"yes"',
        'a boolean')],
    ['active 1', { active => 1 }, typed('properties/active', '1',
        'a boolean')],
    ['config', { config => 'x' }, typed('properties/config', '[FILTERED]',
        'an object')],
    ['config 1', { config => 1 }, typed('properties/config', '1',
        'an object')],
    ['name', { name => 1 }, typed('properties/name', '1', 'a string')],
    ['url', { config => { url => 1 } }, typed('properties/url', '1',
        'a string')],
    ['secret', { config => { url => 'http://example.com/x',
        secret => 1 } }, typed('properties/secret', '[FILTERED]',
        'a string')],
    ['content_type', { config => { url => 'http://example.com/x',
        content_type => JSON::PP::true } },
        typed('properties/content_type', 'true', 'a string')],
    ['event item', { events => ['push', 1] }, typed('items', '1',
        'a string')],
) {
    my ($name, $data, $message) = @$case;
    $data->{config} //= { url => 'http://example.com/typed' };
    reject("create, type of $name", [POST => $C, $OWNER, $data], 422,
        $message, 'create');
}

# Same url, disjoint events: allowed.
created($C, { events => ['fork'], config => { url => 'http://example.com/a' }
    }, 'same url, disjoint events');

###############################################################################
# 422 on updates: nothing changes either.

for my $case (
    ['config without url', { config => { content_type => 'json' } },
        $NO_URL],
    ['bad url', { config => { url => 'notaurl' } }, $BAD_URL],
    ['name irc', { name => 'irc' }, field('name', 'invalid')],
    ['bad event', { events => ['Push'] }, field('events', 'invalid')],
    ['bad add_events', { add_events => ['a-b'] },
        field('events', 'invalid')],
    ['unknown config key', { config => { url => 'http://example.com/a',
        bar => 1 } }, custom('Invalid config attribute: bar')],
) {
    my ($name, $data, $errors) = @$case;
    reject("update, $name", [PATCH => "$C/$ha", $OWNER, $data], 422,
        'Validation Failed', 'update', $errors);
}
reject('update, type of events', [PATCH => "$C/$ha", $OWNER,
    { events => 'push' }], 422, typed('properties/events', '"push"',
    'an array'), 'update');
reject('update, type of active', [PATCH => "$C/$ha", $OWNER,
    { active => 'no' }], 422, typed('properties/active', '"no"',
    'a boolean'), 'update');

for my $case (
    ['bad url', { url => 'http://' }, $BAD_URL],
    ['content_type', { content_type => 'yaml' },
        field('content_type', 'invalid')],
    ['insecure_ssl', { insecure_ssl => '2' }, field('insecure_ssl',
        'invalid')],
    ['unknown key', { foo => 'x' }, custom('Invalid config attribute: foo')],
) {
    my ($name, $data, $errors) = @$case;
    reject("update config, $name", [PATCH => "$C/$ha/config", $OWNER, $data],
        422, 'Validation Failed', 'config', $errors);
}

###############################################################################
# At most 3 hooks per event (webhooks_max_hooks_per_event 3).

my $CAP = '/repos/o/capped/hooks';
created($CAP, { config => { url => "http://example.com/c$_" } },
    "push hook $_") for 1 .. 3;
reject('4th push hook', [POST => $CAP, $OWNER,
    { config => { url => 'http://example.com/c4' } }], 422,
    'Validation Failed', 'create',
    custom('The "push" event cannot have more than 3 hooks'));
reject('4th push hook among other events', [POST => $CAP, $OWNER,
    { events => ['issues', 'push'],
      config => { url => 'http://example.com/c4' } }], 422,
    'Validation Failed', 'create',
    custom('The "push" event cannot have more than 3 hooks'));
created($CAP, { events => ['issues'],
    config => { url => 'http://example.com/c4' } }, 'issues hook');
created('/repos/o/other/hooks',
    { config => { url => 'http://example.com/c4' } }, 'push in another repo');

###############################################################################

$t->stop;
$t->log_ok;

done_testing;
