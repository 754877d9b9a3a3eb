package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Version 8 keys the interface tables by device as well as by address:
// two devices reached through one address (an SNMP proxy, NAT, contexts
// of a chassis) have the same device_ip and often the same ifIndexes,
// and keyed by (device_ip, if_index) alone their rows were replaced by
// or summed with each other's.

// ifStatsEngineID (version 9) stores the SNMP engine ID a poll read, for
// display beside the device's name and sysName.
const ifStatsEngineID = "ALTER TABLE ifstats ADD COLUMN IF NOT EXISTS snmp_engine_id " + lc + " DEFAULT '' AFTER sys_name"

// rewrite returns ddl with each old → new pair replaced; a pair that
// does not match is a programming error, caught by every schema test.
func rewrite(ddl string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(ddl, pairs[i]) {
			panic(fmt.Sprintf("schema: %q not found to rewrite", pairs[i]))
		}
		ddl = strings.Replace(ddl, pairs[i], pairs[i+1], 1)
	}
	return ddl
}

// interfacesLatestByDevice is interfaces_latest of version 8: one row per
// device and ifIndex.
func (d ddl) interfacesLatestByDevice() string {
	return rewrite(d.interfacesLatest(), "ORDER BY (device_ip, if_index)", "ORDER BY (device, if_index)")
}

// interfaceSNMP5mByDevice is interface_snmp_5m of version 8; device_ip
// stays in the key for the reconciliation's join with flow exporters.
func (d ddl) interfaceSNMP5mByDevice() string {
	return rewrite(d.interfaceSNMP5m(), "ORDER BY (time, device_ip, if_index)", "ORDER BY (time, device_ip, device, if_index)")
}

// interfaceSNMP5mByDeviceMV sums a poll's deltas per device.
func (d ddl) interfaceSNMP5mByDeviceMV() string {
	return rewrite(d.interfaceSNMP5mMV(), "any(dev) AS device", "dev AS device", "GROUP BY t, dip, ifx", "GROUP BY t, dip, dev, ifx")
}

// Columns copied from a table of the old key into its new form.
const (
	interfacesLatestColumns = "time, device_ip, if_index, device, sys_name, if_name, if_alias, if_descr, speed_bps, oper_status, admin_status"
	interfaceSNMP5mColumns  = "time, device_ip, if_index, device, if_name, speed_bps, in_octets, out_octets, in_pkts, out_pkts, polls, covered_ms"
)

// upgradeToV8 re-keys interfaces_latest and interface_snmp_5m by device,
// keeping their rows (rows already merged stay merged: the latest table
// heals at the next poll, the 5-minute rollup ages out). Each step checks
// what the database holds, so that a run cut short is finished by the
// next one, as in aggregatingRollups:
//
//  1. the views over the two tables are dropped;
//  2. a table keyed without device is renamed <table>_by_ip;
//  3. the table is created anew and, while a <table>_by_ip exists,
//     emptied and refilled from it, which is then dropped;
//  4. the views are created again.
func (d ddl) upgradeToV8(ctx context.Context, conn driver.Conn) error {
	keys, err := tableProperty(ctx, conn, "sorting_key")
	if err != nil {
		return err
	}
	tables := []struct{ name, ddl, columns string }{
		{TableInterfacesLatest, d.interfacesLatestByDevice(), interfacesLatestColumns},
		{TableInterfaceSNMP5m, d.interfaceSNMP5mByDevice(), interfaceSNMP5mColumns},
	}
	stmts := []string{"DROP VIEW IF EXISTS interfaces_latest_mv", "DROP VIEW IF EXISTS interface_snmp_5m_mv",
		"DROP VIEW IF EXISTS interface_reconciliation"}
	for _, t := range tables {
		old := t.name + "_by_ip"
		_, oldExists := keys[old]
		if k, ok := keys[t.name]; ok && !keyedByDevice(k) && !oldExists {
			stmts = append(stmts, "RENAME TABLE "+t.name+" TO "+old)
			oldExists = true
		}
		stmts = append(stmts, t.ddl)
		if oldExists {
			stmts = append(stmts, "TRUNCATE TABLE "+t.name,
				"INSERT INTO "+t.name+" ("+t.columns+") SELECT "+t.columns+" FROM "+old,
				"DROP TABLE "+old)
		}
	}
	stmts = append(stmts, d.interfacesLatestMV(), d.interfaceSNMP5mByDeviceMV(), interfaceReconciliationView)
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("key interface tables by device: %w", err)
		}
	}
	return nil
}

func keyedByDevice(sortingKey string) bool {
	for _, col := range strings.Split(sortingKey, ",") {
		if strings.TrimSpace(col) == "device" {
			return true
		}
	}
	return false
}
