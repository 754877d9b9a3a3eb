package record

import (
	"net/netip"
	"testing"
)

func TestIPBytesRoundTripsBothFamilies(t *testing.T) {
	for _, s := range []string{"10.0.3.7", "192.0.2.1", "2001:db8::1", "::1"} {
		a := netip.MustParseAddr(s)
		b := IPBytes(a)
		if len(b) != 16 {
			t.Fatalf("%s: %d bytes, want 16", s, len(b))
		}
		if got := IPFromBytes(b); got != a {
			t.Fatalf("%s: round trip gave %s", s, got)
		}
	}
	if IPBytes(netip.Addr{}) != nil {
		t.Fatal("invalid address must give nil")
	}
	if got := IPFromBytes([]byte{10, 0, 0, 1}); got != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("4-byte form gave %s", got)
	}
}
