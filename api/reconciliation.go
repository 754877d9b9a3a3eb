package api

import (
	"context"
	"time"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

func (c *Component) reconciliationParams() []paramSpec {
	return []paramSpec{paramDevice,
		{Name: "if_index", Type: "integer", Maximum: 1<<32 - 1, Description: "Only this interface index."},
		{Name: "status", Type: "string", Enum: reconciliationStatuses, Description: "Only rows with this status."},
		paramFrom, paramTo, paramLimit(c.cfg.MaxLimit)}
}

func (c *Component) handleReconciliation(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	if err := interfaceFilter(p, q); err != nil {
		return nil, err
	}
	status, err := p.enum("status", "", reconciliationStatuses)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(100, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	rows, err := c.investigator.Reconcile(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	resp := ReconciliationResponse{Range: Range{From: from, To: to, Source: schema.TableInterfaceSNMP5m + ", " + schema.TableInterfaceFlows5m}, Rows: []Reconciliation{}}
	for _, r := range rows {
		if (status == "" || r.Status == status) && len(resp.Rows) < limit {
			resp.Rows = append(resp.Rows, r)
		}
	}
	if len(rows) == 0 {
		flows, err := interfaceFlows(p)
		if err != nil {
			return nil, err
		}
		if resp.Outside, err = c.investigator.OutsideRange(ctx, flows, from, to); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// interfaceFlows is the flows of the exporter interfaces the device and
// if_index parameters select: a device named is every address it was
// polled at.
func interfaceFlows(p *params) (*query.Builder, error) {
	q := &query.Builder{}
	if a, ok, _ := p.ip("device"); ok {
		q.And("exporter_ip = " + q.Bind("IPv6", query.IPParam(a)))
	} else if p.has("device") {
		name, err := p.name("device")
		if err != nil {
			return nil, err
		}
		q.And("exporter_ip IN (SELECT device_ip FROM " + schema.TableInterfacesLatest + " WHERE device = " + q.Bind("String", name) + ")")
	}
	n, ok, err := p.uint("if_index", 1<<32-1)
	if err != nil {
		return nil, err
	}
	if ok {
		ph := q.Bind("UInt32", uint32(n))
		q.And("in_if = " + ph + " OR out_if = " + ph)
	}
	return q, nil
}

// reconciliationStatuses are the values of Reconciliation.Status.
var reconciliationStatuses = []string{"ok", "flows_low", "flows_high", "no_flows", "no_snmp", "no_verdict"}
