package api

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/client"
)

// scenario is an hour of traffic on worker-1, minute by minute, ending at
// end; spike minutes are [40, 50).
type scenario struct {
	start time.Time
	end   time.Time
}

func newScenario() scenario {
	end := time.Now().UTC().Truncate(time.Minute)
	return scenario{start: end.Add(-time.Hour), end: end}
}

// minute is when minute m is reported: as it ends (a millisecond before
// the next minute, so that the last one is inside the range), an agent
// interval, a poll or a flow of a minute covering it.
func (s scenario) minute(m int) time.Time {
	return s.start.Add(time.Duration(m+1)*time.Minute - time.Millisecond)
}

func inSpike(m int) bool { return m >= 40 && m < 50 }

// seedLost is the export units the exporter's datagram of minute m
// showed lost: 2 every tenth minute, seedExporterLost in the hour.
func seedLost(m int) uint32 {
	if m%10 == 5 {
		return 2
	}
	return 0
}

const seedExporterLost = 12

// seedWorker1 writes the seed scenario: four frontend pods on worker-1
// talk to shop/api-0 on :8081, orders-0 to a database on 10.0.3.7:5432,
// web-0 serves :80 to an external client. loadSpike triples the frontend
// traffic in the spike minutes; retrStorm multiplies the database path's
// retransmits by 12 in them. The layers named in skip ("sockets",
// "flows", "snmp", "pods") are left out.
func seedWorker1(t *testing.T, a *testAPI, s scenario, loadSpike, retrStorm bool, skip ...string) {
	var socks []sockRow
	var flows []flowRow
	var ifs []ifRow
	for m := 0; m < 60; m++ {
		at := s.minute(m)
		var uplink uint64
		for i := 0; i < 4; i++ {
			sent := uint64(1_000_000)
			if loadSpike && inSpike(m) {
				sent *= 3
			}
			pod := fmt.Sprintf("frontend-%d", i)
			lip := fmt.Sprintf("10.1.1.%d", 10+i)
			socks = append(socks, sockRow{t: at, node: "worker-1", id: uint64(100 + i), lip: lip, lport: uint16(40000 + i), rip: "10.1.2.9", rport: 8081,
				dir: "client", comm: "frontend", ns: "shop", pod: pod, rns: "shop", rpod: "api-0", rnode: "worker-2",
				sent: sent, recv: sent / 5, retr: uint32(sent / 1_000_000), srtt: 800, jitter: 100})
			flows = append(flows, flowRow{t: at, exporter: "10.0.0.1", sampling: 100, inIf: 3, outIf: 7, src: lip, dst: "10.1.2.9",
				sport: uint16(40000 + i), dport: 8081, bytes: sent / 100, packets: sent / 1448 / 100, app: "http-alt",
				spod: pod, sns: "shop", snode: "worker-1", dpod: "api-0", dns: "shop", dnode: "worker-2"})
			uplink += sent
		}
		retr := uint32(5)
		if retrStorm && inSpike(m) {
			retr = 60
		}
		socks = append(socks,
			sockRow{t: at, node: "worker-1", id: 200, lip: "10.1.1.20", lport: 45000, rip: "10.0.3.7", rport: 5432, dir: "client", comm: "orders",
				ns: "shop", pod: "orders-0", sent: 2_000_000, recv: 1_000_000, retr: retr, srtt: 1500, jitter: 200},
			sockRow{t: at, node: "worker-1", id: 300, lip: "10.1.1.30", lport: 80, rip: "203.0.113.5", rport: 51000, dir: "server", comm: "nginx",
				ns: "shop", pod: "web-0", sent: 500_000, recv: 50_000, retr: 0, srtt: 20000, jitter: 3000})
		uplink += 2_000_000 + 500_000
		flows = append(flows,
			flowRow{t: at, exporter: "10.0.0.1", sampling: 100, inIf: 3, outIf: 7, src: "10.1.1.20", dst: "10.0.3.7", sport: 45000, dport: 5432,
				bytes: 2_000_000 / 100, packets: 14, app: "postgresql", spod: "orders-0", sns: "shop", snode: "worker-1"},
			flowRow{t: at, exporter: "10.0.0.1", sampling: 100, inIf: 3, outIf: 7, src: "10.1.1.30", dst: "203.0.113.5", sport: 80, dport: 51000,
				bytes: 500_000 / 100, packets: 4, app: "http", spod: "web-0", sns: "shop", snode: "worker-1", lost: seedLost(m)})
		// The uplink carries worker-1's traffic in on Gi0/3 and out on Gi0/7.
		ifs = append(ifs,
			ifRow{t: at, device: "sw1", ip: "10.0.0.1", idx: 3, name: "Gi0/3", speed: 1_000_000_000, inOct: uplink},
			ifRow{t: at, device: "sw1", ip: "10.0.0.1", idx: 7, name: "Gi0/7", speed: 1_000_000_000, outOct: uplink})
	}
	var pods []podRow
	for i := 0; i < 4; i++ {
		pods = append(pods, podRow{t: s.start.Add(-time.Hour), ns: "shop", name: fmt.Sprintf("frontend-%d", i), node: "worker-1",
			ip: fmt.Sprintf("10.1.1.%d", 10+i), phase: "Running", ownerKind: "Deployment", ownerNam: "frontend"})
	}
	pods = append(pods, podRow{t: s.start.Add(-time.Hour), ns: "shop", name: "api-0", node: "worker-2", ip: "10.1.2.9", phase: "Running", ownerKind: "StatefulSet", ownerNam: "api"},
		podRow{t: s.start.Add(-time.Hour), ns: "shop", name: "orders-0", node: "worker-1", ip: "10.1.1.20", phase: "Running", ownerKind: "Deployment", ownerNam: "orders"})
	if !slices.Contains(skip, "sockets") {
		insertSockets(t, a.conn, socks)
	}
	if !slices.Contains(skip, "flows") {
		insertFlows(t, a.conn, flows)
	}
	if !slices.Contains(skip, "snmp") {
		insertIfStats(t, a.conn, ifs)
	}
	if !slices.Contains(skip, "pods") {
		insertPods(t, a.conn, pods)
	}
}

func (s scenario) rangeQuery(q url.Values) url.Values {
	q.Set("from", s.start.Format(time.RFC3339))
	q.Set("to", s.end.Format(time.RFC3339))
	return q
}

func keys(cs []Contributor) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

func TestInvestigateNodeFindsLoadGrowthOfFourPodsToPort8081(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)

	var inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	t.Logf("verdict: %s\nevidence: %q", inv.Verdict.Summary, inv.Verdict.Evidence)
	if inv.Verdict.Kind != apiv1.VerdictLoad {
		t.Fatalf("verdict %q, want %q", inv.Verdict.Kind, apiv1.VerdictLoad)
	}
	for _, want := range []string{"4 pods", "worker-1", ":8081", "3.0× more", "sessions healthy"} {
		if !strings.Contains(inv.Verdict.Summary, want) {
			t.Errorf("summary %q lacks %q", inv.Verdict.Summary, want)
		}
	}
	if inv.Spike == nil || !inv.Spike.Start.Equal(s.start.Add(40*time.Minute)) || !inv.Spike.End.Equal(s.start.Add(50*time.Minute)) {
		t.Errorf("spike window %+v, want minutes 40-50", inv.Spike)
	}
	// The baseline ends an agent interval (a minute) before the spike: no
	// interval ending in it can hold a byte of the spike.
	if inv.Baseline == nil || !inv.Baseline.Start.Equal(s.start.Add(29*time.Minute)) || !inv.Baseline.End.Equal(s.start.Add(39*time.Minute)) {
		t.Errorf("baseline %+v, want minutes 29-39", inv.Baseline)
	}
	if len(inv.Contributors.Ports) == 0 || inv.Contributors.Ports[0].Key != ":8081" || inv.Contributors.Ports[0].Share < 0.99 {
		t.Errorf("ports %+v, want :8081 with the whole increase", inv.Contributors.Ports)
	}
	pods := keys(inv.Contributors.Pods)
	if len(pods) != 4 {
		t.Errorf("contributing pods %q, want the four frontends", pods)
	}
	for i := 0; i < 4; i++ {
		if !strings.Contains(strings.Join(pods, " "), fmt.Sprintf("shop/frontend-%d", i)) {
			t.Errorf("pod shop/frontend-%d missing from %q", i, pods)
		}
	}
	if p := keys(inv.Contributors.Processes); len(p) == 0 || p[0] != "frontend@worker-1" {
		t.Errorf("processes %q, want frontend@worker-1 first", p)
	}
	if len(inv.Contributors.Sessions) != 4 {
		t.Errorf("sessions %q, want 4", keys(inv.Contributors.Sessions))
	}
	for _, h := range inv.Health {
		if h.Degraded {
			t.Errorf("path %s degraded: %s", h.Path, h.Reason)
		}
	}
	if len(inv.TrafficMap.Edges) != 4 {
		t.Errorf("traffic map edges %+v, want the 4 frontends → api-0:8081", inv.TrafficMap.Edges)
	}
	for _, e := range inv.TrafficMap.Edges {
		if e.Target != "pod:shop/api-0" || e.Port != 8081 {
			t.Errorf("edge %+v, want → pod:shop/api-0 :8081", e)
		}
	}
	var sawUplink bool
	for _, i := range inv.Interfaces {
		if i.Device == "sw1" && i.IfIndex == 3 && i.Name == "Gi0/3" && i.SNMP != nil && i.SNMP.SpeedBps == 1_000_000_000 && i.OperStatus == "up" && i.SNMP.InBps > 0 {
			sawUplink = true
		}
	}
	if !sawUplink {
		t.Errorf("interfaces %+v, want sw1 Gi0/3 with its rates", inv.Interfaces)
	}
	if len(inv.Pods) < 4 || inv.Pods[0].Phase != "Running" {
		t.Errorf("pods %+v, want the frontends Running", inv.Pods)
	}
	if len(inv.Missing) != 0 {
		t.Errorf("missing layers %q, want none", inv.Missing)
	}

	// The CLI prints the same report.
	var out bytes.Buffer
	err := client.RunInvestigateCLI(context.Background(), []string{"--api", a.url, "--node", "worker-1", "--from", s.start.Format(time.RFC3339), "--to", s.end.Format(time.RFC3339)}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VERDICT  load growth: 4 pods on worker-1 sent 3.0× more to :8081", "shop/frontend-3", "sw1 Gi0/3", "Session health"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if testing.Verbose() {
		t.Logf("report:\n%s", out.String())
	}
}

// The console's sessions table and chart come with the investigation
// (sessions=N, series=chart): the same answers as /sockets over the spike
// window and /interfaces/series of the path's busiest polled interface
// over the range, and nothing more for a client that does not ask.
func TestInvestigateWithSessionsAndSeriesAnswersAsTheirEndpoints(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)

	var plain, inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}}), &plain); st != 200 || plain.Sessions != nil || plain.Series != nil {
		t.Fatalf("without sessions= and series=: status %d, sessions %+v, series %+v", st, plain.Sessions, plain.Series)
	}
	q := s.rangeQuery(url.Values{"node": {"worker-1"}, "sessions": {"3"}, "series": {"chart"}})
	if st := a.get(t, "/api/v1/investigate", q, &inv); st != 200 || inv.Spike == nil || inv.Sessions == nil || inv.Series == nil {
		t.Fatalf("status %d, spike %+v, sessions %+v, series %+v", st, inv.Spike, inv.Sessions, inv.Series)
	}
	var sockets SocketsResponse
	q = url.Values{"node": {"worker-1"}, "limit": {"3"}, "from": {inv.Spike.Start.Format(time.RFC3339Nano)}, "to": {inv.Spike.End.Format(time.RFC3339Nano)}}
	if st := a.get(t, "/api/v1/sockets", q, &sockets); st != 200 {
		t.Fatalf("sockets: status %d", st)
	}
	if len(sockets.Session) != 3 || fmt.Sprint(*inv.Sessions) != fmt.Sprint(sockets) {
		t.Errorf("sessions\n%+v\nwant /sockets' answer\n%+v", *inv.Sessions, sockets)
	}
	chart := inv.Interfaces[slices.IndexFunc(inv.Interfaces, func(i PathInterface) bool { return i.SNMP != nil })]
	var series SeriesResponse
	if st := a.get(t, "/api/v1/interfaces/series", s.rangeQuery(url.Values{"device": {chart.Device}, "if_index": {fmt.Sprint(chart.IfIndex)}}), &series); st != 200 {
		t.Fatalf("interfaces/series: status %d", st)
	}
	if len(series.Points) == 0 || fmt.Sprint(*inv.Series) != fmt.Sprint(series) {
		t.Errorf("series of %s #%d\n%+v\nwant /interfaces/series' answer\n%+v", chart.Device, chart.IfIndex, *inv.Series, series)
	}
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}, "series": {"all"}}), &inv); st != 400 {
		t.Errorf("series=all: status %d, want 400", st)
	}
}

func TestInvestigateNodeFindsRetransmitStormOnDatabasePath(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, false, true)

	var inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	t.Logf("verdict: %s\nevidence: %q", inv.Verdict.Summary, inv.Verdict.Evidence)
	if inv.Verdict.Kind != apiv1.VerdictDegradation {
		t.Fatalf("verdict %q, want %q", inv.Verdict.Kind, apiv1.VerdictDegradation)
	}
	for _, want := range []string{"retransmits 12× baseline", "10.0.3.7:5432"} {
		if !strings.Contains(inv.Verdict.Summary, want) {
			t.Errorf("summary %q lacks %q", inv.Verdict.Summary, want)
		}
	}
	if len(inv.Health) == 0 || !inv.Health[0].Degraded || inv.Health[0].Path != "10.0.3.7:5432" || inv.Health[0].Pod != "shop/orders-0" {
		t.Fatalf("health %+v, want 10.0.3.7:5432 from shop/orders-0 degraded first", inv.Health)
	}
	for _, h := range inv.Health[1:] {
		if h.Degraded {
			t.Errorf("path %s also degraded: %s", h.Path, h.Reason)
		}
	}
}

func TestInvestigateNodeWithoutChangeSaysSo(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, false, false)
	var inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-1"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	if inv.Verdict.Kind != apiv1.VerdictNone {
		t.Errorf("verdict %q (%s), want %q", inv.Verdict.Kind, inv.Verdict.Summary, apiv1.VerdictNone)
	}
	// An unknown node has no data in any layer.
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {"worker-9"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	if inv.Verdict.Kind != apiv1.VerdictNoData || len(inv.Missing) != 4 {
		t.Errorf("verdict %q, missing %q; want %q and all four layers missing", inv.Verdict.Kind, inv.Missing, apiv1.VerdictNoData)
	}
}

// seedExporters writes an hour of one interface on each of two exporters:
// sw1 exports 1:100 sampled flows and says so; sw2 samples 1:100 too but
// its flows claim 1:1. SNMP counts the real 6 MB a minute on both.
func seedExporters(t *testing.T, a *testAPI, s scenario) {
	var flows []flowRow
	var ifs []ifRow
	for m := 0; m < 60; m++ {
		at := s.minute(m)
		for _, e := range []struct {
			dev, ip  string
			idx      uint32
			sampling uint64
		}{{"sw1", "10.0.0.1", 3, 100}, {"sw2", "10.0.0.2", 5, 1}} {
			for i := 0; i < 3; i++ {
				flows = append(flows, flowRow{t: at, exporter: e.ip, sampling: e.sampling, inIf: e.idx, outIf: 9,
					src: fmt.Sprintf("192.0.2.%d", i+1), dst: "10.1.1.10", sport: 443, dport: uint16(50000 + i), bytes: 20_000, packets: 15, app: "https"})
			}
			ifs = append(ifs, ifRow{t: at, device: e.dev, ip: e.ip, idx: e.idx, name: "xe-0/0/" + fmt.Sprint(e.idx), speed: 10_000_000_000, inOct: 6_000_000})
		}
	}
	insertFlows(t, a.conn, flows)
	insertIfStats(t, a.conn, ifs)
}

func TestReconciliationFlagsExporterWithWrongSamplingRate(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedExporters(t, a, s)

	var rec ReconciliationResponse
	if st := a.get(t, "/api/v1/reconciliation", s.rangeQuery(url.Values{}), &rec); st != 200 {
		t.Fatalf("status %d", st)
	}
	byExporter := map[string]Reconciliation{}
	for _, r := range rec.Rows {
		if r.Direction == "in" {
			byExporter[r.Exporter] = r
		}
	}
	bad, good := byExporter["10.0.0.2"], byExporter["10.0.0.1"]
	if bad.Status != "flows_low" || bad.IfIndex != 5 || bad.Ratio > 0.02 || bad.SamplingRate != 1 || !strings.Contains(bad.Hint, "1:100") {
		t.Errorf("sw2 row %+v, want flows_low at ratio ≈0.01 hinting 1:100", bad)
	}
	if good.Status != "ok" || good.Ratio < 0.9 || good.Ratio > 1.1 {
		t.Errorf("sw1 row %+v, want ok at ratio ≈1", good)
	}
	if len(rec.Rows) == 0 || rec.Rows[0].Exporter != "10.0.0.2" {
		t.Errorf("rows %+v, want the problem first", rec.Rows)
	}

	// Investigating sw2's interface shows the reconciliation as evidence.
	var inv Investigation
	if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"device": {"sw2"}, "if_index": {"5"}}), &inv); st != 200 {
		t.Fatalf("status %d", st)
	}
	found := false
	for _, r := range inv.Reconciliation {
		found = found || r.Exporter == "10.0.0.2" && r.Status == "flows_low"
	}
	if !found || !strings.Contains(strings.Join(inv.Verdict.Evidence, "\n"), "reconciliation 10.0.0.2 ifIndex 5 in") {
		t.Errorf("investigation of sw2 ifIndex 5: reconciliation %+v, evidence %q; want flows_low flagged", inv.Reconciliation, inv.Verdict.Evidence)
	}
	if inv.Subject.Label != "sw2 xe-0/0/5 (ifIndex 5)" || len(inv.Interfaces) == 0 || inv.Interfaces[0].Role != "subject" {
		t.Errorf("subject %+v, interfaces %+v", inv.Subject, inv.Interfaces)
	}
}
