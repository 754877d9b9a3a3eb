package flowcollector

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// exporter is what the collector knows of one exporting device: its
// templates, the sampling rates it announced, its sequence numbers and
// its metrics. Workers share it.
type exporter struct {
	c         *Component
	addr      netip.Addr
	ip        []byte     // 16-byte form: the record's exporter_ip and the Kafka key; never modified
	override  uint64     // configured sampling rate, 0: none
	decap     decapKinds // tunnels its packet sections are looked through
	templates *exporterTemplates
	m         atomic.Pointer[exporterMetrics]
	named     bool          // has its own metric label; guarded by the exporterLabels' mutex
	lastSeen  atomic.Int64  // Unix ns of the latest datagram
	recent    atomic.Uint64 // datagrams since the last label ranking
	// unreported is the sequence loss found and not yet carried by a
	// record (sequence_lost): a datagram may reveal a loss and yield no
	// record.
	unreported atomic.Uint64

	mu        sync.Mutex
	seq       map[seqKey]*seqStream  // sequence state per protocol and domain
	sampling  map[samplingKey]uint64 // learnt from options data and v5 headers
	sysInit   map[uint32]uint64      // IPFIX systemInitTimeMilliseconds per domain
	skew      int64                  // receive minus export time, smoothed (ns); see clock.go
	skewKnown bool
	pending   []pendingSet
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

// Protocol label values, indexed by record.FlowType.
var protocolNames = [...]string{
	record.FlowType_FLOW_TYPE_UNSPECIFIED: "unknown",
	record.FlowType_FLOW_TYPE_NETFLOW_V5:  "netflow_v5",
	record.FlowType_FLOW_TYPE_NETFLOW_V9:  "netflow_v9",
	record.FlowType_FLOW_TYPE_IPFIX:       "ipfix",
	record.FlowType_FLOW_TYPE_SFLOW_V5:    "sflow_v5",
}

func (c *Component) newExporter(addr netip.Addr) *exporter {
	e := &exporter{
		c:        c,
		addr:     addr,
		ip:       record.IPBytes(addr),
		override: c.sampling.lookup(addr),
		decap:    c.decap.lookup(addr),
		seq:      map[seqKey]*seqStream{},
		sampling: map[samplingKey]uint64{},
		sysInit:  map[uint32]uint64{},
	}
	e.templates = newExporterTemplates(e, c.budget)
	c.labels.attach(e)
	return e
}

// metrics returns the exporter's series: its own, or "other".
func (e *exporter) metrics() *exporterMetrics { return e.m.Load() }

// touch records a datagram from the exporter at now.
func (e *exporter) touch(now time.Time) {
	e.lastSeen.Store(now.UnixNano())
	e.recent.Add(1)
}

func (e *exporter) seen() time.Time { return time.Unix(0, e.lastSeen.Load()) }

// gone reports whether the exporter left the registry.
func (e *exporter) gone() bool {
	e.templates.mu.RLock()
	defer e.templates.mu.RUnlock()
	return e.templates.gone
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
	if old != ms {
		e.c.journal.sysInit(e.addr, domain, ms)
	}
}

// learnSampling records a rate announced by the exporter; a rate above
// max_sampling_rate is refused and counted.
func (e *exporter) learnSampling(k samplingKey, rate uint64) {
	if rate == 0 || !e.c.checkRate(e, rate, reasonAnnouncedRate) {
		return
	}
	e.mu.Lock()
	old, seen := e.sampling[k]
	if !seen && len(e.sampling) >= maxDomainState {
		clear(e.sampling)
	}
	e.sampling[k] = rate
	e.mu.Unlock()
	if old != rate {
		e.c.journal.sampling(e.addr, k, rate)
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
