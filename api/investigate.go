package api

import (
	"context"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
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
	sockets *query
	flows   *query
	snmp    *query
	primary []string // layers whose series is searched for the spike, in order
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
	sc, err := c.parseScope(p)
	if err != nil {
		return nil, err
	}
	return c.investigate(ctx, sc, from, to)
}

// parseScope reads exactly one of node, device+if_index, ip.
func (c *Component) parseScope(p *params) (*scope, error) {
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
		sc.sockets = &query{}
		sc.sockets.and("node = " + sc.sockets.bind("String", node))
		sc.flows = &query{}
		ph := sc.flows.bind("String", node)
		sc.flows.and("src_node = " + ph + " OR dst_node = " + ph)
		sc.primary = []string{"sockets", "flows"}
	case p.has("ip"):
		a, _, err := p.ip("ip")
		if err != nil {
			return nil, err
		}
		sc.subject = Subject{Kind: "ip", IP: a.Unmap().String(), Label: a.Unmap().String()}
		sc.sockets = &query{}
		ph := sc.sockets.bind("IPv6", ipParam(a))
		sc.sockets.and("local_ip = " + ph + " OR remote_ip = " + ph)
		sc.flows = &query{}
		ph = sc.flows.bind("IPv6", ipParam(a))
		sc.flows.and("src_ip = " + ph + " OR dst_ip = " + ph)
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
		sc.snmp = &query{}
		if err := deviceFilter(p, sc.snmp, true); err != nil {
			return nil, err
		}
		sc.snmp.and("if_index = " + sc.snmp.bind("UInt32", uint32(idx)))
		sc.primary = []string{"snmp", "flows"}
		// flows are scoped once the device's IP is known (resolveDevice).
	}
	return sc, nil
}

// resolveDevice finds the exporter address of an interface subject, so
// that its flows can be selected, and names the interface.
func (c *Component) resolveDevice(ctx context.Context, sc *scope, from, to time.Time) error {
	q := sc.snmp.clone()
	timeCond(q, "time", from.Add(-24*time.Hour), to)
	var ip net.IP
	var device, name string
	found := false
	err := c.run(ctx, "investigate_device", `SELECT device_ip, argMax(device, time), argMax(if_name, time) FROM ifstats WHERE `+q.where()+` GROUP BY device_ip LIMIT 1`, q.args,
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
	sc.flows = &query{}
	ph := sc.flows.bind("UInt32", sc.subject.IfIndex)
	sc.flows.and("exporter_ip = " + sc.flows.bind("IPv6", ipString16(ip)))
	sc.flows.and("in_if = " + ph + " OR out_if = " + ph)
	return nil
}

func parseIP(s string) (net.IP, bool) {
	ip := net.ParseIP(s)
	return ip, ip != nil
}

// ipString16 is the IPv6 parameter text of a net.IP.
func ipString16(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return "::ffff:" + v4.String()
	}
	return ip.String()
}

// investigate runs the analysis; each layer is optional.
func (c *Component) investigate(ctx context.Context, sc *scope, from, to time.Time) (*Investigation, error) {
	inv := &Investigation{Subject: sc.subject, From: from, To: to, Contributors: emptyContributors(),
		TrafficMap: TrafficMap{Nodes: []MapNode{}, Edges: []MapEdge{}}, Health: []SessionHealth{},
		Interfaces: []PathInterface{}, Reconciliation: []Reconciliation{}, Pods: []PodStatus{}, Missing: []string{}}
	if sc.subject.Kind == "interface" {
		if err := c.resolveDevice(ctx, sc, from, to); err != nil {
			return nil, err
		}
		inv.Subject = sc.subject
	}
	if sc.subject.Kind == "node" {
		// Flows reach a node through its pods' enrichment or its addresses.
		if err := c.addNodeIPs(ctx, sc, from, to); err != nil {
			return nil, err
		}
	}
	spans, step := spansFor(from, to, c.cfg.RawRange), seriesStep(from, to, c.cfg.RawRange)

	// 1. Series and the spike.
	ls, err := c.seriesByLayer(ctx, sc, spans, from, to, step)
	if err != nil {
		return nil, err
	}
	layerRows := map[string]uint64{}
	for layer, s := range ls.bytes {
		for _, b := range ls.inRange(s, step) {
			if b.V > 0 {
				layerRows[layer]++
			}
		}
	}
	w := findWindows(sc, ls, from, to, step)
	event, base := w.event, w.base
	spikeFound, retrSpike := w.found, w.retr

	// 2. Contributors, health and map from the sockets; flows for the
	// paths and for subjects the agents do not see.
	groups, flowGroups, baseRetr, err := c.contributorGroups(ctx, sc, spans, ls, w, from, to, step)
	if err != nil {
		return nil, err
	}
	layerRows["sockets"] += uint64(len(groups))
	layerRows["flows"] += uint64(len(flowGroups))
	inv.Spike, inv.Baseline, inv.Growth = w.measure(ls)
	inv.Baseline.Retransmits, inv.Spike.Retransmits = baseRetr, retransmitsIn(groups, 1)
	if !spikeFound && !retrSpike {
		inv.Spike.Note = "no spike found: the last quarter of the range against the quarter before"
	}

	// 3. Contributors.
	if len(groups) > 0 && sc.subject.Kind != "interface" {
		inv.Contributors = socketContributors(groups, spikeFound)
	} else if len(flowGroups) > 0 {
		inv.Contributors = flowContributors(flowGroups, spikeFound)
		if len(groups) > 0 {
			inv.Contributors.Processes = socketContributors(groups, spikeFound).Processes
		}
	}

	// 4. Health, traffic map.
	inv.Health = sessionHealth(groups)
	inv.TrafficMap = contributorMap(groups, flowGroups, inv.Contributors, inv.Health)

	// 5. Interfaces on the path, reconciliation, pods.
	if inv.Interfaces, err = c.pathInterfaces(ctx, sc, flowGroups, event); err != nil {
		return nil, err
	}
	layerRows["snmp"] += uint64(countSNMP(inv.Interfaces))
	if len(inv.Interfaces) > 0 {
		keys := make([]string, 0, len(inv.Interfaces))
		for _, i := range inv.Interfaces {
			keys = append(keys, ifKey(i.DeviceIP, i.IfIndex))
		}
		rq := &query{}
		rq.and("has(" + rq.bind("Array(String)", keys) + ", concat(toString(device_ip), '/', toString(if_index)))")
		if inv.Reconciliation, err = c.reconcile(ctx, rq, base.Start, event.End); err != nil {
			return nil, err
		}
	}
	if inv.Pods, err = c.podStatus(ctx, contributorPods(inv.Contributors, groups), base.Start, to); err != nil {
		return nil, err
	}

	// 6. Layers and verdict.
	for _, layer := range []string{"snmp", "flows", "sockets", "pods"} {
		n := layerRows[layer]
		if layer == "pods" {
			n = uint64(len(inv.Pods))
		}
		ls := LayerStatus{Layer: layer, Available: n > 0, Rows: n}
		if !ls.Available {
			ls.Note = c.missingNote(layer, sc)
			inv.Missing = append(inv.Missing, layer)
			if layer == "flows" && sc.flows != nil {
				if ls.Outside, err = c.outsideRange(ctx, sc.flows, from, to); err != nil {
					return nil, err
				}
				if ls.Outside.Rows > 0 {
					ls.Note += " in the range; " + ls.Outside.Note
				}
			}
		}
		inv.Layers = append(inv.Layers, ls)
	}
	inv.Verdict = verdict(inv, groups, spikeFound)
	return inv, nil
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

// addNodeIPs extends a node's flow scope with the addresses its agent saw
// as local (host-network and pod IPs alike).
func (c *Component) addNodeIPs(ctx context.Context, sc *scope, from, to time.Time) error {
	q := sc.sockets.clone()
	timeCond(q, "time", from.Add(-to.Sub(from)), to)
	var ips []string
	err := c.run(ctx, "investigate_node_ips", `SELECT DISTINCT local_ip FROM sockets_1m WHERE `+q.where()+` LIMIT 256`, q.args,
		func(rows driver.Rows) error {
			var ip net.IP
			if err := rows.Scan(&ip); err != nil {
				return err
			}
			ips = append(ips, ipString16(ip))
			return nil
		})
	if err != nil || len(ips) == 0 {
		return err
	}
	f := sc.flows
	ph := f.bind("Array(IPv6)", ips)
	f.conds[len(f.conds)-1] += " OR src_ip IN " + ph + " OR dst_ip IN " + ph
	return nil
}

// contributorGroups reads the subject's socket and flow groups, each
// layer over the spike with its blurred edges (see excessOverBaseline)
// against a baseline clear of them, and brings both windows to the
// event's duration, so that a share or a "3× more" is a rate. baseRetr
// is the baseline's own retransmits (nil without agent data).
func (c *Component) contributorGroups(ctx context.Context, sc *scope, spans map[string]span, ls layerSeries, w spikeWindows,
	from, to time.Time, step time.Duration) (groups []socketGroup, flows []flowGroup, baseRetr *uint64, err error) {
	flowsBase, flowsAt := w.layerWindows(ls, "flows", from, to, step)
	socketsBase, socketsAt := w.layerWindows(ls, "sockets", from, to, step)
	if sc.sockets != nil {
		if groups, err = c.socketGroups(ctx, spans["sockets"], sc.sockets, socketsBase, socketsAt, maxGroups); err != nil {
			return nil, nil, nil, err
		}
	}
	if sc.flows != nil {
		if flows, err = c.flowGroups(ctx, spans["flows"], sc.flows, flowsBase, flowsAt); err != nil {
			return nil, nil, nil, err
		}
	}
	if sc.subject.Kind == "interface" && len(flows) > 0 {
		// The agents' view of the conversations crossing the interface.
		if groups, err = c.socketGroupsForFlows(ctx, spans["sockets"], flows, socketsBase, socketsAt); err != nil {
			return nil, nil, nil, err
		}
	}
	baseRetr = retransmitsIn(groups, 0)
	if w.blur.dur() > 0 {
		excessOverBaseline(groups, nil, socketsBase, socketsAt, w.event)
		excessOverBaseline(nil, flows, flowsBase, flowsAt, w.event)
	} else {
		scaleWindow(groups, flows, 0, w.event.dur().Seconds()/w.base.dur().Seconds())
	}
	return groups, flows, baseRetr, nil
}

// retransmitsIn sums the groups' retransmits in window wi; nil (unknown)
// without agent data.
func retransmitsIn(groups []socketGroup, wi int) *uint64 {
	if len(groups) == 0 {
		return nil
	}
	var n uint64
	for _, g := range groups {
		n += g.W[wi].Retr
	}
	return &n
}

// excessOverBaseline turns counts over the baseline and over measured
// (the event with its blurred edges and some margin) into counts over
// the event: the baseline's rate over the event's duration, and that
// plus what measured held above the baseline's rate. Every byte of the
// spike is in measured wherever the spreading of the edge intervals put
// it, so each contributor's increase is exact when its level before and
// after the spike is its baseline (or it stops with the data).
func excessOverBaseline(groups []socketGroup, flows []flowGroup, base, measured, event window) {
	b, m, d := base.dur().Seconds(), measured.dur().Seconds(), event.dur().Seconds()
	if b <= 0 || m <= 0 {
		return
	}
	conv := func(w0, w1 uint64) (uint64, uint64) {
		rate := float64(w0) / b
		return uint64(math.Round(rate * d)), uint64(math.Round(max(0, rate*d+float64(w1)-rate*m)))
	}
	for i := range groups {
		w := &groups[i].W
		w[0].Bytes, w[1].Bytes = conv(w[0].Bytes, w[1].Bytes)
		w[0].Sent, w[1].Sent = conv(w[0].Sent, w[1].Sent)
		w[0].Segs, w[1].Segs = conv(w[0].Segs, w[1].Segs)
		w[0].Retr, w[1].Retr = conv(w[0].Retr, w[1].Retr)
		w[0].Conns = uint64(math.Round(float64(w[0].Conns) * d / b))
	}
	for i := range flows {
		flows[i].W[0], flows[i].W[1] = conv(flows[i].W[0], flows[i].W[1])
	}
}

// scaleWindow brings window wi's counts to the length of the event
// window (ratio = event / that window's duration); ratios within a
// window (retransmit rate, RTT) are unchanged.
func scaleWindow(groups []socketGroup, flows []flowGroup, wi int, ratio float64) {
	if ratio == 1 || ratio <= 0 || math.IsInf(ratio, 0) || math.IsNaN(ratio) {
		return
	}
	scale := func(v uint64) uint64 { return uint64(math.Round(float64(v) * ratio)) }
	for i := range groups {
		w := &groups[i].W[wi]
		w.Bytes, w.Sent, w.Segs, w.Retr, w.Conns = scale(w.Bytes), scale(w.Sent), scale(w.Segs), scale(w.Retr), scale(w.Conns)
	}
	for i := range flows {
		flows[i].W[wi] = scale(flows[i].W[wi])
	}
}
