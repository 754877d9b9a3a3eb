package api

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"

	"github.com/netstrata/netstrata/api/query"
)

// windowStats is one socket group's activity within a window.
type windowStats struct {
	Bytes, Sent, Segs, Retr, Conns uint64
	RTTP50, RTTP95, RTTP99, Jitter float64
}

// socketGroup is the traffic between one local endpoint (pod/process on
// a node) and one remote endpoint, client ports folded, in a baseline
// window (W[0]) and an event window (W[1]).
type socketGroup struct {
	Direction, Node, LocalNS, LocalPod, Comm string
	LocalIP, RemoteIP                        net.IP
	LocalPort, RemotePort                    uint16
	RemoteNS, RemotePod, RemoteNode          string
	W                                        [2]windowStats
}

// servicePort is the port of the service side of the connection.
func (g *socketGroup) servicePort() uint16 {
	if g.Direction == "server" {
		return g.LocalPort
	}
	return g.RemotePort
}

// localEntity and remoteEntity are the map nodes of the two ends.
func (g *socketGroup) localEntity() MapNode {
	if g.LocalPod != "" {
		return MapNode{ID: "pod:" + g.LocalNS + "/" + g.LocalPod, Kind: "pod", Label: g.LocalNS + "/" + g.LocalPod,
			Node: g.Node, Namespace: g.LocalNS, Pod: g.LocalPod, Process: g.Comm, IP: query.IPString(g.LocalIP)}
	}
	return MapNode{ID: "process:" + g.Node + "/" + g.Comm, Kind: "process", Label: g.Comm + "@" + g.Node,
		Node: g.Node, Process: g.Comm, IP: query.IPString(g.LocalIP)}
}

func (g *socketGroup) remoteEntity() MapNode {
	ip := query.IPString(g.RemoteIP)
	if g.RemotePod != "" {
		return MapNode{ID: "pod:" + g.RemoteNS + "/" + g.RemotePod, Kind: "pod", Label: g.RemoteNS + "/" + g.RemotePod,
			Node: g.RemoteNode, Namespace: g.RemoteNS, Pod: g.RemotePod, IP: ip}
	}
	kind := "external"
	if a, ok := netip.AddrFromSlice(g.RemoteIP); ok && (a.Unmap().IsPrivate() || a.Unmap().IsLoopback()) {
		kind = "service"
	}
	n := MapNode{ID: "ip:" + ip, Kind: kind, Label: ip, IP: ip}
	if g.Direction == "client" {
		n.ID, n.Label, n.Port = fmt.Sprintf("ip:%s:%d", ip, g.RemotePort), fmt.Sprintf("%s:%d", ip, g.RemotePort), g.RemotePort
	}
	return n
}

// socketGroups reads the groups matching q (without time conditions) over
// the two windows, largest first: byte counts shared between the windows
// by how much of each agent interval fell in them, connections and RTT
// quantiles of the intervals touching them.
func (c *Component) socketGroups(ctx context.Context, sp query.Span, q *query.Builder, base, event query.Window, limit int) ([]socketGroup, error) {
	q = q.Clone()
	lo := base.Start
	if base.Dur() == 0 {
		lo = event.Start
	}
	src := sp.Rows(q, lo, event.End)
	// The rollup keeps connections and RTT as aggregate states.
	conns, rtt, jit, lport, rport := "uniqMergeIf(sockets, %s)", "quantilesTDigestMergeIf(0.5, 0.95, 0.99)(srtt_us, %s)", "quantilesTDigestMergeIf(0.5, 0.9, 0.99)(jitter_us, %s)", "local_port", "remote_port"
	if sp.IsRaw() {
		conns, rtt, jit = "uniqIf(netns, socket_id, %s)", "quantilesTDigestIf(0.5, 0.95, 0.99)(srtt_us, %s)", "quantilesTDigestIf(0.5, 0.9, 0.99)(jitter_us, %s)"
		lport, rport = "if(direction = 'client', 0, local_port)", "if(direction = 'server', 0, remote_port)"
	}
	cols := ""
	for _, w := range []query.Window{base, event} {
		in := query.InWindow(q, w)
		cols += fmt.Sprintf(`,
	toUInt64(%s), toUInt64(%s), toUInt64(%s), toUInt64(%s), `+conns+`, `+rtt+`, `+jit,
			query.WindowSum(q, "bytes_sent + bytes_received", w), query.WindowSum(q, "bytes_sent", w), query.WindowSum(q, "segs_out", w), query.WindowSum(q, "retransmits", w), in, in, in)
	}
	sql := `SELECT toString(direction), node, local_namespace, local_pod, comm, local_ip, ` + lport + ` AS lport, remote_ip, ` + rport + ` AS rport,
	any(remote_namespace), any(remote_pod), any(remote_node)` + cols + `
FROM ` + src + ` WHERE ` + q.Where() + `
GROUP BY direction, node, local_namespace, local_pod, comm, local_ip, lport, remote_ip, rport
ORDER BY sum(bytes_sent + bytes_received) DESC
LIMIT ` + q.Bind("UInt32", uint32(limit))
	var out []socketGroup
	err := c.run(ctx, "socket_groups", sql, q.Args, func(rows driver.Rows) error {
		var g socketGroup
		var rtt, jit [2][]float64
		if err := rows.Scan(&g.Direction, &g.Node, &g.LocalNS, &g.LocalPod, &g.Comm, &g.LocalIP, &g.LocalPort, &g.RemoteIP, &g.RemotePort,
			&g.RemoteNS, &g.RemotePod, &g.RemoteNode,
			&g.W[0].Bytes, &g.W[0].Sent, &g.W[0].Segs, &g.W[0].Retr, &g.W[0].Conns, &rtt[0], &jit[0],
			&g.W[1].Bytes, &g.W[1].Sent, &g.W[1].Segs, &g.W[1].Retr, &g.W[1].Conns, &rtt[1], &jit[1]); err != nil {
			return err
		}
		for i := range 2 {
			g.W[i].RTTP50, g.W[i].RTTP95, g.W[i].RTTP99, g.W[i].Jitter = quantileAt(rtt[i], 0), quantileAt(rtt[i], 1), quantileAt(rtt[i], 2), quantileAt(jit[i], 0)
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

func quantileAt(qs []float64, i int) float64 {
	if i >= len(qs) {
		return 0
	}
	return apiv1.Finite(qs[i])
}

// buildMap turns socket groups into a traffic map of their event window.
// A connection seen by the agents on both of its ends appears as a client
// group and a server group; the edge keeps the larger of the two.
func buildMap(groups []socketGroup, wi int) TrafficMap {
	m := TrafficMap{Nodes: []MapNode{}, Edges: []MapEdge{}}
	nodes := map[string]MapNode{}
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
		for _, n := range []MapNode{src, dst} {
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
	// Whole minutes of the rollup, as the range's minutes are.
	end := to.Add(time.Minute - time.Nanosecond).Truncate(time.Minute)
	groups, err := c.socketGroups(ctx, query.MinuteSockets, q, query.Window{Start: from, End: from}, query.Window{Start: from.Truncate(time.Minute), End: end}, limit)
	if err != nil {
		return nil, err
	}
	return TrafficMapResponse{Range: Range{From: from, To: to, Source: "sockets_1m"}, TrafficMap: buildMap(groups, 1)}, nil
}

// edgeAcc sums the agents' view of one side of an edge.
type edgeAcc struct {
	MapEdge
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

func (a *edgeAcc) edge() MapEdge {
	e := a.MapEdge
	e.Connections, e.RTTAvgUs, e.Retransmits = &a.conns, &a.rtt, &a.retr
	return e
}

// sortEdges puts the largest edges first, equal ones by their ends.
func sortEdges(es []MapEdge) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Bytes != es[j].Bytes {
			return es[i].Bytes > es[j].Bytes
		}
		return es[i].Source+es[i].Target < es[j].Source+es[j].Target
	})
}
