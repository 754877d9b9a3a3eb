package api

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// TestTopNReadsWholeHoursFromHourlyRollups ranks sessions over a range
// of whole hours and ragged ends: the hours come from the session rollup,
// the ends from the raw flows, and the sums are the raw ones. A filter
// the rollup has no column for reads everything raw, and so do the hours
// before the rollup is complete (a database upgraded to it). A ranking
// the minute rollup answers reads the hour rollup's whole hours.
func TestTopNReadsWholeHoursFromHourlyRollups(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC()
	h0 := now.Truncate(time.Hour).Add(-3 * time.Hour)
	from := h0.Add(-30 * time.Minute)
	session := func(at time.Time, sport uint16, bytes uint64, pod string) flowRow {
		return flowRow{t: at, exporter: "192.0.2.1", sampling: 10, inIf: 1, outIf: 2, src: "10.0.0.1", dst: "10.0.0.2",
			sport: sport, dport: 443, bytes: bytes, packets: 1, app: "https", spod: pod, sns: "shop"}
	}
	var rows []flowRow
	for _, at := range []time.Time{from.Add(5 * time.Minute), h0.Add(10 * time.Minute), h0.Add(70 * time.Minute), h0.Add(130 * time.Minute), now.Add(-time.Second)} {
		rows = append(rows, session(at, 40000, 1000, "web-0"), session(at, 40001, 300, "web-1"))
	}
	insertFlows(t, a.conn, rows)

	topNTo := func(q url.Values, to time.Time) TopNResponse {
		t.Helper()
		var r TopNResponse
		q.Set("from", from.Format(time.RFC3339))
		q.Set("to", to.Format(time.RFC3339Nano))
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		return r
	}
	topN := func(q url.Values) TopNResponse { return topNTo(q, now) }
	checkFlows := func(what string, r TopNResponse, source string, keys []string, bytes []uint64, flows uint64) {
		t.Helper()
		if r.Source != source || len(r.Rows) != len(keys) {
			t.Fatalf("%s: source %s, rows %+v; want %d rows from %s", what, r.Source, r.Rows, len(keys), source)
		}
		for i, row := range r.Rows {
			if row.Key != keys[i] || row.Bytes != bytes[i] || row.Flows != flows {
				t.Errorf("%s: row %+v, want %s with %d bytes in %d flows", what, row, keys[i], bytes[i], flows)
			}
		}
	}
	check := func(what string, r TopNResponse, source string, keys []string, bytes []uint64) {
		t.Helper()
		checkFlows(what, r, source, keys, bytes, 5)
	}
	both := []string{"tcp 10.0.0.1:40000 → 10.0.0.2:443", "tcp 10.0.0.1:40001 → 10.0.0.2:443"}
	check("sessions", topN(url.Values{"by": {"five_tuple"}}), "flows_5tuple_1h, flows", both, []uint64{50000, 15000})
	check("sessions × exporter", topN(url.Values{"by": {"five_tuple,src_port"}, "exporter": {"192.0.2.1"}}), "flows_5tuple_1h, flows",
		[]string{both[0] + " | 40000", both[1] + " | 40001"}, []uint64{50000, 15000})
	check("a pod's sessions", topN(url.Values{"by": {"five_tuple"}, "pod": {"web-1"}}), "flows", both[1:], []uint64{15000})
	// The hour a range ends in comes from the rollup when nothing was
	// received after the range (above), from the raw flows when
	// something was: the answer is the raw one either way.
	for _, end := range []struct {
		to    time.Time
		flows uint64
	}{{h0.Add(130*time.Minute + time.Second), 4}, {h0.Add(130*time.Minute - time.Second), 3}} {
		r := topNTo(url.Values{"by": {"five_tuple"}}, end.to)
		raw := topNTo(url.Values{"by": {"five_tuple"}, "app": {"https"}}, end.to) // app: read raw
		checkFlows("sessions to "+end.to.Format(time.TimeOnly), r, "flows_5tuple_1h, flows", both, []uint64{10000 * end.flows, 3000 * end.flows}, end.flows)
		checkFlows("raw sessions to "+end.to.Format(time.TimeOnly), raw, "flows", both, []uint64{10000 * end.flows, 3000 * end.flows}, end.flows)
		if r.Total.Bytes != raw.Total.Bytes || r.Total.Flows != raw.Total.Flows {
			t.Errorf("to %s: total %+v, raw %+v", end.to, r.Total, raw.Total)
		}
	}
	// Over more than api.raw_range, a rollup question reads the hour
	// rollup's whole hours and the minute rollup's ends.
	if r := topN(url.Values{"by": {"dst_port"}}); r.Source != "flows_1h, flows_1m" || len(r.Rows) != 1 || r.Rows[0].Bytes != 65000 || r.Rows[0].Flows != 10 {
		t.Errorf("by dst_port: source %s, rows %+v; want 65000 bytes in 10 flows from flows_1h, flows_1m", r.Source, r.Rows)
	}

	// An upgraded database: the rollup holds only the last two hours.
	a.exec(t, "ALTER TABLE flows_5tuple_1h MODIFY COMMENT 'complete from "+h0.Add(2*time.Hour).Format(time.RFC3339)+"'")
	a.exec(t, "ALTER TABLE flows_5tuple_1h DELETE WHERE time < '"+h0.Add(2*time.Hour).Format(time.DateTime)+"' SETTINGS mutations_sync = 2")
	a.c.sessionsFrom.Store(nil)
	check("sessions after an upgrade", topN(url.Values{"by": {"five_tuple"}}), "flows_5tuple_1h, flows", both, []uint64{50000, 15000})
}

// exec runs a statement as the writer.
func (a *testAPI) exec(t *testing.T, stmt string) {
	t.Helper()
	if err := a.conn.Exec(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
