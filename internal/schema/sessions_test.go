package schema_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// completeFrom reads the first hour flows_5tuple_1h holds whole.
func completeFrom(t *testing.T, exec func(string) string) time.Time {
	t.Helper()
	from, ok := schema.Flows5TupleCompleteFrom(exec("SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = 'flows_5tuple_1h'"))
	if !ok {
		t.Fatal("flows_5tuple_1h does not say from when it is complete")
	}
	return from
}

// TestSessionRollupSumsEachSessionPerHourUnfolded: two flows of one
// session in an hour are one row scaled by the sampling rate, the client
// port kept; another session and another hour are rows of their own.
// A new database's rollup is complete from the start.
func TestSessionRollupSumsEachSessionPerHourUnfolded(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	insert(t, conn, "flows/0/1-4", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1),
		('2026-01-01 10:40:00', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 500, 5, 'https', 'web-1', 'api-1', 0, 2),
		('2026-01-01 10:41:00', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50001, 443, 6, 200, 2, 'https', 'web-1', 'api-1', 0, 3),
		('2026-01-01 11:00:00', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 300, 3, 'https', 'web-1', 'api-1', 0, 4)`)
	if n := scalar[uint64](t, conn, "SELECT count() FROM flows_5tuple_1h FINAL"); n != 3 {
		t.Errorf("rows = %d, want 3 (a session per hour)", n)
	}
	var b, p, n uint64
	if err := conn.QueryRow(t.Context(), at(`SELECT sum(bytes), sum(packets), sum(flows) FROM flows_5tuple_1h
		WHERE time = '2026-01-01 10:00:00' AND src_port = 50000 AND dst_port = 443 AND in_if = 3 AND out_if = 4`)).Scan(&b, &p, &n); err != nil {
		t.Fatal(err)
	}
	if b != 150000 || p != 1500 || n != 2 {
		t.Errorf("session 50000→443 in the first hour: %d bytes, %d packets, %d flows; want 150000, 1500, 2", b, p, n)
	}
	if from := completeFrom(t, func(q string) string { return scalar[string](t, conn, q) }); !from.Equal(time.Unix(0, 0)) {
		t.Errorf("a new database's rollup is complete from %v, want always", from)
	}
}

// TestUpgradeAddsTheSessionRollupFromTheNextHour upgrades a database
// that has flows: they are kept, the rollup says it is complete only from
// the hour after the upgrade (older hours are read raw), and new flows
// reach it. A second run changes nothing.
func TestUpgradeAddsTheSessionRollupFromTheNextHour(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	exec("DROP VIEW flows_5tuple_1h_mv")
	exec("DROP TABLE flows_5tuple_1h")
	insert(t, conn, "flows/0/1-1", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1)`)
	began := time.Now().UTC()
	upgradeTwice(t, conn, 14)

	if n := scalar[uint64](t, conn, "SELECT count() FROM flows"); n != 1 {
		t.Errorf("flows = %d after the upgrade, want the 1 kept", n)
	}
	if from, next := completeFrom(t, func(q string) string { return scalar[string](t, conn, q) }), began.Truncate(time.Hour).Add(time.Hour); !from.Equal(next) {
		t.Errorf("upgraded rollup complete from %v, want the next hour %v", from, next)
	}
	insert(t, conn, "flows/0/2-2", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 11:00:05', 0, '::ffff:192.0.2.1', 'sw1', 10, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 2)`)
	if b := scalar[uint64](t, conn, "SELECT sum(bytes) FROM flows_5tuple_1h"); b != 10000 {
		t.Errorf("rollup bytes = %d, want the new flow's 10000", b)
	}
}

// TestSessionBlocksSumTheHoursOfEndedBlocks: the refreshed views sum
// flows_5tuple_1h per 6-hour block, with and without the path, for the
// blocks that have ended, not the one under way, and per hour without
// the path.
func TestSessionBlocksSumTheHoursOfEndedBlocks(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	ended := time.Now().UTC().Add(-10 * time.Minute).Truncate(schema.SessionBlock)
	var values []string
	for i, at := range []time.Time{ended.Add(-7 * time.Hour), ended.Add(-5 * time.Hour), ended.Add(-time.Hour), ended.Add(-time.Hour + time.Minute), ended.Add(time.Minute)} {
		values = append(values, fmt.Sprintf(`('%s', 0, '::ffff:192.0.2.1', 'sw1', 10, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, %d, 1, 'https', 'web-1', 'api-1', 0, %d)`,
			at.Format(time.DateTime), 100*(i+1), i+1))
	}
	insert(t, conn, "flows/0/1-5", `INSERT INTO flows `+flowCols+` VALUES `+strings.Join(values, ", "))
	want := map[time.Time]uint64{ended.Add(-2 * schema.SessionBlock): 1000, ended.Add(-schema.SessionBlock): 2000 + 7000}
	hours := map[time.Time]uint64{ended.Add(-7 * time.Hour): 1000, ended.Add(-5 * time.Hour): 2000, ended.Add(-time.Hour): 3000 + 4000}
	schematest.BuildSessionBlocks(t, conn, schema.DefaultOptions())
	for table, want := range map[string]map[time.Time]uint64{schema.TableFlows5Tuple6h: want, schema.TableFlowSessions6h: want, schema.TableFlowSessions1h: hours} {
		// The hour ended+1m is in may have ended too: not compared.
		rows, err := conn.Query(t.Context(), "SELECT time, sum(bytes), sum(flows) FROM "+table+" WHERE time < '"+ended.Format(time.DateTime)+"' GROUP BY time")
		if err != nil {
			t.Fatal(err)
		}
		got := map[time.Time]uint64{}
		for rows.Next() {
			var block time.Time
			var b, n uint64
			if err := rows.Scan(&block, &b, &n); err != nil {
				t.Fatal(err)
			}
			got[block.UTC()] = b
		}
		rows.Close()
		if !maps.Equal(got, want) {
			t.Errorf("%s: bytes per block %v, want %v (the ended blocks)", table, got, want)
		}
	}
}
