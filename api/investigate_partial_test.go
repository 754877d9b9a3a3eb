package api

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

// TestInvestigateFindsShortSpikeInDataStartingMidRange reproduces the
// end-to-end case: a ten-minute range ending 20 s into the current
// minute, whose first minutes hold no data; four frontends on worker-1
// send to :8081 at X for 90 s, then at 3X for 45 s. The agent reports
// every 15 s. The spike is shorter than a minute and ends in the partial
// last minute.
func TestInvestigateFindsShortSpikeInDataStartingMidRange(t *testing.T) {
	a := newTestAPI(t)
	to := time.Now().UTC().Truncate(time.Minute).Add(-5*time.Minute + 20*time.Second)
	from := to.Add(-10 * time.Minute)
	const x = 250_000 // bytes per frontend per 15 s interval at the baseline
	var socks []sockRow
	for k := 1; k <= 9; k++ {
		at := to.Add(-136*time.Second + time.Duration(15*k)*time.Second) // interval ends
		for i := 0; i < 4; i++ {
			sent := uint64(x)
			if k > 6 { // the last 45 s
				sent *= 3
			}
			socks = append(socks, sockRow{t: at, node: "worker-1", id: uint64(100 + i), lip: fmt.Sprintf("10.1.1.%d", 10+i), lport: uint16(40000 + i),
				rip: "10.1.2.9", rport: 8081, dir: "client", comm: "frontend", ns: "shop", pod: fmt.Sprintf("frontend-%d", i),
				rns: "shop", rpod: "api-0", rnode: "worker-2", sent: sent, recv: sent / 5, srtt: 800, jitter: 100, interval: 15 * time.Second})
		}
		socks = append(socks, sockRow{t: at, node: "worker-1", id: 200, lip: "10.1.1.20", lport: 45000, rip: "10.0.3.7", rport: 5432,
			dir: "client", comm: "orders", ns: "shop", pod: "orders-0", sent: 500_000, recv: 250_000, retr: 1, srtt: 1500, jitter: 200, interval: 15 * time.Second})
	}
	insertSockets(t, a.conn, socks)

	var inv Investigation
	q := url.Values{"node": {"worker-1"}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if st := a.get(t, "/api/v1/investigate", q, &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	t.Logf("verdict: %s\nevidence: %q", inv.Verdict.Summary, inv.Verdict.Evidence)
	if inv.Verdict.Kind != apiv1.VerdictLoad {
		t.Fatalf("verdict %q (%s), want %q", inv.Verdict.Kind, inv.Verdict.Summary, apiv1.VerdictLoad)
	}
	for _, want := range []string{"4 pods on worker-1", ":8081", "sessions healthy"} {
		if !strings.Contains(inv.Verdict.Summary, want) {
			t.Errorf("summary %q lacks %q", inv.Verdict.Summary, want)
		}
	}
	// At the agent's resolution the spike is its last three intervals,
	// and the baseline three before, ending an interval before the spike
	// so that no interval of it holds a byte of the spike.
	spike := query.Window{Start: to.Add(-46 * time.Second), End: to.Add(-time.Second)}
	if inv.Spike == nil || !inv.Spike.Start.Equal(spike.Start) || !inv.Spike.End.Equal(spike.End) {
		t.Errorf("spike %+v, want %v–%v", inv.Spike, spike.Start, spike.End)
	}
	if base := spike.Start.Add(-15 * time.Second); inv.Baseline == nil || !inv.Baseline.End.Equal(base) || !inv.Baseline.Start.Equal(base.Add(-45*time.Second)) {
		t.Errorf("baseline %+v, want the 45 s before %v", inv.Baseline, base)
	}
	// 4 × 3x + 750 kB against 4 × x + 750 kB per interval.
	if want := (12.0*x + 750e3) / (4*x + 750e3); math.Abs(inv.Growth/want-1) > 0.05 {
		t.Errorf("growth %.2f, want %.2f", inv.Growth, want)
	}
	if len(inv.Contributors.Ports) == 0 || inv.Contributors.Ports[0].Key != ":8081" || inv.Contributors.Ports[0].Share < 0.9 {
		t.Errorf("ports %+v, want :8081 with the increase", inv.Contributors.Ports)
	}
	// The steady orders-0 may show a little "growth": a 20 s minute holds
	// one or two 15 s intervals. The four frontends carry the increase.
	pods := inv.Contributors.Pods
	if len(pods) < 4 {
		t.Fatalf("pods %q, want the four frontends first", keys(pods))
	}
	for _, p := range pods[:4] {
		if !strings.HasPrefix(p.Key, "shop/frontend-") || p.Share < 0.2 {
			t.Errorf("pod %s with %.0f%% of the increase; want the four frontends first, each about a quarter", p.Key, p.Share*100)
		}
	}
}

// TestInvestigateFindsRiseCoveringTheWholeRange compares a range that is
// higher throughout with the window before it.
func TestInvestigateFindsRiseCoveringTheWholeRange(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	var socks []sockRow
	for m := -60; m < 60; m++ {
		sent := uint64(1_000_000)
		if m >= 0 {
			sent *= 3
		}
		for i := 0; i < 4; i++ {
			socks = append(socks, sockRow{t: s.minute(m), node: "worker-1", id: uint64(100 + i), lip: fmt.Sprintf("10.1.1.%d", 10+i), lport: uint16(40000 + i),
				rip: "10.1.2.9", rport: 8081, dir: "client", comm: "frontend", ns: "shop", pod: fmt.Sprintf("frontend-%d", i),
				rns: "shop", rpod: "api-0", rnode: "worker-2", sent: sent, recv: sent / 5, srtt: 800, jitter: 100})
		}
	}
	insertSockets(t, a.conn, socks)
	var inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	t.Logf("verdict: %s\nevidence: %q", inv.Verdict.Summary, inv.Verdict.Evidence)
	if inv.Verdict.Kind != apiv1.VerdictLoad || !strings.Contains(inv.Verdict.Summary, "3.0× more to :8081") {
		t.Errorf("verdict %q (%s), want load growth 3.0× to :8081", inv.Verdict.Kind, inv.Verdict.Summary)
	}
	if inv.Baseline == nil || !inv.Baseline.End.Equal(s.start) || !inv.Baseline.Start.Equal(s.start.Add(-time.Hour)) {
		t.Errorf("baseline %+v, want the hour before the range", inv.Baseline)
	}
}
