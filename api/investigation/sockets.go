package investigation

import (
	"context"
	"fmt"
	"net"
	"net/netip"

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
func (g *socketGroup) localEntity() apiv1.MapNode {
	if g.LocalPod != "" {
		return apiv1.MapNode{ID: "pod:" + g.LocalNS + "/" + g.LocalPod, Kind: "pod", Label: g.LocalNS + "/" + g.LocalPod,
			Node: g.Node, Namespace: g.LocalNS, Pod: g.LocalPod, Process: g.Comm, IP: query.IPString(g.LocalIP)}
	}
	return apiv1.MapNode{ID: "process:" + g.Node + "/" + g.Comm, Kind: "process", Label: g.Comm + "@" + g.Node,
		Node: g.Node, Process: g.Comm, IP: query.IPString(g.LocalIP)}
}

func (g *socketGroup) remoteEntity() apiv1.MapNode {
	ip := query.IPString(g.RemoteIP)
	if g.RemotePod != "" {
		return apiv1.MapNode{ID: "pod:" + g.RemoteNS + "/" + g.RemotePod, Kind: "pod", Label: g.RemoteNS + "/" + g.RemotePod,
			Node: g.RemoteNode, Namespace: g.RemoteNS, Pod: g.RemotePod, IP: ip}
	}
	kind := "external"
	if a, ok := netip.AddrFromSlice(g.RemoteIP); ok && (a.Unmap().IsPrivate() || a.Unmap().IsLoopback()) {
		kind = "service"
	}
	n := apiv1.MapNode{ID: "ip:" + ip, Kind: kind, Label: ip, IP: ip}
	if g.Direction == "client" {
		n.ID, n.Label, n.Port = fmt.Sprintf("ip:%s:%d", ip, g.RemotePort), fmt.Sprintf("%s:%d", ip, g.RemotePort), g.RemotePort
	}
	return n
}

// socketGroups reads the groups matching q (without time conditions) over
// the two windows, largest first: byte counts shared between the windows
// by how much of each agent interval fell in them, connections and RTT
// quantiles of the intervals touching them.
func (c *Investigator) socketGroups(ctx context.Context, sp query.Span, q *query.Builder, base, event query.Window, limit int) ([]socketGroup, error) {
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
	err := c.Run(ctx, "socket_groups", sql, q.Args, func(rows driver.Rows) error {
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
