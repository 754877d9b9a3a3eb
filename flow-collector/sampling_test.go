package flowcollector

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
)

// TestForgedSamplingRatesAreRefused sends, next to good records, a
// record carrying a rate above max_sampling_rate, one whose bytes ×
// rate would wrap, an options announcement of such a rate and an sFlow
// sample with one: each is refused and counted by reason, the good
// records are published with their rate.
func TestForgedSamplingRatesAreRefused(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	v9 := newV9Builder(7)
	v9.optionsTemplate(257, []field{{34, 4}})
	v9.template(256, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}, {34, 8}})
	v9.data(257, u32(math.MaxUint32))
	record := func(bytes, rate uint64) []byte {
		b := []byte{10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 1, 0xbb, 6}
		b = binary.BigEndian.AppendUint64(b, bytes)
		b = binary.BigEndian.AppendUint32(b, 3)
		return binary.BigEndian.AppendUint64(b, rate)
	}
	v9.data(256, record(1500, 100), record(1500, 1<<40), record(1<<62, 1000), record(1500, 0))
	decodeFrom(c, kindNetFlow, "192.0.2.1", time.Now(), v9.bytes())

	sf := loadCapture(t, "pmacct-sfprobe")
	var forged []byte
	for _, dg := range sf {
		if binary.BigEndian.Uint32(dg[28:]) == 1 { // a flow sample first
			forged = append([]byte(nil), dg...)
			binary.BigEndian.PutUint32(forged[44:], math.MaxUint32)
			break
		}
	}
	if forged == nil {
		t.Fatal("no sFlow datagram starting with a flow sample")
	}
	decodeFrom(c, kindSFlow, "127.0.0.1", time.Now(), forged)

	for reason, want := range map[string]float64{reasonSamplingRate: 2, reasonCounterOverflow: 1, reasonAnnouncedRate: 1} {
		if n := metricSum(t, c.r, "netstrata_flow_records_refused_total", "reason", reason); n < want {
			t.Errorf("%s: %v refused, want %v", reason, n, want)
		}
	}
	var rates []uint64
	for _, f := range published(pub) {
		if f.SamplingRate > DefaultConfiguration().MaxSamplingRate || mulSat(f.Bytes, f.SamplingRate) > maxScaled {
			t.Errorf("published a flow of %d bytes at 1:%d", f.Bytes, f.SamplingRate)
		}
		if f.Type != 4 { // not sFlow
			rates = append(rates, f.SamplingRate)
		}
	}
	if len(rates) != 2 || rates[0] != 100 || rates[1] != 1 {
		t.Errorf("good records published at rates %v, want [100 1] (the announced rate refused)", rates)
	}
}

// TestSaturatingArithmeticDoesNotWrap checks the helpers at the edges.
func TestSaturatingArithmeticDoesNotWrap(t *testing.T) {
	for _, tc := range []struct{ a, b, mul, add uint64 }{
		{0, 0, 0, 0},
		{3, 7, 21, 10},
		{1 << 32, 1 << 32, math.MaxUint64, 1 << 33},
		{math.MaxUint64, 2, math.MaxUint64, math.MaxUint64},
		{math.MaxUint64, 1, math.MaxUint64, math.MaxUint64},
		{1 << 63, 1, 1 << 63, 1<<63 + 1},
	} {
		if got := mulSat(tc.a, tc.b); got != tc.mul {
			t.Errorf("mulSat(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.mul)
		}
		if got := addSat(tc.a, tc.b); got != tc.add {
			t.Errorf("addSat(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.add)
		}
	}
}

// TestBudgetConfigurationErrorsNameTheField checks the validation of
// the new keys.
func TestBudgetConfigurationErrorsNameTheField(t *testing.T) {
	for field, mutate := range map[string]func(*Configuration){
		"flow_collector.max_template_fields":        func(c *Configuration) { c.MaxTemplateFields = 0 },
		"flow_collector.max_template_bytes":         func(c *Configuration) { c.MaxTemplateBytes = 100 },
		"flow_collector.max_templates_per_domain":   func(c *Configuration) { c.MaxTemplatesPerDomain = 0 },
		"flow_collector.exporter_networks[1]":       func(c *Configuration) { c.ExporterNetworks = []string{"10.0.0.0/8", "nowhere"} },
		"flow_collector.exporter_idle_timeout":      func(c *Configuration) { c.ExporterIdleTimeout = 0 },
		"flow_collector.exporter_eviction_min_idle": func(c *Configuration) { c.ExporterEvictionMinIdle = -time.Second },
		"flow_collector.metrics_max_exporters":      func(c *Configuration) { c.MetricsMaxExporters = 0 },
		"flow_collector.max_sampling_rate":          func(c *Configuration) { c.MaxSamplingRate = 0 },
		"flow_collector.default_sampling_rate":      func(c *Configuration) { c.DefaultSamplingRate = 1 << 30 },
		"flow_collector.sampling_rates[0].rate": func(c *Configuration) {
			c.SamplingRates = []SamplingOverride{{Exporter: "192.0.2.1", Rate: 1 << 30}}
		},
	} {
		cfg := DefaultConfiguration()
		mutate(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: error %v", field, err)
		}
	}
}
