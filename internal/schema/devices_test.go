package schema_test

import (
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// Two devices behind one address (an SNMP proxy), same ifIndex, and the
// flows their address exports.
const (
	twoDevicesPolls = `INSERT INTO ifstats (time, prev_time, device, device_ip, if_index, if_name, speed_bps, rate_valid, delta_in_octets, delta_out_octets, kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:01:00', '2026-01-01 10:00:00', 'core-a', '::ffff:192.0.2.1', 3, 'a-eth3', 1000000000, true, 100000, 1000, 0, 1),
		('2026-01-01 10:01:00', '2026-01-01 10:00:00', 'core-b', '::ffff:192.0.2.1', 3, 'b-eth3', 8000000000, true, 300000, 3000, 0, 2),
		('2026-01-01 10:02:00', '2026-01-01 10:01:00', 'core-a', '::ffff:192.0.2.1', 3, 'a-eth3', 1000000000, true, 100000, 1000, 0, 3),
		('2026-01-01 10:02:00', '2026-01-01 10:01:00', 'core-b', '::ffff:192.0.2.1', 3, 'b-eth3', 8000000000, true, 300000, 3000, 0, 4)`
	twoDevicesFlows = `INSERT INTO flows ` + flowCols + ` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'proxy', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', '', '', 0, 1)`
)

// checkTwoDevicesApart asserts that every interface table holds core-a
// and core-b apart.
func checkTwoDevicesApart(t *testing.T, q func(string) string) {
	t.Helper()
	if got := q(`SELECT arrayStringConcat(groupArray(device || '=' || if_name || '@' || toString(speed_bps)), ' ')
		FROM (SELECT * FROM interfaces_latest FINAL WHERE if_index = 3 ORDER BY device)`); got != "core-a=a-eth3@1000000000 core-b=b-eth3@8000000000" {
		t.Errorf("interfaces_latest: %s", got)
	}
	if got := q(`SELECT arrayStringConcat(groupArray(device || '=' || toString(in_octets) || '/' || toString(polls)), ' ')
		FROM (SELECT device, sum(in_octets) AS in_octets, sum(polls) AS polls FROM interface_snmp_5m GROUP BY device ORDER BY device)`); got != "core-a=200000/2 core-b=600000/2" {
		t.Errorf("interface_snmp_5m: %s", got)
	}
	if got := q(`SELECT arrayStringConcat(groupArray(device || '=' || toString(snmp_in_bytes) || '/' || toString(flow_in_bytes)), ' ')
		FROM (SELECT * FROM interface_reconciliation(from = '2026-01-01 10:00:00', to = '2026-01-01 10:05:00') WHERE if_index = 3 ORDER BY device)`); got != "core-a=200000/100000 core-b=600000/100000" {
		t.Errorf("interface_reconciliation: %s", got)
	}
}

func TestInterfaceTablesKeepTwoDevicesBehindOneAddressApart(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	insert(t, conn, "i", twoDevicesPolls)
	insert(t, conn, "f", twoDevicesFlows)
	checkTwoDevicesApart(t, func(query string) string { return scalar[string](t, conn, query) })
}

func TestUpgradeKeysInterfaceTablesByDeviceAndKeepsTheirRows(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	// The tables and views as version 7 left them.
	for _, s := range []string{"DROP VIEW interface_reconciliation", "DROP VIEW interfaces_latest_mv", "DROP VIEW interface_snmp_5m_mv",
		"DROP TABLE interfaces_latest", "DROP TABLE interface_snmp_5m"} {
		exec(s)
	}
	for _, m := range schema.Migrations(schema.DefaultOptions()) {
		for _, s := range m.Statements {
			for _, name := range []string{"interfaces_latest", "interfaces_latest_mv", "interface_snmp_5m", "interface_snmp_5m_mv", "interface_reconciliation"} {
				if strings.Contains(s, " IF NOT EXISTS "+name+" ") {
					exec(s)
				}
			}
		}
	}
	if k := scalar[string](t, conn, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'interfaces_latest'"); k != "device_ip, if_index" {
		t.Fatalf("interfaces_latest keyed by %q before the upgrade", k)
	}
	// One poll of each before the upgrade: the old keys merge them.
	insert(t, conn, "i", twoDevicesPolls)
	insert(t, conn, "f", twoDevicesFlows)
	exec("OPTIMIZE TABLE interfaces_latest FINAL")
	if n := scalar[uint64](t, conn, "SELECT count() FROM interfaces_latest FINAL"); n != 1 {
		t.Fatalf("%d rows in interfaces_latest before the upgrade, want the 1 the old key leaves", n)
	}

	upgradeTwice(t, conn, 8)
	for table, want := range map[string]string{"interfaces_latest": "device, if_index", "interface_snmp_5m": "time, device_ip, device, if_index"} {
		if k := scalar[string](t, conn, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = '"+table+"'"); k != want {
			t.Errorf("%s keyed by %q after the upgrade, want %q", table, k, want)
		}
	}
	if n := scalar[uint64](t, conn, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_by_ip'"); n != 0 {
		t.Errorf("%d old tables left behind", n)
	}
	if n := scalar[uint64](t, conn, "SELECT sum(polls) FROM interface_snmp_5m"); n != 4 {
		t.Errorf("interface_snmp_5m holds %d polls after the upgrade, want the 4 it had", n)
	}
	// From now on, the views feed tables that keep devices apart.
	exec("TRUNCATE TABLE interfaces_latest")
	exec("TRUNCATE TABLE interface_snmp_5m")
	insert(t, conn, "i2", twoDevicesPolls)
	checkTwoDevicesApart(t, func(query string) string { return scalar[string](t, conn, query) })
}
