package api

import (
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/client"
)

func TestReportDatesTheWindowsOfAMultiDayRange(t *testing.T) {
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inv := &Investigation{Subject: Subject{Label: "node worker-1"}, From: from, To: from.Add(48 * time.Hour),
		Spike:    &Window{Start: from.Add(30*time.Hour + 5*time.Minute), End: from.Add(30*time.Hour + 20*time.Minute), Source: "flows"},
		Baseline: &Window{Start: from.Add(29*time.Hour + 50*time.Minute), End: from.Add(30*time.Hour + 5*time.Minute), Source: "flows"},
		Verdict:  Verdict{Summary: "load growth: …"}}
	var b strings.Builder
	if err := client.RenderReport(&b, inv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-11-23 09:00 – 2026-11-25 09:00 UTC", "Spike     2026-11-24 15:05 – 15:20", "Baseline  2026-11-24 14:50 – 15:05"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReportOfNoDataNamesNoLayer(t *testing.T) {
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inv := &Investigation{Subject: Subject{Label: "node worker-9"}, From: from, To: from.Add(time.Hour),
		Spike:    &Window{Start: from.Add(45 * time.Minute), End: from.Add(time.Hour), Note: "no spike found: the last quarter of the range against the quarter before"},
		Baseline: &Window{Start: from.Add(30 * time.Minute), End: from.Add(45 * time.Minute)},
		Layers:   []LayerStatus{{Layer: "snmp"}, {Layer: "flows"}, {Layer: "sockets"}, {Layer: "pods"}}}
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
