package investigation

import (
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/client"
)

func TestReportOfNoDataNamesNoLayer(t *testing.T) {
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inv := &apiv1.Investigation{Subject: apiv1.Subject{Label: "node worker-9"}, From: from, To: from.Add(time.Hour),
		Spike:    &apiv1.Window{Start: from.Add(45 * time.Minute), End: from.Add(time.Hour), Note: "no spike found: the last quarter of the range against the quarter before"},
		Baseline: &apiv1.Window{Start: from.Add(30 * time.Minute), End: from.Add(45 * time.Minute)},
		Layers:   []apiv1.LayerStatus{{Layer: "snmp"}, {Layer: "flows"}, {Layer: "sockets"}, {Layer: "pods"}}}
	inv.Verdict = verdict(inv, nil, false)
	var b strings.Builder
	if err := client.RenderReport(&b, inv); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "( (") || strings.Contains(out, "((") || !strings.Contains(out, "(no layer has data; no spike found") {
		t.Errorf("report of no data:\n%s", out)
	}
	if strings.Contains(out, "healthy") || strings.Contains(out, "0 retransmits") {
		t.Errorf("report claims health it never measured:\n%s", out)
	}
}

func TestVerdictNamesADegradedPathWithoutASpike(t *testing.T) {
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inv := &apiv1.Investigation{Subject: apiv1.Subject{Label: "node worker-1"}, From: from, To: from.Add(time.Hour),
		Layers: []apiv1.LayerStatus{{Layer: "sockets", Available: true}},
		Health: []apiv1.SessionHealth{{Path: "10.2.0.6:8081", Degraded: true, Reason: "retransmits 60× baseline (60 vs 1, 6.00% of segments)"},
			{Path: "10.2.0.7:8081", Degraded: true, Reason: "RTT p95 3× baseline (3.0 ms vs 1.0 ms)"}}}
	v := verdict(inv, nil, false)
	if v.Kind != apiv1.VerdictDegradation || v.Summary != "degradation: retransmits 60× baseline on 10.2.0.6:8081 (and 1 more paths)" {
		t.Errorf("verdict %q: %s", v.Kind, v.Summary)
	}
	if len(v.Evidence) != 2 || !strings.HasPrefix(v.Evidence[0], "10.2.0.6:8081: retransmits 60×") {
		t.Errorf("evidence %q, want each degraded path", v.Evidence)
	}
}
