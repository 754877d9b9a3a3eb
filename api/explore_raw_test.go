package api

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The explore and completion answers over rollups (hours, minutes, the
// session rollup) are checked against answers computed here from the raw
// flows the test inserted: the same rows, sums, series and shares.

// rawGroup is a flow seeded every 5 minutes, mult times (so that every
// dimension's values differ in bytes, packets and flows).
type rawGroup struct {
	pod, ns        string
	src, dst       string
	sport, dport   uint16
	sampling       uint64
	bytes, packets uint64
	mult           int
	varies         bool // bytes grow with the slot, so that series are not flat
}

var rawGroups = []rawGroup{
	{pod: "web-0", ns: "shop", src: "10.0.0.1", dst: "10.0.1.1", sport: 40000, dport: 443, sampling: 10, bytes: 1000, packets: 10, mult: 1},
	{pod: "web-1", ns: "shop", src: "10.0.0.2", dst: "10.0.1.1", sport: 40001, dport: 443, sampling: 1, bytes: 7000, packets: 3, mult: 2, varies: true},
	{pod: "web-2", ns: "shop", src: "10.0.0.3", dst: "10.0.1.2", sport: 5000, dport: 8081, sampling: 10, bytes: 1300, packets: 50, mult: 3},
	{pod: "web-3", ns: "shop", src: "10.0.0.4", dst: "10.0.1.3", sport: 50000, dport: 50001, sampling: 1, bytes: 2222, packets: 2, mult: 5, varies: true},
	{pod: "db-0", ns: "data", src: "10.0.2.1", dst: "10.0.0.1", sport: 5432, dport: 40000, sampling: 5, bytes: 3000, packets: 8, mult: 7},
	{pod: "web-0", ns: "shop", src: "10.0.0.1", dst: "10.0.1.2", sport: 40002, dport: 8081, sampling: 1, bytes: 500, packets: 1, mult: 11, varies: true},
}

// seedRawGroups writes the groups every 5 minutes from 30 hours before
// now's hour to a minute before now, and returns the rows.
func seedRawGroups(t *testing.T, a *testAPI, now time.Time) []flowRow {
	var rows []flowRow
	for slot, at := 0, now.Truncate(time.Hour).Add(-30*time.Hour+2*time.Minute); at.Before(now.Add(-time.Minute)); slot, at = slot+1, at.Add(5*time.Minute) {
		for g, r := range rawGroups {
			bytes := r.bytes
			if r.varies {
				bytes *= uint64(1 + slot%4)
			}
			for m := 0; m < r.mult; m++ {
				rows = append(rows, flowRow{t: at.Add(time.Duration(g*7+m) * time.Second), exporter: "192.0.2.1", sampling: r.sampling, inIf: 1, outIf: 2,
					src: r.src, dst: r.dst, sport: r.sport, dport: r.dport, bytes: bytes, packets: r.packets, app: "app", spod: r.pod, sns: r.ns})
			}
		}
	}
	insertFlows(t, a.conn, rows)
	return rows
}

// rawResolution is the documented choice of table for a range: raw up to
// api.raw_range or for a raw-only question, minutes up to two days, hours
// beyond; it returns the table and the time a flow is counted at there.
func rawResolution(from, to time.Time, needRaw bool) (string, func(time.Time) time.Time) {
	switch span := to.Sub(from); {
	case needRaw || span <= DefaultConfiguration().RawRange:
		return "flows", func(t time.Time) time.Time { return t }
	case span <= 48*time.Hour:
		return "flows_1m", func(t time.Time) time.Time { return t.Truncate(time.Minute) }
	}
	return "flows_1h", func(t time.Time) time.Time { return t.Truncate(time.Hour) }
}

// foldPort is what the minute and hour rollups store of a port.
func foldPort(p, other uint16) uint16 {
	if p >= ephemeralPort && other < ephemeralPort {
		return 0
	}
	return p
}

// rawKey is the key of a flow in a dimension, as the API writes it.
func rawKey(dim string, r flowRow, sport, dport uint16, folded bool) string {
	port := func(p uint16) string {
		if p == 0 && folded {
			return "ephemeral"
		}
		return strconv.Itoa(int(p))
	}
	switch dim {
	case "dst_port":
		return port(dport)
	case "src_port":
		return port(sport)
	case "src_pod":
		return r.sns + "/" + r.spod
	case "five_tuple":
		return fmt.Sprintf("tcp %s:%d → %s:%d", r.src, sport, r.dst, dport)
	case "conversation":
		a, b := netip.MustParseAddr(r.src), netip.MustParseAddr(r.dst)
		if b.Less(a) {
			a, b = b, a
		}
		return a.String() + " <-> " + b.String()
	}
	panic("rawKey: " + dim)
}

// exploreCase is one explore request and how the raw flows answer it.
type exploreCase struct {
	name     string
	by       []string
	filter   string
	keep     func(r flowRow, sport, dport uint16) bool // the filter on the stored ports
	needRaw  bool
	metric   string
	points   int
	limit    int
	from, to time.Time
	source   string
}

// rawExplore answers c from the raw flows.
func rawExplore(rows []flowRow, c exploreCase) ExploreResponse {
	table, at := rawResolution(c.from, c.to, c.needRaw)
	folded := table != "flows"
	fromT := at(c.from)
	step := exploreStep(table, c.to.Sub(fromT), c.points)
	start := fromT.Truncate(step)
	n := int((c.to.Sub(start) + step - 1) / step)
	value := func(b, p, f uint64) float64 {
		switch c.metric {
		case "bytes":
			return float64(b)
		case "packets":
			return float64(p)
		case "flows":
			return float64(f)
		}
		return float64(b) * 8 / step.Seconds()
	}
	groups := map[string]*ExploreRow{}
	total := ExploreRow{TopNRow: TopNRow{Key: "total"}, Series: make([]float64, n)}
	for _, r := range rows {
		t := at(r.t)
		if t.Before(fromT) || !t.Before(c.to) {
			continue
		}
		sport, dport := r.sport, r.dport
		if folded {
			sport, dport = foldPort(r.sport, r.dport), foldPort(r.dport, r.sport)
		}
		if c.keep != nil && !c.keep(r, sport, dport) {
			continue
		}
		var keys []string
		for _, d := range c.by {
			keys = append(keys, rawKey(d, r, sport, dport, folded))
		}
		key := strings.Join(keys, " | ")
		g := groups[key]
		if g == nil {
			g = &ExploreRow{TopNRow: TopNRow{Key: key, Keys: keys}, Series: make([]float64, n)}
			groups[key] = g
		}
		b, p := r.bytes*r.sampling, r.packets*r.sampling
		i := int(t.Sub(start) / step)
		for _, x := range []*ExploreRow{g, &total} {
			x.Bytes, x.Packets, x.Flows = x.Bytes+b, x.Packets+p, x.Flows+1
			x.Series[i] += value(b, p, 1)
		}
	}
	var ranked []ExploreRow
	for _, g := range groups {
		ranked = append(ranked, *g)
	}
	rank := func(r ExploreRow) uint64 {
		switch c.metric {
		case "packets":
			return r.Packets
		case "flows":
			return r.Flows
		}
		return r.Bytes
	}
	sort.Slice(ranked, func(i, j int) bool { return rank(ranked[i]) > rank(ranked[j]) })
	resp := ExploreResponse{Range: Range{Source: c.source}, StepSeconds: int64(step / time.Second), Rows: ranked[:min(len(ranked), c.limit)], Total: total}
	for i := range n {
		resp.Times = append(resp.Times, start.Add(time.Duration(i)*step))
	}
	resp.finish(c.to.Sub(c.from).Seconds(), step)
	return resp
}

func TestExploreAnswersAsTheRawFlowsWhateverTheTablesItReads(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC()
	rows := seedRawGroups(t, a, now)
	h := now.Truncate(time.Hour)
	day := h.Add(-23*time.Hour + 10*time.Minute)                   // the start hour mostly in the range
	ragged := h.Add(-20*time.Hour - 20*time.Minute)                // mostly out of it
	early := h.Add(-2*time.Hour + 25*time.Minute + 30*time.Second) // flows follow it
	short := now.Add(-150 * time.Minute).Truncate(time.Second)
	srcPods := func(r flowRow, _, _ uint16) bool { return r.spod == "web-0" || r.spod == "db-0" }
	https := func(_ flowRow, _, dport uint16) bool { return dport == 443 }
	highSrcPort := func(_ flowRow, sport, _ uint16) bool { return sport >= 40000 }
	cases := []exploreCase{
		{name: "a day by port", by: []string{"dst_port"}, from: day, to: now, source: "flows_1h, flows_1m"},
		{name: "a day by port in odd steps", by: []string{"dst_port"}, points: 137, from: day, to: now, source: "flows_1h, flows_1m"},
		{name: "a day by pod and port, filtered, by packets", by: []string{"src_pod", "dst_port"}, filter: `SrcPod IN ("web-0", "db-0")`, keep: srcPods,
			metric: "packets", from: ragged, to: early, source: "flows_1h, flows_1m"},
		{name: "a day of conversations by flows", by: []string{"conversation"}, metric: "flows", limit: 2, from: ragged, to: now, source: "flows_1h, flows_1m"},
		{name: "a day by pod to a port", by: []string{"src_pod"}, filter: "DstPort = 443", keep: https, metric: "bytes", from: day, to: early, source: "flows_1h, flows_1m"},
		{name: "a day on client ports reads raw", by: []string{"dst_port"}, filter: "SrcPort >= 40000", keep: highSrcPort, needRaw: true,
			from: day, to: now, source: "flows_5tuple_1h, flows"},
		{name: "sessions of a day", by: []string{"five_tuple"}, needRaw: true, limit: 3, from: ragged, to: now, source: "flows_5tuple_1h, flows"},
		{name: "sessions of hours", by: []string{"five_tuple"}, needRaw: true, from: short, to: now, source: "flows_5tuple_1h, flows"},
		{name: "pods of hours", by: []string{"src_pod"}, metric: "flows", from: short, to: now, source: "flows"},
		{name: "days by pod", by: []string{"src_pod"}, from: now.Add(-50 * time.Hour), to: now, source: "flows_1h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.metric = cmpString(c.metric, "bps")
			c.points, c.limit = cmpInt(c.points, 120), cmpInt(c.limit, 10)
			q := url.Values{"by": {strings.Join(c.by, ",")}, "filter": {c.filter}, "metric": {c.metric}, "points": {strconv.Itoa(c.points)},
				"limit": {strconv.Itoa(c.limit)}, "from": {c.from.Format(time.RFC3339Nano)}, "to": {c.to.Format(time.RFC3339Nano)}}
			var got ExploreResponse
			if st := a.get(t, "/api/v1/flows/explore", q, &got); st != 200 {
				t.Fatalf("status %d", st)
			}
			want := rawExplore(rows, c)
			if got.Source != want.Source || got.StepSeconds != want.StepSeconds || !slices.EqualFunc(got.Times, want.Times, time.Time.Equal) {
				t.Fatalf("source %s, step %d s, %d times from %s; want %s, %d s, %d from %s", got.Source, got.StepSeconds, len(got.Times), got.Times[0],
					want.Source, want.StepSeconds, len(want.Times), want.Times[0])
			}
			if len(got.Rows) != len(want.Rows) || len(want.Rows) < 2 {
				t.Fatalf("%d rows %+v, want %d %+v", len(got.Rows), got.Rows, len(want.Rows), want.Rows)
			}
			for i := range want.Rows {
				sameExploreRow(t, got.Rows[i], want.Rows[i])
			}
			sameExploreRow(t, got.Total, want.Total)
			sameExploreRow(t, got.Other, want.Other)
		})
	}
}

func sameExploreRow(t *testing.T, got, want ExploreRow) {
	t.Helper()
	if got.Key != want.Key || got.Bytes != want.Bytes || got.Packets != want.Packets || got.Flows != want.Flows || got.Share != want.Share {
		t.Errorf("row %+v, want %+v", got.TopNRow, want.TopNRow)
	}
	for i := range want.Series {
		if i >= len(got.Series) || math.Abs(got.Series[i]-want.Series[i]) > 1e-9*math.Max(1, want.Series[i]) {
			t.Errorf("%s: series %v\nwant %v", want.Key, got.Series, want.Series)
			return
		}
	}
}

func cmpString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cmpInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func TestFilterCompletionValuesAreTheRawFlowsRanking(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC()
	rows := seedRawGroups(t, a, now)
	for _, c := range []struct {
		name, filter string
		from         time.Time
		value        func(flowRow) string
	}{
		{"pods over a day", `SrcPod = "web`, now.Add(-23*time.Hour - 10*time.Minute).Truncate(time.Minute), func(r flowRow) string { return r.spod }},
		{"addresses over a day", `DstIP = 10.0.`, now.Add(-23*time.Hour - 50*time.Minute).Truncate(time.Minute), func(r flowRow) string { return r.dst }},
		{"client ports over a day", `DstPort IN (443, `, now.Add(-23*time.Hour - 10*time.Minute).Truncate(time.Minute), func(r flowRow) string { return strconv.Itoa(int(r.dport)) }},
		{"ports over hours", `SrcPort = 4`, now.Add(-150 * time.Minute).Truncate(time.Minute), func(r flowRow) string { return strconv.Itoa(int(r.sport)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got FilterCompletion
			q := url.Values{"filter": {c.filter}, "from": {c.from.Format(time.RFC3339)}, "to": {now.Format(time.RFC3339Nano)}}
			if st := a.get(t, "/api/v1/filter/complete", q, &got); st != 200 {
				t.Fatalf("status %d", st)
			}
			prefix := c.filter[strings.LastIndexAny(c.filter, ` "(`)+1:]
			bytes := map[string]uint64{}
			for _, r := range rows {
				if v := c.value(r); !r.t.Before(c.from) && r.t.Before(now) && strings.HasPrefix(v, prefix) {
					bytes[v] += r.bytes * r.sampling
				}
			}
			var want []string
			for v := range bytes {
				want = append(want, v)
			}
			sort.Slice(want, func(i, j int) bool {
				return bytes[want[i]] > bytes[want[j]] || bytes[want[i]] == bytes[want[j]] && want[i] < want[j]
			})
			var labels []string
			for _, o := range got.Options {
				labels = append(labels, o.Label)
			}
			if strings.Join(labels, " ") != strings.Join(want, " ") || len(want) < 2 {
				t.Errorf("values %q, want %q", labels, want)
			}
		})
	}
}
