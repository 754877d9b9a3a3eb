package flowcollector

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// templateOverhead estimates what a stored template costs besides its
// fields: the entry, its map slot, the record header and slice headers.
const templateOverhead = 160

// templateCost estimates the memory a template of n fields holds.
func templateCost(n int) int64 {
	return templateOverhead + int64(n)*int64(unsafe.Sizeof(netflow.Field{}))
}

// templateBudget holds the limits every exporter's templates share and
// the bytes all of them hold. When the bytes are exhausted, the exporter
// holding the most gives up its least recently used templates: a flood
// from one exporter evicts its own templates, not its neighbours'.
type templateBudget struct {
	perExporter int
	perDomain   int
	maxFields   int
	maxBytes    int64

	bytes   atomic.Int64
	n       atomic.Int64 // templates
	journal *journal
	// largest finds the exporter holding the most template bytes.
	largest func() *exporter

	reclaiming sync.Mutex
	m          *metrics
}

func newTemplateBudget(cfg Configuration, j *journal, m *metrics) *templateBudget {
	return &templateBudget{
		perExporter: cfg.MaxTemplatesPerExporter,
		perDomain:   cfg.MaxTemplatesPerDomain,
		maxFields:   cfg.MaxTemplateFields,
		maxBytes:    cfg.MaxTemplateBytes,
		journal:     j,
		m:           m,
		largest:     func() *exporter { return nil },
	}
}

// grow accounts a stored template and, over the budget, reclaims down to
// 15/16 of it, so that a flood pays for one search of the largest
// exporter every few dozen templates rather than for each.
func (b *templateBudget) grow(cost int64) {
	b.m.templateBytes.Set(float64(b.bytes.Add(cost)))
	b.m.templates.Set(float64(b.n.Add(1)))
	if b.bytes.Load() <= b.maxBytes {
		return
	}
	b.reclaiming.Lock()
	defer b.reclaiming.Unlock()
	target := b.maxBytes - b.maxBytes/16
	// An exporter being released concurrently may have nothing left to
	// evict: a few misses are retried, an empty registry ends it.
	for misses := 0; b.bytes.Load() > target && misses < 8; {
		e := b.largest()
		if e == nil {
			return
		}
		if !e.templates.evictOldest() {
			misses++
		}
	}
}

// shrink accounts a template removed.
func (b *templateBudget) shrink(cost int64) {
	b.m.templateBytes.Set(float64(b.bytes.Add(-cost)))
	b.m.templates.Set(float64(b.n.Add(-1)))
}

// count is the number of templates of all exporters.
func (b *templateBudget) count() int64 { return b.n.Load() }

func (b *templateBudget) refused(reason string) {
	b.m.templatesRefused.WithLabelValues(reason).Inc()
}

func (b *templateBudget) evicted(reason string) {
	b.m.templatesEvicted.WithLabelValues(reason).Inc()
}

// budgetMetrics are the template budget's series.
func budgetMetrics(f *telemetry.Metrics) (refused, evicted *prometheus.CounterVec, templates, bytes prometheus.Gauge) {
	refused = f.CounterVec("templates_refused_total", "Templates refused, by reason (fields, record_length, empty).", "reason")
	evicted = f.CounterVec("templates_evicted_total", "Templates evicted to make room, least recently used first, by budget (domain, exporter, bytes).", "reason")
	templates = f.Gauge("templates", "Templates held for all exporters.")
	bytes = f.Gauge("template_bytes", "Estimated memory held by the templates of all exporters (bounded by max_template_bytes).")
	return
}
