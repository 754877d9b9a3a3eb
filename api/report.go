package api

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// RenderReport prints an investigation for a terminal: the verdict and
// its evidence first, then the tables behind them.
func RenderReport(w io.Writer, inv *Investigation) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Investigation of %s, %s – %s UTC\n\n", inv.Subject.Label, inv.From.UTC().Format("2006-01-02 15:04"), inv.To.UTC().Format("15:04"))
	fmt.Fprintf(b, "VERDICT  %s\n", inv.Verdict.Summary)
	for _, e := range inv.Verdict.Evidence {
		fmt.Fprintf(b, "  • %s\n", e)
	}
	b.WriteString("\n")

	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	if inv.Spike != nil && inv.Baseline != nil {
		fmt.Fprintf(tw, "Spike\t%s–%s\t%s\t%s\t%d retransmits\t(%s)\n", clock(inv.Spike.Start), clock(inv.Spike.End), humanBytes(inv.Spike.Bytes), humanBps(inv.Spike.Bps), inv.Spike.Retransmits, inv.Spike.Source)
		fmt.Fprintf(tw, "Baseline\t%s–%s\t%s\t%s\t%d retransmits\t\n", clock(inv.Baseline.Start), clock(inv.Baseline.End), humanBytes(inv.Baseline.Bytes), humanBps(inv.Baseline.Bps), inv.Baseline.Retransmits)
		if inv.Growth > 0 {
			fmt.Fprintf(tw, "Growth\t%s×\t\t\t\t\n", trimFloat(inv.Growth))
		}
	}
	tw.Flush()

	contributors := []struct {
		title string
		rows  []Contributor
	}{{"Ports", inv.Contributors.Ports}, {"Sessions", inv.Contributors.Sessions}, {"Pods", inv.Contributors.Pods}, {"Processes", inv.Contributors.Processes}}
	for _, sec := range contributors {
		if len(sec.rows) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s\n", sec.title)
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\tbaseline\tspike\tdelta\tshare\t\n")
		for _, c := range sec.rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t\n", "  "+c.Key, humanBytes(c.BaselineBytes), humanBytes(c.SpikeBytes), signedBytes(c.DeltaBytes), c.Share*100)
		}
		tw.Flush()
	}

	if len(inv.Health) > 0 {
		b.WriteString("\nSession health (spike vs baseline)\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  path\tstate\tretransmits\tretr. rate\tRTT p99 ms\tjitter ms\n")
		for _, h := range inv.Health {
			state := "ok"
			if h.Degraded {
				state = "DEGRADED"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d vs %d\t%.2f%% vs %.2f%%\t%.1f vs %.1f\t%.1f vs %.1f\n", h.Path, state,
				h.Spike.Retransmits, h.Baseline.Retransmits, h.Spike.RetransmitRate*100, h.Baseline.RetransmitRate*100,
				h.Spike.RTTP99Us/1000, h.Baseline.RTTP99Us/1000, h.Spike.JitterUs/1000, h.Baseline.JitterUs/1000)
		}
		tw.Flush()
	}

	if len(inv.TrafficMap.Edges) > 0 {
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
			fmt.Fprintf(tw, "  %s\t→ %s\t:%d\t%s\t%d conns\tRTT %.1f ms\t%d retr.\n", label(labels, e.Source), label(labels, e.Target), e.Port,
				humanBytes(e.Bytes), e.Connections, e.RTTAvgUs/1000, e.Retransmits)
		}
		tw.Flush()
	}

	if len(inv.Interfaces) > 0 {
		b.WriteString("\nInterfaces on the path\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, i := range inv.Interfaces {
			status := i.OperStatus
			if status == "" {
				status = "not polled by SNMP"
			}
			fmt.Fprintf(tw, "  %s %s (ifIndex %d)\t%s\tspeed %s\tin %s\tout %s\tpeak %.0f%%\t%s\n", i.Device, i.Name, i.IfIndex, i.Role,
				humanBps(float64(i.SpeedBps)), humanBps(i.InBps), humanBps(i.OutBps), i.MaxUtilization*100, status)
		}
		tw.Flush()
	}

	if len(inv.Reconciliation) > 0 {
		b.WriteString("\nReconciliation (flows × sampling vs SNMP)\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, r := range inv.Reconciliation {
			fmt.Fprintf(tw, "  %s ifIndex %d %s\t%s\tratio %.3f\t1:%d\t%s\n", r.Exporter, r.IfIndex, r.Direction, r.Status, r.Ratio, r.SamplingRate, r.Hint)
		}
		tw.Flush()
	}

	if len(inv.Pods) > 0 {
		b.WriteString("\nPods\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, p := range inv.Pods {
			fmt.Fprintf(tw, "  %s/%s\t%s\t%s\trestarts %d (+%d)\t%s\n", p.Namespace, p.Name, p.Node, p.Phase, p.Restarts, p.RestartsInWindow, p.Workload)
		}
		tw.Flush()
	}

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
	_, err := io.WriteString(w, b.String())
	return err
}

func label(labels map[string]string, id string) string {
	if l, ok := labels[id]; ok {
		return l
	}
	return id
}

func signedBytes(d int64) string {
	if d < 0 {
		return "-" + humanBytes(uint64(-d))
	}
	return "+" + humanBytes(uint64(d))
}
