package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Version 14 adds flows_5tuple_1h: the raw flows summed per hour and
// session (protocol, both addresses and both ports, unfolded) on the path
// the exporter saw it (exporter, interfaces). A session ranking over a day
// reads it instead of every raw flow. It holds only what a session
// ranking and its common filters read: a wider row costs every insert.

// Flows5TupleColumns are the columns of flows_5tuple_1h besides time and
// the sums bytes, packets and flows: the API answers from the rollup only
// a question whose dimensions and filters read these alone.
var Flows5TupleColumns = []string{FlowExporterIP, FlowInIf, FlowOutIf, FlowProto, FlowSrcIP, FlowDstIP, FlowSrcPort, FlowDstPort}

// SessionColumns are the columns of flow_sessions_6h besides time and
// the sums: a session (5-tuple) without the path it took.
var SessionColumns = []string{FlowProto, FlowSrcIP, FlowDstIP, FlowSrcPort, FlowDstPort}

func (d ddl) flows5Tuple1h() string { return d.sessionTable(TableFlows5Tuple1h, Flows5TupleColumns) }

// sessionTable is the DDL of a session rollup of cols: flows_5tuple_1h,
// and flows_5tuple_6h and flow_sessions_6h whose time is a block's start.
func (d ddl) sessionTable(table string, cols []string) string {
	var defs []string
	for _, c := range cols {
		defs = append(defs, "\t"+c+" "+columnType(c)+",\n")
	}
	return `CREATE TABLE IF NOT EXISTS ` + table + ` (
	time DateTime('UTC'),
` + strings.Join(defs, "") + `	bytes ` + sum64 + `,
	packets ` + sum64 + `,
	flows ` + sum64 + `
) ENGINE = AggregatingMergeTree
ORDER BY (time, ` + strings.Join(cols, ", ") + `)
` + d.tail(table)
}

// flows5Tuple1hMV scales each raw flow by its sampling rate into its hour.
// It does not GROUP BY: a block's rows are mostly distinct sessions;
// rows of equal keys are summed by background merges (the correlator
// inserts flows with optimize_on_insert=0) and by every reader.
func (d ddl) flows5Tuple1hMV() string {
	cols := strings.Join(Flows5TupleColumns, ", ")
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS ` + TableFlows5Tuple1h + `_mv TO ` + TableFlows5Tuple1h + ` AS
SELECT t AS time, ` + cols + `, b AS bytes, p AS packets, toUInt64(1) AS flows
FROM (
	SELECT toStartOfHour(time_received) AS t, ` + cols + `, bytes * sampling_rate AS b, packets * sampling_rate AS p
	FROM flows
)`
}

// Version 19 adds flows_5tuple_6h: flows_5tuple_1h summed per 6-hour
// block (00:00, 06:00, 12:00 and 18:00 UTC), so that a session ranking
// over a day groups a quarter of the rows (a session recurs every hour
// of a block). A view refreshed every hour builds each block once it
// has ended (off the flows INSERT: an insert-time view costs ingest
// CPU on every flow); blocks are complete only when no flow of theirs
// arrives after, so a reader uses a block only where its flow count
// equals flows_1h's over the same hours, and reads the hours otherwise.
//
// Version 22 adds flow_sessions_1h and flow_sessions_6h: the hours and
// the blocks without the path (exporter, interfaces), one row per session
// where flows_5tuple_1h and flows_5tuple_6h have one per exporter and
// interface pair the session went through — what a session ranking
// without a path filter reads. Both are built by hourly refreshes too,
// an hour once it has ended.

// SessionBlock is the length of a block of flows_5tuple_6h and
// flow_sessions_6h.
const SessionBlock = 6 * time.Hour

// The views that build the session blocks and hours.
const (
	ViewFlows5Tuple6h  = TableFlows5Tuple6h + "_mv"
	ViewFlowSessions1h = TableFlowSessions1h + "_mv"
	ViewFlowSessions6h = TableFlowSessions6h + "_mv"
)

// SessionBlocksViews are the DDL of the views that build the session
// blocks and hours, by the table each fills, with o's retention. Tests
// recreate a view to build the blocks of the flows they wrote: a
// refreshable view refreshes when it is created.
func SessionBlocksViews(o Options) map[string]string {
	d := ddl{o: o}
	return map[string]string{TableFlows5Tuple6h: d.flows5Tuple6hRefresh(), TableFlowSessions1h: d.flowSessions1hRefresh(), TableFlowSessions6h: d.flowSessions6hRefresh()}
}

func (d ddl) flows5Tuple6h() string { return d.sessionTable(TableFlows5Tuple6h, Flows5TupleColumns) }

func (d ddl) flowSessions1h() string { return d.sessionTable(TableFlowSessions1h, SessionColumns) }

func (d ddl) flowSessions6h() string { return d.sessionTable(TableFlowSessions6h, SessionColumns) }

func (d ddl) flows5Tuple6hRefresh() string {
	return d.missingBlocksRefresh(ViewFlows5Tuple6h, TableFlows5Tuple6h, Flows5TupleColumns, 6)
}

func (d ddl) flowSessions1hRefresh() string {
	return d.missingBlocksRefresh(ViewFlowSessions1h, TableFlowSessions1h, SessionColumns, 1)
}

func (d ddl) flowSessions6hRefresh() string {
	return d.missingBlocksRefresh(ViewFlowSessions6h, TableFlowSessions6h, SessionColumns, 6)
}

// missingBlocksRefresh is a view that appends to table, every hour at
// :10, the sums of flows_5tuple_1h over cols for each block of hours
// hours ended at least 10 minutes ago that the table does not hold,
// within the retention less a day (so that a block dropped by the TTL
// while its hours are kept is not built again). It lists the blocks of
// that window, less those the table holds, and reads flows_5tuple_1h at
// their hours only (time IN a set: the primary key skips the rest). A
// block built before all of its flows arrived stays short; readers then
// use its hours. The rows are sorted so that replicas of a shard insert
// equal blocks (deduplicated).
func (d ddl) missingBlocksRefresh(view, table string, cols []string, hours int) string {
	list := strings.Join(cols, ", ")
	period := fmt.Sprintf("INTERVAL %d HOUR", hours)
	blocks := max(d.o.ttlSeconds()[table]-24*3600, 0) / 3600 / int64(hours)
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS ` + view + ` REFRESH EVERY 1 HOUR OFFSET 10 MINUTE APPEND TO ` + table + ` AS
SELECT t AS time, ` + list + `, b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfInterval(time, ` + period + `) AS t, ` + list + `, sum(bytes) AS b, sum(packets) AS p, sum(flows) AS n
	FROM ` + TableFlows5Tuple1h + `
	WHERE time IN (
		SELECT arrayJoin(arrayMap(h -> block + toIntervalHour(h), range(` + fmt.Sprint(hours) + `)))
		FROM (SELECT toStartOfInterval(now('UTC') - INTERVAL 10 MINUTE, ` + period + `) - toIntervalHour(` + fmt.Sprint(hours) + ` * (number + 1)) AS block FROM numbers(` + fmt.Sprint(blocks) + `))
		WHERE block NOT IN (SELECT time FROM ` + table + `)
	)
	GROUP BY t, ` + list + `
)
ORDER BY time, ` + list
}

// completeFrom is how flows_5tuple_1h's comment says from which hour it
// holds every flow: a database upgraded with flows in it has only those
// inserted after its view existed, and older hours are read raw.
const completeFrom = "complete from "

// recordFlows5TupleCoverage notes in the comment of flows_5tuple_1h the
// first hour it holds whole: any hour when there was no flow yet, else
// the hour after now (flows received from then on went through the view).
// A comment already there is kept, so a repeated run changes nothing.
func recordFlows5TupleCoverage(ctx context.Context, conn driver.Conn) error {
	comments, err := tableProperty(ctx, conn, "comment")
	if err != nil {
		return err
	}
	if comments[TableFlows5Tuple1h] != "" {
		return nil
	}
	var flows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM "+TableFlows+" LIMIT 1)").Scan(&flows); err != nil {
		return fmt.Errorf("count flows: %w", err)
	}
	from := time.Unix(0, 0).UTC()
	if flows > 0 {
		from = time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	}
	if err := conn.Exec(ctx, flows5TupleCoverage(from)); err != nil {
		return fmt.Errorf("record coverage of %s: %w", TableFlows5Tuple1h, err)
	}
	return nil
}

// flows5TupleCoverage notes that flows_5tuple_1h holds every flow from
// from on.
func flows5TupleCoverage(from time.Time) string {
	return fmt.Sprintf("ALTER TABLE %s MODIFY COMMENT '%s%s'", TableFlows5Tuple1h, completeFrom, from.Format(time.RFC3339))
}

// Flows5TupleCompleteFrom reads the first hour flows_5tuple_1h holds
// whole from its comment (see recordFlows5TupleCoverage); ok is false
// when the table or its note is not there yet.
func Flows5TupleCompleteFrom(comment string) (from time.Time, ok bool) {
	s, found := strings.CutPrefix(comment, completeFrom)
	if !found {
		return time.Time{}, false
	}
	from, err := time.Parse(time.RFC3339, s)
	return from, err == nil
}

// columnType is the type of a column of flows that a session rollup
// keeps.
func columnType(col string) string {
	for _, c := range rawColumns[TableFlows] {
		if c.Name == col {
			return c.Type
		}
	}
	panic("schema: flows has no column " + col)
}
