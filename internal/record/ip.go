package record

import "net/netip"

// IPBytes returns the 16-byte form used by every record: IPv4 as
// IPv4-mapped IPv6. An invalid address gives nil.
func IPBytes(a netip.Addr) []byte {
	if !a.IsValid() {
		return nil
	}
	b := a.As16()
	return b[:]
}

// IPFromBytes parses a 4- or 16-byte address; an IPv4-mapped address is
// returned as IPv4 so that it prints as people expect.
func IPFromBytes(b []byte) netip.Addr {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b))
	case 16:
		return netip.AddrFrom16([16]byte(b)).Unmap()
	}
	return netip.Addr{}
}
