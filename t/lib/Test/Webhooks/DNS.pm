package Test::Webhooks::DNS;

# A DNS server on UDP for nginx's resolver, answering from a zone given
# by the test and logging every query.

use strict;
use warnings;

use IO::Socket::INET;
use Socket ();


# A DNS server on UDP for nginx's resolver.  $zone maps a name to a list
# of answers; the n-th query of a type for a name gets the n-th answer
# (cycling), of which the addresses of that type (A or AAAA) are sent.
# Names not in the zone get NXDOMAIN.  Every query is logged.
sub start_dns {
    my ($self, $zone, %o) = @_;
    my $port = $self->port($o{port} // 20);
    my $ttl = $o{ttl} // 0;
    my $log = "$self->{_dir}/dns.log";

    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
        Proto => 'udp') or die "dns cannot bind 127.0.0.1:$port: $!";

    $self->run_daemon(sub {
        my %seen;
        while (1) {
            my $from = $s->recv(my $q, 512) // next;
            next if length $q < 17;
            my ($id, $flags) = unpack 'n n', $q;
            my ($off, @labels) = (12);
            while ((my $n = ord substr $q, $off, 1) != 0) {
                push @labels, substr $q, $off + 1, $n;
                $off += $n + 1;
                last if $off >= length $q;
            }
            my $name = lc join '.', @labels;
            my ($type) = unpack 'n', substr $q, $off + 1, 2;
            my $question = substr $q, 12, $off + 5 - 12;
            my $tname = $type == 1 ? 'A' : $type == 28 ? 'AAAA' : $type;

            if (open my $fh, '>>', $log) {
                print $fh "$name $tname\n";
                close $fh;
            }

            my ($rcode, @an) = (0);
            if (my $sets = $zone->{$name}) {
                my $set = $sets->[ $seen{"$name $type"}++ % @$sets ];
                for my $a (@$set) {
                    my $v6 = $a =~ /:/;
                    next unless $type == ($v6 ? 28 : 1);
                    my $rd = Socket::inet_pton($v6 ? Socket::AF_INET6()
                        : Socket::AF_INET(), $a);
                    push @an, pack('n n n N n', 0xc00c, $type, 1, $ttl,
                        length $rd) . $rd;
                }
            } else {
                $rcode = 3;
            }

            my $r = pack('n n n n n n', $id, 0x8180 | $rcode, 1,
                scalar @an, 0, 0) . $question . join '', @an;
            $s->send($r, 0, $from);
        }
    });
    close $s;
    return $port;
}

# The names and types asked so far: ("good.test A", ...)
sub dns_queries {
    my ($self) = @_;
    open my $fh, '<', "$self->{_dir}/dns.log" or return ();
    chomp(my @q = <$fh>);
    return @q;
}

1;

__END__

=head1 NAME

Test::Webhooks::DNS - the DNS server of a Test::Webhooks test

=head1 DESCRIPTION

Methods of L<Test::Webhooks> objects (it inherits them; use it, not this
module).

=over

=item start_dns(\%zone, port =E<gt> $n, ttl =E<gt> $s), dns_queries

A DNS server on UDP for nginx's C<resolver>: C<$zone> maps a name to a
list of answers, each a list of IPv4 and IPv6 addresses; the n-th query of
a type for a name gets the n-th answer (cycling). Other names get
NXDOMAIN. Returns the port. C<dns_queries> lists what was asked, as
C<"name A"> and C<"name AAAA">.

=back

=cut
