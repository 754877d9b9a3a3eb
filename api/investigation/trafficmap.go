package investigation

import (
	"context"
	"fmt"
	"math"
	"net"
	"sort"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

// buildMap turns socket groups into a traffic map of their event window.
// A connection seen by the agents on both of its ends appears as a client
// group and a server group; the edge keeps the larger of the two.
func buildMap(groups []socketGroup, wi int) apiv1.TrafficMap {
	m := apiv1.TrafficMap{Nodes: []apiv1.MapNode{}, Edges: []apiv1.MapEdge{}}
	nodes := map[string]apiv1.MapNode{}
	type edgeKey struct {
		src, dst string
		port     uint16
	}
	type sided struct{ client, server edgeAcc }
	edges := map[edgeKey]*sided{}
	var order []edgeKey
	for i := range groups {
		g := &groups[i]
		st := g.W[wi]
		if st.Bytes == 0 && st.Conns == 0 {
			continue
		}
		local, remote := g.localEntity(), g.remoteEntity()
		src, dst := local, remote
		if g.Direction == "server" {
			src, dst = remote, local
		}
		for _, n := range []apiv1.MapNode{src, dst} {
			if _, ok := nodes[n.ID]; !ok {
				nodes[n.ID] = n
			}
		}
		k := edgeKey{src.ID, dst.ID, g.servicePort()}
		e := edges[k]
		if e == nil {
			e = &sided{}
			edges[k] = e
			order = append(order, k)
		}
		side := &e.client
		if g.Direction == "server" {
			side = &e.server
		}
		side.add(st)
		side.Source, side.Target, side.Port = src.ID, dst.ID, k.port
	}
	for _, k := range order {
		e := edges[k]
		best := e.client
		if e.server.Bytes > best.Bytes {
			best = e.server
		}
		m.Edges = append(m.Edges, best.edge())
	}
	sortEdges(m.Edges)
	for _, n := range nodes {
		m.Nodes = append(m.Nodes, n)
	}
	sort.Slice(m.Nodes, func(i, j int) bool { return m.Nodes[i].ID < m.Nodes[j].ID })
	return m
}

// edgeAcc sums the agents' view of one side of an edge.
type edgeAcc struct {
	apiv1.MapEdge
	conns, retr uint64
	rtt         float64
}

// add counts a group's window; RTT is averaged by bytes over the groups.
func (a *edgeAcc) add(st windowStats) {
	w := float64(a.Bytes)
	a.rtt = (a.rtt*w + st.RTTP50*float64(st.Bytes)) / math.Max(w+float64(st.Bytes), 1)
	a.Bytes += st.Bytes
	a.conns += st.Conns
	a.retr += st.Retr
}

func (a *edgeAcc) edge() apiv1.MapEdge {
	e := a.MapEdge
	e.Connections, e.RTTAvgUs, e.Retransmits = &a.conns, &a.rtt, &a.retr
	return e
}

// sortEdges puts the largest edges first, equal ones by their ends.
func sortEdges(es []apiv1.MapEdge) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Bytes != es[j].Bytes {
			return es[i].Bytes > es[j].Bytes
		}
		return es[i].Source+es[i].Target < es[j].Source+es[j].Target
	})
}

// contributorMap is the traffic map restricted to the contributors'
// sessions and the degraded paths (from sockets, else from flows).
func contributorMap(groups []socketGroup, flows []flowGroup, ct apiv1.Contributors, health []apiv1.SessionHealth) apiv1.TrafficMap {
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
	m := apiv1.TrafficMap{Edges: []apiv1.MapEdge{}}
	nodes := firsts[apiv1.MapNode]{list: []apiv1.MapNode{}}
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
		nodes.add(src.ID, src)
		nodes.add(dst.ID, dst)
		k := fmt.Sprintf("%s|%s|%d", src.ID, dst.ID, port)
		if i, ok := edges[k]; ok {
			m.Edges[i].Bytes += f.W[1]
			continue
		}
		edges[k] = len(m.Edges)
		m.Edges = append(m.Edges, apiv1.MapEdge{Source: src.ID, Target: dst.ID, Port: port, Bytes: f.W[1]})
	}
	sortEdges(m.Edges)
	m.Nodes = nodes.list
	return m
}

func flowEndpoint(ip net.IP, ns, pod, node string) apiv1.MapNode {
	if pod != "" {
		return apiv1.MapNode{ID: "pod:" + ns + "/" + pod, Kind: "pod", Label: ns + "/" + pod, Namespace: ns, Pod: pod, Node: node, IP: query.IPString(ip)}
	}
	g := socketGroup{RemoteIP: ip}
	n := g.remoteEntity()
	return n
}

// TrafficMap is the agents' map of the sockets q selects (without time
// conditions) over the minutes of [from, to): the largest limit groups of
// the minute rollup.
func (c *Investigator) TrafficMap(ctx context.Context, q *query.Builder, from, to time.Time, limit int) (apiv1.TrafficMap, error) {
	// Whole minutes of the rollup, as the range's minutes are.
	end := to.Add(time.Minute - time.Nanosecond).Truncate(time.Minute)
	groups, err := c.socketGroups(ctx, query.MinuteSockets, q, query.Window{Start: from, End: from}, query.Window{Start: from.Truncate(time.Minute), End: end}, limit)
	if err != nil {
		return apiv1.TrafficMap{}, err
	}
	return buildMap(groups, 1), nil
}
