package flowcollector

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// TestFlowsReachKafkaKeyedByExporter runs the collector against the
// embedded broker with the real producer and reads the records back.
func TestFlowsReachKafkaKeyedByExporter(t *testing.T) {
	broker, prod, r := startKafka(t, 2)
	ctx := context.Background()
	c, err := New(r, testConfig(t), Dependencies{Publisher: prod})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	datagrams := loadCapture(t, "softflowd-ipfix")
	s := newSender(t, c.Addrs(kindNetFlow)[0])
	s.send(t, datagrams...)
	s.sync(t, r, kindNetFlow)
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := prod.Flush(fctx); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr()), kgo.ConsumeTopics(record.TopicFlows),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	for got < 150 {
		fetches := cl.PollFetches(fctx)
		if fctx.Err() != nil {
			t.Fatalf("read %d of 150 records; producer acknowledged %v, dropped %v, failed %v", got,
				metricSum(t, r, "netstrata_kafka_produced_records_total", "", ""),
				metricSum(t, r, "netstrata_kafka_dropped_records_total", "", ""),
				metricSum(t, r, "netstrata_kafka_failed_records_total", "", ""))
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			var f record.Flow
			if err := proto.Unmarshal(rec.Value, &f); err != nil {
				t.Fatalf("record: %v", err)
			}
			if k := record.IPFromBytes(rec.Key); k != netip.MustParseAddr("127.0.0.1") || record.IPFromBytes(f.ExporterIp) != k {
				t.Fatalf("key %v, exporter %v", k, record.IPFromBytes(f.ExporterIp))
			}
			got++
		})
	}
}

// startKafka starts an embedded broker with topics of the given
// partitions and a real producer that has created the flows topic.
func startKafka(t *testing.T, partitions int32) (*bus.Embedded, *bus.Producer, *telemetry.Reporter) {
	t.Helper()
	broker, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: partitions}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = broker.Stop(context.Background()) })
	r := testReporter(t)
	kcfg := bus.DefaultConfiguration()
	kcfg.Brokers = []string{broker.Addr()}
	kcfg.Partitions = partitions
	prod, err := bus.NewProducer(kcfg, r, record.TopicFlows)
	if err != nil {
		t.Fatal(err)
	}
	if err := prod.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prod.Stop() })
	// Records produced before the topic exists fail at once (see the
	// report on internal/bus): wait for the producer to create it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, checks := r.Health.Status(); checks["kafka"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the producer did not create the topic within 30 s")
		}
	}
	return broker, prod, r
}
