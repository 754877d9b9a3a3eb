package flowcollector

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// maxRecordLength bounds the fixed part of one record a template may
// declare, in bytes: nothing real comes close.
const maxRecordLength = 8192

var (
	errTemplateEmpty    = errors.New("template has no field or only zero-length fields")
	errTemplateTooLarge = errors.New("template declares too many fields or too long a record")
)

// templateKey packs version, observation domain and template id.
func templateKey(version uint16, domain uint32, id uint16) uint64 {
	return uint64(version)<<48 | uint64(domain)<<16 | uint64(id)
}

// domainOf is the (version, domain) part of a template key.
func domainOf(key uint64) uint64 { return key >> 16 }

// templateEntry is a stored template and when it was last used, on the
// exporter's own clock, for least-recently-used eviction.
type templateEntry struct {
	tpl  any
	cost int64
	used atomic.Uint64
}

// exporterTemplates is one exporter's templates; it implements goflow2's
// NetFlowTemplateSystem so that the decoder finds and stores templates
// per exporter, within the budgets. It is safe for concurrent use: a
// template learnt by one worker is visible to every other worker at once.
type exporterTemplates struct {
	e      *exporter
	budget *templateBudget
	clock  atomic.Uint64
	bytes  atomic.Int64 // sum of the entries' costs

	mu      sync.RWMutex
	m       map[uint64]*templateEntry
	domains map[uint64]int // templates per (version, domain)
	gone    bool           // the exporter was evicted: keep nothing more
	// added is set when a new or changed template arrives, so that the
	// worker can retry sets that were waiting for it.
	added bool
}

var _ netflow.NetFlowTemplateSystem = (*exporterTemplates)(nil)

func newExporterTemplates(e *exporter, b *templateBudget) *exporterTemplates {
	return &exporterTemplates{e: e, budget: b, m: map[uint64]*templateEntry{}, domains: map[uint64]int{}}
}

// templateFields returns the field lists of a template, nil for another
// type.
func templateFields(template any) [][]netflow.Field {
	switch tpl := template.(type) {
	case netflow.TemplateRecord:
		return [][]netflow.Field{tpl.Fields}
	case netflow.NFv9OptionsTemplateRecord:
		return [][]netflow.Field{tpl.Scopes, tpl.Options}
	case netflow.IPFIXOptionsTemplateRecord:
		return [][]netflow.Field{tpl.Scopes, tpl.Options}
	}
	return nil
}

// templateKind names a template's type in the journal.
func templateKind(template any) string {
	switch template.(type) {
	case netflow.TemplateRecord:
		return "data"
	case netflow.NFv9OptionsTemplateRecord:
		return "v9_options"
	case netflow.IPFIXOptionsTemplateRecord:
		return "ipfix_options"
	}
	return ""
}

// checkTemplate refuses templates that would make the decoder loop on
// zero-length records or hold absurd amounts of memory, and returns the
// refusal reason (the label of templates_refused_total).
func checkTemplate(maxFields int, fieldSets [][]netflow.Field) (string, error) {
	n, fixed, variable := 0, 0, false
	for _, fs := range fieldSets {
		n += len(fs)
		for _, f := range fs {
			if f.Length == 0xffff {
				variable = true
				continue
			}
			fixed += int(f.Length)
		}
	}
	switch {
	case n > maxFields:
		return "fields", fmt.Errorf("%d fields, at most %d: %w", n, maxFields, errTemplateTooLarge)
	case fixed > maxRecordLength:
		return "record_length", fmt.Errorf("%d-byte records, at most %d: %w", fixed, maxRecordLength, errTemplateTooLarge)
	case fixed == 0 && !variable:
		return "empty", errTemplateEmpty
	}
	return "", nil
}

// AddTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) AddTemplate(version uint16, domain uint32, id uint16, template any) error {
	if id < 256 {
		return nil // not a valid template id: set padding read as a record
	}
	if tpl, ok := template.(netflow.TemplateRecord); ok && version == 10 && len(tpl.Fields) == 0 {
		// IPFIX template withdrawal (RFC 7011 8.1).
		_, _ = t.RemoveTemplate(version, domain, id)
		return nil
	}
	fields := templateFields(template)
	if fields == nil {
		return fmt.Errorf("template of type %T", template)
	}
	if reason, err := checkTemplate(t.budget.maxFields, fields); err != nil {
		t.budget.refused(reason)
		return err
	}
	t.store(templateKey(version, domain, id), template, templateCost(countFields(fields)))
	return nil
}

func countFields(fieldSets [][]netflow.Field) int {
	n := 0
	for _, fs := range fieldSets {
		n += len(fs)
	}
	return n
}

// store keeps a checked template, making room within the exporter's and
// the domain's counts, then within the bytes of all exporters.
func (t *exporterTemplates) store(key uint64, template any, cost int64) {
	t.mu.Lock()
	if t.gone {
		t.mu.Unlock()
		return
	}
	if old := t.m[key]; old != nil {
		old.used.Store(t.clock.Add(1))
		if sameTemplate(old.tpl, template) {
			t.mu.Unlock()
			return
		}
		t.removeLocked(key, old)
	}
	var evicted []uint64
	for t.domains[domainOf(key)] >= t.budget.perDomain {
		evicted = append(evicted, t.evictLocked(domainOf(key), true, "domain"))
	}
	for len(t.m) >= t.budget.perExporter {
		evicted = append(evicted, t.evictLocked(0, false, "exporter"))
	}
	ent := &templateEntry{tpl: template, cost: cost}
	ent.used.Store(t.clock.Add(1))
	t.m[key] = ent
	t.domains[domainOf(key)]++
	t.bytes.Add(cost)
	t.added = true
	t.mu.Unlock()
	t.budget.journal.withdrawn(t.e.addr, evicted)
	t.budget.journal.template(t.e.addr, key, template)
	t.budget.grow(cost)
}

// removeLocked forgets one template; t.mu is held.
func (t *exporterTemplates) removeLocked(key uint64, ent *templateEntry) {
	delete(t.m, key)
	d := domainOf(key)
	if t.domains[d]--; t.domains[d] <= 0 {
		delete(t.domains, d)
	}
	t.bytes.Add(-ent.cost)
	t.budget.shrink(ent.cost)
}

// evictLocked removes the least recently used template, of one domain
// when inDomain, and returns its key; t.mu is held and t.m is not empty.
// A scan, bounded by max_templates_per_exporter: evictions only happen
// at a limit, and cost no more than decoding the template that caused
// them.
func (t *exporterTemplates) evictLocked(domain uint64, inDomain bool, reason string) uint64 {
	var victim uint64
	var oldest *templateEntry
	for k, ent := range t.m {
		if inDomain && domainOf(k) != domain {
			continue
		}
		if oldest == nil || ent.used.Load() < oldest.used.Load() {
			victim, oldest = k, ent
		}
	}
	t.removeLocked(victim, oldest)
	t.budget.evicted(reason)
	return victim
}

// evictOldest removes the least recently used template to free bytes
// for all exporters; false when there was none.
func (t *exporterTemplates) evictOldest() bool {
	t.mu.Lock()
	if len(t.m) == 0 {
		t.mu.Unlock()
		return false
	}
	key := t.evictLocked(0, false, "bytes")
	t.mu.Unlock()
	t.budget.journal.withdrawn(t.e.addr, []uint64{key})
	return true
}

// release forgets every template of an evicted exporter and returns how
// many there were; templates that arrive afterwards for it (a worker
// still holding it) are not kept.
func (t *exporterTemplates) release() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gone = true
	n := len(t.m)
	for k, ent := range t.m {
		t.removeLocked(k, ent)
	}
	return n
}

// GetTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	t.mu.RLock()
	ent, ok := t.m[templateKey(version, domain, id)]
	t.mu.RUnlock()
	if !ok {
		return nil, netflow.ErrorTemplateNotFound
	}
	ent.used.Store(t.clock.Add(1))
	return ent.tpl, nil
}

// RemoveTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) RemoveTemplate(version uint16, domain uint32, id uint16) (any, error) {
	key := templateKey(version, domain, id)
	t.mu.Lock()
	ent, ok := t.m[key]
	if ok {
		t.removeLocked(key, ent)
	}
	t.mu.Unlock()
	if !ok {
		return nil, netflow.ErrorTemplateNotFound
	}
	t.budget.journal.withdrawn(t.e.addr, []uint64{key})
	return ent.tpl, nil
}

// GetTemplates implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) GetTemplates() netflow.FlowBaseTemplateSet {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(netflow.FlowBaseTemplateSet, len(t.m))
	for k, ent := range t.m {
		out[k] = ent.tpl
	}
	return out
}

// takeAdded reports (and clears) whether a template arrived since the
// last call.
func (t *exporterTemplates) takeAdded() bool {
	t.mu.Lock()
	a := t.added
	t.added = false
	t.mu.Unlock()
	return a
}

func sameTemplate(a, b any) bool {
	fa, fb := templateFields(a), templateFields(b)
	if fa == nil || templateKind(a) != templateKind(b) {
		return false
	}
	for i := range fa {
		if !sameFields(fa[i], fb[i]) {
			return false
		}
	}
	return true
}

func sameFields(a, b []netflow.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
