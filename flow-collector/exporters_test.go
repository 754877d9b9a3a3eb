package flowcollector

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// forgedSFlow rewrites the agent address of an sFlow v5 datagram (IPv4
// agent) to 10.a.b.c for forged exporter i.
func forgedSFlow(dg []byte, i int) []byte {
	out := append([]byte(nil), dg...)
	copy(out[8:12], []byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	return out
}

// exporterLabels lists the distinct exporter label values of a metric.
func exporterLabelValues(t *testing.T, c *Component, name string) map[string]bool {
	t.Helper()
	mfs, err := c.r.Gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "exporter" {
					out[l.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestForgedExportersOutsideTheAllowlistAreRefused sends, over loopback,
// a real exporter's NetFlow from 127.0.0.2 and sFlow datagrams with
// thousands of forged agent addresses and NetFlow from an unlisted
// source: the forged ones are refused, counted and logged once, and the
// real exporter loses nothing.
func TestForgedExportersOutsideTheAllowlistAreRefused(t *testing.T) {
	good := loadCapture(t, "softflowd-v9")
	ref, refPub := newTestComponent(t, testConfig(t))
	want := totals(flatten(decodeEach(ref, refPub, kindNetFlow, good)))

	cfg := testConfig(t)
	cfg.ExporterNetworks = []string{"127.0.0.2", "192.0.2.0/24"}
	c, pub, r := startCollector(t, cfg)
	sflowDatagrams := loadCapture(t, "pmacct-sfprobe")
	forgedSF := senderFrom(t, "127.0.0.1", c.Addrs(kindSFlow)[0])
	for i := 0; i < 3000; i++ {
		forgedSF.send(t, forgedSFlow(sflowDatagrams[i%len(sflowDatagrams)], i))
	}
	forgedNF := senderFrom(t, "127.0.0.3", c.Addrs(kindNetFlow)[0])
	forgedNF.send(t, good...)
	goodSender := senderFrom(t, "127.0.0.2", c.Addrs(kindNetFlow)[0])
	goodSender.send(t, good...)
	goodSender.sync(t, r, kindNetFlow)
	// The real agent, 192.0.2.7, then a truncated datagram from it that
	// tells when the collector is done.
	forgedSF.send(t, sflowDatagrams[0], []byte{0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 7, 0})
	waitFor(t, func() bool { return metricSum(t, r, "netstrata_flow_decode_errors_total", "exporter", "192.0.2.7") > 0 })

	if n := metricSum(t, r, "netstrata_flow_dropped_datagrams_total", "reason", refusedNotAllowed); n != float64(3000+len(good)) {
		t.Errorf("%v datagrams refused, want %d", n, 3000+len(good))
	}
	var fromGood []*record.Flow
	for _, f := range published(pub) {
		if a := record.IPFromBytes(f.ExporterIp).String(); a == "127.0.0.2" {
			fromGood = append(fromGood, f)
		} else if a != "192.0.2.7" {
			t.Fatalf("a record from refused exporter %s was published", a)
		}
	}
	compareTotals(t, want, totals(fromGood))
	if n := c.exporters.all(); len(n) != 2 {
		t.Errorf("%d exporters tracked, want 2", len(n))
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestForgedSourcesCannotPushOutActiveExporters fills the registry with
// forged sFlow agents: while they are fresh, further sources are
// refused and the real exporter keeps decoding; once they have been
// silent long enough, the least recently seen make room, and the idle
// timeout forgets the rest, each counted.
func TestForgedSourcesCannotPushOutActiveExporters(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxExporters = 50
	cfg.ExporterEvictionMinIdle = time.Minute
	cfg.ExporterIdleTimeout = time.Hour
	c, pub := newTestComponent(t, cfg)
	sf := loadCapture(t, "pmacct-sfprobe")
	t0 := time.Now()
	decodeFrom(c, kindSFlow, "127.0.0.1", t0, sf[0]) // the real agent, 192.0.2.7
	for i := 0; i < 49; i++ {
		decodeFrom(c, kindSFlow, "127.0.0.1", t0.Add(time.Duration(i)*time.Millisecond), forgedSFlow(sf[1], i))
	}
	decodeFrom(c, kindSFlow, "127.0.0.1", t0.Add(time.Second), forgedSFlow(sf[1], 1000))
	if n := metricSum(t, c.r, "netstrata_flow_dropped_datagrams_total", "reason", refusedLimit); n != 1 {
		t.Errorf("%v datagrams refused with a full registry of fresh exporters, want 1", n)
	}
	// Two minutes on, the real agent spoke again and the forged did not.
	t1 := t0.Add(2 * time.Minute)
	before := len(published(pub))
	decodeFrom(c, kindSFlow, "127.0.0.1", t1, sf[1])
	if len(published(pub)) == before {
		t.Fatal("the real agent's datagram was not decoded")
	}
	for i := 0; i < 10; i++ {
		decodeFrom(c, kindSFlow, "127.0.0.1", t1, forgedSFlow(sf[1], 2000+i))
	}
	if n := metricSum(t, c.r, "netstrata_flow_exporters_evicted_total", "reason", evictedRoom); n != 10 {
		t.Errorf("%v exporters evicted for room, want 10", n)
	}
	for i := 0; i < 10; i++ { // the ten least recently seen went
		if _, ok := registered(c, fmt.Sprintf("10.0.0.%d", i)); ok {
			t.Errorf("10.0.0.%d, among the least recently seen, is still there", i)
		}
	}
	if _, ok := registered(c, "192.0.2.7"); !ok {
		t.Fatal("the real agent was evicted")
	}
	c.exporters.expire(t1.Add(59 * time.Minute))
	if n := metricSum(t, c.r, "netstrata_flow_exporters_evicted_total", "reason", evictedIdle); n != 39 {
		t.Errorf("%v idle exporters forgotten, want the 39 forged ones silent for an hour", n)
	}
	if got := len(c.exporters.all()); got != 11 {
		t.Errorf("%d exporters left, want the real one and the 10 newest", got)
	}
}

func registered(c *Component, a string) (*exporter, bool) {
	c.exporters.mu.RLock()
	defer c.exporters.mu.RUnlock()
	e, ok := c.exporters.m[netip.MustParseAddr(a)]
	return e, ok
}

// TestExporterLabelsAreBoundedToTheBusiest sends from 40 exporters, a
// few of them busier: after a ranking only the busiest have their own
// label, the rest count under "other", and an evicted exporter's series
// are gone.
func TestExporterLabelsAreBoundedToTheBusiest(t *testing.T) {
	cfg := testConfig(t)
	cfg.MetricsMaxExporters = 3
	c, _ := newTestComponent(t, cfg)
	sf := loadCapture(t, "pmacct-sfprobe")
	now := time.Now()
	for i := 0; i < 40; i++ {
		repeat := 1
		if i >= 37 {
			repeat = 20 // 10.0.0.37-39 are the busiest
		}
		for j := 0; j < repeat; j++ {
			decodeFrom(c, kindSFlow, "127.0.0.1", now, forgedSFlow(sf[1], i))
		}
	}
	labels := exporterLabelValues(t, c, "netstrata_flow_datagrams_total")
	if len(labels) > 4 || !labels[otherExporters] {
		t.Errorf("labels before ranking: %v, want at most 3 exporters and other", labels)
	}
	c.labels.rank(c.exporters.all())
	for i := 30; i < 40; i++ {
		decodeFrom(c, kindSFlow, "127.0.0.1", now, forgedSFlow(sf[1], i))
	}
	labels = exporterLabelValues(t, c, "netstrata_flow_datagrams_total")
	for _, want := range []string{"10.0.0.37", "10.0.0.38", "10.0.0.39", otherExporters} {
		if !labels[want] {
			t.Errorf("no series for %s after ranking: %v", want, labels)
		}
	}
	if len(labels) != 4 {
		t.Errorf("labels after ranking: %v", labels)
	}
	total := metricSum(t, c.r, "netstrata_flow_datagrams_total", "", "")
	if total < 40+60 {
		t.Errorf("%v datagrams counted: only the demoted exporters' own series may go", total)
	}
	c.exporters.forget(netip.MustParseAddr("10.0.0.39"))
	if labels = exporterLabelValues(t, c, "netstrata_flow_datagrams_total"); labels["10.0.0.39"] {
		t.Error("series of a forgotten exporter are still exported")
	}
}

// TestExporterRefusalsAreLoggedOncePerReason refuses thousands of
// datagrams for each reason: one log line per reason in the window,
// every datagram counted.
func TestExporterRefusalsAreLoggedOncePerReason(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxExporters = 10
	cfg.ExporterNetworks = []string{"10.0.0.0/8"}
	c, _, logs := loggedComponent(t, cfg)
	sf := loadCapture(t, "pmacct-sfprobe")
	now := time.Now()
	for i := 0; i < 2000; i++ {
		decodeFrom(c, kindSFlow, "127.0.0.1", now, forgedSFlow(sf[1], i)) // 10.x: the first 10 fill it
		decodeFrom(c, kindNetFlow, fmt.Sprintf("192.0.2.%d", i%200), now, []byte{0, 9, 0, 0})
	}
	for reason, want := range map[string]float64{refusedLimit: 1990, refusedNotAllowed: 2000} {
		if n := metricSum(t, c.r, "netstrata_flow_dropped_datagrams_total", "reason", reason); n != want {
			t.Errorf("%s: %v datagrams counted, want %v", reason, n, want)
		}
		if n := logs.Count("reason=" + reason); n != 1 {
			t.Errorf("%s: %d log lines, want 1", reason, n)
		}
	}
}
