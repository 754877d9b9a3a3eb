package schema_test

import (
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// Version 20 on a database of version 19: the rollups keep their rows,
// their views roll up an INSERT into flows as before, and skip one whose
// writer writes the rollups itself (token starting with RolledUpToken).
func TestUpgradeTo20KeepsTheRollupsAndSkipsRolledUpInserts(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	// The views as version 18 made them: without the condition.
	for _, view := range []string{"flows_1h_mv", "interface_flows_5m_mv", "flows_1m_mv"} {
		q := scalar[string](t, conn, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = '"+view+"'")
		cond := "NOT startsWith(getSetting('insert_deduplication_token'), '" + schema.RolledUpToken + "')"
		old := strings.ReplaceAll(q, cond, "1")
		if old == q {
			t.Fatalf("%s has no condition to remove: %s", view, q)
		}
		exec("DROP VIEW " + view)
		exec(old)
	}
	exec("DROP TABLE ingest_batches")
	row := func(kafkaOffset string) string {
		return `INSERT INTO flows ` + flowCols + ` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, ` + kafkaOffset + `)`
	}
	insert(t, conn, "flows/0/1-1", row("1"))

	upgradeTwice(t, conn, 20)
	insert(t, conn, "flows/0/2-2", row("2"))
	insert(t, conn, schema.RolledUpToken+"flows/0/3-3", row("3"))
	for table, want := range map[string]uint64{"flows_1m": 2, "flows_1h": 2, "interface_flows_5m": 4} {
		if n := scalar[uint64](t, conn, "SELECT sum(flows) FROM "+table); n != want {
			t.Errorf("%s counts %d flows, want %d (the one before the upgrade, the one after, not the rolled-up one)", table, n, want)
		}
	}
	// flows_5tuple_1h is a view of every INSERT into flows.
	if n := scalar[uint64](t, conn, "SELECT sum(flows) FROM flows_5tuple_1h"); n != 3 {
		t.Errorf("flows_5tuple_1h counts %d flows, want 3", n)
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM ingest_batches"); n != 0 {
		t.Errorf("ingest_batches holds %d rows", n)
	}
}
