package correlator

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// TestBuildersInsertEveryDeclaredColumn checks each row builder's INSERT
// against the columns internal/schema declares for its table: every one,
// once, none else (a batch whose flows carry the optional fields, which
// otherwise leaves them out).
func TestBuildersInsertEveryDeclaredColumn(t *testing.T) {
	c := decodeComponent(t)
	b := newTestBatch()
	flow := testFlow(1, nowNs())
	flow.SrcMac = 1
	for _, r := range []struct {
		topic string
		m     proto.Message
	}{
		{record.TopicFlows, flow}, {record.TopicIfStats, testIfStats(3, "eth3", nowNs())},
		{record.TopicPods, testPod("u", "web-1", "n", "10.0.0.1", nowNs())},
		{record.TopicSockets, &record.SocketStats{Node: "n", LocalIp: ip("10.0.0.1"), RemoteIp: ip("10.0.0.2"), LocalPort: 1, RemotePort: 2}},
	} {
		v, err := proto.Marshal(r.m)
		if err != nil {
			t.Fatal(err)
		}
		c.decodeBatch(b, bus.PartitionBatch{Topic: r.topic, Records: []*kgo.Record{{Value: v}}}, progress{offset: -1})
	}
	for table, cols := range map[string][]column{
		schema.TableFlows: b.flows.columns(), schema.TableSockets: b.sockets.columns(),
		schema.TableIfStats: b.ifstats.columns(), schema.TablePods: b.pods.columns(),
	} {
		var inserted, declared []string
		for _, col := range cols {
			inserted = append(inserted, col.name)
		}
		for _, col := range schema.Columns(table) {
			declared = append(declared, col.Name)
		}
		slices.Sort(inserted)
		slices.Sort(declared)
		if !slices.Equal(inserted, declared) {
			t.Errorf("%s: INSERT names %v, schema declares %v", table, inserted, declared)
		}
	}
}

// The INSERTs leave out a column that holds only its type's zero value
// (withoutDefaults): in every table the correlator writes, such a
// column's default must be that same value.
func TestLeftOutColumnsDefaultToZero(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := schema.Ensure(ctx, e.conn, DefaultConfiguration().Schema.For(e.ch)); err != nil {
		t.Fatal(err)
	}
	rows, err := e.conn.Query(ctx, `SELECT table, name, type, default_expression FROM system.columns
		WHERE database = currentDatabase() AND table IN ({tables:Array(String)})`,
		clickhouse.Named("tables", []string{schema.TableFlows, schema.TableFlows1m, schema.TableFlows1h,
			schema.TableInterfaceFlows5m, schema.TableSockets, schema.TableIfStats, schema.TablePods}))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	zero := map[string]bool{"": true, "0": true, "''": true, "'::'": true}
	checked := 0
	for rows.Next() {
		var table, name, typ, def string
		if err := rows.Scan(&table, &name, &typ, &def); err != nil {
			t.Fatal(err)
		}
		values, ok := map[string]any{"String": []string{}, "UInt8": []uint8{}, "UInt16": []uint16{}, "UInt32": []uint32{},
			"UInt64": []uint64{}, "IPv6": [][16]byte{}}[innerType(typ)]
		if !ok || !allZero(values) {
			continue
		}
		checked++
		if !zero[def] {
			t.Errorf("%s.%s (%s) defaults to %s: an INSERT leaving it out would store that, not the zero it held", table, name, typ, def)
		}
	}
	if checked < 50 {
		t.Errorf("only %d columns checked", checked)
	}
}

// innerType is the innermost type of typ: String of
// SimpleAggregateFunction(any, LowCardinality(String)).
func innerType(typ string) string {
	typ = strings.TrimRight(typ, ")")
	typ = typ[strings.LastIndex(typ, "(")+1:]
	return strings.TrimSpace(typ[strings.LastIndex(typ, ",")+1:])
}
