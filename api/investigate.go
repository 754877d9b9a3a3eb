package api

import (
	"context"
	"fmt"
	"time"

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
	if n == 0 || p.has("device") { // the agents' sessions know no interface
		return c.investigator.Investigate(ctx, sc, from, to)
	}
	var sessions *SocketsResponse
	inv, err := c.investigator.Investigate(ctx, sc, from, to, func(ctx context.Context, spike query.Window) (err error) {
		if sessions, err = c.sessions(ctx, p, spike.Start, spike.End, int(n), "bytes"); err != nil {
			return fmt.Errorf("sockets layer: the spike's sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	inv.Sessions = sessions
	return inv, nil
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
