package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/investigation"
	"github.com/netstrata/netstrata/api/query"
)

func (c *Component) investigateParams() []paramSpec {
	return []paramSpec{
		{Name: "node", Type: "string", Description: "Kubernetes or server node to investigate (agent layer)."},
		{Name: "device", Type: "string", Description: "Device (name or IP) of the interface to investigate; with if_index."},
		{Name: "if_index", Type: "integer", Maximum: 1<<32 - 1, Description: "Interface index on device."},
		{Name: "ip", Type: "string", Format: "ip", Description: "IP address to investigate."},
		paramFrom, paramTo,
		{Name: "series", Type: "string", Enum: []string{"none", "chart"}, Description: "chart: also the SNMP series of the interface a chart of the answer shows (the subject interface, else the path's busiest polled interface), as /interfaces/series would answer: the console's chart without a request after this one. Default none."},
		{Name: "sessions", Type: "integer", Maximum: int64(c.cfg.MaxLimit), Description: "Also list the subject's N largest sessions in the spike window (node and IP subjects; default 0: none), as /sockets would for that window: the console's sessions table without a request after this one."},
	}
}

func (c *Component) handleInvestigate(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) < 5*time.Minute {
		return nil, badParam("from", "the range must be at least 5 minutes to find a spike and its baseline")
	}
	sc, err := parseScope(p)
	if err != nil {
		return nil, err
	}
	n, _, err := p.uint("sessions", uint64(c.cfg.MaxLimit))
	if err != nil {
		return nil, err
	}
	chart, err := p.enum("series", "none", []string{"none", "chart"})
	if err != nil {
		return nil, err
	}
	var also investigation.Alongside
	var sessions *SocketsResponse
	if n > 0 && !p.has("device") { // the agents' sessions know no interface
		also.Spike = func(ctx context.Context, spike query.Window) (err error) {
			if sessions, err = c.sessions(ctx, p, spike.Start, spike.End, int(n), "bytes"); err != nil {
				return fmt.Errorf("sockets layer: the spike's sessions: %w", err)
			}
			return nil
		}
	}
	var series *SeriesResponse
	if chart == "chart" {
		also.Path = func(ctx context.Context, ifs []apiv1.PathInterface) (err error) {
			if series, err = c.chartSeries(ctx, ifs, from, to); err != nil {
				return fmt.Errorf("snmp layer: the chart's series: %w", err)
			}
			return nil
		}
	}
	inv, err := c.investigator.Investigate(ctx, sc, from, to, also)
	if err != nil {
		return nil, err
	}
	inv.Sessions, inv.Series = sessions, series
	return inv, nil
}

// chartSeries is the series over [from, to) of the interface a chart of
// an investigation shows: of the path's interfaces (subject first, then
// by flow bytes), the first SNMP polls; nil when none is.
func (c *Component) chartSeries(ctx context.Context, ifs []apiv1.PathInterface, from, to time.Time) (*SeriesResponse, error) {
	i := slices.IndexFunc(ifs, func(i apiv1.PathInterface) bool { return i.SNMP != nil })
	if i < 0 {
		return nil, nil
	}
	q := &query.Builder{}
	q.And("device = " + q.Bind("String", ifs[i].Device))
	q.And("device_ip = " + q.Bind("IPv6", ifs[i].DeviceIP))
	s, _, err := c.interfaceSeries(ctx, q, ifs[i].IfIndex, from, to, c.autoStep(from, to))
	s.Device = ifs[i].Device
	return &s, err
}

// parseScope reads exactly one of node, device+if_index, ip as the
// subject of an investigation.
func parseScope(p *params) (*investigation.Scope, error) {
	given := 0
	for _, n := range []string{"node", "device", "ip"} {
		if p.has(n) {
			given++
		}
	}
	if given != 1 {
		return nil, &paramError{Param: "node", Message: "give exactly one subject: node, device with if_index, or ip", Valid: []string{"node", "device+if_index", "ip"}}
	}
	switch {
	case p.has("node"):
		node, err := p.name("node")
		if err != nil {
			return nil, err
		}
		return investigation.NodeScope(node), nil
	case p.has("ip"):
		a, _, err := p.ip("ip")
		if err != nil {
			return nil, err
		}
		return investigation.IPScope(a), nil
	}
	idx, ok, err := p.uint("if_index", 1<<32-1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badParam("if_index", "required with device")
	}
	device := &query.Builder{}
	if err := deviceFilter(p, device, true); err != nil {
		return nil, err
	}
	return investigation.InterfaceScope(p.str("device"), uint32(idx), device), nil
}
