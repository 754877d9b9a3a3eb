package api

import (
	"context"
	"fmt"
	"time"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

func (c *Component) trafficMapParams() []paramSpec {
	return []paramSpec{paramFrom, paramTo,
		{Name: "port", Type: "integer", Maximum: 65535, Description: "Service port (the remote port of client sockets, the local port of server sockets), e.g. 8081."},
		{Name: "node", Type: "string", Description: "Node whose agent saw the traffic."},
		{Name: "namespace", Type: "string", Description: "Namespace of the local or remote pod."},
		{Name: "pod", Type: "string", Description: "Local or remote pod name."},
		{Name: "ip", Type: "string", Format: "ip", Description: "Local or remote IP address."},
		paramLimit(c.cfg.MaxLimit),
	}
}

func (c *Component) handleTrafficMap(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(200, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	if n, ok, err := p.uint("port", 65535); err != nil {
		return nil, err
	} else if ok {
		q.And("if(direction = 'server', local_port, remote_port) = " + q.Bind("UInt16", uint16(n)))
	}
	for _, f := range []struct{ param, cond string }{
		{"node", "node = %[1]s"}, {"namespace", "local_namespace = %[1]s OR remote_namespace = %[1]s"},
		{"pod", "local_pod = %[1]s OR remote_pod = %[1]s"},
	} {
		v, err := p.name(f.param)
		if err != nil {
			return nil, err
		}
		if v != "" {
			q.And(fmt.Sprintf(f.cond, q.Bind("String", v)))
		}
	}
	if a, ok, err := p.ip("ip"); err != nil {
		return nil, err
	} else if ok {
		ph := q.Bind("IPv6", query.IPParam(a))
		q.And("local_ip = " + ph + " OR remote_ip = " + ph)
	}
	m, err := c.investigator.TrafficMap(ctx, q, from, to, limit)
	if err != nil {
		return nil, err
	}
	return TrafficMapResponse{Range: Range{From: from, To: to, Source: schema.TableSockets1m}, TrafficMap: m}, nil
}
