#!/usr/bin/perl

# nginx -t: every directive takes a good value and refuses a bad one with
# a message that names it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Webhooks;

my $t = Test::Webhooks->new;
$t->skip_unless_module;

# Key files for webhooks_secret_key: good ones, and bad ones whose text
# must never show in a message.
my $HEX = 'c0ffee' x 10 . 'abcd';
$t->write_file('good.key', "$HEX\n");
$t->write_file('good2.key', uc(reverse $HEX) . "\r\n");
$t->write_file('same.key', "$HEX  \n\n");
$t->write_file('short.key', substr($HEX, 1) . "\n");
$t->write_file('long.key', "${HEX}0\n");
$t->write_file('nothex.key', substr($HEX, 0, 63) . "g\n");
$t->write_file('raw.key', 'k' x 32);
$t->write_file('empty.key', '');
my $KEYMSG = qr/"webhooks_secret_key" file "[^"]*\.key" must hold a key/;
$KEYMSG = qr/$KEYMSG of 64 hex digits, as "openssl rand -hex 32" writes/;

# [ where, directive(s), what the message must say ]
my @bad = (
    [ http => 'webhooks_redis_pass "";', qr/"webhooks_redis_pass"/ ],
    [ http => 'webhooks_redis_pass 127.0.0.1:99999;',
      qr/invalid port in "webhooks_redis_pass"/ ],
    [ http => 'webhooks_redis_pass unix:;', qr/"webhooks_redis_pass"/ ],
    [ http => 'webhooks_redis_timeout abc;',
      qr/"webhooks_redis_timeout" directive invalid value/ ],
    [ http => 'webhooks_redis_connect_timeout 1x;',
      qr/"webhooks_redis_connect_timeout" directive invalid value/ ],
    [ http => 'webhooks_redis_prefix;',
      qr/invalid number of arguments in "webhooks_redis_prefix"/ ],
    [ http => 'webhooks_redis_prefix a; webhooks_redis_prefix b;',
      qr/"webhooks_redis_prefix" directive is duplicate/ ],
    [ http => 'webhooks_delivery_concurrency 0;',
      qr/"webhooks_delivery_concurrency" must be between 1 and 100000, not 0/ ],
    [ http => 'webhooks_delivery_retention soon;',
      qr/"webhooks_delivery_retention" directive invalid value/ ],
    [ http => 'webhooks_delivery_claim_timeout -1;',
      qr/"webhooks_delivery_claim_timeout" directive invalid value/ ],
    [ http => 'webhooks_delivery_response_max lots;',
      qr/"webhooks_delivery_response_max" directive invalid value/ ],
    [ http => 'webhooks_delivery_retry 5s soon;',
      qr/invalid delay "soon" in "webhooks_delivery_retry"/ ],
    [ http => 'webhooks_delivery_retry 0s;',
      qr/invalid delay "0s" in "webhooks_delivery_retry"/ ],
    [ http => 'webhooks_delivery_retry off; webhooks_delivery_retry 1s;',
      qr/"webhooks_delivery_retry" directive is duplicate/ ],
    [ http => 'webhooks_delivery_deactivate_after never;',
      qr/invalid value "never" in "webhooks_delivery_deactivate_after"/ ],
    [ http => 'webhooks_delivery_hook_concurrency 0;',
      qr/"webhooks_delivery_hook_concurrency" must be between 1 and 100000/ ],
    [ http => 'webhooks_delivery_host_concurrency 100001;',
      qr/"webhooks_delivery_host_concurrency" must be between 1 and 100000/ ],
    [ http => 'webhooks_delivery_queue_max 0;',
      qr/"webhooks_delivery_queue_max" must be between 1 and 1000000000/ ],
    [ http => 'webhooks_delivery_allow 10.0.0.0/33;',
      qr/invalid address or network "10.0.0.0\/33"/ ],
    [ http => 'webhooks_delivery_deny example.com;',
      qr/invalid address or network "example.com"/ ],
    [ http => 'webhooks_delivery_allow;',
      qr/invalid number of arguments in "webhooks_delivery_allow"/ ],
    [ server => 'webhooks_delivery_deny 10.0.0.1;',
      qr/"webhooks_delivery_deny" directive is not allowed here/ ],
    [ http => 'webhooks_delivery_ports 0;',
      qr/invalid port "0" in "webhooks_delivery_ports"/ ],
    [ http => 'webhooks_delivery_ports 443-80;',
      qr/invalid port "443-80" in "webhooks_delivery_ports"/ ],
    [ http => 'webhooks_delivery_ports 65536;',
      qr/invalid port "65536" in "webhooks_delivery_ports"/ ],
    [ http => 'webhooks_delivery_ports any; webhooks_delivery_ports 80;',
      qr/"webhooks_delivery_ports" directive is duplicate/ ],
    [ location => 'webhooks_delivery_retry 1s;',
      qr/"webhooks_delivery_retry" directive is not allowed here/ ],
    [ server => 'webhooks_delivery_location relative;',
      qr/"webhooks_delivery_location" must be a URI starting with "\/"/ ],
    [ server => 'webhooks_delivery_location /a; webhooks_delivery_location /b;',
      qr/"webhooks_delivery_location" directive is duplicate/ ],
    [ location => 'webhooks_delivery_location /a;',
      qr/"webhooks_delivery_location" directive is not allowed here/ ],
    [ location => 'webhooks_api maybe;',
      qr/invalid value "maybe" in "webhooks_api" directive/ ],
    [ location => 'webhooks_events yes;',
      qr/invalid value "yes" in "webhooks_events" directive/ ],
    [ location => 'webhooks_hub on; webhooks_hub on;',
      qr/"webhooks_hub" directive is duplicate/ ],
    [ location => 'webhooks_base_url ftp://x;',
      qr/"webhooks_base_url" must start with "http:\/\/", "https:\/\/"/ ],
    [ location => 'webhooks_max_hooks_per_event 0;',
      qr/"webhooks_max_hooks_per_event" must be between 1 and 10000, not 0/ ],
    [ location => 'webhooks_max_hooks_per_event many;',
      qr/"webhooks_max_hooks_per_event" directive invalid number/ ],
    [ location => 'webhooks_api_body_max lots;',
      qr/"webhooks_api_body_max" directive invalid value/ ],
    [ location => 'webhooks_api_body_max -1;',
      qr/"webhooks_api_body_max" directive invalid value/ ],
    [ server => 'webhooks_api_body_max 1k; webhooks_api_body_max 2k;',
      qr/"webhooks_api_body_max" directive is duplicate/ ],
    [ location => 'webhooks_login;',
      qr/invalid number of arguments in "webhooks_login"/ ],
    [ http => 'webhooks_secret_key;',
      qr/invalid number of arguments in "webhooks_secret_key"/ ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/missing.key;',
      qr/open\(\) ".*\/missing\.key" failed \(2: No such file or directory\)/ ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/short.key;', $KEYMSG ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/long.key;', $KEYMSG ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/nothex.key;', $KEYMSG ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/raw.key;', $KEYMSG ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/empty.key;', $KEYMSG ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/good.key %%TESTDIR%%/bad;',
      qr/open\(\) ".*\/bad" failed/ ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/good.key '
          . '%%TESTDIR%%/same.key;',
      qr/".*\/good\.key" and ".*\/same\.key" hold the same key/ ],
    [ http => 'webhooks_secret_key %%TESTDIR%%/good.key; '
          . 'webhooks_secret_key %%TESTDIR%%/good2.key;',
      qr/"webhooks_secret_key" directive is duplicate/ ],
    [ server => 'webhooks_secret_key %%TESTDIR%%/good.key;',
      qr/"webhooks_secret_key" directive is not allowed here/ ],
);

sub conf {
    my ($where, $text) = @_;
    my %at = (http => '', server => '', location => '');
    $at{$where} = $text;
    my $api = $text =~ /webhooks_api/ ? '' : 'webhooks_api on;';
    return <<"EOF";
    $at{http}
    server {
        listen 127.0.0.1:%%PORT%%;
        $at{server}
        location / {
            $api
            $at{location}
        }
    }
EOF
}

# A warning, not an error: a try due after its delivery expired.
$t->nginx_conf(conf(http => 'webhooks_delivery_retention 1h; '
    . 'webhooks_delivery_retry 5s 2h;'));
{
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a retry delay past the retention: accepted');
    like($out, qr/\[warn\].*"webhooks_delivery_retry" delay is not shorter/,
        'with a warning') or diag $out;
}

# A warning: names cannot be resolved without a resolver; none with one.
$t->nginx_conf(conf(server => 'webhooks_delivery_location /_d;'));
{
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a delivery server without a resolver: accepted');
    like($out, qr/\[warn\].*no "resolver" in the server of "webhooks_del/,
        'with a warning') or diag $out;
}
$t->nginx_conf(conf(server => 'webhooks_delivery_location /_d; '
    . 'resolver 127.0.0.1;'));
{
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a delivery server with a resolver: accepted');
    unlike($out, qr/no "resolver"/, 'without the warning') or diag $out;
}

for my $case (@bad) {
    my ($where, $text, $says) = @$case;
    $t->nginx_conf(conf($where, $text));
    my ($rc, $out) = $t->nginx_test;
    isnt($rc, 0, "$where: $text: refused");
    like($out, $says, "$where: $text: says why") or diag $out;
    unlike($out, qr/\Q@{[ substr($HEX, 8, 40) ]}\E/i,
        "$where: $text: shows no key") if $text =~ /secret_key/;
}

# Without a key, nginx says what that means; with one, it does not.
$t->nginx_conf(conf(http => ''));
{
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'no webhooks_secret_key: accepted');
    my $says = 'no "webhooks_secret_key": hook secrets are kept in Redis '
        . 'in clear text';
    like($out, qr/\[notice\].*\Q$says\E/,
        'no webhooks_secret_key: a notice says so') or diag $out;
}
$t->nginx_conf(conf(http => 'webhooks_secret_key good.key;'));
{
    my ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a key file relative to the configuration: accepted')
        or diag $out;
    unlike($out, qr/webhooks_secret_key/, 'then no notice') or diag $out;
}

# Every directive with a good value at once.

$t->nginx_conf(<<'EOF');
    webhooks_redis_pass             unix:/tmp/no-such-redis.sock;
    webhooks_redis_connect_timeout  500ms;
    webhooks_redis_timeout          3s;
    webhooks_redis_prefix           "test:";
    webhooks_delivery_concurrency   64;
    webhooks_delivery_retention     7d;
    webhooks_delivery_claim_timeout 2m;
    webhooks_delivery_response_max  16k;
    webhooks_delivery_retry         10s 1m 1h;
    webhooks_delivery_deactivate_after 2d;
    webhooks_delivery_hook_concurrency 4;
    webhooks_delivery_host_concurrency 8;
    webhooks_delivery_queue_max     5000;
    webhooks_secret_key             %%TESTDIR%%/good2.key %%TESTDIR%%/good.key;

    map $webhooks_auth_token $login { demo-owner octocat; }

    server {
        listen 127.0.0.1:%%PORT%%;

        webhooks_delivery_location          /_webhooks/deliver;
        webhooks_delivery_insecure_location /_webhooks/deliver-insecure;

        location / {
            webhooks_api                 on;
            webhooks_base_url            https://api.example.com/api/v3;
            webhooks_login               $login;
            webhooks_admin               1;
            webhooks_oauth_app           "";
            webhooks_max_hooks_per_event 250;
            webhooks_api_body_max        16k;
        }

        location = /hub {
            webhooks_hub          on;
            webhooks_login        $login;
            webhooks_api_body_max 0;
        }

        location = /events { webhooks_events on; }

        location /_webhooks/deliver {
            internal;
            proxy_pass $webhooks_delivery_url;
            proxy_set_header Host $webhooks_delivery_host;
            proxy_ssl_name $webhooks_delivery_host;
        }

        location /_webhooks/deliver-insecure {
            internal;
            proxy_pass $webhooks_delivery_url;
            proxy_set_header Host $webhooks_delivery_host;
            proxy_ssl_name $webhooks_delivery_host;
        }
    }
EOF

my ($rc, $out) = $t->nginx_test;
is($rc, 0, 'every directive at once: accepted') or diag $out;

done_testing;
