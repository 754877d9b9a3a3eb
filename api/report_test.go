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
