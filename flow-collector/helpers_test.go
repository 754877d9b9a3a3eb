package flowcollector

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// published are the flows the collector published so far, decoded.
func published(pub *bustest.Publisher) []*record.Flow { return publishedSince(pub, 0) }

// publishedSince are the flows of the messages published after the
// first n, decoded.
func publishedSince(pub *bustest.Publisher, n int) []*record.Flow {
	return bustest.Decode[record.Flow](pub.Messages()[n:], record.TopicFlows)
}

func testReporter(t testing.TB) *telemetry.Reporter {
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

// testConfig listens on loopback ports picked by the kernel.
func testConfig(t testing.TB) Configuration {
	cfg := DefaultConfiguration()
	cfg.NetFlowListen = []string{"127.0.0.1:0"}
	cfg.SFlowListen = []string{"127.0.0.1:0"}
	cfg.Workers = 2
	cfg.ReceiveBuffer = 8 << 20
	cfg.TemplatesFile = t.TempDir() + "/templates.json"
	return cfg
}

// startCollector runs a collector publishing into a bustest.Publisher.
func startCollector(t testing.TB, cfg Configuration) (*Component, *bustest.Publisher, *telemetry.Reporter) {
	t.Helper()
	pub := &bustest.Publisher{}
	r := testReporter(t)
	c, err := New(r, cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c, pub, r
}

// sender sends datagrams from one socket, so that they reach one worker
// in order, and knows when the collector has handled them all: it ends
// with a sentinel datagram (an unknown version) and waits until that is
// counted.
type sender struct {
	conn *net.UDPConn
	to   netip.AddrPort
}

func newSender(t testing.TB, to netip.AddrPort) *sender {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &sender{conn: conn, to: to}
}

func (s *sender) send(t testing.TB, datagrams ...[]byte) {
	t.Helper()
	for i, d := range datagrams {
		if _, err := s.conn.WriteToUDPAddrPort(d, s.to); err != nil {
			t.Fatal(err)
		}
		if i%64 == 63 {
			time.Sleep(time.Millisecond) // stay well within the receive buffer
		}
	}
}

// sync sends a sentinel and waits until the collector counted it.
func (s *sender) sync(t testing.TB, r *telemetry.Reporter, kind listenerKind) {
	t.Helper()
	sentinel := []byte{0, 99, 0, 0}
	label := errKindVersion
	if kind == kindSFlow {
		sentinel = []byte{0, 0, 0, 99, 0, 0, 0, 1}
	}
	before := metricSum(t, r, "netstrata_flow_decode_errors_total", "kind", label)
	s.send(t, sentinel)
	deadline := time.Now().Add(30 * time.Second)
	for metricSum(t, r, "netstrata_flow_decode_errors_total", "kind", label) <= before {
		if time.Now().After(deadline) {
			t.Fatal("collector did not handle the datagrams within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricSum adds the values of a metric whose label matches (any label
// when label is "").
func metricSum(t testing.TB, r *telemetry.Reporter, name, label, value string) float64 {
	t.Helper()
	mfs, err := r.Gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && !hasLabel(m, label, value) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// totals sums decoded bytes and packets per 5-tuple.
func totals(flows []*record.Flow) map[fiveTuple]counts {
	out := map[fiveTuple]counts{}
	for _, f := range flows {
		k := fiveTuple{
			src: record.IPFromBytes(f.SrcIp), dst: record.IPFromBytes(f.DstIp),
			srcPort: uint16(f.SrcPort), dstPort: uint16(f.DstPort), proto: uint8(f.Proto),
		}
		c := out[k]
		c.bytes += f.Bytes
		c.packets += f.Packets
		out[k] = c
	}
	return out
}

// compareTotals reports every 5-tuple whose totals differ.
func compareTotals(t testing.TB, want, got map[fiveTuple]counts) {
	t.Helper()
	bad := 0
	for k, w := range want {
		if g := got[k]; g != w {
			if bad < 10 {
				t.Errorf("%s: decoded %d bytes %d packets, want %d bytes %d packets", k, g.bytes, g.packets, w.bytes, w.packets)
			}
			bad++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if bad < 10 {
				t.Errorf("%s: decoded %d bytes %d packets, not in the traffic", k, g.bytes, g.packets)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d 5-tuples differ", bad, len(want))
	}
}
