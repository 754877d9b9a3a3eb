package flowcollector

import (
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/record"
)

// exporter is what the collector knows of one exporting device: its
// templates, the sampling rates it announced, its sequence numbers and
// its metrics. Workers share it.
type exporter struct {
	addr      netip.Addr
	ip        []byte // 16-byte form: the record's exporter_ip and the Kafka key; never modified
	override  uint64 // configured sampling rate, 0: none
	templates *exporterTemplates
	m         exporterMetrics

	mu       sync.Mutex
	seq      map[seqKey]uint32      // next expected sequence number
	sampling map[samplingKey]uint64 // learnt from options data and v5 headers
	sysInit  map[uint32]uint64      // IPFIX systemInitTimeMilliseconds per domain
	pending  []pendingSet
}

// maxDomainState bounds the per-domain state one exporter can create.
const maxDomainState = 4096

type seqKey struct {
	version uint16 // 5, 9, 10, or sflowVersion
	domain  uint32
}

// samplingKey names a learnt rate; sampler 0 is the exporter's (or the
// domain's) default, others are sampler/selector ids referenced by data.
type samplingKey struct {
	version uint16
	domain  uint32
	sampler uint64
}

type exporterMetrics struct {
	datagrams       *prometheus.CounterVec // by protocol, curried by exporter
	flows           *prometheus.CounterVec
	errors          *prometheus.CounterVec // by kind
	unknownTemplate prometheus.Counter
	sequenceLost    prometheus.Counter
	samplingRate    prometheus.Gauge
}

// Protocol label values, indexed by record.FlowType.
var protocolNames = [...]string{
	record.FlowType_FLOW_TYPE_UNSPECIFIED: "unknown",
	record.FlowType_FLOW_TYPE_NETFLOW_V5:  "netflow_v5",
	record.FlowType_FLOW_TYPE_NETFLOW_V9:  "netflow_v9",
	record.FlowType_FLOW_TYPE_IPFIX:       "ipfix",
	record.FlowType_FLOW_TYPE_SFLOW_V5:    "sflow_v5",
}

// exporters is the registry of exporters, bounded by MaxExporters.
type exporters struct {
	c     *Component
	mu    sync.RWMutex
	m     map[netip.Addr]*exporter
	limit int
}

func newExporters(c *Component, limit int) *exporters {
	return &exporters{c: c, m: map[netip.Addr]*exporter{}, limit: limit}
}

// get returns the exporter at addr, creating it; nil when the registry is
// full.
func (r *exporters) get(addr netip.Addr) *exporter {
	r.mu.RLock()
	e := r.m[addr]
	r.mu.RUnlock()
	if e != nil {
		return e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e = r.m[addr]; e != nil {
		return e
	}
	if len(r.m) >= r.limit {
		return nil
	}
	e = r.c.newExporter(addr)
	r.m[addr] = e
	return e
}

func (r *exporters) all() []*exporter {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*exporter, 0, len(r.m))
	for _, e := range r.m {
		out = append(out, e)
	}
	return out
}

func (c *Component) newExporter(addr netip.Addr) *exporter {
	label := addr.String()
	e := &exporter{
		addr:      addr,
		ip:        record.IPBytes(addr),
		override:  c.sampling.override(addr),
		templates: &exporterTemplates{store: c.store, m: map[uint64]any{}},
		seq:       map[seqKey]uint32{},
		sampling:  map[samplingKey]uint64{},
		sysInit:   map[uint32]uint64{},
	}
	e.m = exporterMetrics{
		datagrams:       c.metrics.datagrams.MustCurryWith(prometheus.Labels{"exporter": label}),
		flows:           c.metrics.flows.MustCurryWith(prometheus.Labels{"exporter": label}),
		errors:          c.metrics.decodeErrors.MustCurryWith(prometheus.Labels{"exporter": label}),
		unknownTemplate: c.metrics.unknownTemplate.WithLabelValues(label),
		sequenceLost:    c.metrics.sequenceLost.WithLabelValues(label),
		samplingRate:    c.metrics.samplingRate.WithLabelValues(label),
	}
	return e
}

// checkSequence tracks export sequence numbers and counts what was lost.
// next is the sequence number the following datagram should carry.
// Reordered or restarted streams reset the expectation without counting.
func (e *exporter) checkSequence(k seqKey, seq, next uint32) {
	e.mu.Lock()
	want, seen := e.seq[k]
	if !seen && len(e.seq) >= maxDomainState {
		clear(e.seq) // hostile or broken exporter cycling through domains
	}
	e.seq[k] = next
	e.mu.Unlock()
	if !seen || seq == want {
		return
	}
	if gap := seq - want; gap < 1<<20 {
		e.m.sequenceLost.Add(float64(gap))
	}
}

// forgetSequence drops the expectation when a datagram's successor
// cannot be predicted.
func (e *exporter) forgetSequence(k seqKey) {
	e.mu.Lock()
	delete(e.seq, k)
	e.mu.Unlock()
}

// learnSysInit records an IPFIX domain's systemInitTimeMilliseconds.
func (e *exporter) learnSysInit(domain uint32, ms uint64) {
	e.mu.Lock()
	old, seen := e.sysInit[domain]
	if !seen && len(e.sysInit) >= maxDomainState {
		clear(e.sysInit)
	}
	e.sysInit[domain] = ms
	e.mu.Unlock()
	if old != ms && e.templates.store != nil {
		e.templates.store.changed()
	}
}

// learnSampling records a rate announced by the exporter.
func (e *exporter) learnSampling(k samplingKey, rate uint64) {
	if rate == 0 {
		return
	}
	e.mu.Lock()
	old, seen := e.sampling[k]
	if !seen && len(e.sampling) >= maxDomainState {
		clear(e.sampling)
	}
	e.sampling[k] = rate
	e.mu.Unlock()
	if old != rate && e.templates.store != nil {
		e.templates.store.changed()
	}
}

// samplingRate resolves the rate of a flow: the configured override wins,
// then a rate carried by the record itself, then the rate of the sampler
// the record names, then the domain's and the exporter's announced rate,
// then the configured default.
func (e *exporter) samplingRate(version uint16, domain uint32, inRecord, sampler uint64, def uint64) uint64 {
	if e.override != 0 {
		return e.override
	}
	if inRecord != 0 {
		return inRecord
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sampling) == 0 {
		return def
	}
	if sampler != 0 {
		if r := e.sampling[samplingKey{version, domain, sampler}]; r != 0 {
			return r
		}
	}
	if r := e.sampling[samplingKey{version, domain, 0}]; r != 0 {
		return r
	}
	return def
}

// pendingSet is a data set that arrived before its template.
type pendingSet struct {
	version  uint16
	domain   uint32
	id       uint16
	set      []byte // the set, header included (a copy)
	hdr      packetHeader
	received time.Time
}
