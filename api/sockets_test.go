package api

import (
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
)

// One connection whose smoothed RTT grows by a millisecond a minute for
// 100 minutes: its p50, p95 and p99 are close to 50, 95 and 99 ms, from
// the raw table over a narrow range and from the sockets_1m t-digests
// over a wide one.
func TestSocketsReportRTTP50P95AndP99(t *testing.T) {
	a := newTestAPI(t)
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	rows := make([]sockRow, 0, 100)
	for i := 1; i <= 100; i++ {
		rows = append(rows, sockRow{t: end.Add(time.Duration(i-100) * time.Minute), node: "worker-1", id: 1, lip: "10.1.1.10", lport: 40000,
			rip: "10.1.2.20", rport: 8081, dir: "client", comm: "frontend", ns: "shop", pod: "frontend-0", sent: 1000, recv: 1000, srtt: uint32(i * 1000)})
	}
	insertSockets(t, a.conn, rows)
	for _, c := range []struct{ from, source string }{{"-2h", "sockets"}, {"-6h", "sockets_1m"}} {
		var r SocketsResponse
		if st := a.get(t, "/api/v1/sockets", url.Values{"from": {c.from}, "node": {"worker-1"}, "sort": {"rtt_p95"}}, &r); st != 200 {
			t.Fatalf("from %s: status %d", c.from, st)
		}
		if r.Source != c.source || len(r.Session) != 1 {
			t.Fatalf("from %s: source %s, sessions %+v", c.from, r.Source, r.Session)
		}
		s := r.Session[0]
		for _, q := range []struct {
			name      string
			got, want float64
		}{{"p50", s.RTTP50Us, 50_500}, {"p95", s.RTTP95Us, 95_050}, {"p99", s.RTTP99Us, 99_010}} {
			if math.Abs(q.got-q.want) > 0.03*q.want {
				t.Errorf("from %s (%s): RTT %s %.0f µs, want %.0f ± 3%%", c.from, c.source, q.name, q.got, q.want)
			}
		}
		if !(s.RTTP50Us < s.RTTP95Us && s.RTTP95Us < s.RTTP99Us) {
			t.Errorf("from %s: quantiles out of order %+v", c.from, s)
		}
	}
}

func TestSocketsRTTP95IsInTheOpenAPIDocument(t *testing.T) {
	if d := openAPIProperties(t)["Session"]["rtt_p95_us"]; !strings.Contains(d, "p95") {
		t.Errorf("Session.rtt_p95_us description %q", d)
	}
}
