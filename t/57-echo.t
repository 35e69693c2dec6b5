#!/usr/bin/perl

# No answer and no log line holds a secret, a password or a URL's
# credentials, whatever the JSON type they were sent as: GitHub's type
# errors ("For 'properties/secret', ... is not a string.") say
# [FILTERED] for them.  Other values are echoed as GitHub does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new->skip_unless_module;
$t->start_redis;

$t->nginx_conf(<<'EOF');
    %%DEMO_MAPS%%

    webhooks_redis_pass 127.0.0.1:%%REDIS_PORT%%;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /hub {
            webhooks_hub   on;
            webhooks_login $webhooks_demo_login;
            webhooks_admin $webhooks_demo_admin;
        }

        location / {
            %%DEMO_API%%
        }
    }
EOF
$t->run;

my $TOK = 'demo-owner';
my $URL = 'https://example.com/echo';
my @SEEN;    # every marker sent

sub api { $t->api(@_[0, 1], $TOK, @_[2 .. $#_]) }

sub marker { my $m = 'S3cr3tValue' . scalar(@SEEN) . 'x'; push @SEEN, $m; $m }

sub nomarker {
    my ($r, $m, $what) = @_;
    is($r->{status}, 422, "$what: 422") or diag($r->{raw});
    unlike($r->{raw}, qr/\Q$m\E/, "$what: the value is not in the answer");
}

my $id = api(POST => '/repos/octo-org/echo/hooks',
    { config => { url => $URL } })->{json}{id};
my $oid = api(POST => '/orgs/octo-org/hooks',
    { name => 'web', config => { url => $URL } })->{json}{id};
ok($id && $oid, 'a repository hook and an org hook');

# a secret or a password as an array, an object, a number, a boolean
for my $key (qw(secret password)) {
    for my $shape (
        [ array => sub { +[ $_[0] ] } ],
        [ object => sub { +{ k => $_[0] } } ],
        [ 'nested array' => sub { +[ [ 1, $_[0] ] ] } ],
        [ number => sub { 0 + ('9' . ($_[0] =~ s/\D//gr) . '31337') } ])
    {
        my ($name, $make) = @$shape;
        my %calls = (
            create => [ POST => '/repos/octo-org/echo/hooks',
                sub { +{ config => { url => $URL, $key => $_[0] } } } ],
            'org create' => [ POST => '/orgs/octo-org/hooks',
                sub { +{ name => 'web',
                        config => { url => $URL, $key => $_[0] } } } ],
            'update config' => [ PATCH =>
                "/repos/octo-org/echo/hooks/$id/config",
                sub { +{ $key => $_[0] } } ],
            'org update config' => [ PATCH =>
                "/orgs/octo-org/hooks/$oid/config",
                sub { +{ $key => $_[0] } } ],
            update => [ PATCH => "/repos/octo-org/echo/hooks/$id",
                sub { +{ config => { url => $URL, $key => $_[0] } } } ],
        );
        for my $call (sort keys %calls) {
            my ($m, $path, $body) = @{ $calls{$call} };
            my $mk = marker();
            my $v = $make->($mk);
            $mk = $v if !ref $v;    # the number, as sent
            my $r = api($m => $path, $body->($v));
            nomarker($r, $mk, "$call, $key as $name");
            # repository hooks have no password: an unknown attribute
            next if $key eq 'password' && $call !~ /^org/;
            like($r->{json} && $r->{json}{message} // '',
                qr/For 'properties\/\Q$key\E', \[FILTERED\] is not a string/,
                "$call, $key as $name: [FILTERED]");
        }
    }
}

# a URL, or the whole config, that is not what it should be
for my $c (
    [ 'url in an array', sub { +{ url => [ "https://u:$_[0]\@example.com/" ] } },
      'url' ],
    [ 'url in an object', sub { +{ url => { p => $_[0] } } }, 'url' ],
    [ 'config as an array', sub { +[ { url => $URL, secret => $_[0] } ] },
      'config' ],
    [ 'config as a string', sub { $_[0] }, 'config' ])
{
    my ($name, $make, $prop) = @$c;
    my $mk = marker();
    my $cfg = $make->($mk);
    my $r = api(POST => '/repos/octo-org/echo/hooks',
        { config => ($prop eq 'config' ? $cfg : { %$cfg }) });
    nomarker($r, $mk, $name);
    like($r->{json} && $r->{json}{message} // '',
        qr/For 'properties\/$prop', \[FILTERED\] is not an? (?:string|object)/,
        "$name: [FILTERED]");
}

# too long: the length, not the value
{
    my $mk = marker();
    my $r = api(PATCH => "/repos/octo-org/echo/hooks/$id/config",
        { secret => $mk x 100 });
    nomarker($r, $mk, 'a secret over 1024 characters');
}

# other values are still echoed, as GitHub does
{
    my $r = api(POST => '/repos/octo-org/echo/hooks',
        { config => { url => $URL, content_type => [ 'jsonish' ] } });
    like($r->{json} && $r->{json}{message} // '',
        qr/For 'properties\/content_type', \["jsonish"\] is not a string/,
        'content_type is echoed');
    $r = api(POST => '/repos/octo-org/echo/hooks',
        { config => { url => 7 } });
    like($r->{json} && $r->{json}{message} // '',
        qr/For 'properties\/url', 7 is not a string/, 'a number is echoed');
}

# the hub: hub.secret is never in an answer
sub hub {
    my (%f) = @_;
    my $body = join '&', map {
        (my $v = $f{$_}) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
        "$_=$v" } sort keys %f;
    return $t->http(POST => '/hub', body => $body, headers => {
        Authorization => "token $TOK",
        'Content-Type' => 'application/x-www-form-urlencoded' });
}

for my $c (
    [ 'too long', sub { (hub_ok(), 'hub.secret' => $_[0] x 100) } ],
    [ 'bad callback', sub { (hub_ok(), 'hub.callback' => 'x',
        'hub.secret' => $_[0]) } ],
    [ 'bad topic', sub { (hub_ok(), 'hub.topic' => 'x',
        'hub.secret' => $_[0]) } ],
    [ 'private callback', sub { (hub_ok(),
        'hub.callback' => 'http://10.0.0.1/', 'hub.secret' => $_[0]) } ])
{
    my ($name, $fields) = @$c;
    my $mk = marker();
    my $r = hub($fields->($mk));
    nomarker($r, $mk, "hub: $name");
}

sub hub_ok {
    return ('hub.mode' => 'subscribe',
        'hub.topic' => 'https://github.com/octo-org/echo/events/push',
        'hub.callback' => 'https://example.com/hub');
}

# and no log line
my $log = $t->read_file('error.log') // '';
my @in_log = grep { index($log, $_) >= 0 } @SEEN;
is_deeply(\@in_log, [], 'no secret in error.log');

$t->log_ok;

done_testing;
