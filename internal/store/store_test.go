package store_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
)

func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }

func open(t *testing.T) driver.Conn {
	t.Helper()
	cfg := schematest.Database(t)
	conn, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var testMigrations = []store.Migration{
	{Version: 1, Name: "events", Statements: []string{
		`CREATE TABLE IF NOT EXISTS events (t DateTime64(3), k LowCardinality(String), v UInt64)
		 ENGINE = MergeTree ORDER BY (k, t) SETTINGS non_replicated_deduplication_window = 1000`,
	}},
	{Version: 2, Name: "events by key", Statements: []string{
		`CREATE TABLE IF NOT EXISTS events_by_k (k LowCardinality(String), v UInt64) ENGINE = SummingMergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 1000`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS events_by_k_mv TO events_by_k AS SELECT k, v FROM events`,
	}},
}

func TestMigrateAppliesEachVersionOnce(t *testing.T) {
	conn := open(t)
	ctx := context.Background()
	n, err := store.Migrate(ctx, conn, "test", testMigrations)
	if err != nil || n != 2 {
		t.Fatalf("first run applied %d: %v", n, err)
	}
	n, err = store.Migrate(ctx, conn, "test", testMigrations)
	if err != nil || n != 0 {
		t.Fatalf("second run applied %d, want 0: %v", n, err)
	}
	more := append(testMigrations, store.Migration{Version: 3, Name: "broken", Statements: []string{"CREATE TABLE nope ("}})
	_, err = store.Migrate(ctx, conn, "test", more)
	if err == nil || !strings.Contains(err.Error(), "test 3 (broken)") {
		t.Fatalf("a failing migration must name itself: %v", err)
	}
}

func TestInsertWithSameTokenCountsOnce(t *testing.T) {
	conn := open(t)
	ctx := context.Background()
	if _, err := store.Migrate(ctx, conn, "test", testMigrations); err != nil {
		t.Fatal(err)
	}
	fill := func(b driver.Batch) error {
		for i := range 1000 {
			if err := b.Append(int64(1_700_000_000_000+i), "dev-"+string(rune('a'+i%3)), uint64(i)); err != nil {
				return err
			}
		}
		return nil
	}
	cols := []string{"t", "k", "v"}
	// The same Kafka offset range delivered twice (a crash between insert
	// and commit) must count once, in the table and in the rollup.
	for range 2 {
		if err := store.Insert(ctx, conn, "events", cols, "flows-0-100-1099", fill); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Insert(ctx, conn, "events", cols, "flows-0-1100-2099", fill); err != nil {
		t.Fatal(err)
	}
	var rows, sum, rolled uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(v) FROM events").Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT sum(v) FROM events_by_k").Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if rows != 2000 || sum != 2*499500 || rolled != sum {
		t.Fatalf("rows %d sum %d rollup %d; want 2000, %d, same", rows, sum, rolled, 2*499500)
	}
	// No rows: no insert, no error.
	if err := store.Insert(ctx, conn, "events", cols, "", func(driver.Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFailsClearlyWhenTheDatabaseIsAway(t *testing.T) {
	cfg := store.DefaultConfiguration()
	cfg.Addresses = []string{"127.0.0.1:1"}
	_, err := store.Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("want an error naming the address, got %v", err)
	}
}

// An INSERT sent with WireTypes carries LowCardinality columns as String;
// the server converts them and the rows read back the same.
func TestInsertWithWireTypesStoresLowCardinalityColumns(t *testing.T) {
	conn := open(t)
	ctx := context.Background()
	if _, err := store.Migrate(ctx, conn, "test", testMigrations); err != nil {
		t.Fatal(err)
	}
	cols := []string{"k", "t", "v"}
	types, err := store.WireTypes(ctx, conn, "events", cols)
	if err != nil {
		t.Fatal(err)
	}
	want := []clickhouse.ColumnNameAndType{{Name: "k", Type: "String"}, {Name: "t", Type: "DateTime64(3)"}, {Name: "v", Type: "UInt64"}}
	if !slices.Equal(types, want) {
		t.Fatalf("wire types = %v, want %v", types, want)
	}
	if _, err := store.WireTypes(ctx, conn, "events", []string{"nope"}); err == nil || !strings.Contains(err.Error(), "no column nope") {
		t.Fatalf("an unknown column must be named: %v", err)
	}
	ictx := clickhouse.Context(ctx, clickhouse.WithColumnNamesAndTypes(types))
	err = store.Insert(ictx, conn, "events", cols, "wire-1", func(b driver.Batch) error {
		for i, col := range []any{[]string{"sw1", "sw2", "sw1"}, []int64{1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002}, []uint64{1, 2, 3}} {
			if err := b.Column(i).Append(col); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys string
	var sum uint64
	if err := conn.QueryRow(ctx, "SELECT arrayStringConcat(groupArray(k), ','), sum(v) FROM (SELECT k, v FROM events ORDER BY t)").Scan(&keys, &sum); err != nil {
		t.Fatal(err)
	}
	if keys != "sw1,sw2,sw1" || sum != 6 {
		t.Fatalf("stored %q sum %d, want sw1,sw2,sw1 and 6", keys, sum)
	}
}
