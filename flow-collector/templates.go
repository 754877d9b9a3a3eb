package flowcollector

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// Limits on what one template may declare. A template is remembered and
// persisted, so a hostile one must not be able to cost much.
const (
	maxTemplateFields = 512  // no real exporter comes close
	maxRecordLength   = 8192 // fixed part of one record, bytes
)

var (
	errTemplateEmpty    = errors.New("template has no field or only zero-length fields")
	errTemplateTooLarge = errors.New("template declares too many fields or too long a record")
	errTemplateLimit    = errors.New("too many templates for this exporter")
)

// templateKey packs version, observation domain and template id.
func templateKey(version uint16, domain uint32, id uint16) uint64 {
	return uint64(version)<<48 | uint64(domain)<<16 | uint64(id)
}

// exporterTemplates is one exporter's templates; it implements goflow2's
// NetFlowTemplateSystem so that the decoder finds and stores templates
// per exporter. It is safe for concurrent use: a template learnt by one
// worker is visible to every other worker at once.
type exporterTemplates struct {
	store *templateStore
	mu    sync.RWMutex
	m     map[uint64]any
	// added is set when a new or changed template arrives, so that the
	// worker can retry sets that were waiting for it.
	added bool
}

var _ netflow.NetFlowTemplateSystem = (*exporterTemplates)(nil)

// checkTemplate rejects templates that would make the decoder loop on
// zero-length records or hold absurd amounts of memory.
func checkTemplate(fieldSets ...[]netflow.Field) error {
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
	if n > maxTemplateFields || fixed > maxRecordLength {
		return errTemplateTooLarge
	}
	if fixed == 0 && !variable {
		return errTemplateEmpty
	}
	return nil
}

// AddTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) AddTemplate(version uint16, domain uint32, id uint16, template any) error {
	if id < 256 {
		return nil // not a valid template id: set padding read as a record
	}
	switch tpl := template.(type) {
	case netflow.TemplateRecord:
		if version == 10 && len(tpl.Fields) == 0 {
			// IPFIX template withdrawal (RFC 7011 8.1).
			_, _ = t.RemoveTemplate(version, domain, id)
			return nil
		}
		if err := checkTemplate(tpl.Fields); err != nil {
			return err
		}
	case netflow.NFv9OptionsTemplateRecord:
		if err := checkTemplate(tpl.Scopes, tpl.Options); err != nil {
			return err
		}
	case netflow.IPFIXOptionsTemplateRecord:
		if err := checkTemplate(tpl.Scopes, tpl.Options); err != nil {
			return err
		}
	default:
		return fmt.Errorf("template of type %T", template)
	}
	key := templateKey(version, domain, id)
	t.mu.Lock()
	old, seen := t.m[key]
	if !seen && len(t.m) >= t.store.maxPerExporter {
		t.mu.Unlock()
		return errTemplateLimit
	}
	changed := !seen || !sameTemplate(old, template)
	if changed {
		t.m[key] = template
		t.added = true
	}
	t.mu.Unlock()
	if changed {
		t.store.changed()
	}
	return nil
}

// GetTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	t.mu.RLock()
	tpl, ok := t.m[templateKey(version, domain, id)]
	t.mu.RUnlock()
	if !ok {
		return nil, netflow.ErrorTemplateNotFound
	}
	return tpl, nil
}

// RemoveTemplate implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) RemoveTemplate(version uint16, domain uint32, id uint16) (any, error) {
	key := templateKey(version, domain, id)
	t.mu.Lock()
	tpl, ok := t.m[key]
	delete(t.m, key)
	t.mu.Unlock()
	if !ok {
		return nil, netflow.ErrorTemplateNotFound
	}
	if t.store != nil {
		t.store.changed()
	}
	return tpl, nil
}

// GetTemplates implements netflow.NetFlowTemplateSystem.
func (t *exporterTemplates) GetTemplates() netflow.FlowBaseTemplateSet {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(netflow.FlowBaseTemplateSet, len(t.m))
	for k, v := range t.m {
		out[k] = v
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
	switch x := a.(type) {
	case netflow.TemplateRecord:
		y, ok := b.(netflow.TemplateRecord)
		return ok && sameFields(x.Fields, y.Fields)
	case netflow.NFv9OptionsTemplateRecord:
		y, ok := b.(netflow.NFv9OptionsTemplateRecord)
		return ok && sameFields(x.Scopes, y.Scopes) && sameFields(x.Options, y.Options)
	case netflow.IPFIXOptionsTemplateRecord:
		y, ok := b.(netflow.IPFIXOptionsTemplateRecord)
		return ok && sameFields(x.Scopes, y.Scopes) && sameFields(x.Options, y.Options)
	}
	return false
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

// templateStore persists every exporter's templates (and the sampling
// rates and system init times learnt from options data) to one file,
// rewritten atomically shortly after each change.
type templateStore struct {
	path           string
	maxPerExporter int
	dirty          chan struct{}
}

func newTemplateStore(path string, maxPerExporter int) *templateStore {
	return &templateStore{path: path, maxPerExporter: maxPerExporter, dirty: make(chan struct{}, 1)}
}

// changed asks the persister to write; it never blocks.
func (s *templateStore) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// The file format: versioned JSON, readable by an operator.
type stateFile struct {
	Format    int             `json:"format"`
	Exporters []exporterState `json:"exporters"`
}

type exporterState struct {
	Exporter  string          `json:"exporter"`
	Templates []templateState `json:"templates"`
	Sampling  []samplingState `json:"sampling,omitempty"`
	SysInit   []sysInitState  `json:"system_init,omitempty"`
}

type templateState struct {
	Version uint16          `json:"version"`
	Domain  uint32          `json:"domain"`
	ID      uint16          `json:"id"`
	Kind    string          `json:"kind"` // data, v9_options, ipfix_options
	Fields  []netflow.Field `json:"fields,omitempty"`
	Scopes  []netflow.Field `json:"scopes,omitempty"`
}

type samplingState struct {
	Version uint16 `json:"version"`
	Domain  uint32 `json:"domain"`
	Sampler uint64 `json:"sampler"`
	Rate    uint64 `json:"rate"`
}

type sysInitState struct {
	Domain uint32 `json:"domain"`
	MS     uint64 `json:"ms"`
}

const stateFormat = 1

// snapshot builds the file content from the exporters.
func snapshot(exporters []*exporter) stateFile {
	f := stateFile{Format: stateFormat}
	for _, e := range exporters {
		es := exporterState{Exporter: e.addr.String()}
		e.templates.mu.RLock()
		for k, v := range e.templates.m {
			ts := templateState{Version: uint16(k >> 48), Domain: uint32(k >> 16), ID: uint16(k)}
			switch tpl := v.(type) {
			case netflow.TemplateRecord:
				ts.Kind, ts.Fields = "data", tpl.Fields
			case netflow.NFv9OptionsTemplateRecord:
				ts.Kind, ts.Scopes, ts.Fields = "v9_options", tpl.Scopes, tpl.Options
			case netflow.IPFIXOptionsTemplateRecord:
				ts.Kind, ts.Scopes, ts.Fields = "ipfix_options", tpl.Scopes, tpl.Options
			}
			es.Templates = append(es.Templates, ts)
		}
		e.templates.mu.RUnlock()
		e.mu.Lock()
		for k, r := range e.sampling {
			es.Sampling = append(es.Sampling, samplingState{Version: k.version, Domain: k.domain, Sampler: k.sampler, Rate: r})
		}
		for d, ms := range e.sysInit {
			es.SysInit = append(es.SysInit, sysInitState{Domain: d, MS: ms})
		}
		e.mu.Unlock()
		if len(es.Templates)+len(es.Sampling)+len(es.SysInit) == 0 {
			continue
		}
		sort.Slice(es.Templates, func(i, j int) bool {
			a, b := es.Templates[i], es.Templates[j]
			return templateKey(a.Version, a.Domain, a.ID) < templateKey(b.Version, b.Domain, b.ID)
		})
		f.Exporters = append(f.Exporters, es)
	}
	sort.Slice(f.Exporters, func(i, j int) bool { return f.Exporters[i].Exporter < f.Exporters[j].Exporter })
	return f
}

// save writes the file atomically (temporary file, fsync, rename).
func (s *templateStore) save(f stateFile) error {
	if s.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("encode templates: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return fmt.Errorf("templates dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".templates-*")
	if err != nil {
		return fmt.Errorf("templates file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("rename to %s: %w", s.path, err)
	}
	return nil
}

// load reads the file; a missing file is an empty state.
func (s *templateStore) load() (stateFile, error) {
	var f stateFile
	if s.path == "" {
		return f, nil
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read templates: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode templates %s: %w", s.path, err)
	}
	if f.Format != stateFormat {
		return stateFile{}, fmt.Errorf("templates %s: format %d, want %d", s.path, f.Format, stateFormat)
	}
	return f, nil
}

// restore puts one exporter's saved state back; bad entries are skipped
// (the exporter resends its templates anyway).
func (es exporterState) restore(e *exporter) (templates int) {
	for _, ts := range es.Templates {
		var tpl any
		switch ts.Kind {
		case "data":
			tpl = netflow.TemplateRecord{TemplateId: ts.ID, FieldCount: uint16(len(ts.Fields)), Fields: ts.Fields}
		case "v9_options":
			tpl = netflow.NFv9OptionsTemplateRecord{TemplateId: ts.ID, ScopeLength: uint16(4 * len(ts.Scopes)), OptionLength: uint16(4 * len(ts.Fields)), Scopes: ts.Scopes, Options: ts.Fields}
		case "ipfix_options":
			tpl = netflow.IPFIXOptionsTemplateRecord{TemplateId: ts.ID, FieldCount: uint16(len(ts.Scopes) + len(ts.Fields)), ScopeFieldCount: uint16(len(ts.Scopes)), Scopes: ts.Scopes, Options: ts.Fields}
		default:
			continue
		}
		if e.templates.AddTemplate(ts.Version, ts.Domain, ts.ID, tpl) == nil {
			templates++
		}
	}
	e.templates.takeAdded()
	e.mu.Lock()
	for _, s := range es.Sampling {
		if s.Rate > 0 {
			e.sampling[samplingKey{s.Version, s.Domain, s.Sampler}] = s.Rate
		}
	}
	for _, si := range es.SysInit {
		e.sysInit[si.Domain] = si.MS
	}
	e.mu.Unlock()
	return templates
}

func parseExporterAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("exporter %q: %w", s, err)
	}
	return a.Unmap(), nil
}
