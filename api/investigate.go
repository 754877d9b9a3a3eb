package api

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"

	"github.com/netstrata/netstrata/api/query"
)

func (c *Component) investigateParams() []paramSpec {
	return []paramSpec{
		{Name: "node", Type: "string", Description: "Kubernetes or server node to investigate (agent layer)."},
		{Name: "device", Type: "string", Description: "Device (name or IP) of the interface to investigate; with if_index."},
		{Name: "if_index", Type: "integer", Maximum: 1<<32 - 1, Description: "Interface index on device."},
		{Name: "ip", Type: "string", Format: "ip", Description: "IP address to investigate."},
		paramFrom, paramTo,
	}
}

// scope is the subject of an investigation as conditions on each layer;
// nil means the layer cannot be restricted to the subject (yet).
type scope struct {
	subject Subject
	sockets *query.Builder
	flows   *query.Builder
	snmp    *query.Builder
	primary []string // layers whose series is searched for the spike, in order
	// prepareFlows, when set, sets flows; the window step runs it beside
	// the other layers' queries, before the flows layer's.
	prepareFlows func(ctx context.Context) error
}

// Thresholds of the analysis.
const (
	spikeFactor          = apiv1.SpikeFactor
	retransmitFactor     = 3.0    // a retransmit-rate (or count) rise that counts as degradation
	minRetransmits       = 10     // ignore fewer retransmits than this in a window
	minRetransmitRate    = 0.0005 // floor of the baseline rate (0.05 % of segments)
	rttFactor            = 2.0
	minRTTIncreaseUs     = 5000
	maxContributors      = apiv1.MaxContributors
	maxGroups            = 5000
	maxPathInterfaces    = 6
	minSeriesBytesFloor  = apiv1.MinSeriesBytesFloor
	minRetrSeriesFloor   = 5
	significantShare     = apiv1.SignificantShare
	minGrowthForLoadNote = 1.3
)

func (c *Component) handleInvestigate(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) < 5*time.Minute {
		return nil, badParam("from", "the range must be at least 5 minutes to find a spike and its baseline")
	}
	sc, err := c.parseScope(p, from, to)
	if err != nil {
		return nil, err
	}
	return c.investigate(ctx, sc, from, to)
}

// parseScope reads exactly one of node, device+if_index, ip, as the
// conditions that select the subject in each layer over from–to.
func (c *Component) parseScope(p *params, from, to time.Time) (*scope, error) {
	given := 0
	for _, n := range []string{"node", "device", "ip"} {
		if p.has(n) {
			given++
		}
	}
	if given != 1 {
		return nil, &paramError{Param: "node", Message: "give exactly one subject: node, device with if_index, or ip", Valid: []string{"node", "device+if_index", "ip"}}
	}
	sc := &scope{}
	switch {
	case p.has("node"):
		node, err := p.name("node")
		if err != nil {
			return nil, err
		}
		sc.subject = Subject{Kind: "node", Node: node, Label: "node " + node}
		sc.sockets = &query.Builder{}
		sc.sockets.And("node = " + sc.sockets.Bind("String", node))
		// The node's addresses are read alongside the sockets layer's
		// series, before its flows are.
		sc.prepareFlows = func(ctx context.Context) error {
			ips, err := c.nodeIPs(ctx, sc.sockets, from, to)
			sc.flows = nodeFlows(node, ips)
			return err
		}
		sc.primary = []string{"sockets", "flows"}
	case p.has("ip"):
		a, _, err := p.ip("ip")
		if err != nil {
			return nil, err
		}
		sc.subject = Subject{Kind: "ip", IP: a.Unmap().String(), Label: a.Unmap().String()}
		sc.sockets = &query.Builder{}
		ph := sc.sockets.Bind("IPv6", query.IPParam(a))
		sc.sockets.And("local_ip = " + ph + " OR remote_ip = " + ph)
		sc.flows = &query.Builder{}
		ph = sc.flows.Bind("IPv6", query.IPParam(a))
		sc.flows.And("src_ip = " + ph + " OR dst_ip = " + ph)
		sc.primary = []string{"flows", "sockets"}
	default:
		idx, ok, err := p.uint("if_index", 1<<32-1)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badParam("if_index", "required with device")
		}
		sc.subject = Subject{Kind: "interface", Device: p.str("device"), IfIndex: uint32(idx)}
		sc.snmp = &query.Builder{}
		if err := deviceFilter(p, sc.snmp, true); err != nil {
			return nil, err
		}
		sc.snmp.And("if_index = " + sc.snmp.Bind("UInt32", uint32(idx)))
		sc.primary = []string{"snmp", "flows"}
		// flows are scoped once the device's IP is known (resolveDevice).
	}
	return sc, nil
}

// resolveDevice finds the exporter address of an interface subject, so
// that its flows can be selected, and names the interface.
func (c *Component) resolveDevice(ctx context.Context, sc *scope, from, to time.Time) error {
	q := sc.snmp.Clone()
	query.TimeCond(q, "time", from.Add(-24*time.Hour), to)
	var ip net.IP
	var device, name string
	found := false
	err := c.run(ctx, "investigate_device", `SELECT device_ip, argMax(device, time), argMax(if_name, time) FROM ifstats WHERE `+q.Where()+` GROUP BY device_ip LIMIT 1`, q.Args,
		func(rows driver.Rows) error {
			found = true
			return rows.Scan(&ip, &device, &name)
		})
	if err != nil {
		return err
	}
	sc.subject.Label = fmt.Sprintf("%s ifIndex %d", sc.subject.Device, sc.subject.IfIndex)
	if !found {
		if a, ok := parseIP(sc.subject.Device); ok {
			ip = a
		} else {
			return nil // no SNMP and no address: the flows cannot be found either
		}
	}
	if device != "" {
		sc.subject.Device = device
	}
	if name != "" {
		sc.subject.Label = fmt.Sprintf("%s %s (ifIndex %d)", sc.subject.Device, name, sc.subject.IfIndex)
	}
	sc.flows = &query.Builder{}
	ph := sc.flows.Bind("UInt32", sc.subject.IfIndex)
	sc.flows.And("exporter_ip = " + sc.flows.Bind("IPv6", query.IPString16(ip)))
	sc.flows.And("in_if = " + ph + " OR out_if = " + ph)
	return nil
}

func parseIP(s string) (net.IP, bool) {
	ip := net.ParseIP(s)
	return ip, ip != nil
}

func emptyContributors() Contributors {
	return Contributors{Ports: []Contributor{}, Sessions: []Contributor{}, Senders: []Contributor{}, Receivers: []Contributor{}, Pods: []Contributor{}, Processes: []Contributor{}}
}

func layerMissingNote(layer string, sc *scope) string {
	switch layer {
	case "snmp":
		return "no SNMP polls of the interfaces on the path"
	case "flows":
		return "no flows from the exporters for this subject"
	case "sockets":
		return "no eBPF agent data for this subject"
	default:
		return "no pod metadata for the contributors"
	}
}

// nodeFlows selects a node's flows: through its pods' enrichment, or by
// the addresses its agent saw as local (host-network and pod IPs alike).
func nodeFlows(node string, ips []string) *query.Builder {
	q := &query.Builder{}
	ph := q.Bind("String", node)
	cond := "src_node = " + ph + " OR dst_node = " + ph
	if len(ips) > 0 {
		a := q.Bind("Array(IPv6)", ips)
		cond += " OR src_ip IN " + a + " OR dst_ip IN " + a
	}
	q.And(cond)
	return q
}

// nodeIPs are the addresses a node's agent saw as local over the range
// and the range before.
func (c *Component) nodeIPs(ctx context.Context, sockets *query.Builder, from, to time.Time) ([]string, error) {
	q := sockets.Clone()
	query.TimeCond(q, "time", from.Add(-to.Sub(from)), to)
	var ips []string
	err := c.run(ctx, "investigate_node_ips", `SELECT DISTINCT local_ip FROM sockets_1m WHERE `+q.Where()+` LIMIT 256`, q.Args,
		func(rows driver.Rows) error {
			var ip net.IP
			if err := rows.Scan(&ip); err != nil {
				return err
			}
			ips = append(ips, query.IPString16(ip))
			return nil
		})
	return ips, err
}
