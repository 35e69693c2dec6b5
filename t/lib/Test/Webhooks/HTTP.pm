package Test::Webhooks::HTTP;

# A small HTTP/1.x client: raw requests, parsed responses, the REST API.

use strict;
use warnings;

use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

use Test::Webhooks::Process qw(json);

our @EXPORT_OK = qw(_parse_response _dechunk);

sub http_raw {
    my ($self, $req, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port} // $self->port(0), Timeout => 2)
        or return (undef, "connect: $!");
    binmode $s;
    print $s $req;

    my ($buf, $err) = ('');
    my $sel = IO::Select->new($s);
    my $end = time + ($o{timeout} // 5);
    while (1) {
        my $left = $end - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $err = 'timeout';
            last;
        }
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return ($buf, $err);
}

sub http {
    my ($self, $method, $path, %o) = @_;
    my %h = (Host => 'localhost', Connection => 'close',
        %{$o{headers} || {}});
    my $body = $o{body};
    if (defined $body) {
        utf8::encode($body) if utf8::is_utf8($body);
        $h{'Content-Length'} //= length $body;
    }

    my $req = "$method $path HTTP/1.1\r\n"
        . join('', map { "$_: $h{$_}\r\n" } sort keys %h)
        . "\r\n" . ($body // '');

    my ($raw, $err) = $self->http_raw($req, %o);
    return _parse_response($raw // '', $err, $method);
}

sub _parse_response {
    my ($raw, $err, $method) = @_;
    my %r = (raw => $raw, error => $err, headers => {});
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return \%r unless defined $body;

    my ($status, @lines) = split /\r\n/, $head;
    ($r{status}) = $status =~ m{^HTTP/\d\.\d (\d{3})};
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $r{headers}{$k} = exists $r{headers}{$k}
            ? "$r{headers}{$k}, $v" : $v;
    }

    my $h = $r{headers};
    if ($method eq q{HEAD} || ($r{status} // q{}) =~ /^(?:1..|204|304)$/) {
        $body = '';
    } elsif (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
        $body = _dechunk($body);
    } elsif (defined $h->{'content-length'}) {
        $body = substr($body, 0, $h->{'content-length'});
    }
    $r{body} = $body;
    $r{json} = length $body ? eval { json()->decode($body) } : undef;
    return \%r;
}

sub _dechunk {
    my ($in) = @_;
    my $out = '';
    while ($in =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr($in, 0, $n, '');
        $in =~ s/^\r\n//;
    }
    return $out;
}

sub api {
    my ($self, $method, $path, $token, $data, %o) = @_;
    my %h = (Accept => 'application/vnd.github+json',
        %{$o{headers} || {}});
    $h{Authorization} = "token $token" if defined $token;

    my $body;
    if (defined $data) {
        $body = ref $data ? json()->encode($data) : $data;
        $h{'Content-Type'} //= 'application/json';
    }
    return $self->http($method, $path, %o, headers => \%h, body => $body);
}

1;

__END__

=head1 NAME

Test::Webhooks::HTTP - HTTP requests of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module).

=over

=item http($method, $path, headers => {}, body => $s, timeout => 5, port => $p)

Returns { status, headers (lowercase, repeats joined by ", "), body, json,
raw, error }. C<http_raw($text)> returns ($raw_response, $error).
C<Test::Webhooks::_parse_response($raw, $error, $method)> parses a raw
response into the same hash.

=item api($method, $path, $token, $data, %http_opts)

JSON request with C<Authorization: token $token> when $token is defined;
$data is encoded (or sent as is when a plain string).

=back

=cut
