package api

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// /flows/explore: the console's Explore page. The top values of one or
// two dimensions under a filter expression, with their series over time
// and the rest as "other", in one answer.

// ExploreResponse is a ranking with each row's series.
type ExploreResponse struct {
	Range
	By          string        `json:"by"`
	Dimensions  []string      `json:"dimensions"`
	Filter      string        `json:"filter"`
	Metric      string        `json:"metric"`
	StepSeconds int64         `json:"step_seconds"`
	Times       []time.Time   `json:"times" doc:"Start of each step of the series."`
	Rows        []ExploreRow  `json:"rows"`
	Other       ExploreRow    `json:"other" doc:"Everything but the rows; its series is the total's less theirs."`
	Total       ExploreRow    `json:"total"`
	Outside     *OutsideRange `json:"outside,omitempty"`
	Units       ExploreUnits  `json:"units"`
}

// ExploreUnits says what the series' values are.
type ExploreUnits struct {
	Series string `json:"series" doc:"Unit of the series' values: bps, bytes, packets or flows per step."`
}

// ExploreRow is one value (or pair) with its totals and series.
type ExploreRow struct {
	TopNRow
	Series []float64 `json:"series" doc:"The metric per step: bits per second for bps, else the count within the step."`
}

var exploreMetrics = []string{"bps", "bytes", "packets", "flows"}

func (c *Component) exploreParams() []paramSpec {
	return []paramSpec{paramBy, paramFilter, paramFrom, paramTo,
		{Name: "metric", Type: "string", Enum: exploreMetrics, Description: "What ranks the rows and the series show (default bps: bytes, as bits per second)."},
		{Name: "limit", Type: "integer", Minimum: 1, Maximum: 50, Description: "Rows with a series (default 10)."},
		{Name: "points", Type: "integer", Minimum: 10, Maximum: 1000, Description: "Steps of the series, at most (default 120)."},
	}
}

func (c *Component) exploreRoute() route {
	return route{Path: apiPrefix + "/flows/explore", Tag: "flows", Summary: "Top values of one or two dimensions under a filter expression, with their series",
		Description: "The rows of /flows/topn (sampling-corrected bytes, packets, flows, bps, share) for flows matching `filter` (the language of /filter/validate, parsed into bound parameters), each with its series over the range in `points` steps or fewer (a step is at least a minute, an exporter's usual active timeout, and an hour from the hour rollup), and `other`: the rest. Same tables and time basis as /flows/topn.",
		Params:      c.exploreParams(), Response: ExploreResponse{}, handle: c.handleExplore}
}

func (c *Component) handleExplore(ctx context.Context, p *params) (any, error) {
	by, from, to, err := c.readByOverRange(p)
	if err != nil {
		return nil, err
	}
	metric, err := p.enum("metric", "bps", exploreMetrics)
	if err != nil {
		return nil, err
	}
	limit, _, err := p.integer(paramSpec{Name: "limit", Minimum: 1, Maximum: 50})
	if err != nil {
		return nil, err
	}
	points, _, err := p.integer(paramSpec{Name: "points", Minimum: 10, Maximum: 1000})
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	f, err := parseFilter(p.str("filter"), q)
	if err != nil {
		return nil, &paramError{Param: "filter", Message: err.Error()}
	}
	q.And(f.cond)
	needRaw := f.needRaw
	for _, name := range by {
		needRaw = needRaw || topNDimensions[name].raw
	}
	table, timeCol, bytes, packets, flows, fromT, toT := c.flowSource(from, to, needRaw)
	filters := q.Clone()
	query.TimeCond(q, timeCol, fromT, toT)
	step := exploreStep(table, toT.Sub(fromT), int(cmp(points, 120)))
	start := fromT.Truncate(step)
	resp := ExploreResponse{Range: Range{From: from, To: to, Source: table}, By: strings.Join(by, ","), Dimensions: by,
		Filter: p.str("filter"), Metric: metric, StepSeconds: int64(step / time.Second), Units: ExploreUnits{Series: metric}}
	for t := start; t.Before(toT); t = t.Add(step) {
		resp.Times = append(resp.Times, t)
	}
	x := exploreQuery{q: q, by: by, table: table, timeCol: timeCol, bytes: bytes, packets: packets, flows: flows, metric: metric,
		start: start, step: step, n: len(resp.Times), limit: int(cmp(limit, 10))}
	if resp.Rows, err = c.exploreRows(ctx, x); err != nil {
		return nil, err
	}
	if resp.Total, err = c.exploreTotal(ctx, x); err != nil {
		return nil, err
	}
	resp.finish(to.Sub(from).Seconds(), step)
	if resp.Total.Flows == 0 {
		if resp.Outside, err = c.investigator.OutsideRange(ctx, filters, from, to); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// cmp is v, or def when v is 0 (absent).
func cmp(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// exploreStep is the range over at most points steps, rounded up to a
// whole second, minute or hour, and no finer than a minute (an exporter
// reports a flow once per active timeout, a minute typically: finer
// steps alternate between its report and nothing) or the table's
// resolution.
func exploreStep(table string, span time.Duration, points int) time.Duration {
	min := time.Minute
	if table == schema.TableFlows1h {
		min = time.Hour
	}
	step := (span + time.Duration(points) - 1) / time.Duration(points)
	for _, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if step >= unit {
			step = (step + unit - 1) / unit * unit
			break
		}
	}
	return max(step, min)
}

type exploreQuery struct {
	q                             *query.Builder
	by                            []string
	table, timeCol                string
	bytes, packets, flows, metric string
	start                         time.Time
	step                          time.Duration
	n, limit                      int
}

// rank is the sum the rows are ordered by.
func (x exploreQuery) rank() string {
	switch x.metric {
	case "packets":
		return x.packets
	case "flows":
		return x.flows
	}
	return x.bytes
}

// bucket is the step a row falls in, as a bound interval.
func (x exploreQuery) bucket(q *query.Builder) string {
	return "toStartOfInterval(" + x.timeCol + ", toIntervalSecond(" + q.Bind("UInt32", uint32(x.step/time.Second)) + "))"
}

// exploreRows reads the series of the top values: the values are ranked
// once by the hash of their columns, then only their rows are grouped
// per step and named.
func (c *Component) exploreRows(ctx context.Context, x exploreQuery) ([]ExploreRow, error) {
	q := x.q.Clone()
	d := groupingSQL(x.by)
	group, names, keys, aliases, exprs := d.group, d.names, d.keys, d.aliases, d.exprs
	hash := "cityHash64(" + strings.Join(exprs, ", ") + ")"
	where := q.Where()
	top := "SELECT " + hash + " AS hk FROM " + x.table + " WHERE " + where + " GROUP BY hk ORDER BY sum(" + x.rank() + ") DESC, hk LIMIT " + q.Bind("UInt32", uint32(x.limit))
	sql := "SELECT " + strings.Join(keys, ", ") + ", t, b, p, n FROM (SELECT " + strings.Join(append(append(group, names...), x.bucket(q)+" AS t"), ", ") +
		", sum(" + x.bytes + ") AS b, sum(" + x.packets + ") AS p, toUInt64(sum(" + x.flows + ")) AS n FROM " + x.table +
		" WHERE " + where + " AND " + hash + " IN (" + top + ") GROUP BY " + strings.Join(append(aliases, "t"), ", ") + ")"
	byKey := map[string]*ExploreRow{}
	var order []*ExploreRow
	err := c.run(ctx, "explore", sql, q.Args, func(rows driver.Rows) error {
		ks := make([]string, len(x.by))
		var t time.Time
		var b, pk, n uint64
		dest := []any{}
		for i := range ks {
			dest = append(dest, &ks[i])
		}
		if err := rows.Scan(append(dest, &t, &b, &pk, &n)...); err != nil {
			return err
		}
		for i, k := range ks {
			ks[i] = topNKey(k, x.by[i], x.table)
		}
		key := strings.Join(ks, " | ")
		r := byKey[key]
		if r == nil {
			r = &ExploreRow{TopNRow: TopNRow{Key: key, Keys: ks}, Series: make([]float64, x.n)}
			byKey[key] = r
			order = append(order, r)
		}
		r.Bytes, r.Packets, r.Flows = r.Bytes+b, r.Packets+pk, r.Flows+n
		if i := int(t.Sub(x.start) / x.step); i >= 0 && i < x.n {
			r.Series[i] += x.value(b, pk, n)
		}
		return nil
	})
	rows := make([]ExploreRow, 0, len(order))
	for _, r := range order {
		rows = append(rows, *r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return x.rankOf(rows[i].TopNRow) > x.rankOf(rows[j].TopNRow) || x.rankOf(rows[i].TopNRow) == x.rankOf(rows[j].TopNRow) && rows[i].Key < rows[j].Key
	})
	return rows, err
}

// exploreTotal reads every matching flow's totals and series.
func (c *Component) exploreTotal(ctx context.Context, x exploreQuery) (ExploreRow, error) {
	q := x.q.Clone()
	total := ExploreRow{TopNRow: TopNRow{Key: "total"}, Series: make([]float64, x.n)}
	sql := "SELECT " + x.bucket(q) + " AS t, sum(" + x.bytes + "), sum(" + x.packets + "), toUInt64(sum(" + x.flows + ")) FROM " + x.table +
		" WHERE " + q.Where() + " GROUP BY t"
	err := c.run(ctx, "explore_total", sql, q.Args, func(rows driver.Rows) error {
		var t time.Time
		var b, p, n uint64
		if err := rows.Scan(&t, &b, &p, &n); err != nil {
			return err
		}
		total.Bytes, total.Packets, total.Flows = total.Bytes+b, total.Packets+p, total.Flows+n
		if i := int(t.Sub(x.start) / x.step); i >= 0 && i < x.n {
			total.Series[i] += x.value(b, p, n)
		}
		return nil
	})
	return total, err
}

// value is one step's figure of the metric.
func (x exploreQuery) value(b, p, n uint64) float64 {
	switch x.metric {
	case "bytes":
		return float64(b)
	case "packets":
		return float64(p)
	case "flows":
		return float64(n)
	}
	return float64(b) * 8 / x.step.Seconds()
}

func (x exploreQuery) rankOf(r TopNRow) uint64 {
	switch x.metric {
	case "packets":
		return r.Packets
	case "flows":
		return r.Flows
	}
	return r.Bytes
}

// finish sets the rates and shares and the "other" row (the total less
// the rows, per step too).
func (r *ExploreResponse) finish(seconds float64, step time.Duration) {
	other := ExploreRow{TopNRow: TopNRow{Key: "other"}, Series: append([]float64{}, r.Total.Series...)}
	other.Bytes, other.Packets, other.Flows = r.Total.Bytes, r.Total.Packets, r.Total.Flows
	for i := range r.Rows {
		row := &r.Rows[i]
		rowRate(&row.TopNRow, seconds, r.Total.Bytes)
		other.Bytes, other.Packets, other.Flows = other.Bytes-min(row.Bytes, other.Bytes), other.Packets-min(row.Packets, other.Packets), other.Flows-min(row.Flows, other.Flows)
		for j, v := range row.Series {
			other.Series[j] = max(other.Series[j]-v, 0)
		}
	}
	rowRate(&other.TopNRow, seconds, r.Total.Bytes)
	rowRate(&r.Total.TopNRow, seconds, r.Total.Bytes)
	r.Other = other
}
