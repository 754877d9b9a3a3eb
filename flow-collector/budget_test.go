package flowcollector

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"
)

// decodeFrom decodes datagrams as sent by exporter from, at now.
func decodeFrom(c *Component, kind listenerKind, from string, now time.Time, datagrams ...[]byte) {
	d := newDecoder(c)
	for _, dg := range datagrams {
		d.handle(kind, dg, netip.AddrPortFrom(netip.MustParseAddr(from), 40000), now)
	}
}

// templateDatagram is one v9 datagram defining template id in domain
// with n 4-byte fields.
func templateDatagram(domain uint32, id uint16, n int) []byte {
	b := newV9Builder(domain)
	fs := make([]field, n)
	for i := range fs {
		fs[i] = field{uint16(i + 1), 4}
	}
	b.template(id, fs)
	return b.bytes()
}

// dataDatagram is one v9 datagram with a record for template id.
func dataDatagram(domain uint32, id uint16, n int) []byte {
	b := newV9Builder(domain)
	b.data(id, make([]byte, 4*n))
	return b.bytes()
}

func hasTemplateID(c *Component, from string, domain uint32, id uint16) bool {
	e, _ := c.exporters.get(netip.MustParseAddr(from), time.Now())
	_, err := e.templates.GetTemplate(9, domain, id)
	return err == nil
}

// TestTemplateBudgetsEvictTheLeastRecentlyUsed fills a domain, then an
// exporter: each time the template neither used nor refreshed for the
// longest makes room, and the eviction is counted by budget.
func TestTemplateBudgetsEvictTheLeastRecentlyUsed(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTemplatesPerDomain, cfg.MaxTemplatesPerExporter = 4, 6
	c, _ := newTestComponent(t, cfg)
	const from = "192.0.2.7"
	now := time.Now()
	for id := uint16(256); id < 260; id++ {
		decodeFrom(c, kindNetFlow, from, now, templateDatagram(1, id, 2))
	}
	decodeFrom(c, kindNetFlow, from, now, dataDatagram(1, 256, 2)) // 256 in use
	decodeFrom(c, kindNetFlow, from, now, templateDatagram(1, 260, 2))
	if hasTemplateID(c, from, 1, 257) || !hasTemplateID(c, from, 1, 256) || !hasTemplateID(c, from, 1, 260) {
		t.Error("the domain's least recently used template (257) was not the one evicted")
	}
	if n := metricSum(t, c.r, "netstrata_flow_templates_evicted_total", "reason", "domain"); n != 1 {
		t.Errorf("%v domain evictions counted, want 1", n)
	}
	decodeFrom(c, kindNetFlow, from, now, templateDatagram(2, 300, 2), templateDatagram(2, 301, 2), templateDatagram(2, 302, 2))
	if hasTemplateID(c, from, 1, 258) || !hasTemplateID(c, from, 2, 302) {
		t.Error("the exporter's least recently used template (258) was not the one evicted")
	}
	if n := metricSum(t, c.r, "netstrata_flow_templates_evicted_total", "reason", "exporter"); n != 1 {
		t.Errorf("%v exporter evictions counted, want 1", n)
	}
	if n := c.budget.count(); n != 6 {
		t.Errorf("%d templates held, want 6", n)
	}
}

// TestTemplateBytesEvictTheLargestExporter floods the bytes budget from
// one exporter: its own templates make room, the neighbour keeps its.
func TestTemplateBytesEvictTheLargestExporter(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTemplateBytes = 20 * templateCost(16)
	c, _ := newTestComponent(t, cfg)
	now := time.Now()
	decodeFrom(c, kindNetFlow, "192.0.2.1", now, templateDatagram(0, 256, 16), templateDatagram(0, 257, 16))
	for id := uint16(256); id < 356; id++ {
		decodeFrom(c, kindNetFlow, "192.0.2.66", now, templateDatagram(0, id, 16))
	}
	if !hasTemplateID(c, "192.0.2.1", 0, 256) || !hasTemplateID(c, "192.0.2.1", 0, 257) {
		t.Error("the flood evicted its neighbour's templates")
	}
	if got := c.budget.bytes.Load(); got > cfg.MaxTemplateBytes {
		t.Errorf("%d template bytes, budget %d", got, cfg.MaxTemplateBytes)
	}
	if n := metricSum(t, c.r, "netstrata_flow_templates_evicted_total", "reason", "bytes"); n < 80 {
		t.Errorf("%v byte evictions counted, want at least 80", n)
	}
	if g := metricSum(t, c.r, "netstrata_flow_template_bytes", "", ""); int64(g) != c.budget.bytes.Load() {
		t.Errorf("template_bytes gauge %v, held %d", g, c.budget.bytes.Load())
	}
}

// loggedComponent is a collector whose log the test reads.
func loggedComponent(t *testing.T, cfg Configuration) (*Component, *bustest.Publisher, *testenv.LogBuffer) {
	t.Helper()
	logs := &testenv.LogBuffer{}
	pub := &bustest.Publisher{}
	c, err := New(telemetry.NewReporter(slog.New(slog.NewTextHandler(logs, nil))), cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	return c, pub, logs
}

// TestRefusedTemplatesAreCountedAndLoggedOnce sends templates beyond
// the field budget, too long a record and empty ones, repeatedly: each
// is counted by reason, logged once, and the exporter's good template
// keeps decoding.
func TestRefusedTemplatesAreCountedAndLoggedOnce(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTemplateFields = 8
	c, pub, logs := loggedComponent(t, cfg)
	long := newV9Builder(0)
	long.template(301, []field{{1, 5000}, {2, 5000}})
	empty := newV9Builder(0)
	empty.template(302, []field{{1, 0}})
	now := time.Now()
	for i := 0; i < 10; i++ {
		decodeFrom(c, kindNetFlow, "192.0.2.5", now, templateDatagram(0, 300, 9), long.bytes(), empty.bytes())
	}
	for _, reason := range []string{"fields", "record_length", "empty"} {
		if n := metricSum(t, c.r, "netstrata_flow_templates_refused_total", "reason", reason); n != 10 {
			t.Errorf("%s: %v refusals counted, want 10", reason, n)
		}
	}
	if n := logs.Count("undecodable datagram"); n != 1 {
		t.Errorf("%d log lines for 30 refusals, want 1 per rate-limit window", n)
	}
	decodeFrom(c, kindNetFlow, "192.0.2.5", now, templateDatagram(0, 256, 8), dataDatagram(0, 256, 8))
	if len(published(pub)) != 1 {
		t.Errorf("%d records decoded after the refusals, want 1", len(published(pub)))
	}
}
