package flowcollector

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// otherExporters is the exporter label shared by the exporters beyond
// the busiest MetricsMaxExporters.
const otherExporters = "other"

// exporterMetrics are the series of one exporter, or of "other".
type exporterMetrics struct {
	datagrams       *prometheus.CounterVec // by protocol, curried by exporter
	flows           *prometheus.CounterVec
	errors          *prometheus.CounterVec // by kind
	unknownTemplate prometheus.Counter
	sequenceLost    prometheus.Counter
	nonRFCNumbering prometheus.Gauge
	samplingRate    prometheus.Gauge
	clockSkew       prometheus.Gauge
	recordsDropped  *prometheus.CounterVec // by reason
	fieldsZeroed    *prometheus.CounterVec // by field
	biflowReverse   prometheus.Counter
}

// exporterLabels bounds the exporter label of the per-exporter metrics:
// the busiest exporters have their own, the others share "other", so
// that forged sources cannot grow /metrics without bound. New exporters
// get their own label while there is room; rank() hands the labels to
// the busiest every rankInterval.
type exporterLabels struct {
	m     *metrics
	max   int
	other *exporterMetrics

	mu    sync.Mutex
	named int
}

func newExporterLabels(m *metrics, max int) *exporterLabels {
	l := &exporterLabels{m: m, max: max}
	l.other = l.curry(otherExporters)
	return l
}

func (l *exporterLabels) curry(label string) *exporterMetrics {
	ls := prometheus.Labels{"exporter": label}
	return &exporterMetrics{
		datagrams:       l.m.datagrams.MustCurryWith(ls),
		flows:           l.m.flows.MustCurryWith(ls),
		errors:          l.m.decodeErrors.MustCurryWith(ls),
		unknownTemplate: l.m.unknownTemplate.WithLabelValues(label),
		sequenceLost:    l.m.sequenceLost.WithLabelValues(label),
		nonRFCNumbering: l.m.nonRFCNumbering.WithLabelValues(label),
		samplingRate:    l.m.samplingRate.WithLabelValues(label),
		clockSkew:       l.m.clockSkew.WithLabelValues(label),
		recordsDropped:  l.m.recordsDropped.MustCurryWith(ls),
		fieldsZeroed:    l.m.fieldsZeroed.MustCurryWith(ls),
		biflowReverse:   l.m.biflowReverse.WithLabelValues(label),
	}
}

func (l *exporterLabels) deleteSeries(label string) {
	ls := prometheus.Labels{"exporter": label}
	l.m.datagrams.DeletePartialMatch(ls)
	l.m.flows.DeletePartialMatch(ls)
	l.m.decodeErrors.DeletePartialMatch(ls)
	l.m.unknownTemplate.DeletePartialMatch(ls)
	l.m.sequenceLost.DeletePartialMatch(ls)
	l.m.nonRFCNumbering.DeletePartialMatch(ls)
	l.m.samplingRate.DeletePartialMatch(ls)
	l.m.clockSkew.DeletePartialMatch(ls)
	l.m.recordsDropped.DeletePartialMatch(ls)
	l.m.fieldsZeroed.DeletePartialMatch(ls)
	l.m.biflowReverse.DeletePartialMatch(ls)
}

// attach gives a new exporter its own label if there is room.
func (l *exporterLabels) attach(e *exporter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setLocked(e, l.named < l.max)
}

// setLocked names an exporter or folds it into "other"; l.mu is held.
func (l *exporterLabels) setLocked(e *exporter, named bool) {
	switch {
	case named && !e.named:
		l.named++
		e.named = true
		e.m.Store(l.curry(e.addr.String()))
	case !named && e.named:
		l.named--
		e.named = false
		e.m.Store(l.other)
		l.deleteSeries(e.addr.String())
	case !named:
		e.m.Store(l.other)
	}
}

// release removes the series of an exporter leaving the registry.
func (l *exporterLabels) release(e *exporter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setLocked(e, false)
}

// rank hands the labels to the exporters that sent the most datagrams
// since the last ranking; on a tie the exporter that has one keeps it.
func (l *exporterLabels) rank(all []*exporter) {
	type ranked struct {
		e      *exporter
		recent uint64
	}
	rs := make([]ranked, len(all))
	for i, e := range all {
		rs[i] = ranked{e, e.recent.Swap(0)}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].recent != rs[j].recent {
			return rs[i].recent > rs[j].recent
		}
		return rs[i].e.named && !rs[j].e.named
	})
	// Demote first, so that the promoted fit within max.
	for i := len(rs) - 1; i >= l.max; i-- {
		l.setLocked(rs[i].e, false)
	}
	for i := 0; i < len(rs) && i < l.max; i++ {
		if !rs[i].e.gone() {
			l.setLocked(rs[i].e, true)
		}
	}
}
