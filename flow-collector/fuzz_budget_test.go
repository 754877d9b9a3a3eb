package flowcollector

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// budgetComponent is a collector with small budgets, for the fuzz
// targets of the budget and eviction paths.
func budgetComponent(t testing.TB) *Component {
	cfg := testConfig(t)
	cfg.MaxTemplatesPerDomain, cfg.MaxTemplatesPerExporter = 5, 8
	cfg.MaxTemplateFields = 64
	cfg.MaxTemplateBytes = 12 * templateCost(32)
	cfg.MaxExporters, cfg.MetricsMaxExporters = 6, 3
	cfg.ExporterEvictionMinIdle, cfg.ExporterIdleTimeout = 10*time.Second, time.Minute
	cfg.ExporterNetworks = []string{"192.0.2.0/29", "2001:db8::/125"}
	// Logs are discarded: a fuzz worker's stderr is a pipe nobody reads
	// until it fails, and a component per input would fill it.
	c, err := New(telemetry.NewReporter(slog.New(slog.DiscardHandler)), cfg, Dependencies{Publisher: &bustest.Publisher{}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkBudgets verifies the invariants of the budgets and the registry:
// the accounting matches what is held and nothing exceeds its bound.
func checkBudgets(c *Component) error {
	var bytes, count int64
	named := 0
	all := c.exporters.all()
	if len(all) > c.cfg.MaxExporters {
		return fmt.Errorf("%d exporters, limit %d", len(all), c.cfg.MaxExporters)
	}
	for _, e := range all {
		if !c.exporters.allowed(e.addr) {
			return fmt.Errorf("exporter %s outside the allowlist", e.addr)
		}
		if err := checkExporterTemplates(c, e.templates); err != nil {
			return fmt.Errorf("%s: %w", e.addr, err)
		}
		bytes += e.templates.bytes.Load()
		count += int64(len(e.templates.m))
		if e.named {
			named++
		}
	}
	switch {
	case bytes != c.budget.bytes.Load() || count != c.budget.count():
		return fmt.Errorf("held %d templates in %d bytes, accounted %d in %d", count, bytes, c.budget.count(), c.budget.bytes.Load())
	case bytes > c.cfg.MaxTemplateBytes:
		return fmt.Errorf("%d template bytes, budget %d", bytes, c.cfg.MaxTemplateBytes)
	case named > c.cfg.MetricsMaxExporters || named != c.labels.named:
		return fmt.Errorf("%d exporters named (%d accounted), at most %d", named, c.labels.named, c.cfg.MetricsMaxExporters)
	}
	return nil
}

func checkExporterTemplates(c *Component, t *exporterTemplates) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var bytes int64
	domains := map[uint64]int{}
	for k, ent := range t.m {
		bytes += ent.cost
		domains[domainOf(k)]++
	}
	if len(t.m) > c.cfg.MaxTemplatesPerExporter || bytes != t.bytes.Load() {
		return fmt.Errorf("%d templates in %d bytes (accounted %d)", len(t.m), bytes, t.bytes.Load())
	}
	for d, n := range domains {
		if n > c.cfg.MaxTemplatesPerDomain || t.domains[d] != n {
			return fmt.Errorf("domain %x: %d templates (accounted %d)", d, n, t.domains[d])
		}
	}
	if len(domains) != len(t.domains) {
		return fmt.Errorf("%d domains accounted, %d held", len(t.domains), len(domains))
	}
	return nil
}

// FuzzTemplateBudget runs sequences of template definitions, uses,
// withdrawals, exporter arrivals, rankings and expiries: the budgets
// and their accounting hold after each step.
func FuzzTemplateBudget(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 4, 1, 2, 3, 1, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{0xfc, 1, 1, 1, 0xfc, 1, 1, 2, 0xfc, 1, 1, 3, 0xfc, 1, 1, 4, 0xfc, 1, 1, 5, 0xfc, 1, 1, 6})
	f.Add([]byte{3, 7, 200, 0, 3, 6, 200, 0, 5, 0, 0, 0, 6, 0, 0, 0, 0, 9, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		c := budgetComponent(t)
		d := newDecoder(c)
		now := time.Unix(1700000000, 0)
		for i := 0; i+4 <= len(ops); i += 4 {
			now = fuzzStep(c, d, ops[i:i+4], now)
			if err := checkBudgets(c); err != nil {
				t.Fatalf("after step %d (% x): %v", i/4, ops[i:i+4], err)
			}
		}
	})
}

// fuzzStep applies one 4-byte step: kind and field count, exporter,
// domain or seconds to advance, template id.
func fuzzStep(c *Component, d *decoder, op []byte, now time.Time) time.Time {
	from := netip.AddrPortFrom(fuzzExporter(op[1]), 2055)
	domain, id := uint32(op[2]%3), 256+uint16(op[3]%16)
	switch op[0] % 8 {
	case 0, 1: // a template of up to 64 fields
		d.handle(kindNetFlow, templateDatagram(domain, id, 1+int(op[0]>>3)%64), from, now)
	case 2: // data for it
		d.handle(kindNetFlow, dataDatagram(domain, id, 1+int(op[0]>>3)%64), from, now)
	case 3: // time passes
		now = now.Add(time.Duration(op[2]) * time.Second)
	case 4: // an IPFIX withdrawal
		d.handle(kindNetFlow, ipfixWithdrawal(domain, id), from, now)
	case 5:
		c.labels.rank(c.exporters.all())
	case 6:
		c.exporters.expire(now)
	case 7:
		c.exporters.forget(from.Addr())
	}
	return now
}

// fuzzExporter maps a byte to one of 16 addresses, half of them allowed.
func fuzzExporter(b byte) netip.Addr {
	if b&1 == 0 {
		return netip.AddrFrom4([4]byte{192, 0, 2, b >> 1 % 16})
	}
	a := netip.MustParseAddr("2001:db8::").As16()
	a[15] = b >> 1 % 16
	return netip.AddrFrom16(a)
}

func ipfixWithdrawal(domain uint32, id uint16) []byte {
	b := append(u16(10), u16(16+8)...)
	b = append(b, u32(1700000000)...)
	b = append(b, u32(1)...)
	b = append(b, u32(domain)...)
	b = append(b, u16(2)...)
	b = append(b, u16(8)...)
	b = append(b, u16(id)...)
	return append(b, u16(0)...)
}

// FuzzJournalReplay restores arbitrary files: nothing panics and what
// is restored is within the budgets.
func FuzzJournalReplay(f *testing.F) {
	f.Add([]byte(journalFormat + "\n" + `{"op":"template","exporter":"192.0.2.1","version":9,"id":256,"kind":"data","fields":[[1,4],[2,4,9]]}` + "\n"))
	f.Add([]byte(journalFormat + "\n" + `{"op":"sampling","exporter":"192.0.2.2","version":9,"rate":10}` + "\n" + `{"op":"forget","exporter":"192.0.2.2"}`))
	f.Add([]byte(journalFormat + "\n" + `{"op":"template","exporter":"2001:db8::1","version":10,"id":300,"kind":"ipfix_options","scopes":[[1,4]],"fields":[[34,4]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := budgetComponent(t)
		if err := os.WriteFile(c.cfg.TemplatesFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c.restore()
		if err := checkBudgets(c); err != nil {
			t.Fatal(err)
		}
	})
}
