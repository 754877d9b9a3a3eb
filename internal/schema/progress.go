package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/record"
)

// WriterGroupSetting is the setting every INSERT into a raw table
// carries with its writer's consumer group: the progress views store it,
// so that several correlator groups (consuming different Kafka clusters,
// say) can share a database without one skipping the other's offsets.
// It is log_comment, a standard setting, rather than a custom_ one, which
// a server accepts only when its configuration allows the prefix; the
// group then also names the INSERT in system.query_log. An INSERT
// without it (a manual one) is recorded under group "".
const WriterGroupSetting = "log_comment"

// progressTopics are the raw tables whose inserts record their progress,
// with their topics.
var progressTopics = [][2]string{
	{TableIfStats, record.TopicIfStats},
	{TableFlows, record.TopicFlows},
	{TableSockets, record.TopicSockets},
	{TablePods, record.TopicPods},
}

// ingestProgressByGroup is ingest_progress as version 15 leaves it, for
// a database made whole at once (a cluster's).
func (d ddl) ingestProgressByGroup() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS ingest_progress (
	topic LowCardinality(String),
	partition UInt32,
	max_offset SimpleAggregateFunction(max, UInt64),
	rows SimpleAggregateFunction(sum, UInt64),
	updated SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
	writer_group LowCardinality(String),
	epoch SimpleAggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY (topic, partition, writer_group)
SETTINGS non_replicated_deduplication_window = %d`, d.o.DeduplicationWindow)
}

// progressByGroup maps version 2's ingest_progress statements to what
// version 15 makes of them.
func (d ddl) progressByGroup() map[string]string {
	m := map[string]string{d.ingestProgress(): d.ingestProgressByGroup()}
	for _, tt := range progressTopics {
		m[d.progressMV(tt[0], tt[1])] = d.groupProgressMV(tt[0], tt[1])
	}
	return m
}

// upgradeToV15 keys ingest_progress by writer group as well as topic and
// partition, adds the partition's fencing epoch (see package correlator),
// and recreates the progress views to store the group. Rows stored before
// it have group "", which readers take as every group's.
func (d ddl) upgradeToV15(ctx context.Context, conn driver.Conn) error {
	stmts := []string{`ALTER TABLE ingest_progress
	ADD COLUMN IF NOT EXISTS writer_group LowCardinality(String),
	ADD COLUMN IF NOT EXISTS epoch SimpleAggregateFunction(max, UInt64),
	MODIFY ORDER BY (topic, partition, writer_group)`}
	for _, tt := range progressTopics {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+tt[0]+"_progress_mv", d.groupProgressMV(tt[0], tt[1]))
	}
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("ingest progress per writer group: %w", err)
		}
	}
	return nil
}

// groupProgressMV records, in the same insert as the rows, the highest
// Kafka offset stored per partition of the table's topic and writer group.
func (d ddl) groupProgressMV(table, topic string) string {
	return fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s_progress_mv TO ingest_progress AS
SELECT '%s' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('%s')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM %s
GROUP BY kafka_partition`, table, topic, WriterGroupSetting, table)
}

// Version 21: the progress of the flows a writer rolls up itself is the
// writer's own INSERT, made once every table of a batch is written (the
// rollups, the raw flows and the views of the raw flows' INSERT):
// the progress view of flows ran inside the raw flows' INSERT, so a
// writer killed between it and a later view of that INSERT
// (flows_5tuple_1h's) left that view's table short while the progress
// said stored, and nobody inserted the batch again (issue #19). The view
// stays for every other writer.

// flowsProgressMV is groupProgressMV of flows, skipping the INSERTs of a
// writer that rolls up itself.
func (d ddl) flowsProgressMV() string {
	return strings.Replace(d.groupProgressMV(TableFlows, record.TopicFlows), "\nGROUP BY", "\nWHERE "+notRolledUp+"\nGROUP BY", 1)
}

// writerFlowsProgress recreates flows' progress view with notRolledUp.
func (d ddl) writerFlowsProgress() []string {
	return []string{"DROP VIEW IF EXISTS " + TableFlows + "_progress_mv", d.flowsProgressMV()}
}
