package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestInvestigateAnswerIsUnchanged compares the whole JSON answer of the
// investigation, for the seed scenarios (the load spike with every layer
// and with each one missing, the retransmit storm, no change, an unknown
// node), with testdata/investigation/*.golden.json (times as offsets
// from the range's start; -update rewrites them): how the investigation
// is computed may change, what it answers may not without a reviewed
// golden file.
func TestInvestigateAnswerIsUnchanged(t *testing.T) {
	cases := []struct {
		name       string
		load, retr bool
		node       string
		missing    string
	}{
		{name: "load-spike", load: true, node: "worker-1"},
		{name: "load-spike-no-snmp", load: true, node: "worker-1", missing: "snmp"},
		{name: "load-spike-no-flows", load: true, node: "worker-1", missing: "flows"},
		{name: "load-spike-no-sockets", load: true, node: "worker-1", missing: "sockets"},
		{name: "load-spike-no-pods", load: true, node: "worker-1", missing: "pods"},
		{name: "retransmit-storm", retr: true, node: "worker-1"},
		{name: "no-change", node: "worker-1"},
		{name: "unknown-node", node: "worker-9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newTestAPI(t)
			s := fixedScenario()
			seedWorker1(t, a, s, c.load, c.retr, c.missing)
			var raw json.RawMessage
			if st := a.get(t, "/api/v1/investigate", s.rangeQuery(url.Values{"node": {c.node}}), &raw); st != 200 {
				t.Fatalf("status %d: %s", st, raw)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			compareGolden(t, filepath.Join("testdata", "investigation", c.name+".golden.json"), relativeTimes(relativeStamps(out.String(), s.start), s.start))
		})
	}
}

// fixedScenario is the seed scenario on an hour of the clock that ends
// no day: the 5-minute buckets of the rollups then fall alike on every run.
func fixedScenario() scenario {
	end := time.Now().UTC().Truncate(time.Hour)
	if end.Hour() == 0 {
		end = end.Add(-time.Hour)
	}
	return scenario{start: end.Add(-time.Hour), end: end}
}

var stampRE = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"`)

// relativeStamps replaces the RFC 3339 times of a JSON answer by their
// offset from start ("T+40m0s"), so that data seeded relative to now
// compares with a fixed file.
func relativeStamps(s string, start time.Time) string {
	return stampRE.ReplaceAllStringFunc(s, func(m string) string {
		t, err := time.Parse(time.RFC3339Nano, m[1:len(m)-1])
		if err != nil {
			return m
		}
		return `"T` + fmt.Sprintf("%+v", t.Sub(start)) + `"`
	})
}
