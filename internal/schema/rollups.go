package schema

import "fmt"

// Version 20: the correlator writes the flow rollups that aggregate
// (flows_1m, flows_1h, interface_flows_5m) itself, aggregated over a
// whole batch in Go, each with its own idempotent INSERT, before the raw
// flows whose INSERT recorded the batch's progress (the writer's own
// INSERT since version 21, see progress.go): an INSERT's views are
// not atomic with it, and a writer killed between them left flows_1h
// short of what the progress said was stored (issue #19). The views stay
// for every other writer (a manual INSERT, the test seeds) and skip the
// INSERTs of a writer that rolls up itself, which start their
// deduplication token with RolledUpToken. flows_5tuple_1h stays a view
// of the raw flows' INSERT: it holds a row per flow and aggregates
// nothing at insert, and sending those rows to the engine cost more
// than the view's projection of the block (5,000 conversations: 8.0
// against 5.1 µs of CPU per flow).

// RolledUpToken starts the deduplication token of an INSERT into flows
// or a flow rollup whose writer writes the rollups itself: the rollups'
// views skip it.
const RolledUpToken = "rolled-up:"

// notRolledUp is the views' condition: the INSERT's writer does not
// write the rollups itself.
const notRolledUp = "NOT startsWith(getSetting('insert_deduplication_token'), '" + RolledUpToken + "')"

// Columns of the flow rollups besides the raw columns they keep under
// the same names (FlowSrcIP, FlowBytes, …).
const (
	RollupTime              = "time"      // start of the rollup's minute, hour or 5 minutes
	RollupFlows             = "flows"     // raw flows summed into the row
	InterfaceFlowsIfIndex   = "if_index"  // interface_flows_5m: the interface, input or output
	InterfaceFlowsDirection = "direction" // interface_flows_5m: 'in' (input interface) or 'out'
)

// A batch's INSERTs are several (rollups, then raw flows), and a writer
// killed among them leaves some stored and its progress not: the records
// are read again, by it or another member, maybe in other batches, whose
// tokens would not match those of the INSERTs that landed. So before its
// first INSERT a writer records in ingest_batches the offset ranges of
// the batch ("partition:first-last" per partition of the topic, sorted,
// the input of its tokens); a writer that takes the partitions over and
// finds a batch there beyond their stored progress inserts that batch's
// records again as one batch, which the tokens make exact. A day is
// far longer than any recovery.
func (d ddl) ingestBatches() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS `+TableIngestBatches+` (
	time DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC'),
	writer_group LowCardinality(String),
	topic LowCardinality(String),
	ranges Array(String)
) ENGINE = MergeTree
ORDER BY (writer_group, topic, time)
TTL toDateTime(time) + INTERVAL 1 DAY
SETTINGS non_replicated_deduplication_window = %d, ttl_only_drop_parts = 1, %s`, d.o.DeduplicationWindow, compactParts)
}

// writerRollups recreates the flow rollups' views with notRolledUp and
// makes ingest_batches.
func (d ddl) writerRollups() []string {
	stmts := []string{d.ingestBatches()}
	for _, v := range []string{TableFlows1h, TableInterfaceFlows5m, TableFlows1m} {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+v+"_mv")
	}
	return append(stmts, d.flows1mMV(), d.flows1hMV(), d.interfaceFlows5mMV())
}
