package Test::Webhooks::Schema;

# Answers and payloads checked against GitHub's own OpenAPI descriptions.

use strict;
use warnings;

use Exporter qw(import);
use Test::More;

use Test::Webhooks::Process qw(json repo_root);

our @EXPORT_OK = qw(spec_dir);

my %SCHEMA;

# GitHub's descriptions, cut by t/octokit/spec.mjs from @octokit/openapi
# and @octokit/openapi-webhooks (t/node_modules) into build/spec: the whole
# files take seconds to load in every test file.
sub spec_dir {
    my $root = repo_root();
    my $dir = "$root/build/spec";
    my @want = map {"$dir/$_.openapi.json"} qw(github-hooks
        github-webhook-payloads);
    my $lock = "$root/t/package-lock.json";
    return $dir unless grep { !-f $_ || -M $_ > -M $lock } @want;
    system('node', "$root/t/octokit/spec.mjs", $dir) == 0
        or die "t/octokit/spec.mjs failed (make npm installs its input)\n";
    return $dir;
}

# Schemas by name from the hooks spec (OpenAPI 3.0, with "nullable"), else
# from the payloads spec (OpenAPI 3.1, read as draft 2019-09: Debian ships
# no json-schema.org meta-schemas, so nothing may fetch them).
sub _schema_for {
    my ($name) = @_;
    my $dir = spec_dir();
    require JSON::Validator;
    require JSON::Validator::Schema::Draft201909;

    $SCHEMA{hooks} //= JSON::Validator->new
        ->schema("$dir/github-hooks.openapi.json")->schema;
    $SCHEMA{payloads} //= do {
        open my $fh, '<', "$dir/github-webhook-payloads.openapi.json"
            or die "cannot read payloads spec: $!";
        local $/;
        JSON::Validator::Schema::Draft201909->new(json()->decode(<$fh>));
    };

    for my $s (@SCHEMA{qw(hooks payloads)}) {
        # No coercion: "1" must not pass as a number, 1 not as a string.
        $s->coerce({});
        # OpenAPI's integer formats, unknown to JSON Schema drafts.
        $s->formats->{int32} //= sub {
            $_[0] =~ /^-?\d+$/ && $_[0] >= -2**31 && $_[0] < 2**31
                ? undef : 'Does not fit in int32.';
        };
        $s->formats->{int64} //= sub {
            $_[0] =~ /^-?\d{1,19}$/ ? undef : 'Does not fit in int64.';
        };
        my $sub = $s->get("/components/schemas/$name");
        return ($s, $sub) if $sub;
    }
    die "no schema $name in $dir\n";
}

sub schema_errors {
    my ($self, $data, $name) = @_;
    my ($s, $sub) = _schema_for($name);
    return map {"$_"} $s->validate($data, $sub);
}

sub schema_array_errors {
    my ($self, $data, $name) = @_;
    my ($s, $sub) = _schema_for($name);
    return map {"$_"} $s->validate($data, { type => 'array', items => $sub });
}

sub schema_ok {
    my ($self, $data, $name, $test) = @_;
    my @e = $self->schema_errors($data, $name);
    ok(!@e, $test // "matches $name") or diag(join "\n", @e);
}

sub schema_array_ok {
    my ($self, $data, $name, $test) = @_;
    my @e = $self->schema_array_errors($data, $name);
    ok(!@e, $test // "array of $name") or diag(join "\n", @e);
}

1;

__END__

=head1 NAME

Test::Webhooks::Schema - OpenAPI checks of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module), and C<Test::Webhooks::spec_dir()>.

=over

=item schema_ok($data, $name, $test), schema_array_ok(...)

=item schema_errors($data, $name), schema_array_errors(...)

Validate against C<#/components/schemas/$name> of GitHub's REST API
description (C<@octokit/openapi>), else of its webhook payloads description
(C<@octokit/openapi-webhooks>), both pinned in t/package.json and cut to the
hook routes and the ping and push payloads into build/spec by
t/octokit/spec.mjs (C<spec_dir()> runs it when the cut is missing or older
than t/package-lock.json),
without type coercion. Validate before comparing fields with C<==>: that
gives Perl strings a number flag.

=back

=cut
