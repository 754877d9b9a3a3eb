package investigation

import (
	"context"
	"fmt"
	"net"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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
func (c *Investigator) flowGroups(ctx context.Context, sp query.Span, scope *query.Builder, base, event query.Window) ([]flowGroup, error) {
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
	err := c.Run(ctx, "flow_groups", sql, q.Args, func(rows driver.Rows) error {
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
func (c *Investigator) socketGroupsForFlows(ctx context.Context, sp query.Span, flows []flowGroup, base, event query.Window) ([]socketGroup, error) {
	pairs := firsts[[]any]{limit: 400}
	for _, f := range flows {
		src, dst := query.IPString16(f.SrcIP), query.IPString16(f.DstIP)
		pairs.add(src+"|"+dst, []any{src, dst})
		pairs.add(dst+"|"+src, []any{dst, src})
	}
	q := &query.Builder{}
	q.TupleIn([]string{"local_ip", "remote_ip"}, []string{"IPv6", "IPv6"}, pairs.list)
	return c.socketGroups(ctx, sp, q, base, event, maxGroups)
}
