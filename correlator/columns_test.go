package correlator

import (
	"slices"
	"testing"

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
