#!/usr/bin/perl

# The PubSubHubbub hub: POST /hub with hub.mode, hub.topic, hub.callback
# and hub.secret, as a form or as multipart/form-data (GitHub's own example
# uses curl -F), authenticated with "token X", "Bearer X" or HTTP Basic with
# the token as password ($webhooks_auth_token).  A subscription is an
# ordinary repository hook: seen by the hooks API, one per callback and
# event, its secret and format changed by subscribing again, removed by
# unsubscribing.  Deliveries of an event taken in at the intake come as a
# form (payload=...) by default, as raw JSON for a ".json" topic or an
# "Accept: application/json" subscription, signed with the secret.  Bad
# input is refused with GitHub's 422 and changes nothing in Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha1_hex hmac_sha256_hex);
use MIME::Base64 qw(encode_base64);
use Test::More;
use Test::Webhooks qw(json);
use Time::HiRes qw(sleep);

my $t = Test::Webhooks->new(workers => 2)->skip_unless_module;
$t->start_redis;
my $R = $t->start_receiver;

my $AUTH = <<'EOF';
            webhooks_login     $wh_login;
            webhooks_admin     $wh_admin;
            webhooks_oauth_app $wh_app;
EOF

$t->nginx_conf(<<"EOF");
    map \$webhooks_auth_token \$wh_login {
        demo-owner octocat; demo-member hubot; demo-app octocat; default "";
    }
    map \$webhooks_auth_token \$wh_admin { demo-owner 1; demo-app 1; default 0; }
    map \$webhooks_auth_token \$wh_app { demo-app 1; default ""; }

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;
    webhooks_delivery_allow 127.0.0.0/8 ::1;

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location /_webhooks/deliver;

        location = /hub {
            webhooks_hub on;
$AUTH        }

        %%EVENTS_LOCATION%%

        location /_webhooks/deliver {
            %%DELIVERY_PROXY%%
            client_max_body_size 25m;
            proxy_ssl_name \$webhooks_delivery_host;
        }

        location / {
            webhooks_api on;
$AUTH        }
    }
EOF
$t->run;

my $WAIT = $ENV{WEBHOOKS_VALGRIND} ? 60 : 10;
my $OWNER = 'demo-owner';
my $REPO = 'octocat/Hello-World';
my $KEY = 'webhooks:{r:octocat/hello-world}:hooks';
my $TOPIC = "https://github.com/$REPO/events";
my $HUB_DOC = qr{^https://docs\.github\.com/};

###############################################################################
# Helpers.

sub urlencode {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub form_body {
    my (@kv) = @_;
    my @p;
    while (my ($k, $v) = splice @kv, 0, 2) {
        push @p, urlencode($k) . '=' . urlencode($v);
    }
    return join '&', @p;
}

# As curl -F sends it.
my $BOUNDARY = '------------------------d74496d66958873e';
sub multipart_body {
    my (@kv) = @_;
    my $b = '';
    while (my ($k, $v) = splice @kv, 0, 2) {
        $b .= "--$BOUNDARY\r\n"
            . qq{Content-Disposition: form-data; name="$k"\r\n\r\n}
            . "$v\r\n";
    }
    return "$b--$BOUNDARY--\r\n";
}

sub basic { 'Basic ' . encode_base64($_[0], '') }

# hub($authorization, [fields], multipart => 1, headers => {...})
sub hub {
    my ($auth, $fields, %o) = @_;
    my %h = %{$o{headers} || {}};
    $h{Authorization} = $auth if defined $auth;
    my $body;
    if (ref $fields) {
        if ($o{multipart}) {
            $h{'Content-Type'} //= "multipart/form-data; boundary=$BOUNDARY";
            $body = multipart_body(@$fields);
        } else {
            $h{'Content-Type'} //= 'application/x-www-form-urlencoded';
            $body = form_body(@$fields);
        }
    } else {
        $body = $fields;
    }
    return $t->http($o{method} // 'POST', '/hub', headers => \%h,
        body => $body);
}

sub sub_fields {
    my ($mode, $event, $callback, $secret) = @_;
    my $topic = $event =~ m{://} ? $event : "$TOPIC/$event";
    return ['hub.mode' => $mode, 'hub.topic' => $topic,
        'hub.callback' => $callback,
        defined $secret ? ('hub.secret' => $secret) : ()];
}

sub no_content {
    my ($r, $name) = @_;
    is($r->{status}, 204, "$name: 204") or diag $r->{raw};
    is($r->{body}, '', "$name: no body");
}

sub hooks {
    my $r = $t->api(GET => "/repos/$REPO/hooks?per_page=100", $OWNER);
    return ref $r->{json} eq 'ARRAY' ? $r->{json} : [];
}

sub hooks_of {
    my ($url) = @_;
    return grep { $_->{config}{url} eq $url } @{hooks()};
}

sub stored {
    my ($id) = @_;
    my $v = $t->redis(HGET => $KEY, $id);
    return defined $v ? json->decode($v) : undef;
}

# Everything in Redis: keys, and the content of every hash and string;
# the delivery queue's stream is the workers' own (they create it).
sub snapshot {
    my %s;
    for my $k (sort @{scalar $t->redis(KEYS => '*') // []}) {
        my $type = $t->redis(TYPE => $k);
        next if $type eq 'stream';
        if ($type eq 'hash') {
            my %h = @{scalar $t->redis(HGETALL => $k)};
            $s{"$k $_"} = $h{$_} for keys %h;
        } else {
            $s{$k} = $type eq 'string' ? scalar $t->redis(GET => $k) : $type;
        }
    }
    return \%s;
}

sub unchanged {
    my ($before, $name) = @_;
    my $now = snapshot();
    my @diff = grep { !exists $now->{$_} || !exists $before->{$_}
        || $now->{$_} ne $before->{$_} } sort keys %{{ %$now, %$before }};
    ok(!@diff, "$name: redis unchanged")
        or diag join "\n", map { "$_: "
            . substr($before->{$_} // '(none)', 0, 200) . ' -> '
            . substr($now->{$_} // '(none)', 0, 200) } @diff;
}

# Returns false (and checks no further) when the status is wrong.
sub error_is {
    my ($r, $status, $message, $name) = @_;
    is($r->{status}, $status, "$name: $status") or diag($r->{raw}), return;
    is($r->{json}{message}, $message, "$name: message");
    like($r->{json}{documentation_url} // '', $HUB_DOC, "$name: doc url");
    is($r->{json}{status}, "$status", "$name: status field");
}

sub invalid_is {
    my ($r, $field, $code, $name) = @_;
    error_is($r, 422, 'Validation Failed', $name) or return;
    $t->schema_ok($r->{json}, 'validation-error', "$name: schema");
    my @e = @{ref $r->{json}{errors} eq 'ARRAY' ? $r->{json}{errors} : []};
    is(scalar @e, 1, "$name: one error");
    my %e = %{$e[0] // {}};
    my $msg = delete $e{message};
    is_deeply(\%e, { resource => 'Hub', field => $field, code => $code },
        "$name: error") or diag $r->{body};
    ok(defined $msg && length $msg && !ref $msg, "$name: error message")
        if $code eq 'invalid';
}

sub sig_ok {
    my ($rec, $secret, $name) = @_;
    is($rec->{headers}{'x-hub-signature'},
        'sha1=' . hmac_sha1_hex($rec->{body}, $secret), "$name: sha1");
    is($rec->{headers}{'x-hub-signature-256'},
        'sha256=' . hmac_sha256_hex($rec->{body}, $secret), "$name: sha256");
}

sub form_decode {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

sub ingest {
    my ($payload, $n, $name) = @_;
    my $r = $t->http(POST => '/_webhooks/events', headers => {
        'X-GitHub-Event' => 'push', 'Content-Type' => 'application/json' },
        body => $payload);
    is($r->{status}, 202, "$name: 202") or diag $r->{raw};
    is($r->{json}{deliveries}, $n, "$name: $n deliveries");
    return $r->{json}{guid} // '';
}

###############################################################################
# Methods and identity: nothing reaches Redis.

my $empty = snapshot();
my $CB = "$R/ok/form";
my $valid = sub_fields(subscribe => 'push', $CB, 'first secret');

for my $m (qw(GET PUT DELETE)) {
    my $r = hub("token $OWNER", $m eq 'GET' ? undef : $valid, method => $m);
    is($r->{status}, 404, "$m /hub: 404");
    is($r->{json}{message}, 'Not Found', "$m /hub: Not Found json");
}

for ([none => undef], ['unknown token' => 'token nobody'],
    ['Basic without password' => basic("$OWNER:")],
    ['Basic without colon' => basic($OWNER)],
    ['Basic not base64' => 'Basic !!!not-base64!!!'],
    ['unknown scheme' => "Digest $OWNER"],
    ['token without value' => 'token '])
{
    my ($name, $auth) = @$_;
    my $r = hub($auth, $valid);
    error_is($r, 401, 'Requires authentication', "auth $name");
}

for ([token => 'token demo-member'], [Basic => basic('hubot:demo-member')]) {
    my ($name, $auth) = @$_;
    error_is(hub($auth, $valid), 404, 'Not Found', "not admin ($name)");
    error_is(hub($auth, $valid, multipart => 1), 404, 'Not Found',
        "not admin ($name, multipart)");
}

unchanged($empty, 'refused requests');

###############################################################################
# Subscribe: multipart with Basic, form with token and Bearer.

no_content(hub(basic("octocat:$OWNER"), $valid, multipart => 1),
    'subscribe multipart, Basic');
my @h = @{hooks()};
is(scalar @h, 1, 'one hook');
my $form_id = $h[0]{id};
$t->schema_ok($h[0], 'hook', 'hub hook: schema');
is_deeply({ map { $_ => $h[0]{$_} } qw(type name active events config) }, {
    type => 'Repository', name => 'web', active => JSON::PP::true,
    events => ['push'], config => { url => $CB, content_type => 'form',
        insecure_ssl => '0', secret => '********' } }, 'hub hook: as API');
is(stored($form_id)->{config}{secret}, 'first secret', 'secret stored');

no_content(hub("token $OWNER", sub_fields(subscribe => 'issues', $CB, 's2')),
    'subscribe form, token, other event');
my @f = hooks_of($CB);
is(scalar @f, 2, 'other event: a second hook');
my ($issues) = grep { $_->{id} != $form_id } @f;
is_deeply($issues->{events}, ['issues'], 'second hook: issues');
is(stored($issues->{id})->{config}{secret}, 's2', 'second hook: secret');

my $n_before = @{hooks()};
no_content(hub("Bearer $OWNER", sub_fields(subscribe => 'push', $CB,
    'second secret')), 'subscribe again, Bearer, new secret');
@f = hooks_of($CB);
is(scalar @{hooks()}, $n_before, 'subscribe again: no new hook');
is_deeply([sort map { $_->{id} } @f], [sort $form_id, $issues->{id}],
    'subscribe again: same hooks');
is(stored($form_id)->{config}{secret}, 'second secret',
    'subscribe again: secret replaced');
is(stored($form_id)->{config}{content_type}, 'form',
    'subscribe again: still form');
is_deeply(stored($form_id)->{events}, ['push'], 'subscribe again: events');

# Same again, multipart: still one.
no_content(hub(basic("x:$OWNER"), sub_fields(subscribe => 'push', $CB,
    'second secret'), multipart => 1), 'subscribe a third time');
is(scalar @{hooks()}, $n_before, 'third time: no new hook');

# JSON by topic (other host, http, other case) and by Accept.
my $JT = "$R/ok/json-topic";
no_content(hub("token $OWNER", sub_fields(subscribe =>
    'http://hub.example.test/OctoCat/hello-world/events/push.json', $JT,
    'json secret')), 'subscribe .json topic');
my ($jt) = hooks_of($JT);
is_deeply([$jt->{events}, $jt->{config}{content_type}], [['push'], 'json'],
    '.json topic: push, json');

my $AJ = "$R/ok/accept-json";
no_content(hub("token $OWNER", sub_fields(subscribe => 'push', $AJ,
    'accept secret'), multipart => 1,
    headers => { Accept => 'application/json' }),
    'subscribe with Accept: application/json');
my ($aj) = hooks_of($AJ);
is_deeply([$aj->{events}, $aj->{config}{content_type}], [['push'], 'json'],
    'Accept json: push, json');

my $NS = "$R/ok/nosecret";
no_content(hub("token $OWNER", sub_fields(subscribe => 'push', $NS)),
    'subscribe without secret');
my ($ns) = hooks_of($NS);
is_deeply($ns->{config}, { url => $NS, content_type => 'form',
    insecure_ssl => '0' }, 'without secret: no secret in config');

# A secret with form escapes, UTF-8, the longest (t/15 has the limit), in
# a body past the buffer: a field the hub does not know pads it.
my $ODD = "a b+c&d=e%f/\xc3\xa9" . ('z' x 1011);
my $OC = "$R/ok/odd";
my @PAD = (pad => 'z' x 20000);
no_content(hub("token $OWNER", [@{sub_fields(subscribe => 'release', $OC,
    $ODD)}, @PAD]), 'subscribe odd secret (form)');
my ($odd) = hooks_of($OC);
my $got_odd = stored($odd->{id})->{config}{secret} // '';
utf8::encode($got_odd);
ok($got_odd eq $ODD, 'odd secret: stored verbatim');

my $OM = "$R/ok/odd-multipart";
no_content(hub("token $OWNER", [@{sub_fields(subscribe => 'release', $OM,
    $ODD)}, @PAD], multipart => 1), 'subscribe odd secret (multipart)');
my ($oddm) = hooks_of($OM);
$got_odd = stored($oddm->{id})->{config}{secret} // '';
utf8::encode($got_odd);
ok($got_odd eq $ODD, 'odd secret multipart: stored verbatim');

# A quoted boundary with a parameter after it; a part with a Content-Type.
my $QB = "$R/ok/quoted";
(my $qbody = multipart_body(@{sub_fields(subscribe => 'fork', $QB)}))
    =~ s/(name="hub.mode"\r\n)/$1Content-Type: text\/plain\r\n/;
no_content(hub("token $OWNER", $qbody, headers => { 'Content-Type' =>
    qq{multipart/form-data; boundary="$BOUNDARY"; charset=utf-8} }),
    'subscribe multipart, quoted boundary');
is_deeply([map { $_->{events} } hooks_of($QB)], [['fork']],
    'quoted boundary: hook for fork');

###############################################################################
# Bad input: 422 (400 for an unreadable multipart body), nothing changes.

my $before = snapshot();
my $GOOD_T = "$TOPIC/push";
my $NEW = "$R/ok/never";

my @bad = (
    ['mode missing', 'hub.mode', 'missing_field',
        ['hub.topic' => $GOOD_T, 'hub.callback' => $NEW]],
    ['mode empty', 'hub.mode', 'missing_field',
        ['hub.mode' => '', 'hub.topic' => $GOOD_T, 'hub.callback' => $NEW]],
    ['mode bad', 'hub.mode', 'invalid', sub_fields(subscrib => 'push', $NEW)],
    ['mode case', 'hub.mode', 'invalid', sub_fields(Subscribe => 'push', $NEW)],
    ['mode bad, unsubscribe', 'hub.mode', 'invalid',
        sub_fields(unsub => 'push', $CB)],
    ['topic missing', 'hub.topic', 'missing_field',
        ['hub.mode' => 'subscribe', 'hub.callback' => $NEW]],
    ['topic empty', 'hub.topic', 'missing_field',
        ['hub.mode' => 'subscribe', 'hub.topic' => '',
         'hub.callback' => $NEW]],
    ['topic unknown event', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'nope', $NEW)],
    ['topic unknown event .json', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'nope.json', $NEW)],
    ['topic event upper case', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'PUSH', $NEW)],
    ['topic only .json', 'hub.topic', 'invalid',
        sub_fields(subscribe => '.json', $NEW)],
    ['topic no event', 'hub.topic', 'invalid',
        sub_fields(subscribe => '', $NEW)],
    ['topic event with slash', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'push/more', $NEW)],
    ['topic not events', 'hub.topic', 'invalid', sub_fields(subscribe =>
        "https://github.com/$REPO/pushes/push", $NEW)],
    ['topic no repo', 'hub.topic', 'invalid', sub_fields(subscribe =>
        'https://github.com/octocat/events/push', $NEW)],
    ['topic empty owner', 'hub.topic', 'invalid', sub_fields(subscribe =>
        'https://github.com//Hello-World/events/push', $NEW)],
    ['topic bad owner', 'hub.topic', 'invalid', sub_fields(subscribe =>
        'https://github.com/octo%20cat/Hello-World/events/push', $NEW)],
    ['topic with query', 'hub.topic', 'invalid',
        sub_fields(subscribe => "$GOOD_T?x=1", $NEW)],
    ['topic with fragment', 'hub.topic', 'invalid',
        sub_fields(subscribe => "$GOOD_T#x", $NEW)],
    ['topic ftp', 'hub.topic', 'invalid', sub_fields(subscribe =>
        "ftp://github.com/$REPO/events/push", $NEW)],
    ['topic not a URL', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'octocat/Hello-World/push', $NEW)],
    ['topic host only', 'hub.topic', 'invalid',
        sub_fields(subscribe => 'https://github.com', $NEW)],
    ['callback missing', 'hub.callback', 'missing_field',
        ['hub.mode' => 'subscribe', 'hub.topic' => $GOOD_T]],
    ['callback empty', 'hub.callback', 'missing_field',
        sub_fields(subscribe => 'push', '')],
    ['callback ftp', 'hub.callback', 'invalid',
        sub_fields(subscribe => 'push', 'ftp://127.0.0.1/x')],
    ['callback not a URL', 'hub.callback', 'invalid',
        sub_fields(subscribe => 'push', 'not a url')],
    ['callback no host', 'hub.callback', 'invalid',
        sub_fields(subscribe => 'push', 'http://')],
    ['callback relative', 'hub.callback', 'invalid',
        sub_fields(subscribe => 'push', '/ok/x')],
    ['callback unsubscribe ftp', 'hub.callback', 'invalid',
        sub_fields(unsubscribe => 'push', 'ftp://127.0.0.1/x')],
    ['everything missing', 'hub.mode', 'missing_field', []],
    ['mode checked first', 'hub.mode', 'invalid',
        ['hub.mode' => 'x', 'hub.topic' => 'x', 'hub.callback' => 'x']],
    ['topic before callback', 'hub.topic', 'invalid',
        ['hub.mode' => 'subscribe', 'hub.topic' => 'x',
         'hub.callback' => 'x']],
);

for my $c (@bad) {
    my ($name, $field, $code, $fields) = @$c;
    invalid_is(hub("token $OWNER", $fields), $field, $code, "form: $name");
    invalid_is(hub(basic("u:$OWNER"), $fields, multipart => 1), $field,
        $code, "multipart: $name");
}

# JSON is not a form: no fields.
invalid_is(hub("token $OWNER", '{"hub.mode":"subscribe"}',
    headers => { 'Content-Type' => 'application/json' }), 'hub.mode',
    'missing_field', 'json body');
invalid_is(hub("token $OWNER", ''), 'hub.mode', 'missing_field',
    'empty body');

# Multipart that cannot be read.
for ([ 'no boundary', 'multipart/form-data', multipart_body(@$valid) ],
    [ 'truncated', "multipart/form-data; boundary=$BOUNDARY",
        substr(multipart_body(@$valid), 0, 150) ],
    [ 'part without name', "multipart/form-data; boundary=$BOUNDARY",
        "--$BOUNDARY\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
        . "--$BOUNDARY--\r\n" ],
    # found by t/fuzz: an empty body crashed the worker
    [ 'empty', "multipart/form-data; boundary=$BOUNDARY", '' ])
{
    my ($name, $ct, $body) = @$_;
    my $r = hub("token $OWNER", $body,
        headers => { 'Content-Type' => $ct });
    error_is($r, 400, 'Problems parsing the form', "multipart $name");
}

# A secret JSON cannot hold (found by t/fuzz: it was a 500).
{
    my $f = sub_fields(subscribe => 'push', $NEW);
    push @$f, 'hub.secret' => "\xff\xfe";
    invalid_is(hub("token $OWNER", $f), 'hub.secret', 'invalid',
        'form: secret not UTF-8');
    invalid_is(hub(basic("u:$OWNER"), $f, multipart => 1), 'hub.secret',
        'invalid', 'multipart: secret not UTF-8');
}

# Bad input from someone who is not admin is still bad input; from nobody
# it is 401.
invalid_is(hub('token demo-member', sub_fields(subscribe => 'nope', $NEW)),
    'hub.topic', 'invalid', 'not admin, bad topic');
error_is(hub(undef, sub_fields(subscribe => 'nope', $NEW)), 401,
    'Requires authentication', 'nobody, bad topic');

unchanged($before, 'bad input');

# A topic whose "path" is in its query or fragment is no events URL either.
for my $topic ("https://github.com?q/$REPO/events/push",
    "https://github.com#f/$REPO/events/push")
{
    my $b = snapshot();
    my $f = sub_fields(subscribe => $topic, "$R/ok/query-topic");
    invalid_is(hub("token $OWNER", $f), 'hub.topic', 'invalid',
        "form: topic $topic");
    invalid_is(hub("token $OWNER", $f, multipart => 1), 'hub.topic',
        'invalid', "multipart: topic $topic");
    unchanged($b, "topic $topic");
    # Whatever happened, leave no hook behind for the deliveries below.
    hub("token $OWNER", sub_fields(unsubscribe => $topic,
        "$R/ok/query-topic"));
}

###############################################################################
# Deliveries: form, .json topic, Accept json, no secret.

my $PAYLOAD = '{"ref":"refs/heads/main", "before":"0000000000",'
    . qq{ "note":"caf\xc3\xa9 + & = % ?", "commits":[],}
    . ' "repository":{"id":1296269,"name":"Hello-World",'
    . '"full_name":"octocat/Hello-World","owner":{"login":"octocat","id":1}},'
    . ' "sender":{"login":"octocat","id":1,"type":"User"}}';
my $PJSON = json->decode($PAYLOAD);

$t->clear_received;
my $guid = ingest($PAYLOAD, 4, 'push 1');

$t->wait_received(4, qr{^/ok/}, timeout => $WAIT);
my %got = map { $_->{path} => [$t->received($_->{path})] }
    $t->received(qr{^/ok/});
is_deeply([sort keys %got],
    [sort map { s{^\Q$R\E}{}r } $CB, $JT, $AJ, $NS],
    'push 1: the 4 push subscribers, nothing else');
is(scalar @{$got{$_}}, 1, "push 1: one delivery to $_") for sort keys %got;

my ($d) = @{$got{'/ok/form'} // [{}]};
is($d->{method}, 'POST', 'form: POST');
is($d->{headers}{'content-type'}, 'application/x-www-form-urlencoded',
    'form: content type');
like($d->{body} // '', qr/^payload=[A-Za-z0-9%+._~*-]*$/,
    'form: payload=<urlencoded>');
my $dec = form_decode(($d->{body} // '') =~ s/^payload=//r);
ok($dec eq $PAYLOAD, 'form: payload decodes to the bytes taken in');
is_deeply(eval { json->decode($dec) }, $PJSON, 'form: payload JSON');
sig_ok($d, 'second secret', 'form (new secret)');
is($d->{headers}{'x-github-event'}, 'push', 'form: event');
is($d->{headers}{'x-github-delivery'}, $guid, 'form: guid');
is($d->{headers}{'x-github-hook-id'}, $form_id, 'form: hook id');
is($d->{headers}{'x-github-hook-installation-target-type'}, 'repository',
    'form: target type');
is($d->{headers}{'x-github-hook-installation-target-id'}, '1296269',
    'form: target id');
like($d->{headers}{'user-agent'} // '', qr{^GitHub-Hookshot/},
    'form: user agent');

for ([ '/ok/json-topic', 'json secret', $jt ],
    [ '/ok/accept-json', 'accept secret', $aj ])
{
    my ($path, $secret, $hook) = @$_;
    my ($j) = @{$got{$path} // [{}]};
    is($j->{headers}{'content-type'}, 'application/json',
        "$path: content type");
    ok(($j->{body} // '') eq $PAYLOAD, "$path: the raw JSON taken in");
    sig_ok($j, $secret, $path);
    is($j->{headers}{'x-github-hook-id'}, $hook->{id}, "$path: hook id");
    is($j->{headers}{'x-github-delivery'}, $guid, "$path: guid");
}

my ($n) = @{$got{'/ok/nosecret'} // [{}]};
is($n->{headers}{'content-type'}, 'application/x-www-form-urlencoded',
    'no secret: form');
ok(form_decode(($n->{body} // '') =~ s/^payload=//r) eq $PAYLOAD,
    'no secret: payload');
ok(!exists $n->{headers}{'x-hub-signature'}
    && !exists $n->{headers}{'x-hub-signature-256'}, 'no secret: unsigned');

###############################################################################
# Subscribe again to change the format and secret; unsubscribe.

no_content(hub("token $OWNER", sub_fields(subscribe => 'push.json', $NS,
    'late secret')), 'resubscribe no-secret one as .json with a secret');
my @nsh = hooks_of($NS);
is(scalar @nsh, 1, 'resubscribe: one hook');
is_deeply([$nsh[0]{id}, $nsh[0]{config}{content_type},
    $nsh[0]{config}{secret}], [$ns->{id}, 'json', '********'],
    'resubscribe: same hook, json, secret');

no_content(hub("token $OWNER", sub_fields(subscribe => 'push', $AJ,
    'accept secret')), 'resubscribe accept-json without Accept');
is((hooks_of($AJ))[0]{config}{content_type}, 'form',
    'resubscribe without Accept: form');

no_content(hub("token $OWNER", sub_fields(unsubscribe => 'push.json', $JT)),
    'unsubscribe .json topic');
is(scalar(hooks_of($JT)), 0, 'unsubscribe: hook gone');
is(stored($jt->{id}), undef, 'unsubscribe: gone from redis');
$t->api(GET => "/repos/$REPO/hooks/$jt->{id}", $OWNER)->{status} == 404
    ? pass('unsubscribe: GET hook 404') : fail('unsubscribe: GET hook 404');

no_content(hub("token $OWNER", sub_fields(unsubscribe => 'issues', $CB)),
    'unsubscribe one event of a callback');
@f = hooks_of($CB);
is_deeply([map { [$_->{id}, $_->{events}] } @f], [[$form_id, ['push']]],
    'unsubscribe one event: the other hook stays');

# A hook for two events made through the API loses only the one.
my $MU = "$R/ok/multi";
my $r = $t->api(POST => "/repos/$REPO/hooks", $OWNER, { config => {
    url => $MU, secret => 'multi' }, events => ['push', 'issues'] });
is($r->{status}, 201, 'API hook for push and issues');
my $mid = $r->{json}{id};
no_content(hub(basic("octocat:$OWNER"), sub_fields(unsubscribe => 'push', $MU),
    multipart => 1), 'unsubscribe push of a two-event hook');
my @mh = hooks_of($MU);
is_deeply([map { [$_->{id}, $_->{events}] } @mh], [[$mid, ['issues']]],
    'two-event hook: issues left');
is(stored($mid)->{config}{secret}, 'multi', 'two-event hook: secret kept');

$before = snapshot();
no_content(hub("token $OWNER", sub_fields(unsubscribe => 'push.json', $JT)),
    'unsubscribe again');
no_content(hub("token $OWNER", sub_fields(unsubscribe => 'push', $NEW)),
    'unsubscribe unknown callback');
no_content(hub("token $OWNER", sub_fields(unsubscribe => 'watch', $CB)),
    'unsubscribe an event not subscribed');
no_content(hub("token $OWNER", sub_fields(unsubscribe => 'push',
    $CB . '/')), 'unsubscribe another URL');
unchanged($before, 'nothing to unsubscribe');

error_is(hub('token demo-member', sub_fields(unsubscribe => 'push', $CB)),
    404, 'Not Found', 'unsubscribe, not admin');
ok(scalar(hooks_of($CB)) == 1, 'unsubscribe, not admin: hook stays');

###############################################################################
# The second push: form (new secret), accept-json now form, no-secret now
# json and signed; not the unsubscribed ones.

$t->clear_received;
my $guid2 = ingest($PAYLOAD, 3, 'push 2');
$t->wait_received(3, qr{^/ok/}, timeout => $WAIT);
sleep($ENV{WEBHOOKS_VALGRIND} ? 3 : 0.5);
%got = map { $_->{path} => [$t->received($_->{path})] }
    $t->received(qr{^/ok/});
is_deeply([sort keys %got], [sort map { s{^\Q$R\E}{}r } $CB, $AJ, $NS],
    'push 2: form, accept-json, no-secret; not the unsubscribed');
is(scalar @{$got{$_}}, 1, "push 2: one delivery to $_") for sort keys %got;

($d) = @{$got{'/ok/form'} // [{}]};
sig_ok($d, 'second secret', 'push 2 form');
is($d->{headers}{'x-github-delivery'}, $guid2, 'push 2: guid');

($d) = @{$got{'/ok/accept-json'} // [{}]};
is($d->{headers}{'content-type'}, 'application/x-www-form-urlencoded',
    'push 2 accept-json resubscribed: form');
ok(form_decode(($d->{body} // '') =~ s/^payload=//r) eq $PAYLOAD,
    'push 2 accept-json: payload');
sig_ok($d, 'accept secret', 'push 2 accept-json');

($d) = @{$got{'/ok/nosecret'} // [{}]};
is($d->{headers}{'content-type'}, 'application/json',
    'push 2 no-secret resubscribed: json');
ok(($d->{body} // '') eq $PAYLOAD, 'push 2 no-secret: raw JSON');
sig_ok($d, 'late secret', 'push 2 no-secret (late secret)');

###############################################################################

###############################################################################
# A subscription over a hook made through the API: an inactive one is made
# active again, and a hook for every event counts as subscribed.

{
    my $cb = 'https://example.com/reactivate';
    my $c = $t->api(POST => "/repos/$REPO/hooks", $OWNER,
        { events => ['push'], active => JSON::PP::false(),
          config => { url => $cb } });
    is($c->{status}, 201, 'inactive hook made');
    no_content(hub(basic("octocat:$OWNER"), sub_fields('subscribe', 'push',
        $cb, 's')), 'subscribe over an inactive hook');
    my @h = hooks_of($cb);
    is(scalar @h, 1, 'still one hook for the callback');
    ok($h[0] && $h[0]{active}, 'the hook is active again');

    my $all = 'https://example.com/every-event';
    $c = $t->api(POST => "/repos/$REPO/hooks", $OWNER,
        { events => ['*'], config => { url => $all } });
    is($c->{status}, 201, 'hook for every event made');
    no_content(hub(basic("octocat:$OWNER"), sub_fields('subscribe', 'push',
        $all, 's')), 'subscribe over a hook for every event');
    @h = hooks_of($all);
    is(scalar @h, 1, 'no second hook over "*"');
    is_deeply($h[0] && $h[0]{events}, ['*'], 'its events stay');
}

$t->stop;
$t->log_ok;

done_testing;
