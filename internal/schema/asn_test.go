package schema_test

import (
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// withoutASColumns turns a database of the current schema into one made
// before version 11: no AS name or country, no AS in the rollups, and no
// views of the rollups (version 11 creates them anew).
func withoutASColumns(t *testing.T, exec func(string)) {
	t.Helper()
	exec("DROP VIEW flows_1h_mv")
	exec("DROP VIEW flows_1m_mv")
	exec("ALTER TABLE flows DROP COLUMN src_as_name, DROP COLUMN dst_as_name, DROP COLUMN src_country, DROP COLUMN dst_country")
	for _, table := range []string{"flows_1m", "flows_1h"} {
		exec("ALTER TABLE " + table + " DROP COLUMN src_as, DROP COLUMN src_as_name, DROP COLUMN src_country, " +
			"DROP COLUMN dst_as, DROP COLUMN dst_as_name, DROP COLUMN dst_country")
	}
}

func TestUpgradeAddsASColumnsThatReachTheRollups(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	withoutASColumns(t, execer(t, conn))
	upgradeTwice(t, conn, 11)

	insert(t, conn, "flows/0/1-1", `INSERT INTO flows (time_received, exporter_ip, sampling_rate, src_ip, dst_ip, src_port, dst_port, proto, bytes, packets,
		src_as, dst_as, src_as_name, dst_as_name, src_country, dst_country, kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:00:05', '::ffff:192.0.2.1', 10, '::ffff:10.0.0.1', '::ffff:8.8.8.8', 50000, 53, 17, 100, 1,
		 0, 15169, '', 'Google LLC', '', 'US', 0, 1)`)
	for _, table := range []string{"flows_1m", "flows_1h"} {
		if name := scalar[string](t, conn, "SELECT any(dst_as_name) FROM "+table+" WHERE dst_as = 15169 AND dst_country = 'US'"); name != "Google LLC" {
			t.Errorf("%s dst_as_name of AS15169 = %q, want Google LLC", table, name)
		}
	}
}
