package api

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/client"
	"github.com/netstrata/netstrata/api/query"
)

// burst is a known traffic profile on one switch port: senders pods on
// worker-1 each send rate B/s to apm-0:8081 from start for base, then
// rate × factor for spike, then rate again for after; the collector's
// ACKs are 2% of it. A softflowd-like exporter (the port's ifIndex as
// both in and out, no direction) cuts each connection's flow every life,
// each sender at its own phase; SNMP polls the port every poll. Every
// layer is then exact, and only the blur of its intervals hides the
// edges.
type burst struct {
	start                  time.Time
	base, spike, after     time.Duration
	rate, factor           float64
	senders                int
	life, poll, pollPhase  time.Duration
	exporter, device, node string
	ifIndex                uint32
}

const ackShare = 0.02

// rateAt is one sender's payload rate at t.
func (b burst) rateAt(t time.Time) float64 {
	d := t.Sub(b.start)
	switch {
	case d < 0 || d >= b.base+b.spike+b.after:
		return 0
	case d >= b.base && d < b.base+b.spike:
		return b.rate * b.factor
	}
	return b.rate
}

// bytes integrates one sender's rate over [from, to) (the profile is
// piecewise constant, so a sum per 10 ms is exact to its edges).
func (b burst) bytes(from, to time.Time) float64 {
	var v float64
	for t := from; t.Before(to); t = t.Add(10 * time.Millisecond) {
		v += b.rateAt(t) / 100
	}
	return v
}

func (b burst) end() time.Time { return b.start.Add(b.base + b.spike + b.after) }

// spikeWindow is the truth.
func (b burst) spikeWindow() query.Window {
	return query.Window{Start: b.start.Add(b.base), End: b.start.Add(b.base + b.spike)}
}

func (b burst) seed(t *testing.T, a *testAPI) {
	var flows []flowRow
	for i := 0; i < b.senders; i++ {
		pod, ip := fmt.Sprintf("pod-%c", 'a'+i), fmt.Sprintf("198.19.0.%d", 11+i)
		phase := time.Duration(i)*b.life/time.Duration(b.senders) + 1300*time.Millisecond
		for from := b.start; from.Before(b.end()); {
			to := b.start.Add(phase)
			for !to.After(from) {
				to = to.Add(b.life)
			}
			if to.After(b.end()) {
				to = b.end()
			}
			v := b.bytes(from, to)
			flows = append(flows,
				flowRow{t: to, life: to.Sub(from), exporter: b.exporter, sampling: 1, inIf: b.ifIndex, outIf: b.ifIndex, src: ip, dst: "198.19.0.100",
					sport: uint16(40000 + i), dport: 8081, bytes: uint64(v), packets: uint64(v / 1400), app: "http-alt",
					spod: pod, sns: "shop", snode: b.node, dpod: "apm-0", dns: "shop", dnode: b.node},
				flowRow{t: to, life: to.Sub(from), exporter: b.exporter, sampling: 1, inIf: b.ifIndex, outIf: b.ifIndex, src: "198.19.0.100", dst: ip,
					sport: 8081, dport: uint16(40000 + i), bytes: uint64(v * ackShare), packets: uint64(v / 2800), app: "http-alt",
					spod: "apm-0", sns: "shop", snode: b.node, dpod: pod, dns: "shop", dnode: b.node})
			from = to
		}
	}
	var ifs []ifRow
	for at := b.start.Add(-time.Minute + b.pollPhase); at.Before(b.end().Add(time.Minute)); at = at.Add(b.poll) {
		v := float64(b.senders) * b.bytes(at.Add(-b.poll), at)
		ifs = append(ifs, ifRow{t: at, interval: b.poll, device: b.device, ip: b.exporter, idx: b.ifIndex, name: "veth-apm",
			speed: 10_000_000_000, outOct: uint64(v * 1.01), inOct: uint64(v * ackShare * 1.01)})
	}
	insertFlows(t, a.conn, flows)
	insertIfStats(t, a.conn, ifs)
}

// within checks got against want to 5%.
func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got/want-1) > 0.05 {
		t.Errorf("%s %.4g, want %.4g (±5%%)", what, got, want)
	}
}

// checkTruth compares an investigation with the burst: the windows to
// tol, the rates, growth and the port's byte delta to 5%; basis is the
// truth's bytes per payload byte in the subject's layer.
func checkTruth(t *testing.T, inv Investigation, b burst, tol time.Duration, basis float64) {
	t.Helper()
	if inv.Spike == nil || inv.Baseline == nil {
		t.Fatalf("no windows: %+v", inv)
	}
	t.Logf("spike %s–%s %.0f bps, baseline %s–%s %.0f bps, growth %.2f (%s)", inv.Spike.Start.Format("15:04:05.000"), inv.Spike.End.Format("15:04:05.000"),
		inv.Spike.Bps, inv.Baseline.Start.Format("15:04:05"), inv.Baseline.End.Format("15:04:05"), inv.Baseline.Bps, inv.Growth, inv.Verdict.Summary)
	truth := b.spikeWindow()
	if d := inv.Spike.Start.Sub(truth.Start); d.Abs() > tol {
		t.Errorf("spike starts at %s, %v from the truth %s", inv.Spike.Start.Format(time.TimeOnly), d, truth.Start.Format(time.TimeOnly))
	}
	if d := inv.Spike.End.Sub(truth.End); d.Abs() > tol {
		t.Errorf("spike ends at %s, %v from the truth %s", inv.Spike.End.Format(time.TimeOnly), d, truth.End.Format(time.TimeOnly))
	}
	if inv.Baseline.End.After(truth.Start) || inv.Baseline.Start.Before(b.start) {
		t.Errorf("baseline %s–%s is not within the baseline traffic %s–%s", inv.Baseline.Start, inv.Baseline.End, b.start, truth.Start)
	}
	n := float64(b.senders)
	within(t, "spike rate (bps)", inv.Spike.Bps, n*b.rate*b.factor*basis*8)
	within(t, "baseline rate (bps)", inv.Baseline.Bps, n*b.rate*basis*8)
	within(t, "growth", inv.Growth, b.factor)
	within(t, "spike bytes", float64(inv.Spike.Bytes), n*b.rate*b.factor*basis*truth.Dur().Seconds())
	if len(inv.Contributors.Ports) == 0 || inv.Contributors.Ports[0].Key != ":8081" {
		t.Fatalf("ports %+v, want :8081", inv.Contributors.Ports)
	}
	p := inv.Contributors.Ports[0]
	wantDelta := n * b.rate * (b.factor - 1) * (1 + ackShare) * truth.Dur().Seconds()
	within(t, "port :8081 byte delta", float64(p.DeltaBytes), wantDelta)
}

func TestInvestigateMeasuresASpikeAtTheLayersResolution(t *testing.T) {
	a := newTestAPI(t)
	// ×5 for 30 s after 3 minutes, starting at an arbitrary second.
	b := burst{start: time.Now().UTC().Truncate(time.Minute).Add(-9*time.Minute + 23*time.Second + 400*time.Millisecond),
		base: 3 * time.Minute, spike: 30 * time.Second, after: time.Minute, rate: 40_000, factor: 5, senders: 4,
		life: 15 * time.Second, poll: 10 * time.Second, pollPhase: 3 * time.Second,
		exporter: "10.0.0.9", device: "sw9", node: "worker-1", ifIndex: 11}
	b.seed(t, a)
	to := b.end().Add(40 * time.Second).Truncate(time.Second)
	rng := url.Values{"from": {to.Add(-10 * time.Minute).Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}

	t.Run("node, from the flows", func(t *testing.T) {
		var inv Investigation
		q := url.Values{"node": {"worker-1"}, "from": rng["from"], "to": rng["to"]}
		if st := a.get(t, "/api/v1/investigate", q, &inv); st != 200 {
			t.Fatalf("status %d", st)
		}
		if inv.Spike == nil || inv.Spike.Source != "flows" {
			t.Fatalf("spike %+v, want one from the flows", inv.Spike)
		}
		// A flow's bytes are known over its life: the edges to a life.
		checkTruth(t, inv, b, b.life, 1+ackShare)
		if !strings.Contains(inv.Verdict.Summary, ":8081") {
			t.Errorf("verdict %q does not name :8081", inv.Verdict.Summary)
		}
		checkSendersAndReceivers(t, inv)
		checkUnknownWithoutAgents(t, inv)
	})
	t.Run("switch port, from SNMP", func(t *testing.T) {
		var inv Investigation
		q := url.Values{"device": {"sw9"}, "if_index": {"11"}, "from": rng["from"], "to": rng["to"]}
		if st := a.get(t, "/api/v1/investigate", q, &inv); st != 200 {
			t.Fatalf("status %d", st)
		}
		if inv.Spike == nil || inv.Spike.Source != "snmp" {
			t.Fatalf("spike %+v, want one from SNMP", inv.Spike)
		}
		checkTruth(t, inv, b, b.poll, (1+ackShare)*1.01)
	})
}

// checkSendersAndReceivers: the four pods sent the increase, a quarter
// each; apm-0 received it (all but its own ACKs' share).
func checkSendersAndReceivers(t *testing.T, inv Investigation) {
	t.Helper()
	if s := inv.Contributors.Senders; len(s) < 4 {
		t.Errorf("senders %q, want the four pods", keys(s))
	} else {
		for _, c := range s[:4] {
			if !strings.HasPrefix(c.Key, "shop/pod-") || math.Abs(c.Share-0.25/(1+ackShare)) > 0.02 {
				t.Errorf("sender %s with %.1f%% of the increase, want a pod with a quarter", c.Key, c.Share*100)
			}
		}
	}
	if r := inv.Contributors.Receivers; len(r) == 0 || r[0].Key != "shop/apm-0" || math.Abs(r[0].Share-1/(1+ackShare)) > 0.02 {
		t.Errorf("receivers %+v, want shop/apm-0 with the increase", r)
	}
	for _, p := range inv.Contributors.Pods {
		if p.Key == "shop/apm-0" && p.Share > 0.05 {
			t.Errorf("receiving pod apm-0 listed with %.0f%% of the increase among the senders", p.Share*100)
		}
	}
}

// checkUnknownWithoutAgents: what only the agents measure is unknown,
// not 0, in the answer and in the report.
func checkUnknownWithoutAgents(t *testing.T, inv Investigation) {
	t.Helper()
	if inv.Spike.Retransmits != nil || inv.Baseline.Retransmits != nil {
		t.Errorf("retransmits %v and %v without agent data, want null", inv.Spike.Retransmits, inv.Baseline.Retransmits)
	}
	for _, e := range inv.TrafficMap.Edges {
		if e.Connections != nil || e.RTTAvgUs != nil || e.Retransmits != nil {
			t.Errorf("edge %s → %s has agent figures without agent data", e.Source, e.Target)
		}
	}
	var b strings.Builder
	if err := client.RenderReport(&b, &inv); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"0 conns", "RTT 0.0 ms", "0 retr", "0 retransmits", "sessions healthy", "healthy"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("report claims %q without agent data:\n%s", bad, b.String())
		}
	}
	if !strings.Contains(b.String(), "retransmits unknown") {
		t.Errorf("report does not say retransmits are unknown:\n%s", b.String())
	}
}

// TestInvestigateFindsAShortBurstAcrossAMinuteBoundary: a 20 s burst
// from :50 to :10 of the next minute, which minute buckets would split
// in two and halve, is found and explained by each layer.
func TestInvestigateFindsAShortBurstAcrossAMinuteBoundary(t *testing.T) {
	a := newTestAPI(t)
	b := burst{start: time.Now().UTC().Truncate(time.Minute).Add(-10*time.Minute + 50*time.Second),
		base: 3 * time.Minute, spike: 20 * time.Second, after: 2 * time.Minute, rate: 30_000, factor: 4, senders: 4,
		life: 10 * time.Second, poll: 5 * time.Second, pollPhase: 2 * time.Second,
		exporter: "10.0.0.9", device: "sw9", node: "worker-1", ifIndex: 11}
	if s := b.spikeWindow(); s.Start.Minute() == s.End.Minute() {
		t.Fatalf("burst %v–%v does not cross a minute boundary", s.Start, s.End)
	}
	b.seed(t, a)
	to := b.end().Add(30 * time.Second).Truncate(time.Second)
	for _, c := range []struct {
		name   string
		q      url.Values
		source string
		tol    time.Duration
		basis  float64
	}{
		{"node, from the flows", url.Values{"node": {"worker-1"}}, "flows", b.life, 1 + ackShare},
		{"switch port, from SNMP", url.Values{"device": {"sw9"}, "if_index": {"11"}}, "snmp", b.poll, (1 + ackShare) * 1.01},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.q.Set("from", to.Add(-10*time.Minute).Format(time.RFC3339))
			c.q.Set("to", to.Format(time.RFC3339))
			var inv Investigation
			if st := a.get(t, "/api/v1/investigate", c.q, &inv); st != 200 {
				t.Fatalf("status %d", st)
			}
			if inv.Verdict.Kind != apiv1.VerdictLoad || inv.Spike == nil || inv.Spike.Source != c.source {
				t.Fatalf("verdict %q, spike %+v: want load growth found in %s", inv.Verdict.Summary, inv.Spike, c.source)
			}
			checkTruth(t, inv, b, c.tol, c.basis)
			checkSendersAndReceivers(t, inv)
		})
	}
}
