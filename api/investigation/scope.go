package investigation

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// Scope is the subject of an investigation as conditions on each layer;
// nil means the layer cannot be restricted to the subject (yet).
type Scope struct {
	subject apiv1.Subject
	sockets *query.Builder
	flows   *query.Builder
	snmp    *query.Builder
	primary []string // layers whose series is searched for the spike, in order
	// prepareFlows, when set, sets flows; the window step runs it beside
	// the other layers' queries, before the flows layer's.
	prepareFlows func(ctx context.Context) error
}

// NodeScope is a node's traffic: the sockets its agent saw, and its
// flows, which the investigation selects by its pods' enrichment or by
// the addresses its agent saw as local.
func NodeScope(node string) *Scope {
	sc := &Scope{subject: apiv1.Subject{Kind: "node", Node: node, Label: "node " + node}, primary: []string{"sockets", "flows"}}
	sc.sockets = &query.Builder{}
	sc.sockets.And("node = " + sc.sockets.Bind("String", node))
	return sc
}

// IPScope is an address's traffic: the sockets at either end of which it
// is, the flows from or to it.
func IPScope(a netip.Addr) *Scope {
	sc := &Scope{subject: apiv1.Subject{Kind: "ip", IP: a.Unmap().String(), Label: a.Unmap().String()}, primary: []string{"flows", "sockets"}}
	sc.sockets = &query.Builder{}
	ph := sc.sockets.Bind("IPv6", query.IPParam(a))
	sc.sockets.And("local_ip = " + ph + " OR remote_ip = " + ph)
	sc.flows = &query.Builder{}
	ph = sc.flows.Bind("IPv6", query.IPParam(a))
	sc.flows.And("src_ip = " + ph + " OR dst_ip = " + ph)
	return sc
}

// InterfaceScope is an interface's traffic: device selects the device's
// SNMP rows (by name or address), to which the interface's index is
// added; its flows are selected once the investigation finds the
// device's address.
func InterfaceScope(device string, ifIndex uint32, deviceRows *query.Builder) *Scope {
	sc := &Scope{subject: apiv1.Subject{Kind: "interface", Device: device, IfIndex: ifIndex}, primary: []string{"snmp", "flows"}}
	sc.snmp = deviceRows.Clone()
	sc.snmp.And("if_index = " + sc.snmp.Bind("UInt32", ifIndex))
	return sc
}

// prepare completes sc for [from, to): an interface's flows by its
// device's address; a node's flows by the addresses its agent saw, read
// alongside the sockets layer's series, before its flows are.
func (c *Investigator) prepare(ctx context.Context, sc *Scope, from, to time.Time) error {
	switch sc.subject.Kind {
	case "interface":
		return layerError("snmp", c.resolveDevice(ctx, sc, from, to))
	case "node":
		sc.prepareFlows = func(ctx context.Context) error {
			ips, err := c.nodeIPs(ctx, sc.sockets, from, to)
			sc.flows = nodeFlows(sc.subject.Node, ips)
			return err
		}
	}
	return nil
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

// resolveDevice finds the exporter address of an interface subject, so
// that its flows can be selected, and names the interface.
func (c *Investigator) resolveDevice(ctx context.Context, sc *Scope, from, to time.Time) error {
	q := sc.snmp.Clone()
	query.TimeCond(q, "time", from.Add(-24*time.Hour), to)
	var ip net.IP
	var device, name string
	found := false
	err := c.Run(ctx, "investigate_device", `SELECT device_ip, argMax(device, time), argMax(if_name, time) FROM `+schema.TableIfStats+` WHERE `+q.Where()+` GROUP BY device_ip LIMIT 1`, q.Args,
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

func emptyContributors() apiv1.Contributors {
	return apiv1.Contributors{Ports: []apiv1.Contributor{}, Sessions: []apiv1.Contributor{}, Senders: []apiv1.Contributor{}, Receivers: []apiv1.Contributor{}, Pods: []apiv1.Contributor{}, Processes: []apiv1.Contributor{}}
}

func layerMissingNote(layer string, sc *Scope) string {
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
func (c *Investigator) nodeIPs(ctx context.Context, sockets *query.Builder, from, to time.Time) ([]string, error) {
	q := sockets.Clone()
	query.TimeCond(q, "time", from.Add(-to.Sub(from)), to)
	var ips []string
	err := c.Run(ctx, "investigate_node_ips", `SELECT DISTINCT local_ip FROM `+schema.TableSockets1m+` WHERE `+q.Where()+` LIMIT 256`, q.Args,
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

// missingNote says why a layer has no rows for an investigation: what
// the data shows, and the reason the layer is off when this process
// knows it (a component that could not start).
func (c *Investigator) missingNote(layer string, sc *Scope) string {
	note := layerMissingNote(layer, sc)
	if c.LayersOff == nil {
		return note
	}
	if why, ok := c.LayersOff()[layer]; ok {
		note += ": " + why
	}
	return note
}
