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

func (d ddl) flows5Tuple1h() string {
	return `CREATE TABLE IF NOT EXISTS ` + TableFlows5Tuple1h + ` (
	time DateTime('UTC'),
	exporter_ip IPv6,
	in_if UInt32,
	out_if UInt32,
	proto UInt8,
	src_ip IPv6,
	dst_ip IPv6,
	src_port UInt16,
	dst_port UInt16,
	bytes ` + sum64 + `,
	packets ` + sum64 + `,
	flows ` + sum64 + `
) ENGINE = AggregatingMergeTree
ORDER BY (time, ` + strings.Join(Flows5TupleColumns, ", ") + `)
` + d.tail(TableFlows5Tuple1h)
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
