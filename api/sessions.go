package api

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// topNSource picks where a TopN reads and adds its time condition to q.
// Where whole hours of the range can come from an hourly table, they do,
// and the ragged ends (under an hour each) from the finer table: a
// question the raw table would answer (a session, an unfolded port, a
// narrow range) reads the session rollup's hours when every dimension
// and filter reads its columns only; one the minute rollup answers reads
// the hour rollup's.
func (c *Component) topNSource(ctx context.Context, q *query.Builder, by []string, from, to time.Time, needRaw bool) (flowTable, error) {
	return c.splitSource(ctx, q, readColumns(q, by), from, to, needRaw)
}

// splitSource is topNSource for a question that reads cols (which the
// subquery of a split source holds, with q's conditions over it).
func (c *Component) splitSource(ctx context.Context, q *query.Builder, cols []string, from, to time.Time, needRaw bool) (flowTable, error) {
	raw := needRaw || to.Sub(from) <= c.cfg.RawRange
	switch {
	case !raw && to.Sub(from) <= 48*time.Hour:
		edges := flowPart{table: schema.TableFlows1m, time: schema.TimeColumn(schema.TableFlows1m), bytes: "bytes", packets: "packets", flows: "flows"}
		hourly := flowPart{table: schema.TableFlows1h, time: schema.TimeColumn(schema.TableFlows1h), bytes: "bytes", packets: "packets", flows: "flows"}
		if t, ok := splitHours(q, cols, edges, hourly, from.Truncate(time.Minute), to, time.Time{}); ok {
			return t, nil
		}
	case raw && subset(cols, schema.Flows5TupleColumns):
		rollup, ok, err := c.sessionsCompleteFrom(ctx)
		if err != nil {
			return flowTable{}, err
		}
		edges := flowPart{table: schema.TableFlows, time: schema.TimeColumn(schema.TableFlows), bytes: "bytes * sampling_rate", packets: "packets * sampling_rate", flows: "1"}
		hourly := flowPart{table: schema.TableFlows5Tuple1h, time: schema.TimeColumn(schema.TableFlows5Tuple1h), bytes: "bytes", packets: "packets", flows: "flows"}
		if !ok {
			break // the schema has no session rollup yet
		}
		// A question of sessions alone reads the blocks and hours without
		// the path.
		parts := schema.Flows5TupleColumns
		hourly.blockTable = rollup.blocks
		if rollup.sessions != "" && subset(cols, schema.SessionColumns) {
			parts, hourly.blockTable, hourly.hoursTable = schema.SessionColumns, rollup.sessions, rollup.sessionHours
		}
		if h1, h2, _ := wholeHours(from, to, rollup.from); hourly.blockTable != "" {
			if err := c.completeParts(ctx, &hourly, h1, h2, rollup.from); err != nil {
				return flowTable{}, err
			}
		}
		if t, split := splitHours(q, parts, edges, hourly, from, to, rollup.from); split {
			return t, nil
		}
	}
	table, timeCol, bytes, packets, flows, f, t := c.flowSource(from, to, raw)
	query.TimeCond(q, timeCol, f, t)
	return flowTable{from: table, source: table, bytes: bytes, packets: packets, flows: flows}, nil
}

// flowPart is a table a split source reads; an hourly one may have
// complete blocks of several hours too (hourParts): their starts, in
// blockTable; and complete hours in a more compact hoursTable (the
// sessions without their path): their starts.
type flowPart struct {
	table, time, bytes, packets, flows string
	blockTable, hoursTable             string
	blocks, hours                      []time.Time
}

// splitHours reads the whole hours of [from, to) from complete on from
// hourly, the rest from edges: a subquery of cols and the sums sb, sp and
// sn. ok is false when the range has no such hour. Two ways read fewer
// edge rows, with the same sums:
//   - the hour the range starts in, when more of it is in the range than
//     not, is its hourly rows less the edge rows before from (negated
//     sums, which the ranking adds up modulo 2^64, exact as the total is
//     not negative; a group of nothing but negated rows has no flow);
//   - the hour it ends in is its hourly rows when edges holds nothing from
//     to to the hour's end (a range up to now): they are then exactly the
//     flows of [its start, to).
func splitHours(q *query.Builder, cols []string, edges, hourly flowPart, from, to, complete time.Time) (flowTable, bool) {
	h1, h2, less := wholeHours(from, to, complete)
	if !h1.Before(h2) {
		return flowTable{}, false
	}
	const ms = "DateTime64(3, 'UTC')"
	f, a, b, t := q.Bind(ms, query.Time(from)), q.Bind(ms, query.Time(h1)), q.Bind(ms, query.Time(h2)), q.Bind(ms, query.Time(to))
	list := strings.Join(cols, ", ")
	if list != "" {
		list += ", "
	}
	part := func(p flowPart, negate bool, where string) string {
		sum := func(x string) string {
			if negate {
				return "1 + bitNot(toUInt64(" + x + "))" // -x as 2^64 - x: UInt64 sums wrap
			}
			return "toUInt64(" + x + ")"
		}
		return `SELECT ` + list + sum(p.bytes) + ` AS sb, ` + sum(p.packets) + ` AS sp, ` + sum(p.flows) + ` AS sn
	FROM ` + p.table + ` WHERE ` + where
	}
	e := edges.time
	start, end, endHour := e+` >= `+f+` AND `+e+` < `+a, e+` >= `+b+` AND `+e+` < `+t, ""
	if h2.Before(to) {
		// A scalar subquery: a constant when the parts are chosen, so
		// only one of the two is read.
		later := `(SELECT count() FROM (SELECT 1 FROM ` + edges.table + ` WHERE ` + e + ` >= ` + t + ` AND ` + e + ` < ` + q.Bind(ms, query.Time(h2.Add(time.Hour))) + ` LIMIT 1))`
		end, endHour = `(`+end+`) AND `+later+` = 1`, later+` = 0`
	}
	hourlyParts, names := hourParts(q, part, hourly, h1, h2, endHour)
	parts := part(edges, false, start+` OR `+end)
	if less {
		parts = part(edges, false, end) + `
	UNION ALL
	` + part(edges, true, e+` >= `+a+` AND `+e+` < `+f)
	}
	return flowTable{from: `(
	` + parts + `
	UNION ALL
	` + hourlyParts + `
)`, source: hourly.table + ", " + edges.table, bytes: "sb", packets: "sp", flows: "sn", names: names}, true
}

// wholeHours are the hours [h1, h2) of [from, to) that splitHours
// reads from the hourly table; less when h1 is the hour from is in.
func wholeHours(from, to, complete time.Time) (h1, h2 time.Time, less bool) {
	h1, h2 = from.Truncate(time.Hour), to.Truncate(time.Hour)
	if h1.Before(from) {
		h1 = h1.Add(time.Hour)
	}
	if h1.Before(complete) {
		h1 = complete
	}
	h0 := h1.Add(-time.Hour)
	less = !h0.Before(complete) && h1.Sub(from) > from.Sub(h0)
	if less {
		h1 = h0
	}
	return h1, h2, less
}

// hourParts reads the hours [h1, h2) of hourly (and the hour h2 where
// endHour, a condition, holds) from its complete 6-hour blocks
// hourly.blocks where it can: a block within [h1, h2), or one an end is
// in less its hours outside (negated, as in splitHours); and each other
// hour from hourly.hoursTable where it is complete there. The hours of
// each part are listed as ranges of time, so that a row is tested
// against few bounds. names is a subquery of the blocks' rows
// (flowTable.names), "" without blocks.
func hourParts(q *query.Builder, part func(flowPart, bool, string) string, hourly flowPart, h1, h2 time.Time, endHour string) (parts, names string) {
	inBlock := func(h time.Time) bool {
		return slices.ContainsFunc(hourly.blocks, func(b time.Time) bool { return !h.Before(b) && h.Before(b.Add(schema.SessionBlock)) })
	}
	compact := hourly
	compact.table = hourly.hoursTable
	tables := []flowPart{hourly, compact}
	which := func(h time.Time) int { // 1: the compact table
		if slices.ContainsFunc(hourly.hours, h.Equal) {
			return 1
		}
		return 0
	}
	var read, less [2][]time.Time // hours read, and hours subtracted, from each table
	for h := h1; h.Before(h2); h = h.Add(time.Hour) {
		if !inBlock(h) {
			read[which(h)] = append(read[which(h)], h)
		}
	}
	for _, b := range hourly.blocks {
		for h := b; h.Before(b.Add(schema.SessionBlock)); h = h.Add(time.Hour) {
			if h.Before(h1) || !h.Before(h2) {
				less[which(h)] = append(less[which(h)], h)
			}
		}
	}
	var out []string
	for i, p := range tables {
		cond := spansOf(q, p.time, read[i], time.Hour)
		if endHour != "" && which(h2) == i {
			cond = append(cond, `(`+q.BetweenSeconds(p.time, h2, h2.Add(time.Hour))+` AND `+endHour+`)`)
		}
		if len(cond) > 0 {
			out = append(out, part(p, false, strings.Join(cond, ` OR `)))
		}
		if cond := spansOf(q, p.time, less[i], time.Hour); len(cond) > 0 {
			out = append(out, part(p, true, strings.Join(cond, ` OR `)))
		}
	}
	if len(hourly.blocks) > 0 {
		blocks := hourly
		blocks.table, blocks.time = hourly.blockTable, schema.TimeColumn(hourly.blockTable)
		names = part(blocks, false, strings.Join(spansOf(q, blocks.time, hourly.blocks, schema.SessionBlock), ` OR `))
		out = append(out, names)
		names = `(` + names + `)`
	}
	return strings.Join(out, `
	UNION ALL
	`), names
}

// spansOf are the conditions that col (a rollup's time) is in one of the
// periods of length starting at starts (sorted), consecutive ones as one
// range.
func spansOf(q *query.Builder, col string, starts []time.Time, length time.Duration) []string {
	var spans []string
	for i := 0; i < len(starts); {
		j := i + 1
		for j < len(starts) && starts[j].Equal(starts[j-1].Add(length)) {
			j++
		}
		spans = append(spans, `(`+q.BetweenSeconds(col, starts[i], starts[j-1].Add(length))+`)`)
		i = j
	}
	return spans
}

// completeParts sets the complete parts of hourly (the session rollup)
// that a range whose whole hours are [h1, h2) reads: the 6-hour blocks
// of its blockTable (hourParts) within, and the one an end is in when
// more of it is in than not; and the hours of its hoursTable, if any,
// that it reads as hours (hourSpans). A block or an hour is complete
// where its flow count equals that of flows_1h over the same hours: one
// built before all of its flows arrived (or not built) is short.
func (c *Component) completeParts(ctx context.Context, hourly *flowPart, h1, h2, complete time.Time) error {
	c1, c2 := h1.Truncate(schema.SessionBlock), h2.Truncate(schema.SessionBlock)
	e1, e2 := c1, c2 // the blocks the ends are in
	if c1.Before(h1) && (h1.Sub(c1) >= schema.SessionBlock/2 || c1.Before(complete)) {
		c1 = c1.Add(schema.SessionBlock)
	}
	if h2.Sub(c2) > schema.SessionBlock/2 {
		c2 = c2.Add(schema.SessionBlock)
	}
	q := &query.Builder{}
	same := func(table, period string, from, to time.Time) string {
		return `SELECT t FROM (
	SELECT time AS t, sum(flows) AS n FROM ` + table + ` WHERE ` + q.BetweenSeconds(schema.TimeColumn(table), from, to) + ` GROUP BY t
) WHERE (t, n) IN (
	SELECT toStartOfInterval(time, INTERVAL ` + period + `) AS t, sum(flows) AS n FROM ` + schema.TableFlows1h + ` WHERE ` + q.BetweenSeconds(schema.TimeColumn(schema.TableFlows1h), from, to) + ` GROUP BY t
)`
	}
	var parts []string
	if c1.Before(c2) {
		parts = append(parts, `SELECT 'b' AS k, t FROM (`+same(hourly.blockTable, "6 HOUR", c1, c2)+`)`)
	}
	if hourly.hoursTable != "" {
		for _, span := range hourSpans(h1, h2, c1, c2, e1, e2) {
			parts = append(parts, `SELECT 'h' AS k, t FROM (`+same(hourly.hoursTable, "1 HOUR", span[0], span[1])+`)`)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	sql := strings.Join(parts, "\nUNION ALL\n")
	err := c.run(ctx, "session_blocks", sql, q.Args, func(rows driver.Rows) error {
		var k string
		var t time.Time
		if err := rows.Scan(&k, &t); err != nil {
			return err
		}
		if k == "b" {
			hourly.blocks = append(hourly.blocks, t.UTC())
		} else {
			hourly.hours = append(hourly.hours, t.UTC())
		}
		return nil
	})
	slices.SortFunc(hourly.blocks, time.Time.Compare) // in order for spansOf
	slices.SortFunc(hourly.hours, time.Time.Compare)
	return err
}

// hourSpans are the spans of time whose hours a range of whole hours
// [h1, h2) (and the hour h2) reads as hours besides its blocks [c1, c2)
// (hourParts), the ends being in the blocks at e1 and e2: at the start
// the hours up to c1, or those of the block at e1 before h1 (less); at
// the end those from the block at e2 to h2 and the hour h2, or those of
// the block before c2 from h2 on (less); without a block, all of them.
func hourSpans(h1, h2, c1, c2, e1, e2 time.Time) [][2]time.Time {
	if !c1.Before(c2) {
		return [][2]time.Time{{h1, h2.Add(time.Hour)}}
	}
	var spans [][2]time.Time
	switch {
	case c1.After(e1):
		spans = append(spans, [2]time.Time{h1, c1})
	case e1.Before(h1):
		spans = append(spans, [2]time.Time{e1, h1})
	}
	if c2.After(e2) {
		return append(spans, [2]time.Time{h2, c2})
	}
	return append(spans, [2]time.Time{e2, h2.Add(time.Hour)})
}

// identifier is a name in SQL that is not a function's; bound parameters
// ({p0:Type}) are removed first.
var (
	identifier  = regexp.MustCompile(`[a-z_][a-z0-9_]*\(?`)
	placeholder = regexp.MustCompile(`\{[^}]*\}`)
)

// readColumns are the columns the dimensions and the filters of q read.
func readColumns(q *query.Builder, by []string) []string {
	exprs := slices.Clone(q.Conds)
	for _, name := range by {
		d := topNDimensions[name]
		exprs = append(append(exprs, d.cols...), d.names...)
	}
	var cols []string
	for _, e := range exprs {
		for _, id := range identifier.FindAllString(placeholder.ReplaceAllString(e, ""), -1) {
			if !strings.HasSuffix(id, "(") && !slices.Contains(cols, id) {
				cols = append(cols, id)
			}
		}
	}
	return cols
}

// subset reports whether every one of cols is in of.
func subset(cols, of []string) bool {
	for _, c := range cols {
		if !slices.Contains(of, c) {
			return false
		}
	}
	return true
}

// sessionRollup is what the schema has of the session rollup: the first
// hour flows_5tuple_1h holds every flow of (a database upgraded to it has
// only the flows received after) and its tables of blocks, with the path
// (flows_5tuple_6h) and without (flow_sessions_6h, beside the hours
// without: flow_sessions_1h), "" when not there.
type sessionRollup struct {
	from             time.Time
	blocks, sessions string
	sessionHours     string // flow_sessions_1h, made with flow_sessions_6h
}

// sessionsCompleteFrom reads the session rollup's coverage from its
// table's comment, once the schema has both tables; ok is false before
// the schema has flows_5tuple_1h.
func (c *Component) sessionsCompleteFrom(ctx context.Context) (r sessionRollup, ok bool, err error) {
	if p := c.sessionRollup.Load(); p != nil {
		return *p, true, nil
	}
	q := &query.Builder{}
	q.And("database = currentDatabase() AND name IN (" + q.Bind("String", schema.TableFlows5Tuple1h) + ", " + q.Bind("String", schema.TableFlows5Tuple6h) + ", " + q.Bind("String", schema.TableFlowSessions6h) + ")")
	err = c.run(ctx, "sessions_coverage", "SELECT name, comment FROM system.tables WHERE "+q.Where(), q.Args,
		func(rows driver.Rows) error {
			var name, comment string
			if err := rows.Scan(&name, &comment); err != nil {
				return err
			}
			switch name {
			case schema.TableFlows5Tuple6h:
				r.blocks = name
			case schema.TableFlowSessions6h:
				r.sessions, r.sessionHours = name, schema.TableFlowSessions1h
			default:
				r.from, ok = schema.Flows5TupleCompleteFrom(comment)
			}
			return nil
		})
	if err != nil {
		return sessionRollup{}, false, err
	}
	if ok && r.blocks != "" && r.sessions != "" {
		c.sessionRollup.Store(&r) // the schema only grows: read it once
	}
	return r, ok, nil
}
