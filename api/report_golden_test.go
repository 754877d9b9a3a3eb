package api

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/client"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the report tests")

// TestInvestigateReportWithEachLayerMissing prints `netstrata
// investigate` for the seed scenario's load spike with all layers and
// with each one missing, and compares it with testdata/report/*.golden
// (times as offsets from the range's start; -update rewrites them).
func TestInvestigateReportWithEachLayerMissing(t *testing.T) {
	for _, missing := range []string{"", "snmp", "flows", "sockets", "pods"} {
		name := "no-" + missing
		if missing == "" {
			name = "all-layers"
		}
		t.Run(name, func(t *testing.T) {
			a := newTestAPI(t)
			s := fixedScenario() // a range across midnight prints dates
			seedWorker1(t, a, s, true, false, missing)
			var out bytes.Buffer
			args := []string{"--api", a.url, "--node", "worker-1", "--from", s.start.Format(time.RFC3339), "--to", s.end.Format(time.RFC3339)}
			if err := client.RunInvestigateCLI(context.Background(), args, &out); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "report", name+".golden"), relativeTimes(out.String(), s.start))
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("report differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var (
	dateRE  = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	clockRE = regexp.MustCompile(`(^|[^\d.:])(\d{2}):(\d{2})(?::(\d{2}))?\b`) // not the end of an address:port
)

// relativeTimes replaces dates by DATE and times of day by their offset
// from start ("T+40m", "T-5m30s"), so that a report of data seeded
// relative to now compares with a fixed file.
func relativeTimes(s string, start time.Time) string {
	s = dateRE.ReplaceAllString(s, "DATE")
	base := start.UTC().Hour()*3600 + start.UTC().Minute()*60 + start.UTC().Second()
	return clockRE.ReplaceAllStringFunc(s, func(m string) string {
		p := clockRE.FindStringSubmatch(m)
		h, _ := strconv.Atoi(p[2])
		mi, _ := strconv.Atoi(p[3])
		sec, _ := strconv.Atoi(p[4])
		d := (h*3600+mi*60+sec-base+36*3600)%(24*3600) - 12*3600
		sign := "+"
		if d < 0 {
			sign, d = "-", -d
		}
		off := fmt.Sprintf("%dm", d/60)
		if d%60 != 0 {
			off += fmt.Sprintf("%ds", d%60)
		}
		return p[1] + "T" + sign + off
	})
}
