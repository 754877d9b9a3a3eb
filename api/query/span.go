package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// Span reads a table's rows as time intervals: each row's values are
// spread evenly over [start, end) (in Unix milliseconds), so that a
// window cut at any second gets the share of the row that fell in it.
// A row with end = start is a point at start. Windows can then be as
// fine as the layer itself: one SNMP poll, one agent interval, one flow.
type Span struct {
	table   string
	timeCol string // the table's time column, for its index
	// The time column lies in [start - lead, end + lag] of the interval.
	lead, lag  time.Duration
	start, end string
	// value expressions, by meaning: "bytes", "retransmits"
	Values map[string]string
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
	rawFlows = Span{table: schema.TableFlows, timeCol: schema.TimeColumn(schema.TableFlows), lag: maxExportDelay, lead: maxClockAhead,
		start:  fmt.Sprintf("if(%s, %s, %s)", flowTimesOK, fmt.Sprintf(msOf, "time_flow_start"), fmt.Sprintf(msOf, "time_received")),
		end:    fmt.Sprintf("if(%s, %s, %s)", flowTimesOK, fmt.Sprintf(msOf, "time_flow_end"), fmt.Sprintf(msOf, "time_received")),
		Values: map[string]string{"bytes": "bytes * sampling_rate"}}
	// rawSockets spreads each agent record over its interval.
	rawSockets = Span{table: schema.TableSockets, timeCol: schema.TimeColumn(schema.TableSockets), lag: maxExportDelay,
		start:  fmt.Sprintf(msOf, "time") + " - toInt64(interval_ms)",
		end:    fmt.Sprintf(msOf, "time"),
		Values: map[string]string{"bytes": "bytes_sent + bytes_received", "retransmits": "retransmits"}}
	// rawSNMP spreads each poll's deltas over the time since the poll
	// before it.
	rawSNMP = Span{table: schema.TableIfStats, timeCol: schema.TimeColumn(schema.TableIfStats), lag: maxExportDelay,
		start:  fmt.Sprintf("least(%s, %s)", fmt.Sprintf(msOf, "prev_time"), fmt.Sprintf(msOf, "time")),
		end:    fmt.Sprintf(msOf, "time"),
		Values: map[string]string{"bytes": "delta_in_octets + delta_out_octets"}, cond: "rate_valid"}
	// The minute rollups, for ranges too long to read raw: each row is
	// its minute.
	minuteFlows = Span{table: schema.TableFlows1m, timeCol: schema.TimeColumn(schema.TableFlows1m), lead: time.Minute,
		start: "toInt64(toUnixTimestamp(time)) * 1000", end: "toInt64(toUnixTimestamp(time)) * 1000 + 60000",
		Values: map[string]string{"bytes": "bytes"}}
	MinuteSockets = Span{table: schema.TableSockets1m, timeCol: schema.TimeColumn(schema.TableSockets1m), lead: time.Minute,
		start: minuteFlows.start, end: minuteFlows.end,
		Values: map[string]string{"bytes": "bytes_sent + bytes_received", "retransmits": "retransmits"}}
)

// SpansFor are the sources of each layer for a range: the raw tables up
// to rawRange (api.raw_range), the minute rollups beyond (SNMP has none:
// its polls are few).
func SpansFor(from, to time.Time, rawRange time.Duration) map[string]Span {
	if to.Sub(from) <= rawRange {
		return map[string]Span{"flows": rawFlows, "sockets": rawSockets, "snmp": rawSNMP}
	}
	return map[string]Span{"flows": minuteFlows, "sockets": MinuteSockets, "snmp": rawSNMP}
}

// IsRaw is true when the span reads a raw table (second precision).
func (s Span) IsRaw() bool { return s.table != schema.TableFlows1m && s.table != schema.TableSockets1m }

// Rows restricts q to the rows whose interval overlaps [from, to), using
// the time column's index, and returns the FROM clause of the intervals:
// columns s, e (ms) and the row's own columns.
func (s Span) Rows(q *Builder, from, to time.Time) string {
	TimeCond(q, s.timeCol, from.Add(-s.lead), to.Add(s.lag))
	if s.cond != "" {
		q.And(s.cond)
	}
	a, b := q.Bind("Int64", from.UnixMilli()), q.Bind("Int64", to.UnixMilli())
	q.And("e > " + a + " OR (e = s AND s >= " + a + ")")
	q.And("s < " + b)
	return "(SELECT *, " + s.start + " AS s, " + s.end + " AS e FROM " + s.table + ")"
}

// overlap is the share of a row's interval inside [a, b) (placeholders
// of Int64 ms).
func overlap(a, b string) string {
	return "if(e > s, greatest(0, least(e, " + b + ") - greatest(s, " + a + ")) / (e - s), toFloat64(s >= " + a + " AND s < " + b + "))"
}

// WindowSum is sum(value × the row's share in w), with w bound into q.
func WindowSum(q *Builder, value string, w Window) string {
	a, b := q.Bind("Int64", w.Start.UnixMilli()), q.Bind("Int64", w.End.UnixMilli())
	return "sum((" + value + ") * " + overlap(a, b) + ")"
}

// InWindow is true for rows with any part in w.
func InWindow(q *Builder, w Window) string {
	a, b := q.Bind("Int64", w.Start.UnixMilli()), q.Bind("Int64", w.End.UnixMilli())
	return overlap(a, b) + " > 0"
}

// Series reads the named values of the scope's rows per step from from
// to to, each row spread over the buckets its interval covers.
func Series(ctx context.Context, run Run, name string, s Span, scope *Builder, from, to time.Time, step time.Duration, values ...string) ([]map[int64]float64, error) {
	q := scope.Clone()
	src := s.Rows(q, from, to)
	st := q.Bind("Int64", step.Milliseconds())
	lo, hi := q.Bind("Int64", from.UnixMilli()/step.Milliseconds()), q.Bind("Int64", (to.UnixMilli()+step.Milliseconds()-1)/step.Milliseconds())
	var inner, outer []string
	for i, v := range values {
		inner = append(inner, fmt.Sprintf("sum(toFloat64(%s)) AS v%d", s.Values[v], i))
		outer = append(outer, fmt.Sprintf("sum(v%d * if(e > s, (least(e, (k + 1) * %s) - greatest(s, k * %s)) / (e - s), 1))", i, st, st))
	}
	sql := `SELECT k * ` + st + ` AS t, ` + strings.Join(outer, ", ") + `
FROM (SELECT s, e, ` + strings.Join(inner, ", ") + ` FROM ` + src + ` WHERE ` + q.Where() + ` GROUP BY s, e)
ARRAY JOIN range(intDiv(s, ` + st + `), intDiv(greatest(e - 1, s), ` + st + `) + 1) AS k
WHERE k >= ` + lo + ` AND k < ` + hi + `
GROUP BY k`
	out := make([]map[int64]float64, len(values))
	for i := range out {
		out[i] = map[int64]float64{}
	}
	err := run(ctx, name, sql, q.Args, func(rows driver.Rows) error {
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

// Width is how long the scope's rows last (the 99th percentile, ms): a
// poll interval, an agent interval, a flow's active timeout. A row that
// holds any of a spike's bytes starts no earlier than this before the
// spike, so a baseline ending there holds none of them.
func Width(ctx context.Context, run Run, name string, s Span, scope *Builder, from, to time.Time) (time.Duration, error) {
	q := scope.Clone()
	src := s.Rows(q, from, to)
	var ms float64
	err := run(ctx, name, `SELECT toFloat64(quantile(0.99)(e - s)) FROM `+src+` WHERE `+q.Where(), q.Args,
		func(rows driver.Rows) error { return rows.Scan(&ms) })
	return time.Duration(apiv1.Finite(ms)) * time.Millisecond, err
}
