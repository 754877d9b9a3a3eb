package snmppoller

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"

	"github.com/netstrata/netstrata/internal/bus/bustest"
)

func testReporter() *telemetry.Reporter {
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newTestComponent builds a poller over targets with a fake publisher.
func newTestComponent(t testing.TB, cfg Configuration) (*Component, *bustest.Publisher) {
	t.Helper()
	pub := &bustest.Publisher{}
	c, err := New(testReporter(), cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, pub
}

// simTarget is a target pointing at a simulated agent.
func simTarget(a *simAgent) Target {
	return Target{Name: a.cfg.Name, Address: "127.0.0.1", Port: a.port(), Community: a.cfg.Community}
}

// pollOnce polls the named target synchronously and returns its records.
func pollOnce(t testing.TB, c *Component, pub *bustest.Publisher, name string) []*record.InterfaceStats {
	t.Helper()
	c.mu.Lock()
	if len(c.targets) == 0 {
		c.mu.Unlock()
		c.apply()
		c.mu.Lock()
	}
	tg := c.targets[name]
	c.mu.Unlock()
	if tg == nil {
		t.Fatalf("no target %q", name)
	}
	res := c.poll(context.Background(), tg)
	if res.err != nil {
		t.Fatalf("poll %s: %v", name, res.err)
	}
	msgs := pub.Take()
	for _, m := range msgs {
		if m.Topic != record.TopicIfStats || string(m.Key) != name {
			t.Fatalf("published to %s key %s, want %s key %s", m.Topic, m.Key, record.TopicIfStats, name)
		}
	}
	return bustest.Decode[record.InterfaceStats](msgs, "")
}

// byIndex maps records by ifIndex.
func byIndex(recs []*record.InterfaceStats) map[uint32]*record.InterfaceStats {
	m := make(map[uint32]*record.InterfaceStats, len(recs))
	for _, r := range recs {
		m[r.IfIndex] = r
	}
	return m
}

// metricValue reads a per-target counter from the component's metrics.
func metricValue(t testing.TB, c *Component, name, target string) float64 {
	t.Helper()
	vecs := map[string]*prometheus.CounterVec{"polls": c.metrics.polls, "failures": c.metrics.failures,
		"timeouts": c.metrics.timeouts, "skipped": c.metrics.skipped}
	v, ok := vecs[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var m dto.Metric
	if err := v.WithLabelValues(target).Write(&m); err != nil {
		t.Fatalf("read metric %s: %v", name, err)
	}
	return m.GetCounter().GetValue()
}

// waitFor polls cond until it holds or the deadline passes (a generous
// bound, not a timing assertion).
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func logReporter(w io.Writer) *telemetry.Reporter {
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(w, nil)))
}
