package schema_test

import (
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// TestUpgradeAddsTheFlowBasisInPlace takes a flows table from before
// version 10 with a row in it, upgrades it (twice, as after a crash),
// and checks the row kept, read with the defaults (exporter time,
// ifIndexes, IP bytes), and that the new columns take new rows.
func TestUpgradeAddsTheFlowBasisInPlace(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	for _, col := range []string{"time_basis", "exporter_clock_skew_ms", "in_if_kind", "in_if_detail", "out_if_kind", "out_if_detail", "byte_basis"} {
		exec("ALTER TABLE flows DROP COLUMN " + col)
	}
	insert(t, conn, "flows/0/1-1", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1)`)

	upgradeTwice(t, conn, 10)
	if n := scalar[uint64](t, conn, `SELECT count() FROM flows WHERE time_basis = 'exporter' AND exporter_clock_skew_ms = 0
		AND in_if_kind = 'ifindex' AND out_if_kind = 'ifindex' AND in_if_detail = 0 AND byte_basis = 'ip' AND in_if = 3`); n != 1 {
		t.Fatalf("%d of 1 old rows read with the defaults", n)
	}
	insert(t, conn, "flows/0/2-2", `INSERT INTO flows (time_received, exporter_ip, time_basis, exporter_clock_skew_ms, out_if_kind, out_if_detail, byte_basis, kafka_partition, kafka_offset)
		VALUES ('2026-01-01 10:00:06', '::ffff:192.0.2.7', 'received', -1500, 'discarded', 3, 'frame', 0, 2)`)
	if n := scalar[uint64](t, conn, `SELECT count() FROM flows WHERE time_basis = 'received' AND exporter_clock_skew_ms = -1500
		AND out_if_kind = 'discarded' AND out_if_detail = 3 AND byte_basis = 'frame'`); n != 1 {
		t.Errorf("the new columns did not take a new row")
	}
}
