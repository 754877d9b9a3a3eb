package investigation

import (
	"fmt"
	"net"
	"sort"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

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
func (t *tally) top(byDelta bool) []apiv1.Contributor {
	var total float64
	for _, c := range t.m {
		if d := float64(c.w[1]) - float64(c.w[0]); d > 0 {
			total += d
		}
	}
	out := make([]apiv1.Contributor, 0, len(t.m))
	for _, k := range t.order {
		c := t.m[k]
		d := int64(c.w[1]) - int64(c.w[0])
		if byDelta && d <= 0 {
			continue
		}
		ct := apiv1.Contributor{Key: c.key, Node: c.node, BaselineBytes: c.w[0], SpikeBytes: c.w[1], DeltaBytes: d}
		if total > 0 && d > 0 {
			ct.Share = apiv1.Round(float64(d)/total, 3)
		}
		if c.w[0] > 0 {
			ct.Growth = apiv1.Round(float64(c.w[1])/float64(c.w[0]), 2)
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

func socketContributors(groups []socketGroup, byDelta bool) apiv1.Contributors {
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
	return apiv1.Contributors{Ports: ports.top(byDelta), Sessions: sessions.top(byDelta), Senders: senders.top(byDelta), Receivers: receivers.top(byDelta),
		Pods: pods.top(byDelta), Processes: procs.top(byDelta)}
}

func flowContributors(flows []flowGroup, byDelta bool) apiv1.Contributors {
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
	return apiv1.Contributors{Ports: ports.top(byDelta), Sessions: sessions.top(byDelta), Senders: senders.top(byDelta), Receivers: receivers.top(byDelta),
		Pods: pods.top(byDelta), Processes: []apiv1.Contributor{}}
}
