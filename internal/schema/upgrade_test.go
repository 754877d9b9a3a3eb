package schema_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// summingRollups turns a database of the current schema into one made
// before version 7: flows_1m and flows_1h as SummingMergeTree, fed by
// the same views, and version 7 not recorded.
func summingRollups(t *testing.T, exec func(string)) {
	t.Helper()
	for _, table := range []string{"flows", "sockets", "ifstats"} {
		exec("ALTER TABLE " + table + " RESET SETTING min_bytes_for_wide_part")
	}
	var ddl []string
	for _, m := range schema.Migrations(schema.DefaultOptions()) {
		if m.Version >= 7 {
			break // version 20 makes the views again
		}
		for _, s := range m.Statements {
			for _, table := range []string{"flows_1m", "flows_1h"} {
				if strings.HasPrefix(s, "CREATE TABLE IF NOT EXISTS "+table+" ") {
					s = strings.NewReplacer(
						", min_bytes_for_wide_part = 200000000", "",
						"SimpleAggregateFunction(any, LowCardinality(String))", "LowCardinality(String)",
						"SimpleAggregateFunction(sum, UInt64)", "UInt64",
						"ENGINE = AggregatingMergeTree", "ENGINE = SummingMergeTree((bytes, packets, flows))").Replace(s)
					ddl = append(ddl, s)
				}
			}
			for _, view := range []string{"flows_1m_mv", "flows_1h_mv", "interface_flows_5m_mv"} {
				if strings.HasPrefix(s, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+view+" ") {
					ddl = append(ddl, s)
				}
			}
		}
	}
	if len(ddl) != 5 {
		t.Fatalf("found %d statements of the rollups, want 5", len(ddl))
	}
	for _, s := range []string{"DROP VIEW interface_flows_5m_mv", "DROP VIEW flows_1h_mv", "DROP VIEW flows_1m_mv", "DROP TABLE flows_1m", "DROP TABLE flows_1h"} {
		exec(s)
	}
	for _, s := range ddl {
		exec(s)
	}
	exec("ALTER TABLE schema_migrations DELETE WHERE version = 7 SETTINGS mutations_sync = 2")
}

// execer runs statements on conn, failing t on an error.
func execer(t *testing.T, conn driver.Conn) func(string) {
	return func(q string) {
		t.Helper()
		if err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// upgradeTwice forgets that version ran and brings the schema up to date,
// twice: as an upgrade, then as a run after a crash right after it.
func upgradeTwice(t *testing.T, conn driver.Conn, version int) {
	t.Helper()
	for range 2 {
		execer(t, conn)(fmt.Sprintf("ALTER TABLE schema_migrations DELETE WHERE version = %d SETTINGS mutations_sync = 2", version))
		if err := schema.Ensure(context.Background(), conn, schema.DefaultOptions()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUpgradeConvertsSummingRollupsAndKeepsTheirRows(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	summingRollups(t, exec)
	if e := scalar[string](t, conn, "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'flows_1m'"); e != "SummingMergeTree" {
		t.Fatalf("flows_1m engine before the upgrade = %s", e)
	}
	if q := scalar[string](t, conn, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'flows'"); strings.Contains(q, "min_bytes_for_wide_part") {
		t.Fatalf("flows has compact parts before the upgrade: %s", q)
	}
	insert(t, conn, "flows/0/1-2", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1),
		('2026-01-01 10:02:40', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50001, 443, 6, 500, 5, 'https', 'web-1', 'api-1', 0, 2)`)

	upgradeTwice(t, conn, 7)
	for _, table := range []string{"flows_1m", "flows_1h"} {
		if e := scalar[string](t, conn, "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = '"+table+"'"); e != "AggregatingMergeTree" {
			t.Errorf("%s engine after the upgrade = %s, want AggregatingMergeTree", table, e)
		}
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'schema_migrations' AND name != 'ingest_progress' AND create_table_query NOT LIKE '%min_bytes_for_wide_part%'"); n != 0 {
		t.Errorf("%d tables without compact parts", n)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_summing'"); n != 0 {
		t.Errorf("%d old rollups left behind", n)
	}
	// The old rows are kept, and the views feed the new tables.
	insert(t, conn, "flows/0/3-3", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:03:00', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50002, 443, 6, 2000, 20, 'https', 'web-1', 'api-1', 0, 3)`)
	for table, want := range map[string]uint64{"flows_1m": 350000, "flows_1h": 350000, "interface_flows_5m": 700000} {
		if b := scalar[uint64](t, conn, "SELECT sum(bytes) FROM "+table); b != want {
			t.Errorf("%s bytes = %d, want %d", table, b, want)
		}
	}
	if name := scalar[string](t, conn, "SELECT any(src_pod) FROM flows_1m WHERE time = '2026-01-01 10:00:00'"); name != "web-1" {
		t.Errorf("flows_1m src_pod = %q, want web-1", name)
	}
}
