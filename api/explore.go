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
		Description: "The rows of /flows/topn (sampling-corrected bytes, packets, flows, bps, share) for flows matching `filter` (the language of /filter/validate, parsed into bound parameters), each with its series over the range in `points` steps or fewer (a step is at least a minute, an exporter's usual active timeout, and an hour from the hour rollup), and `other`: the rest. The rows and the total are read as /flows/topn reads them (whole hours from the hourly rollups, the ends from the finer table); the series from the table of the range's resolution: the raw flows up to api.raw_range or when a dimension or the filter needs them (a client port, a field only raw flows have), the minute rollup up to two days, the hour rollup beyond. `source` names the tables read.",
		Params:      c.exploreParams(), Response: ExploreResponse{}, handle: c.handleExplore}
}

func (c *Component) handleExplore(ctx context.Context, p *params) (any, error) {
	r, err := c.readExplore(p)
	if err != nil {
		return nil, err
	}
	x := c.exploreSource(r)
	filters, ranked := r.q.Clone(), r.q.Clone()
	src, err := c.topNSource(ctx, ranked, r.by, r.from, r.to, r.needRaw)
	if err != nil {
		return nil, err
	}
	resp := ExploreResponse{Range: Range{From: r.from, To: r.to, Source: src.source}, By: strings.Join(r.by, ","), Dimensions: r.by,
		Filter: r.filter, Metric: r.metric, StepSeconds: int64(x.step / time.Second), Units: ExploreUnits{Series: r.metric}}
	for i := range x.n {
		resp.Times = append(resp.Times, x.start.Add(time.Duration(i)*x.step))
	}
	// The total's series needs no ranking: it is read meanwhile.
	resp.Total.Series = make([]float64, x.n)
	err = query.Concurrently(func() (err error) {
		if resp.Rows, resp.Total.TopNRow, err = c.exploreRanking(ctx, ranked, x, src); err != nil || len(resp.Rows) == 0 {
			return err
		}
		return c.exploreSeries(ctx, r.q, x, resp.Rows, nil)
	}, func() error {
		return c.exploreSeries(ctx, r.q, x, nil, resp.Total.Series)
	})
	if err != nil {
		return nil, err
	}
	resp.finish(r.to.Sub(r.from).Seconds(), x.step)
	if resp.Total.Flows == 0 {
		if resp.Outside, err = c.investigator.OutsideRange(ctx, filters, r.from, r.to); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// exploreRequest is an explore's parameters, its filter parsed into q.
type exploreRequest struct {
	by             []string
	from, to       time.Time
	metric, filter string
	limit, points  int
	q              *query.Builder
	needRaw        bool // a dimension or the filter needs the raw flows
}

// readExplore reads an explore's parameters.
func (c *Component) readExplore(p *params) (r exploreRequest, err error) {
	if r.by, r.from, r.to, err = c.readByOverRange(p); err != nil {
		return r, err
	}
	if r.metric, err = p.enum("metric", "bps", exploreMetrics); err != nil {
		return r, err
	}
	limit, _, err := p.integer(paramSpec{Name: "limit", Minimum: 1, Maximum: 50})
	if err != nil {
		return r, err
	}
	points, _, err := p.integer(paramSpec{Name: "points", Minimum: 10, Maximum: 1000})
	if err != nil {
		return r, err
	}
	r.limit, r.points, r.filter, r.q = int(cmp(limit, 10)), int(cmp(points, 120)), p.str("filter"), &query.Builder{}
	f, err := parseFilter(r.filter, r.q)
	if err != nil {
		return r, &paramError{Param: "filter", Message: err.Error()}
	}
	r.q.And(f.cond)
	r.needRaw = f.needRaw
	for _, name := range r.by {
		r.needRaw = r.needRaw || topNDimensions[name].raw
	}
	return r, nil
}

// exploreSource is where an explore's series are read: the table of the
// range's resolution (raw, minutes, hours), for the same flows as the
// ranking, which reads whole hours from the hourly rollups where it can
// (topNSource); and its steps.
func (c *Component) exploreSource(r exploreRequest) exploreQuery {
	table, timeCol, bytes, packets, flows, fromT, toT := c.flowSource(r.from, r.to, r.needRaw)
	step := exploreStep(table, toT.Sub(fromT), r.points)
	x := exploreQuery{by: r.by, table: table, timeCol: timeCol, bytes: bytes, packets: packets, flows: flows, metric: r.metric,
		from: fromT, to: toT, start: fromT.Truncate(step), step: step, limit: r.limit}
	for t := x.start; t.Before(toT); t = t.Add(step) {
		x.n++
	}
	return x
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

// exploreQuery is what the series of an explore read (exploreSource).
type exploreQuery struct {
	by                            []string
	table, timeCol                string
	bytes, packets, flows, metric string
	from, to, start               time.Time
	step                          time.Duration
	n, limit                      int
}

// rank is the sum of the ranking the rows are ordered by (rankingSQL).
func (x exploreQuery) rank() string {
	switch x.metric {
	case "packets":
		return "p"
	case "flows":
		return "n"
	}
	return "b"
}

// summed is the series' sum over the table.
func (x exploreQuery) summed() string {
	switch x.metric {
	case "packets":
		return x.packets
	case "flows":
		return x.flows
	}
	return x.bytes
}

// exploreRanking reads the top rows and the total as /flows/topn does,
// ranked by the metric, each row with its hash (the series' key).
func (c *Component) exploreRanking(ctx context.Context, q *query.Builder, x exploreQuery, src flowTable) ([]ExploreRow, TopNRow, error) {
	named := q.Clone()
	sql := rankingSQL(q, x.by, src, x.rank(), nil, x.limit)
	total := TopNRow{Key: "total"}
	var ranked []TopNRow
	err := c.run(ctx, "explore", sql, q.Args, func(rows driver.Rows) error {
		r := TopNRow{Keys: make([]string, len(x.by))}
		dest := make([]any, 0, len(x.by)+7)
		for i := range r.Keys {
			dest = append(dest, &r.Keys[i])
		}
		dest = append(dest, &r.Bytes, &r.Packets, &r.Flows, &total.Bytes, &total.Packets, &total.Flows, &r.Hash)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if len(ranked) < x.limit {
			ranked = append(ranked, r)
		}
		return nil
	})
	if err == nil && wide(x.by) && len(ranked) > 0 {
		err = c.nameTopNRows(ctx, named, x.by, src, ranked)
	}
	rows := make([]ExploreRow, 0, len(ranked))
	for _, r := range ranked {
		for i, k := range r.Keys {
			r.Keys[i] = topNKey(k, x.by[i], src.source)
		}
		r.Key = strings.Join(r.Keys, " | ")
		rows = append(rows, ExploreRow{TopNRow: r, Series: make([]float64, x.n)})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return x.rankOf(rows[i].TopNRow) > x.rankOf(rows[j].TopNRow) || x.rankOf(rows[i].TopNRow) == x.rankOf(rows[j].TopNRow) && rows[i].Key < rows[j].Key
	})
	return rows, total, err
}

// exploreSeries reads, from the table of the range's resolution, the
// series of the rows (found by the hash of their values) or, without
// rows, of every flow into total. Flows are summed per minute (the
// rollups' own time) before their steps, whole minutes, are computed.
func (c *Component) exploreSeries(ctx context.Context, scope *query.Builder, x exploreQuery, rows []ExploreRow, total []float64) error {
	q := scope.Clone()
	query.TimeCond(q, x.timeCol, x.from, x.to)
	minute := x.timeCol
	if x.table == schema.TableFlows {
		minute = "toStartOfMinute(" + x.timeCol + ")"
	}
	key, group := "toUInt64(0)", "t"
	at := map[uint64]int{}
	if rows != nil {
		hashes := make([]uint64, len(rows))
		for i, r := range rows {
			hashes[i], at[r.Hash] = r.Hash, i
		}
		key, group = "cityHash64("+strings.Join(groupingSQL(x.by).exprs, ", ")+")", "t, k"
		q.And("k IN " + q.Bind("Array(UInt64)", hashes))
	}
	step := "intDiv(toInt64(toUnixTimestamp(t)) - " + q.Bind("Int64", x.start.Unix()) + ", " + q.Bind("Int64", int64(x.step/time.Second)) + ")"
	sql := "SELECT " + step + " AS i, k, toUInt64(sum(v)) FROM (SELECT " + minute + " AS t, " + key + " AS k, sum(" + x.summed() + ") AS v FROM " + x.table +
		" WHERE " + q.Where() + " GROUP BY " + group + ") GROUP BY i, k"
	return c.run(ctx, "explore_series", sql, q.Args, func(res driver.Rows) error {
		var i int64
		var k, v uint64
		if err := res.Scan(&i, &k, &v); err != nil {
			return err
		}
		if i < 0 || i >= int64(x.n) {
			return nil
		}
		if rows == nil {
			total[i] += x.value(v)
		} else if r, ok := at[k]; ok {
			rows[r].Series[i] += x.value(v)
		}
		return nil
	})
}

// value is one step's figure of the metric from its sum.
func (x exploreQuery) value(v uint64) float64 {
	if x.metric == "bps" {
		return float64(v) * 8 / x.step.Seconds()
	}
	return float64(v)
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
