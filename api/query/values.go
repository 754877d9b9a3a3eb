package query

import (
	"net"
	"net/netip"
	"time"
)

// IPParam is the text form the IPv6 columns parse: IPv4 as ::ffff:a.b.c.d.
func IPParam(a netip.Addr) string { return netip.AddrFrom16(a.As16()).String() }

// IPString16 is the IPv6 parameter text of a net.IP.
func IPString16(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return "::ffff:" + v4.String()
	}
	return ip.String()
}

// IPString shows an address as users write it: IPv4-mapped as IPv4.
func IPString(ip net.IP) string {
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.String()
}

// Time formats a time for a DateTime64(3) parameter.
func Time(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// Window is a half-open time range [Start, End).
type Window struct{ Start, End time.Time }

// Dur is the window's length.
func (w Window) Dur() time.Duration { return w.End.Sub(w.Start) }
