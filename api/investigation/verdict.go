package investigation

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// judge is step 4: each layer's status and the verdict.
func (r *investigation) judge(outside *apiv1.OutsideRange) {
	inv := r.inv
	r.rows["snmp"] += uint64(countSNMP(inv.Interfaces))
	r.rows["pods"] = uint64(len(inv.Pods))
	for _, layer := range []string{"snmp", "flows", "sockets", "pods"} {
		n := r.rows[layer]
		ls := apiv1.LayerStatus{Layer: layer, Available: n > 0, Rows: n}
		if !ls.Available {
			ls.Note = r.c.missingNote(layer, r.sc)
			inv.Missing = append(inv.Missing, layer)
			if layer == "flows" && outside != nil {
				ls.Outside = outside
				if outside.Rows > 0 {
					ls.Note += " in the range; " + outside.Note
				}
			}
		}
		inv.Layers = append(inv.Layers, ls)
	}
	inv.Verdict = verdict(inv, r.groups, r.windows.found)
}

// verdict states the answer in plain words with its evidence.
func verdict(inv *apiv1.Investigation, groups []socketGroup, spikeFound bool) apiv1.Verdict {
	v := apiv1.Verdict{Evidence: []string{}}
	anyData := false
	for _, l := range inv.Layers {
		anyData = anyData || l.Available
	}
	if !anyData {
		v.Kind = apiv1.VerdictNoData
		v.Summary = fmt.Sprintf("no data for %s %s in any layer", inv.Subject.Label, between(inv.From, inv.To))
		return v
	}
	var degraded []apiv1.SessionHealth
	for _, h := range inv.Health {
		if h.Degraded {
			degraded = append(degraded, h)
		}
	}
	v.Kind, v.Summary = summary(inv, groups, spikeFound, degraded)
	// Evidence, most telling first.
	v.Evidence = append(v.Evidence, spikeEvidence(inv, spikeFound)...)
	v.Evidence = append(v.Evidence, healthEvidence(inv, degraded)...)
	v.Evidence = append(v.Evidence, pathEvidence(inv)...)
	if len(inv.Missing) > 0 {
		v.Evidence = append(v.Evidence, "layers without data: "+strings.Join(inv.Missing, ", "))
	}
	return v
}

// summary is the verdict's kind and sentence: load growth (who grew
// towards which port), degradation (of which path), both, or neither.
func summary(inv *apiv1.Investigation, groups []socketGroup, spikeFound bool, degraded []apiv1.SessionHealth) (kind, sentence string) {
	load := ""
	if spikeFound && inv.Growth >= minGrowthForLoadNote {
		load = loadSentence(inv, groups)
	}
	deg := ""
	if len(degraded) > 0 {
		d := degraded[0]
		deg = fmt.Sprintf("%s on %s", shortReason(d.Reason), d.Path)
		if len(degraded) > 1 {
			deg += fmt.Sprintf(" (and %d more paths)", len(degraded)-1)
		}
	}
	switch {
	case load != "" && deg != "":
		return apiv1.VerdictBoth, fmt.Sprintf("%s: %s; %s", apiv1.VerdictBoth, load, deg)
	case load != "":
		return apiv1.VerdictLoad, fmt.Sprintf("%s: %s; %s", apiv1.VerdictLoad, load, healthWords(inv))
	case deg != "":
		return apiv1.VerdictDegradation, fmt.Sprintf("%s: %s", apiv1.VerdictDegradation, deg)
	}
	return apiv1.VerdictNone, fmt.Sprintf("%s: traffic of %s %s shows no spike (none of at least %s a minute); %s", apiv1.VerdictNone, inv.Subject.Label,
		between(inv.From, inv.To), apiv1.HumanBytes(minSeriesBytesFloor), healthWords(inv))
}

// spikeEvidence is the spike against its baseline, and with a spike the
// port and the senders and receivers of the increase.
func spikeEvidence(inv *apiv1.Investigation, spikeFound bool) []string {
	var ev []string
	if inv.Spike != nil && inv.Baseline != nil && inv.Spike.Source != "" {
		what := "spike"
		if !spikeFound {
			what = "window"
		}
		dated := apiv1.SpansDays(inv.From, inv.To)
		ev = append(ev, fmt.Sprintf("%s %s UTC: %s (%s) vs baseline %s: %s (%s), from %s",
			what, apiv1.TimeSpan(inv.Spike.Start, inv.Spike.End, dated), apiv1.HumanBytes(inv.Spike.Bytes), apiv1.HumanBps(inv.Spike.Bps),
			apiv1.TimeSpan(inv.Baseline.Start, inv.Baseline.End, dated), apiv1.HumanBytes(inv.Baseline.Bytes), apiv1.HumanBps(inv.Baseline.Bps), inv.Spike.Source))
	}
	if !spikeFound {
		return ev
	}
	if p := inv.Contributors.Ports; len(p) > 0 {
		ev = append(ev, fmt.Sprintf("port %s accounts for %.0f%% of the increase (%s → %s)", p[0].Key, p[0].Share*100, apiv1.HumanBytes(p[0].BaselineBytes), apiv1.HumanBytes(p[0].SpikeBytes)))
	}
	for _, side := range []struct {
		what string
		of   []apiv1.Contributor
	}{{"sent by", inv.Contributors.Senders}, {"received by", inv.Contributors.Receivers}} {
		if e := sharesOf(side.what, side.of); e != "" {
			ev = append(ev, e)
		}
	}
	return ev
}

// healthEvidence is the first degraded paths, or the busiest one's
// health when none is.
func healthEvidence(inv *apiv1.Investigation, degraded []apiv1.SessionHealth) []string {
	var ev []string
	for _, d := range degraded[:min(len(degraded), 3)] {
		who := ""
		if d.Pod != "" {
			who = " from " + d.Pod
		}
		ev = append(ev, fmt.Sprintf("%s%s: %s; RTT p95 %.1f ms vs %.1f ms", d.Path, who, d.Reason, d.Spike.RTTP95Us/1000, d.Baseline.RTTP95Us/1000))
	}
	if len(degraded) == 0 && len(inv.Health) > 0 {
		h := inv.Health[0]
		ev = append(ev, fmt.Sprintf("busiest path %s: retransmits %.2f%% vs %.2f%% of segments, RTT p95 %.1f ms vs %.1f ms",
			h.Path, h.Spike.RetransmitRate*100, h.Baseline.RetransmitRate*100, h.Spike.RTTP95Us/1000, h.Baseline.RTTP95Us/1000))
	}
	return ev
}

// pathEvidence is what the path's interfaces, their reconciliation and
// the pods show amiss.
func pathEvidence(inv *apiv1.Investigation) []string {
	var ev []string
	for _, i := range inv.Interfaces {
		n := i.SNMP
		if n == nil {
			continue
		}
		if n.MaxUtilization >= 0.7 {
			ev = append(ev, fmt.Sprintf("interface %s %s peaked at %.0f%% utilisation", i.Device, i.Name, n.MaxUtilization*100))
		}
		if n.Errors+n.Discards > 0 {
			ev = append(ev, fmt.Sprintf("interface %s %s: %d errors, %d discards in the window", i.Device, i.Name, n.Errors, n.Discards))
		}
	}
	for _, r := range inv.Reconciliation {
		if r.Status != "ok" {
			ev = append(ev, fmt.Sprintf("reconciliation %s ifIndex %d %s: %s", r.Exporter, r.IfIndex, r.Direction, r.Hint))
		}
	}
	for _, p := range inv.Pods {
		if p.RestartsInWindow > 0 {
			ev = append(ev, fmt.Sprintf("pod %s/%s restarted %d times", p.Namespace, p.Name, p.RestartsInWindow))
		}
		if p.Phase != "Running" && p.Phase != "" {
			ev = append(ev, fmt.Sprintf("pod %s/%s is %s", p.Namespace, p.Name, p.Phase))
		}
	}
	return ev
}

// healthWords says how the sessions fared, or that nothing measured
// them: without the agents' sockets there is no RTT nor retransmit.
func healthWords(inv *apiv1.Investigation) string {
	if len(inv.Health) == 0 {
		return "session health unknown (no agent data)"
	}
	return "sessions healthy"
}

// sharesOf lists the significant shares of the increase: "sent by
// shop/pod-a 25%, shop/pod-b 25%".
func sharesOf(what string, cs []apiv1.Contributor) string {
	var parts []string
	for _, c := range cs {
		if c.Share >= significantShare {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", c.Key, c.Share*100))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "increase " + what + " " + strings.Join(parts, ", ")
}

// loadSentence names who grew towards which port: "4 pods on worker-1
// sent 3.1× more to :8081".
func loadSentence(inv *apiv1.Investigation, groups []socketGroup) string {
	ports := inv.Contributors.Ports
	if len(ports) == 0 {
		return fmt.Sprintf("traffic of %s grew %s×", inv.Subject.Label, apiv1.TrimFloat(inv.Growth))
	}
	port := ports[0].Key
	pn, _ := strconv.Atoi(strings.TrimPrefix(port, ":"))
	g := growersTo(groups, pn)
	if g.n == 0 {
		// No agent view: the flows' port growth.
		return fmt.Sprintf("traffic to %s grew %s× (%s → %s)", port, growthText(ports[0].BaselineBytes, ports[0].SpikeBytes), apiv1.HumanBytes(ports[0].BaselineBytes), apiv1.HumanBytes(ports[0].SpikeBytes))
	}
	if g.base == 0 {
		return fmt.Sprintf("%d %s%s started sending %s to %s", g.n, g.noun, g.on, apiv1.HumanBytes(g.spike), port)
	}
	return fmt.Sprintf("%d %s%s sent %s× more to %s", g.n, g.noun, g.on, growthText(g.base, g.spike), port)
}

// growers are the pods (else processes) whose traffic to a port grew:
// how many, their bytes in both windows, and on which nodes.
type growers struct {
	noun        string // "pods", "process", …
	n           int
	base, spike uint64
	on          string // " on worker-1, worker-2", " on 5 nodes" or ""
}

func growersTo(groups []socketGroup, port int) growers {
	pods, procs := map[string]*[2]uint64{}, map[string]*[2]uint64{}
	for i := range groups {
		g := &groups[i]
		if int(g.servicePort()) != port {
			continue
		}
		k := podLabel(g.LocalNS, g.LocalPod)
		m := pods
		if g.Direction == "server" || k == "" {
			k, m = g.Comm+"@"+g.Node, procs
		}
		if m[k] == nil {
			m[k] = &[2]uint64{}
		}
		m[k][0] += g.W[0].Bytes
		m[k][1] += g.W[1].Bytes
	}
	nodes := map[string]bool{}
	g := growers{noun: "pods"}
	g.n, g.base, g.spike = grown(pods, groups, nodes)
	if g.n == 0 {
		g.noun = "processes"
		g.n, g.base, g.spike = grown(procs, groups, nodes)
	}
	if g.n == 1 {
		g.noun = map[string]string{"pods": "pod", "processes": "process"}[g.noun]
	}
	names := make([]string, 0, len(nodes))
	for nd := range nodes {
		names = append(names, nd)
	}
	sort.Strings(names)
	if len(names) > 0 && len(names) <= 3 {
		g.on = " on " + strings.Join(names, ", ")
	} else if len(names) > 3 {
		g.on = fmt.Sprintf(" on %d nodes", len(names))
	}
	return g
}

// grown counts the keys of m whose bytes grew, sums their bytes, and
// adds the nodes of their groups to nodes.
func grown(m map[string]*[2]uint64, groups []socketGroup, nodes map[string]bool) (n int, base, spike uint64) {
	for k, w := range m {
		if w[1] <= w[0] {
			continue
		}
		n++
		base += w[0]
		spike += w[1]
		for i := range groups {
			if podLabel(groups[i].LocalNS, groups[i].LocalPod) == k || groups[i].Comm+"@"+groups[i].Node == k {
				nodes[groups[i].Node] = true
			}
		}
	}
	return n, base, spike
}

func growthText(base, spike uint64) string {
	if base == 0 {
		return "∞"
	}
	return apiv1.TrimFloat(float64(spike) / float64(base))
}

// shortReason keeps the head of a health reason: "retransmits 12× baseline".
func shortReason(r string) string {
	if i := strings.Index(r, " ("); i > 0 {
		r = r[:i]
	}
	if i := strings.Index(r, ";"); i > 0 {
		r = r[:i]
	}
	return r
}

// between names a range: times of day within a day, dates beyond.
func between(from, to time.Time) string {
	if to.Sub(from) < 20*time.Hour {
		return "between " + apiv1.HourMinute(from) + " and " + apiv1.HourMinute(to) + " UTC"
	}
	return "between " + from.UTC().Format("2006-01-02 15:04") + " and " + to.UTC().Format("2006-01-02 15:04") + " UTC"
}
