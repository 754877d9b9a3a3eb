package ipdb

import (
	"strings"
	"testing"
)

// FuzzParseRows: no input makes the parser panic, and a range it accepts
// is one of a single family that does not end before it starts.
func FuzzParseRows(f *testing.F) {
	for _, s := range []string{
		"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n",
		"2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,US\n",
		"::ffff:1.2.3.4,1.2.3.5,AS1,x\n",
		"fe80::1%eth0,fe80::2,1,x\n",
		"\"1.0.0.0\n,2,3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tb := newTable()
		_ = parseRows(strings.NewReader(s), 1, func(r row) error {
			if r.start.Is4() != r.end.Is4() || r.end.Less(r.start) || r.start.Zone() != "" {
				t.Fatalf("accepted range %s-%s", r.start, r.end)
			}
			if _, err := parseASN(r.fields[0]); err == nil {
				tb.addRange(r, 1)
			}
			_, _ = parseCountry(r.fields[0])
			return nil
		})
		tb.finish()
		tb.find([16]byte{10: 0xff, 11: 0xff, 12: 1})
	})
}
