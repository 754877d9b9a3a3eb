package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/record"

	"github.com/netstrata/netstrata/api/apiv1"
)

// span reads a table's rows as time intervals: each row's values are
// spread evenly over [start, end) (in Unix milliseconds), so that a
// window cut at any second gets the share of the row that fell in it.
// A row with end = start is a point at start. Windows can then be as
// fine as the layer itself: one SNMP poll, one agent interval, one flow.
type span struct {
	table   string
	timeCol string // the table's time column, for its index
	// The time column lies in [start - lead, end + lag] of the interval.
	lead, lag  time.Duration
	start, end string
	// value expressions, by meaning: "bytes", "retransmits"
	values map[string]string
	cond   string // rows to keep besides the scope ("" for all)
}

// Exporter times are trusted when they end before the flow was received
// and not more than this before; otherwise the flow is placed at its
// receive time. Kept wide enough for an active timeout of several
// minutes, narrow enough that a clock off by hours is not believed. The
// collector applies the same rule after correcting an exporter's clock
// skew, and marks the flows it failed (time_basis = 'received').
const (
	maxExportDelay = record.FlowMaxExportDelay
	maxFlowLife    = record.FlowMaxLife
	maxClockAhead  = record.FlowMaxClockAhead
)

// flowTimesOK is true when a raw flow's exporter start and end are usable.
var flowTimesOK = fmt.Sprintf(`(time_basis != 'received' AND time_flow_start > toDateTime64('1971-01-01 00:00:00', 3, 'UTC') AND time_flow_end >= time_flow_start
	AND time_flow_end <= time_received + toIntervalMillisecond(%d) AND time_flow_end >= time_received - toIntervalSecond(%d)
	AND time_flow_end - time_flow_start <= %d)`, maxClockAhead.Milliseconds(), int(maxExportDelay.Seconds()), int(maxFlowLife.Seconds()))

const msOf = "toInt64(toUnixTimestamp64Milli(%s))"

var (
	// rawFlows spreads each flow over the exporter's start–end (its
	// bytes were counted then, not when the record arrived: an active
	// timeout delays them by up to that timeout).
	rawFlows = span{table: "flows", timeCol: "time_received", lag: maxExportDelay, lead: maxClockAhead,
		start:  fmt.Sprintf("if(%s, %s, %s)", flowTimesOK, fmt.Sprintf(msOf, "time_flow_start"), fmt.Sprintf(msOf, "time_received")),
		end:    fmt.Sprintf("if(%s, %s, %s)", flowTimesOK, fmt.Sprintf(msOf, "time_flow_end"), fmt.Sprintf(msOf, "time_received")),
		values: map[string]string{"bytes": "bytes * sampling_rate"}}
	// rawSockets spreads each agent record over its interval.
	rawSockets = span{table: "sockets", timeCol: "time", lag: maxExportDelay,
		start:  fmt.Sprintf(msOf, "time") + " - toInt64(interval_ms)",
		end:    fmt.Sprintf(msOf, "time"),
		values: map[string]string{"bytes": "bytes_sent + bytes_received", "retransmits": "retransmits"}}
	// rawSNMP spreads each poll's deltas over the time since the poll
	// before it.
	rawSNMP = span{table: "ifstats", timeCol: "time", lag: maxExportDelay,
		start:  fmt.Sprintf("least(%s, %s)", fmt.Sprintf(msOf, "prev_time"), fmt.Sprintf(msOf, "time")),
		end:    fmt.Sprintf(msOf, "time"),
		values: map[string]string{"bytes": "delta_in_octets + delta_out_octets"}, cond: "rate_valid"}
	// The minute rollups, for ranges too long to read raw: each row is
	// its minute.
	minuteFlows = span{table: "flows_1m", timeCol: "time", lead: time.Minute,
		start: "toInt64(toUnixTimestamp(time)) * 1000", end: "toInt64(toUnixTimestamp(time)) * 1000 + 60000",
		values: map[string]string{"bytes": "bytes"}}
	minuteSockets = span{table: "sockets_1m", timeCol: "time", lead: time.Minute,
		start: minuteFlows.start, end: minuteFlows.end,
		values: map[string]string{"bytes": "bytes_sent + bytes_received", "retransmits": "retransmits"}}
)

// spansFor are the sources of each layer for a range: the raw tables up
// to rawRange (api.raw_range), the minute rollups beyond (SNMP has none:
// its polls are few).
func spansFor(from, to time.Time, rawRange time.Duration) map[string]span {
	if to.Sub(from) <= rawRange {
		return map[string]span{"flows": rawFlows, "sockets": rawSockets, "snmp": rawSNMP}
	}
	return map[string]span{"flows": minuteFlows, "sockets": minuteSockets, "snmp": rawSNMP}
}

// isRaw is true when the span reads a raw table (second precision).
func (s span) isRaw() bool { return !strings.HasSuffix(s.table, "_1m") }

// rows restricts q to the rows whose interval overlaps [from, to), using
// the time column's index, and returns the FROM clause of the intervals:
// columns s, e (ms) and the row's own columns.
func (s span) rows(q *query, from, to time.Time) string {
	timeCond(q, s.timeCol, from.Add(-s.lead), to.Add(s.lag))
	if s.cond != "" {
		q.and(s.cond)
	}
	a, b := q.bind("Int64", from.UnixMilli()), q.bind("Int64", to.UnixMilli())
	q.and("e > " + a + " OR (e = s AND s >= " + a + ")")
	q.and("s < " + b)
	return "(SELECT *, " + s.start + " AS s, " + s.end + " AS e FROM " + s.table + ")"
}

// overlap is the share of a row's interval inside [a, b) (placeholders
// of Int64 ms).
func overlap(a, b string) string {
	return "if(e > s, greatest(0, least(e, " + b + ") - greatest(s, " + a + ")) / (e - s), toFloat64(s >= " + a + " AND s < " + b + "))"
}

// windowSum is sum(value × the row's share in w), with w bound into q.
func windowSum(q *query, value string, w window) string {
	a, b := q.bind("Int64", w.Start.UnixMilli()), q.bind("Int64", w.End.UnixMilli())
	return "sum((" + value + ") * " + overlap(a, b) + ")"
}

// inWindow is true for rows with any part in w.
func inWindow(q *query, w window) string {
	a, b := q.bind("Int64", w.Start.UnixMilli()), q.bind("Int64", w.End.UnixMilli())
	return overlap(a, b) + " > 0"
}

// series reads the named values of the scope's rows per step from from
// to to, each row spread over the buckets its interval covers.
func (c *Component) series(ctx context.Context, name string, s span, scope *query, from, to time.Time, step time.Duration, values ...string) ([]map[int64]float64, error) {
	q := scope.clone()
	src := s.rows(q, from, to)
	st := q.bind("Int64", step.Milliseconds())
	lo, hi := q.bind("Int64", from.UnixMilli()/step.Milliseconds()), q.bind("Int64", (to.UnixMilli()+step.Milliseconds()-1)/step.Milliseconds())
	var inner, outer []string
	for i, v := range values {
		inner = append(inner, fmt.Sprintf("sum(toFloat64(%s)) AS v%d", s.values[v], i))
		outer = append(outer, fmt.Sprintf("sum(v%d * if(e > s, (least(e, (k + 1) * %s) - greatest(s, k * %s)) / (e - s), 1))", i, st, st))
	}
	sql := `SELECT k * ` + st + ` AS t, ` + strings.Join(outer, ", ") + `
FROM (SELECT s, e, ` + strings.Join(inner, ", ") + ` FROM ` + src + ` WHERE ` + q.where() + ` GROUP BY s, e)
ARRAY JOIN range(intDiv(s, ` + st + `), intDiv(greatest(e - 1, s), ` + st + `) + 1) AS k
WHERE k >= ` + lo + ` AND k < ` + hi + `
GROUP BY k`
	out := make([]map[int64]float64, len(values))
	for i := range out {
		out[i] = map[int64]float64{}
	}
	err := c.run(ctx, name, sql, q.args, func(rows driver.Rows) error {
		var t int64
		vals := make([]float64, len(values))
		dest := []any{&t}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, v := range vals {
			out[i][time.UnixMilli(t).Unix()] = v
		}
		return nil
	})
	return out, err
}

// width is how long the scope's rows last (the 99th percentile, ms): a
// poll interval, an agent interval, a flow's active timeout. A row that
// holds any of a spike's bytes starts no earlier than this before the
// spike, so a baseline ending there holds none of them.
func (c *Component) width(ctx context.Context, name string, s span, scope *query, from, to time.Time) (time.Duration, error) {
	q := scope.clone()
	src := s.rows(q, from, to)
	var ms float64
	err := c.run(ctx, name, `SELECT toFloat64(quantile(0.99)(e - s)) FROM `+src+` WHERE `+q.where(), q.args,
		func(rows driver.Rows) error { return rows.Scan(&ms) })
	return time.Duration(apiv1.Finite(ms)) * time.Millisecond, err
}
