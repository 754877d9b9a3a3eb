package client

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/netstrata/netstrata/api/apiv1"
)

// RenderReport prints an investigation for a terminal: the verdict and
// its evidence first, then the tables behind them.
func RenderReport(w io.Writer, inv *apiv1.Investigation) error {
	b := &strings.Builder{}
	for _, section := range []func(*strings.Builder, *apiv1.Investigation){
		writeVerdict, writeWindows, writeContributors, writeHealth, writeTrafficMap, writePath, writeLayers,
	} {
		section(b, inv)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeVerdict is the report's head: the subject, the range, the verdict
// and its evidence.
func writeVerdict(b *strings.Builder, inv *apiv1.Investigation) {
	fmt.Fprintf(b, "Investigation of %s, %s UTC\n\n", inv.Subject.Label, apiv1.TimeSpan(inv.From, inv.To, true))
	fmt.Fprintf(b, "VERDICT  %s\n", inv.Verdict.Summary)
	for _, e := range inv.Verdict.Evidence {
		fmt.Fprintf(b, "  • %s\n", e)
	}
	b.WriteString("\n")
}

// writeWindows is the spike against its baseline.
func writeWindows(b *strings.Builder, inv *apiv1.Investigation) {
	if inv.Spike == nil || inv.Baseline == nil {
		return
	}
	dated := apiv1.SpansDays(inv.From, inv.To)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Spike\t%s\t%s\t%s\t%s\t%s\n", apiv1.TimeSpan(inv.Spike.Start, inv.Spike.End, dated), apiv1.HumanBytes(inv.Spike.Bytes), apiv1.HumanBps(inv.Spike.Bps), retransmits(inv.Spike.Retransmits), windowSource(inv.Spike))
	fmt.Fprintf(tw, "Baseline\t%s\t%s\t%s\t%s\t\n", apiv1.TimeSpan(inv.Baseline.Start, inv.Baseline.End, dated), apiv1.HumanBytes(inv.Baseline.Bytes), apiv1.HumanBps(inv.Baseline.Bps), retransmits(inv.Baseline.Retransmits))
	if inv.Growth > 0 {
		fmt.Fprintf(tw, "Growth\t%s×\t\t\t\t\n", apiv1.TrimFloat(inv.Growth))
	}
	tw.Flush()
}

// writeContributors is a table per kind of contributor to the increase.
func writeContributors(b *strings.Builder, inv *apiv1.Investigation) {
	contributors := []struct {
		title string
		rows  []apiv1.Contributor
	}{{"Ports", inv.Contributors.Ports}, {"Sessions", inv.Contributors.Sessions}, {"Senders", inv.Contributors.Senders}, {"Receivers", inv.Contributors.Receivers},
		{"Pods", inv.Contributors.Pods}, {"Processes", inv.Contributors.Processes}}
	for _, sec := range contributors {
		if len(sec.rows) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s\n", sec.title)
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\tbaseline\tspike\tdelta\tshare\t\n")
		for _, c := range sec.rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t\n", "  "+c.Key, apiv1.HumanBytes(c.BaselineBytes), apiv1.HumanBytes(c.SpikeBytes), signedBytes(c.DeltaBytes), c.Share*100)
		}
		tw.Flush()
	}
}

// writeHealth is the sessions' health, spike against baseline.
func writeHealth(b *strings.Builder, inv *apiv1.Investigation) {
	if len(inv.Health) == 0 {
		return
	}
	b.WriteString("\nSession health (spike vs baseline)\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  path\tstate\tretransmits\tretr. rate\tRTT p50 ms\tRTT p95 ms\tjitter ms\n")
	for _, h := range inv.Health {
		state := "ok"
		if h.Degraded {
			state = "DEGRADED"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d vs %d\t%.2f%% vs %.2f%%\t%.1f vs %.1f\t%.1f vs %.1f\t%.1f vs %.1f\n", h.Path, state,
			h.Spike.Retransmits, h.Baseline.Retransmits, h.Spike.RetransmitRate*100, h.Baseline.RetransmitRate*100,
			h.Spike.RTTP50Us/1000, h.Baseline.RTTP50Us/1000, h.Spike.RTTP95Us/1000, h.Baseline.RTTP95Us/1000,
			h.Spike.JitterUs/1000, h.Baseline.JitterUs/1000)
	}
	tw.Flush()
}

// writeTrafficMap is the map's edges, pods labelled with their node.
func writeTrafficMap(b *strings.Builder, inv *apiv1.Investigation) {
	if len(inv.TrafficMap.Edges) == 0 {
		return
	}
	b.WriteString("\nTraffic map (spike window)\n")
	labels := map[string]string{}
	for _, n := range inv.TrafficMap.Nodes {
		labels[n.ID] = n.Label
		if n.Kind == "pod" && n.Node != "" {
			labels[n.ID] += " (" + n.Node + ")"
		}
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, e := range inv.TrafficMap.Edges {
		fmt.Fprintf(tw, "  %s\t→ %s\t:%d\t%s\t%s\n", label(labels, e.Source), label(labels, e.Target), e.Port,
			apiv1.HumanBytes(e.Bytes), edgeHealth(e))
	}
	tw.Flush()
}

// writePath is the path's interfaces, their reconciliation and the pods.
func writePath(b *strings.Builder, inv *apiv1.Investigation) {
	writeTable(b, "Interfaces on the path", len(inv.Interfaces), func(tw io.Writer, n int) {
		i := inv.Interfaces[n]
		fmt.Fprintf(tw, "  %s (ifIndex %d)\t%s\t%s\n", strings.TrimSpace(i.Device+" "+i.Name), i.IfIndex, i.Role, interfaceRates(i))
	})
	writeTable(b, "Reconciliation (flows × sampling vs SNMP)", len(inv.Reconciliation), func(tw io.Writer, n int) {
		r := inv.Reconciliation[n]
		fmt.Fprintf(tw, "  %s ifIndex %d %s\t%s\tratio %.3f\t1:%d\t%s\n", r.Exporter, r.IfIndex, r.Direction, r.Status, r.Ratio, r.SamplingRate, r.Hint)
	})
	writeTable(b, "Pod status", len(inv.Pods), func(tw io.Writer, n int) {
		p := inv.Pods[n]
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s\trestarts %d (+%d)\t%s\n", p.Namespace, p.Name, p.Node, p.Phase, p.Restarts, p.RestartsInWindow, p.Workload)
	})
}

// writeLayers is each layer's status, why a missing one is, and the
// thresholds of the analysis.
func writeLayers(b *strings.Builder, inv *apiv1.Investigation) {
	b.WriteString("\nLayers  ")
	for i, l := range inv.Layers {
		if i > 0 {
			b.WriteString("  ")
		}
		if l.Available {
			fmt.Fprintf(b, "%s ✓", l.Layer)
		} else {
			fmt.Fprintf(b, "%s ✗", l.Layer)
		}
	}
	b.WriteString("\n")
	for _, l := range inv.Layers {
		if !l.Available && l.Note != "" {
			fmt.Fprintf(b, "  %s: %s\n", l.Layer, l.Note)
		}
	}
	// The floors that leave things out, said rather than hidden.
	fmt.Fprintf(b, "Thresholds  a spike is %s× the level and at least %s a minute; tables list the %d largest; the evidence names shares of %.0f%% or more\n",
		apiv1.TrimFloat(apiv1.SpikeFactor), apiv1.HumanBytes(apiv1.MinSeriesBytesFloor), apiv1.MaxContributors, apiv1.SignificantShare*100)
}

func label(labels map[string]string, id string) string {
	if l, ok := labels[id]; ok {
		return l
	}
	return id
}

func signedBytes(d int64) string {
	if d < 0 {
		return "-" + apiv1.HumanBytes(uint64(-d))
	}
	return "+" + apiv1.HumanBytes(uint64(d))
}

// edgeHealth is the agents' view of an edge, or says there is none.
func edgeHealth(e apiv1.MapEdge) string {
	if e.Connections == nil || e.RTTAvgUs == nil || e.Retransmits == nil {
		return "connections, RTT, retransmits unknown (no agent data)"
	}
	return fmt.Sprintf("%d conns\tRTT %.1f ms\t%d retr.", *e.Connections, *e.RTTAvgUs/1000, *e.Retransmits)
}

func retransmits(n *uint64) string {
	if n == nil {
		return "retransmits unknown"
	}
	return fmt.Sprintf("%d retransmits", *n)
}

// interfaceRates is what SNMP says of a path interface, or that it does
// not poll it.
func interfaceRates(i apiv1.PathInterface) string {
	n := i.SNMP
	if n == nil {
		return "not polled by SNMP: speed, rates and utilisation unknown"
	}
	return fmt.Sprintf("speed %s\tin %s\tout %s\tpeak %.0f%%\t%s", apiv1.HumanBps(float64(n.SpeedBps)), apiv1.HumanBps(n.InBps), apiv1.HumanBps(n.OutBps), n.MaxUtilization*100, i.OperStatus)
}

// windowSource says where a window's figures come from, and how it was
// chosen without a spike.
func windowSource(w *apiv1.Window) string {
	src := "from " + w.Source
	if w.Source == "" {
		src = "no layer has data"
	}
	if w.Note != "" {
		src += "; " + w.Note
	}
	return "(" + src + ")"
}

// writeTable prints a titled table of rows aligned in columns, row
// writing the n-th; nothing at all when there are no rows.
func writeTable(b *strings.Builder, title string, rows int, row func(tw io.Writer, n int)) {
	if rows == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for n := range rows {
		row(tw, n)
	}
	tw.Flush()
}
