package api

import (
	"context"
	"fmt"
	"math"
	"net"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"

	"github.com/netstrata/netstrata/api/query"
)

// flowGroup is one conversation on one exporter interface pair in the
// baseline (W[0]) and event (W[1]) windows, sampling-corrected bytes.
type flowGroup struct {
	Exporter         net.IP
	InIf, OutIf      uint32
	SrcIP, DstIP     net.IP
	SrcPort, DstPort uint16
	Proto            uint8
	App              string
	SrcPod, SrcNS    string
	SrcNode          string
	DstPod, DstNS    string
	DstNode          string
	W                [2]uint64
}

// servicePort guesses the server side: the rollups fold the client's
// ephemeral port to 0, else the lower port is the service.
func (f *flowGroup) servicePort() (port uint16, toDst bool) {
	switch {
	case f.SrcPort == 0:
		return f.DstPort, true
	case f.DstPort == 0:
		return f.SrcPort, false
	case f.DstPort <= f.SrcPort:
		return f.DstPort, true
	}
	return f.SrcPort, false
}

func podLabel(ns, pod string) string {
	if pod == "" {
		return ""
	}
	return ns + "/" + pod
}

func endpointLabel(ip net.IP, ns, pod string) string {
	if pod != "" {
		return podLabel(ns, pod)
	}
	return query.IPString(ip)
}

// session is a flow's client → server:port label.
func (f *flowGroup) session() string {
	port, toDst := f.servicePort()
	src, dst := endpointLabel(f.SrcIP, f.SrcNS, f.SrcPod), endpointLabel(f.DstIP, f.DstNS, f.DstPod)
	if !toDst {
		src, dst = dst, src
	}
	return fmt.Sprintf("%s → %s:%d", src, dst, port)
}

// flowGroups reads the subject's conversations over the two windows,
// largest first, each flow's bytes shared between the windows by how
// much of its life fell in each. Client ports are folded as in the
// rollups (see SCHEMA.md).
func (c *Component) flowGroups(ctx context.Context, sp query.Span, scope *query.Builder, base, event query.Window) ([]flowGroup, error) {
	q := scope.Clone()
	src := sp.Rows(q, base.Start, event.End)
	bytes := sp.Values["bytes"]
	sport, dport := "src_port", "dst_port"
	if sp.IsRaw() {
		sport = "if(src_port >= 32768 AND dst_port < 32768, 0, src_port)"
		dport = "if(dst_port >= 32768 AND src_port < 32768, 0, dst_port)"
	}
	sql := `SELECT exporter_ip, in_if, out_if, src_ip, dst_ip, ` + sport + ` AS sport, ` + dport + ` AS dport, proto, any(application),
	any(src_pod), any(src_namespace), any(src_node), any(dst_pod), any(dst_namespace), any(dst_node),
	toUInt64(` + query.WindowSum(q, bytes, base) + `), toUInt64(` + query.WindowSum(q, bytes, event) + `)
FROM ` + src + ` WHERE ` + q.Where() + `
GROUP BY exporter_ip, in_if, out_if, src_ip, dst_ip, sport, dport, proto
ORDER BY sum(` + bytes + `) DESC
LIMIT ` + q.Bind("UInt32", uint32(maxGroups))
	var out []flowGroup
	err := c.run(ctx, "flow_groups", sql, q.Args, func(rows driver.Rows) error {
		var f flowGroup
		if err := rows.Scan(&f.Exporter, &f.InIf, &f.OutIf, &f.SrcIP, &f.DstIP, &f.SrcPort, &f.DstPort, &f.Proto, &f.App,
			&f.SrcPod, &f.SrcNS, &f.SrcNode, &f.DstPod, &f.DstNS, &f.DstNode, &f.W[0], &f.W[1]); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// socketGroupsForFlows reads the agents' view of the largest flow
// conversations: the sockets between the same two addresses.
func (c *Component) socketGroupsForFlows(ctx context.Context, sp query.Span, flows []flowGroup, base, event query.Window) ([]socketGroup, error) {
	seen := map[string]bool{}
	var pairs []string
	for _, f := range flows {
		for _, k := range []string{query.IPString16(f.SrcIP) + "|" + query.IPString16(f.DstIP), query.IPString16(f.DstIP) + "|" + query.IPString16(f.SrcIP)} {
			if !seen[k] && len(pairs) < 400 {
				seen[k] = true
				pairs = append(pairs, k)
			}
		}
	}
	q := &query.Builder{}
	q.And("has(" + q.Bind("Array(String)", pairs) + ", concat(toString(local_ip), '|', toString(remote_ip)))")
	return c.socketGroups(ctx, sp, q, base, event, maxGroups)
}

// contribution accumulates one key's bytes in both windows.
type contribution struct {
	key  string
	node string
	w    [2]uint64
}

type tally struct {
	m     map[string]*contribution
	order []string
}

func newTally() *tally { return &tally{m: map[string]*contribution{}} }

func (t *tally) add(key, node string, w [2]uint64) {
	if key == "" {
		return
	}
	c := t.m[key]
	if c == nil {
		c = &contribution{key: key, node: node}
		t.m[key] = c
		t.order = append(t.order, key)
	}
	c.w[0] += w[0]
	c.w[1] += w[1]
}

// top ranks by increase (or by event bytes when there is no spike) and
// gives each its share of the total increase.
func (t *tally) top(byDelta bool) []Contributor {
	var total float64
	for _, c := range t.m {
		if d := float64(c.w[1]) - float64(c.w[0]); d > 0 {
			total += d
		}
	}
	out := make([]Contributor, 0, len(t.m))
	for _, k := range t.order {
		c := t.m[k]
		d := int64(c.w[1]) - int64(c.w[0])
		if byDelta && d <= 0 {
			continue
		}
		ct := Contributor{Key: c.key, Node: c.node, BaselineBytes: c.w[0], SpikeBytes: c.w[1], DeltaBytes: d}
		if total > 0 && d > 0 {
			ct.Share = round(float64(d)/total, 3)
		}
		if c.w[0] > 0 {
			ct.Growth = round(float64(c.w[1])/float64(c.w[0]), 2)
		}
		out = append(out, ct)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].SpikeBytes, out[j].SpikeBytes
		if byDelta {
			a, b = uint64(out[i].DeltaBytes), uint64(out[j].DeltaBytes)
		}
		if a != b {
			return a > b
		}
		return out[i].Key < out[j].Key // a stable answer for equal ones
	})
	if len(out) > maxContributors {
		out = out[:maxContributors]
	}
	return out
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(apiv1.Finite(x)*p) / p
}

// sessionKey labels a socket group client → service:port.
func (g *socketGroup) sessionKey() string {
	local := g.localEntity().Label
	if g.Direction == "server" {
		return fmt.Sprintf("%s → %s:%d", endpointLabel(g.RemoteIP, g.RemoteNS, g.RemotePod), local, g.LocalPort)
	}
	return fmt.Sprintf("%s → %s:%d", local, endpointLabel(g.RemoteIP, g.RemoteNS, g.RemotePod), g.RemotePort)
}

// pathKey is the service endpoint of the group: remote ip:port of a client
// socket, local ip:port of a server socket.
func (g *socketGroup) pathKey() (string, net.IP, uint16) {
	if g.Direction == "server" {
		return fmt.Sprintf("%s:%d", query.IPString(g.LocalIP), g.LocalPort), g.LocalIP, g.LocalPort
	}
	return fmt.Sprintf("%s:%d", query.IPString(g.RemoteIP), g.RemotePort), g.RemoteIP, g.RemotePort
}

func bytesOf(g *socketGroup) [2]uint64 { return [2]uint64{g.W[0].Bytes, g.W[1].Bytes} }

func socketContributors(groups []socketGroup, byDelta bool) Contributors {
	ports, sessions, pods, procs := newTally(), newTally(), newTally(), newTally()
	senders, receivers := newTally(), newTally()
	for i := range groups {
		g := &groups[i]
		w := bytesOf(g)
		ports.add(fmt.Sprintf(":%d", g.servicePort()), "", w)
		sessions.add(g.sessionKey(), g.Node, w)
		pods.add(podLabel(g.LocalNS, g.LocalPod), g.Node, w)
		procs.add(g.Comm+"@"+g.Node, g.Node, w)
		// The local end sent bytes_sent to the remote one, which sent
		// the rest back.
		sent := [2]uint64{g.W[0].Sent, g.W[1].Sent}
		back := [2]uint64{g.W[0].Bytes - min(g.W[0].Sent, g.W[0].Bytes), g.W[1].Bytes - min(g.W[1].Sent, g.W[1].Bytes)}
		local, remote := g.localEntity().Label, g.remoteEntity().Label
		senders.add(local, g.Node, sent)
		receivers.add(remote, g.RemoteNode, sent)
		senders.add(remote, g.RemoteNode, back)
		receivers.add(local, g.Node, back)
	}
	return Contributors{Ports: ports.top(byDelta), Sessions: sessions.top(byDelta), Senders: senders.top(byDelta), Receivers: receivers.top(byDelta),
		Pods: pods.top(byDelta), Processes: procs.top(byDelta)}
}

func flowContributors(flows []flowGroup, byDelta bool) Contributors {
	ports, sessions, pods := newTally(), newTally(), newTally()
	senders, receivers := newTally(), newTally()
	for i := range flows {
		f := &flows[i]
		port, _ := f.servicePort()
		ports.add(fmt.Sprintf(":%d", port), "", f.W)
		sessions.add(f.session(), "", f.W)
		pods.add(podLabel(f.SrcNS, f.SrcPod), f.SrcNode, f.W)
		senders.add(endpointLabel(f.SrcIP, f.SrcNS, f.SrcPod), f.SrcNode, f.W)
		receivers.add(endpointLabel(f.DstIP, f.DstNS, f.DstPod), f.DstNode, f.W)
	}
	return Contributors{Ports: ports.top(byDelta), Sessions: sessions.top(byDelta), Senders: senders.top(byDelta), Receivers: receivers.top(byDelta),
		Pods: pods.top(byDelta), Processes: []Contributor{}}
}

// sessionHealth compares each service path's TCP health in the event
// window with its baseline: degraded paths first, then the busiest.
func sessionHealth(groups []socketGroup) []SessionHealth {
	type acc struct {
		h     SessionHealth
		pods  map[string]bool
		nodes map[string]bool
		w     [2]windowStats
		rtt   [2][3]float64 // byte-weighted sums of p50, p95 and p99
		jit   [2]float64
	}
	paths := map[string]*acc{}
	var order []string
	for i := range groups {
		g := &groups[i]
		key, ip, port := g.pathKey()
		a := paths[key]
		if a == nil {
			a = &acc{h: SessionHealth{Path: key, RemoteIP: query.IPString(ip), Port: port}, pods: map[string]bool{}, nodes: map[string]bool{}}
			paths[key] = a
			order = append(order, key)
		}
		if g.LocalPod != "" {
			a.pods[podLabel(g.LocalNS, g.LocalPod)] = true
		}
		a.nodes[g.Node] = true
		for wi := range 2 {
			s := g.W[wi]
			a.w[wi].Bytes += s.Bytes
			a.w[wi].Segs += s.Segs
			a.w[wi].Retr += s.Retr
			weight := float64(max(s.Bytes, 1))
			if s.Conns == 0 && s.Bytes == 0 {
				weight = 0
			}
			a.rtt[wi][0] += s.RTTP50 * weight
			a.rtt[wi][1] += s.RTTP95 * weight
			a.rtt[wi][2] += s.RTTP99 * weight
			a.jit[wi] += s.Jitter * weight
			a.w[wi].Conns += uint64(weight) // total weight, reused as the divisor
		}
	}
	var out []SessionHealth
	for _, k := range order {
		a := paths[k]
		for wi, hs := range []*HealthStats{&a.h.Baseline, &a.h.Spike} {
			w := a.w[wi]
			hs.Bytes, hs.Segments, hs.Retransmits = w.Bytes, w.Segs, w.Retr
			if w.Segs > 0 {
				hs.RetransmitRate = round(float64(w.Retr)/float64(w.Segs), 5)
			}
			if w.Conns > 0 {
				d := float64(w.Conns)
				hs.RTTAvgUs, hs.RTTP95Us, hs.RTTP99Us = round(a.rtt[wi][0]/d, 1), round(a.rtt[wi][1]/d, 1), round(a.rtt[wi][2]/d, 1)
				hs.RTTP50Us, hs.JitterUs = hs.RTTAvgUs, round(a.jit[wi]/d, 1)
			}
		}
		if len(a.pods) == 1 {
			for p := range a.pods {
				a.h.Pod = p
			}
		}
		if len(a.nodes) == 1 {
			for n := range a.nodes {
				a.h.Node = n
			}
		}
		judgeHealth(&a.h)
		out = append(out, a.h)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Degraded != out[j].Degraded {
			return out[i].Degraded
		}
		if out[i].Spike.Bytes != out[j].Spike.Bytes {
			return out[i].Spike.Bytes > out[j].Spike.Bytes
		}
		return out[i].Path < out[j].Path
	})
	if len(out) > 2*maxContributors {
		out = out[:2*maxContributors]
	}
	if out == nil {
		out = []SessionHealth{}
	}
	return out
}

// judgeHealth marks a path degraded when its retransmit rate rose
// retransmitFactor-fold (with enough retransmits to mean something) or
// its RTT p99 doubled by at least 5 ms.
func judgeHealth(h *SessionHealth) {
	b, s := h.Baseline, h.Spike
	if b.Retransmits > 0 {
		h.RetransmitGrowth = round(float64(s.Retransmits)/float64(b.Retransmits), 1)
	}
	if b.RTTP99Us > 0 {
		h.RTTGrowth = round(s.RTTP99Us/b.RTTP99Us, 2)
	}
	baseRate := math.Max(b.RetransmitRate, minRetransmitRate)
	if s.Retransmits >= minRetransmits && s.RetransmitRate >= retransmitFactor*baseRate {
		h.Degraded = true
		if b.Retransmits > 0 {
			h.Reason = fmt.Sprintf("retransmits %s× baseline (%d vs %d, %.2f%% of segments)", apiv1.TrimFloat(float64(s.Retransmits)/float64(b.Retransmits)), s.Retransmits, b.Retransmits, s.RetransmitRate*100)
		} else {
			h.Reason = fmt.Sprintf("retransmits rose from 0 to %d (%.2f%% of segments)", s.Retransmits, s.RetransmitRate*100)
		}
	}
	if b.RTTP99Us > 0 && s.RTTP99Us >= rttFactor*b.RTTP99Us && s.RTTP99Us-b.RTTP99Us >= minRTTIncreaseUs {
		reason := fmt.Sprintf("RTT p99 %s× baseline (%.1f ms vs %.1f ms)", apiv1.TrimFloat(s.RTTP99Us/b.RTTP99Us), s.RTTP99Us/1000, b.RTTP99Us/1000)
		if h.Degraded {
			h.Reason += "; " + reason
		} else {
			h.Degraded, h.Reason = true, reason
		}
	}
}

// contributorMap is the traffic map restricted to the contributors'
// sessions and the degraded paths (from sockets, else from flows).
func contributorMap(groups []socketGroup, flows []flowGroup, ct Contributors, health []SessionHealth) TrafficMap {
	keep := map[string]bool{}
	for _, s := range ct.Sessions {
		keep[s.Key] = true
	}
	degraded := map[string]bool{}
	for _, h := range health {
		if h.Degraded {
			degraded[h.Path] = true
		}
	}
	var sel []socketGroup
	for i := range groups {
		k, _, _ := groups[i].pathKey()
		if keep[groups[i].sessionKey()] || degraded[k] {
			sel = append(sel, groups[i])
		}
	}
	if len(sel) > 0 {
		return buildMap(sel, 1)
	}
	m := TrafficMap{Nodes: []MapNode{}, Edges: []MapEdge{}}
	nodes := map[string]bool{}
	edges := map[string]int{}
	for i := range flows {
		f := &flows[i]
		if !keep[f.session()] || f.W[1] == 0 {
			continue
		}
		port, toDst := f.servicePort()
		src := flowEndpoint(f.SrcIP, f.SrcNS, f.SrcPod, f.SrcNode)
		dst := flowEndpoint(f.DstIP, f.DstNS, f.DstPod, f.DstNode)
		if !toDst {
			src, dst = dst, src
		}
		for _, n := range []MapNode{src, dst} {
			if !nodes[n.ID] {
				nodes[n.ID] = true
				m.Nodes = append(m.Nodes, n)
			}
		}
		k := fmt.Sprintf("%s|%s|%d", src.ID, dst.ID, port)
		if i, ok := edges[k]; ok {
			m.Edges[i].Bytes += f.W[1]
			continue
		}
		edges[k] = len(m.Edges)
		m.Edges = append(m.Edges, MapEdge{Source: src.ID, Target: dst.ID, Port: port, Bytes: f.W[1]})
	}
	sortEdges(m.Edges)
	return m
}

func flowEndpoint(ip net.IP, ns, pod, node string) MapNode {
	if pod != "" {
		return MapNode{ID: "pod:" + ns + "/" + pod, Kind: "pod", Label: ns + "/" + pod, Namespace: ns, Pod: pod, Node: node, IP: query.IPString(ip)}
	}
	g := socketGroup{RemoteIP: ip}
	n := g.remoteEntity()
	return n
}
