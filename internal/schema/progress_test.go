package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// singleGroupProgress turns ingest_progress back into its shape before
// version 15: keyed by topic and partition only, fed by views that know
// no writer group.
func singleGroupProgress(t *testing.T, exec func(string)) {
	t.Helper()
	var ddl []string
	for _, m := range schema.Migrations(schema.DefaultOptions()) {
		if m.Version != 2 {
			continue
		}
		for _, s := range m.Statements {
			if strings.Contains(s, "ingest_progress") {
				ddl = append(ddl, s)
			}
		}
	}
	for _, table := range []string{"ifstats", "flows", "sockets", "pods"} {
		exec("DROP VIEW " + table + "_progress_mv")
	}
	exec("DROP TABLE ingest_progress")
	for _, s := range ddl {
		exec(s)
	}
	exec("ALTER TABLE schema_migrations DELETE WHERE version = 15 SETTINGS mutations_sync = 2")
}

func TestUpgradeKeysIngestProgressByWriterGroupAndKeepsTheOldProgress(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	singleGroupProgress(t, execer(t, conn))
	insert(t, conn, "flows/0/1-2", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 7)`)

	upgradeTwice(t, conn, 15)
	if k := scalar[string](t, conn, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'ingest_progress'"); k != "topic, partition, writer_group" {
		t.Errorf("ingest_progress key = %q", k)
	}
	// Two groups write partition 0 of the same topic: each has its own
	// progress, and the old row is kept under group "".
	for group, offset := range map[string]string{"site-a": "20", "site-b": "30"} {
		ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{schema.WriterGroupSetting: group}))
		if err := conn.Exec(ctx, at(`INSERT INTO flows `+flowCols+` VALUES
			('2026-01-01 10:00:06', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, `+offset+`)`)); err != nil {
			t.Fatal(err)
		}
	}
	got := scalar[string](t, conn, `SELECT arrayStringConcat(groupArray(writer_group || '=' || toString(o)), ' ') FROM
		(SELECT writer_group, max(max_offset) AS o FROM ingest_progress WHERE topic = 'netstrata.flows.v1' AND partition = 0 GROUP BY writer_group ORDER BY writer_group)`)
	if want := "=7 site-a=20 site-b=30"; got != want {
		t.Errorf("progress per group = %q, want %q", got, want)
	}
}
