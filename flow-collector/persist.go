package flowcollector

import (
	"net/netip"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// persist writes what changed since the last call to the journal.
func (c *Component) persist() {
	if c.cfg.TemplatesFile == "" {
		return
	}
	err := c.journal.flush(c.state)
	if err != nil {
		c.badLog.Warn("persist", "cannot save templates", "file", c.cfg.TemplatesFile, "error", err)
	}
	c.r.SetHealth("templates", err)
}

// state lists every exporter's templates, sampling rates and system init
// times as the changes that recreate them.
func (c *Component) state() []journalOp {
	var ops []journalOp
	for _, e := range c.exporters.all() {
		e.templates.mu.RLock()
		for k, ent := range e.templates.m {
			ops = append(ops, templateOp(e.addr, k, ent.tpl))
		}
		e.templates.mu.RUnlock()
		e.mu.Lock()
		for k, r := range e.sampling {
			ops = append(ops, journalOp{Op: "sampling", Exporter: e.addr, Version: k.version, Domain: k.domain, Sampler: k.sampler, Rate: r})
		}
		for d, ms := range e.sysInit {
			ops = append(ops, journalOp{Op: "sysinit", Exporter: e.addr, Domain: d, MS: ms})
		}
		e.mu.Unlock()
	}
	return ops
}

// templateOp is the change that stores a template.
func templateOp(a netip.Addr, key uint64, tpl any) journalOp {
	op := journalOp{Op: "template", Exporter: a, Version: uint16(key >> 48), Domain: uint32(key >> 16), ID: uint16(key), Kind: templateKind(tpl)}
	switch t := tpl.(type) {
	case netflow.TemplateRecord:
		op.Fields = t.Fields
	case netflow.NFv9OptionsTemplateRecord:
		op.Scopes, op.Fields = t.Scopes, t.Options
	case netflow.IPFIXOptionsTemplateRecord:
		op.Scopes, op.Fields = t.Scopes, t.Options
	}
	return op
}

// restore replays the journal through the same registry and budgets as
// live traffic, then compacts it to what was kept.
func (c *Component) restore() {
	defer c.journal.enable()
	if c.cfg.TemplatesFile == "" {
		c.r.Log.Warn("flow_collector.templates_file is empty: templates will not survive a restart")
		return
	}
	start := time.Now()
	applied, skipped, err := replayJournal(c.cfg.TemplatesFile, c.apply)
	if err != nil {
		c.r.Log.Warn("cannot restore templates; starting without them (exporters resend them)", "error", err)
	}
	c.r.Log.Info("restored templates", "file", c.cfg.TemplatesFile, "changes", applied, "skipped", skipped,
		"exporters", len(c.exporters.all()), "templates", c.budget.count(), "template_bytes", c.budget.bytes.Load(),
		"duration", time.Since(start))
	c.persist()
}

// apply replays one change.
func (c *Component) apply(op journalOp) {
	if op.Op == "forget" {
		c.exporters.forget(op.Exporter)
		return
	}
	e, _ := c.exporters.get(op.Exporter, time.Now())
	if e == nil {
		return
	}
	switch op.Op {
	case "template":
		if tpl := opTemplate(op); tpl != nil {
			_ = e.templates.AddTemplate(op.Version, op.Domain, op.ID, tpl)
		}
	case "withdraw":
		_, _ = e.templates.RemoveTemplate(op.Version, op.Domain, op.ID)
	case "sampling":
		e.learnSampling(samplingKey{op.Version, op.Domain, op.Sampler}, op.Rate)
	case "sysinit":
		e.learnSysInit(op.Domain, op.MS)
	}
	e.templates.takeAdded()
}

// opTemplate rebuilds a template as goflow2's decoder would have.
func opTemplate(op journalOp) any {
	switch op.Kind {
	case "data":
		return netflow.TemplateRecord{TemplateId: op.ID, FieldCount: uint16(len(op.Fields)), Fields: op.Fields}
	case "v9_options":
		return netflow.NFv9OptionsTemplateRecord{TemplateId: op.ID, ScopeLength: uint16(4 * len(op.Scopes)), OptionLength: uint16(4 * len(op.Fields)), Scopes: op.Scopes, Options: op.Fields}
	case "ipfix_options":
		return netflow.IPFIXOptionsTemplateRecord{TemplateId: op.ID, FieldCount: uint16(len(op.Scopes) + len(op.Fields)), ScopeFieldCount: uint16(len(op.Scopes)), Scopes: op.Scopes, Options: op.Fields}
	}
	return nil
}
