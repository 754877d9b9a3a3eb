package api

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
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
	// Before the range: cancelled by the start hour's negated edge rows.
	rows = append(rows, session(h0.Add(-50*time.Minute), 40000, 7, "web-0"), session(h0.Add(-50*time.Minute), 40002, 9, "web-2"))
	insertFlows(t, a.conn, rows)

	topNRange := func(q url.Values, from, to time.Time) TopNResponse {
		t.Helper()
		var r TopNResponse
		q.Set("from", from.Format(time.RFC3339))
		q.Set("to", to.Format(time.RFC3339Nano))
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		return r
	}
	topNTo := func(q url.Values, to time.Time) TopNResponse { return topNRange(q, from, to) }
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
	// Starting 40 minutes before an hour, the range reads that hour's
	// rollup rows less the 20 raw minutes before it: the sums are the
	// raw ones, and a session only in those minutes is not ranked.
	early := h0.Add(-40 * time.Minute)
	r, raw := topNRange(url.Values{"by": {"five_tuple"}}, early, now), topNRange(url.Values{"by": {"five_tuple"}, "app": {"https"}}, early, now)
	check("sessions from 40 minutes before an hour", r, "flows_5tuple_1h, flows", both, []uint64{50000, 15000})
	check("raw sessions from 40 minutes before an hour", raw, "flows", both, []uint64{50000, 15000})
	if r.Total.Bytes != raw.Total.Bytes || r.Total.Packets != raw.Total.Packets || r.Total.Flows != raw.Total.Flows {
		t.Errorf("from 40 minutes before an hour: total %+v, raw %+v", r.Total, raw.Total)
	}
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
	a.c.sessionRollup.Store(nil)
	check("sessions after an upgrade", topN(url.Values{"by": {"five_tuple"}}), "flows_5tuple_1h, flows", both, []uint64{50000, 15000})
}

// exec runs a statement as the writer.
func (a *testAPI) exec(t *testing.T, stmt string) {
	t.Helper()
	if err := a.conn.Exec(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TestSplitHoursReadsTheFewerEdgeRows checks which parts a split range
// reads: the start hour's rollup less its minutes before the range when
// most of that hour is in it, the raw minutes of it otherwise.
func TestSplitHoursReadsTheFewerEdgeRows(t *testing.T) {
	edges := flowPart{table: "flows", time: "time_received", bytes: "bytes", packets: "packets", flows: "1"}
	hourly := flowPart{table: "flows_5tuple_1h", time: "time", bytes: "bytes", packets: "packets", flows: "flows"}
	h := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from     time.Time
		complete time.Time
		less, ok bool
	}{
		{h.Add(10 * time.Minute), time.Time{}, true, true},            // 50 minutes of the hour in range
		{h.Add(40 * time.Minute), time.Time{}, false, true},           // 20 minutes
		{h.Add(30 * time.Minute), time.Time{}, false, true},           // half
		{h.Add(10 * time.Minute), h.Add(time.Hour), false, true},      // the rollup lacks the hour
		{h.Add(10 * time.Minute), h.Add(2 * time.Hour), false, false}, // and the next
	} {
		src, ok := splitHours(&query.Builder{}, []string{"dst_port"}, edges, hourly, c.from, h.Add(2*time.Hour+5*time.Minute), c.complete)
		if less := strings.Contains(src.from, "bitNot"); ok != c.ok || less != c.less {
			t.Errorf("from %s, complete from %s: split %v, negated rows %v; want %v, %v\n%s", c.from.Format(time.TimeOnly), c.complete, ok, less, c.ok, c.less, src.from)
		}
	}
}

// TestTopNReadsSessionBlocksWhereTheyAreComplete ranks sessions over
// ranges of a day and more once the 6-hour blocks of flows_5tuple_6h are
// built: the answers are the raw flows' at every start and end (blocks
// whole, and a block less its hours outside), with the keys of sessions
// in blocks and of one in none, with and without a filter of the path
// (flows_5tuple_6h, else flow_sessions_6h), the blocks and the hours
// without the path are read (bytes added to them show), and a block that a late flow reached after
// it was built is read as hours again.
func TestTopNReadsSessionBlocksWhereTheyAreComplete(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC()
	start := now.Add(-31 * time.Hour).Truncate(time.Hour)
	var rows []flowRow
	for at, i := start, 0; at.Before(now); at, i = at.Add(17*time.Minute), i+1 {
		rows = append(rows, flowRow{t: at, exporter: "192.0.2.1", sampling: 10, inIf: 1, outIf: 2, src: "10.0.0.1", dst: "10.0.0.2",
			sport: uint16(40000 + i%7), dport: 443, bytes: uint64(100 + i%13), packets: 1, app: "https"})
	}
	// The top session of every range up to now is in no block (named from
	// the hours).
	rows = append(rows, flowRow{t: now.Add(-10 * time.Minute), exporter: "192.0.2.1", sampling: 10, inIf: 1, outIf: 2, src: "10.0.0.3", dst: "10.0.0.2",
		sport: 50000, dport: 443, bytes: 10000, packets: 1, app: "https"})
	insertFlows(t, a.conn, rows)
	schematest.BuildSessionBlocks(t, a.conn, schema.DefaultOptions())
	if n := scalarUint(t, a, "SELECT count() FROM flows_5tuple_6h"); n == 0 {
		t.Fatal("no session block built")
	}

	topN := func(q url.Values, from, to time.Time) TopNResponse {
		t.Helper()
		var r TopNResponse
		q.Set("from", from.Format(time.RFC3339))
		q.Set("to", to.Format(time.RFC3339))
		q.Set("limit", "100")
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		return r
	}
	same := func(what string, from, to time.Time, filter ...string) (TopNResponse, TopNResponse) {
		t.Helper()
		q, rawQ := url.Values{"by": {"five_tuple"}}, url.Values{"by": {"five_tuple"}, "app": {"https"}} // app: read raw
		for i := 0; i+1 < len(filter); i += 2 {
			q.Set(filter[i], filter[i+1])
			rawQ.Set(filter[i], filter[i+1])
		}
		r, raw := topN(q, from, to), topN(rawQ, from, to)
		if r.Source != "flows_5tuple_1h, flows" || raw.Source != "flows" {
			t.Fatalf("%s: sources %s and %s", what, r.Source, raw.Source)
		}
		if len(r.Rows) != len(raw.Rows) || r.Total.Bytes != raw.Total.Bytes || r.Total.Packets != raw.Total.Packets || r.Total.Flows != raw.Total.Flows {
			t.Errorf("%s %s–%s: %d rows, total %+v; raw %d rows, total %+v", what, from.Format(time.DateTime), to.Format(time.DateTime), len(r.Rows), r.Total, len(raw.Rows), raw.Total)
			return r, raw
		}
		for i := range r.Rows {
			if r.Rows[i].Key != raw.Rows[i].Key || r.Rows[i].Bytes != raw.Rows[i].Bytes || r.Rows[i].Flows != raw.Rows[i].Flows {
				t.Errorf("%s: row %d %+v, raw %+v", what, i, r.Rows[i], raw.Rows[i])
			}
		}
		return r, raw
	}
	for _, offset := range []time.Duration{0, 7 * time.Minute, 65 * time.Minute, 2*time.Hour + 30*time.Minute, 4*time.Hour + 10*time.Minute, 5 * time.Hour} {
		from := start.Add(offset)
		same("from +"+offset.String()+" to now", from, now)
		same("a day from +"+offset.String(), from, from.Add(24*time.Hour))
		same("a day from +"+offset.String()+" through one exporter", from, from.Add(24*time.Hour), "exporter", "192.0.2.1")
	}

	// A byte added to the last block (and no flow) is read: blocks are,
	// those without the path unless a filter reads the path.
	a.exec(t, "INSERT INTO flow_sessions_6h SELECT time, proto, src_ip, dst_ip, src_port, dst_port, 1, 0, 0 FROM flow_sessions_6h ORDER BY time DESC, src_port LIMIT 1")
	a.exec(t, "INSERT INTO flows_5tuple_6h SELECT time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port, 2, 0, 0 FROM flows_5tuple_6h ORDER BY time DESC, src_port LIMIT 1")
	added := func(what string, from, to time.Time, want map[string]uint64) {
		t.Helper()
		for exporter, n := range want {
			q, rawQ := url.Values{"by": {"five_tuple"}}, url.Values{"by": {"five_tuple"}, "app": {"https"}}
			if exporter != "" {
				q.Set("exporter", exporter)
				rawQ.Set("exporter", exporter)
			}
			if r, raw := topN(q, from, to), topN(rawQ, from, to); r.Total.Bytes != raw.Total.Bytes+n {
				t.Errorf("exporter %q, with bytes added to %s: total %d bytes, raw %d; want %d more", exporter, what, r.Total.Bytes, raw.Total.Bytes, n)
			}
		}
	}
	added("blocks", start, now, map[string]uint64{"": 1, "192.0.2.1": 2})
	// A late flow in that block makes its flows differ from flows_1h's:
	// its hours are read, and the answer is the raw one again.
	last := time.Unix(int64(scalarUint(t, a, "SELECT toUInt64(toUnixTimestamp(max(time))) FROM flows_5tuple_6h")), 0).UTC()
	insertFlows(t, a.conn, []flowRow{{t: last.Add(time.Hour), exporter: "192.0.2.1", sampling: 10, inIf: 1, outIf: 2, src: "10.0.0.1", dst: "10.0.0.2",
		sport: 40000, dport: 443, bytes: 5, packets: 1, app: "https"}})
	same("after a late flow", start, now)
	// So are the hours without the path (an hour ended 10 minutes ago,
	// that the late flow is not in).
	hour := now.Add(-70 * time.Minute).Truncate(time.Hour)
	a.exec(t, "INSERT INTO flow_sessions_1h SELECT time, proto, src_ip, dst_ip, src_port, dst_port, 4, 0, 0 FROM flow_sessions_1h WHERE time = '"+hour.Format(time.DateTime)+"' LIMIT 1")
	added("the hour "+hour.Format(time.DateTime), hour, hour.Add(time.Hour), map[string]uint64{"": 4, "192.0.2.1": 0})
}

func scalarUint(t *testing.T, a *testAPI, sql string) uint64 {
	t.Helper()
	var n uint64
	if err := a.conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestHourSpansAreTheHoursReadBesideTheBlocks: the hours whose
// completeness a session ranking checks are those it reads as hours, at
// each end, with blocks used whole, less hours outside, or not at all.
func TestHourSpansAreTheHoursReadBesideTheBlocks(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	for _, c := range []struct {
		name                   string
		h1, h2, c1, c2, e1, e2 int
		want                   [][2]int
	}{
		{"hours after the first block's half, up to the end hour", 9, 32, 12, 30, 6, 30, [][2]int{{9, 12}, {30, 33}}},
		{"first and last blocks less their hours outside", 7, 34, 6, 36, 6, 30, [][2]int{{6, 7}, {34, 36}}},
		{"no block", 3, 8, 6, 6, 0, 6, [][2]int{{3, 9}}},
		{"a range starting on a block", 6, 32, 6, 30, 6, 30, [][2]int{{30, 33}}},
	} {
		var want [][2]time.Time
		for _, w := range c.want {
			want = append(want, [2]time.Time{at(w[0]), at(w[1])})
		}
		if got := hourSpans(at(c.h1), at(c.h2), at(c.c1), at(c.c2), at(c.e1), at(c.e2)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
	}
}
