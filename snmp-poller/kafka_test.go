package snmppoller

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
)

func TestRunningPollerPublishesSnmpdInterfacesToKafkaKeyedByDevice(t *testing.T) {
	s := startSnmpd(t)
	broker, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop(context.Background())
	kcfg := bus.DefaultConfiguration()
	kcfg.Brokers = []string{broker.Addr()}
	kcfg.Partitions = 2
	kcfg.Linger = 10 * time.Millisecond
	r := testReporter()
	prod, err := bus.NewProducer(kcfg, r, record.TopicIfStats)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := bus.EnsureTopics(ctx, kcfg, record.TopicIfStats); err != nil {
		t.Fatal(err)
	}
	if err := prod.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer prod.Stop()

	cfg := DefaultConfiguration()
	cfg.Defaults.Interval = time.Second
	cfg.Targets = []Target{s.v2cTarget("core-1"), s.v3Target("core-2", snmpdUsers[0])}
	c, err := New(r, cfg, Dependencies{Publisher: prod})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr()), kgo.ConsumeTopics(record.TopicIfStats))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Per device: keys, and whether a poll with a valid rate arrived.
	valid := map[string]bool{}
	seen := map[string]int{}
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for !(valid["core-1"] && valid["core-2"]) {
		fs := cl.PollFetches(deadline)
		if deadline.Err() != nil {
			t.Fatalf("records seen per device %v, valid rate per device %v", seen, valid)
		}
		fs.EachRecord(func(kr *kgo.Record) {
			rec := &record.InterfaceStats{}
			if err := proto.Unmarshal(kr.Value, rec); err != nil {
				t.Fatalf("record does not decode: %v", err)
			}
			if string(kr.Key) != rec.Device {
				t.Fatalf("key %q for device %q", kr.Key, rec.Device)
			}
			seen[rec.Device]++
			if rec.IfName == "lo" && rec.PrevTimeNs != 0 && !rec.CounterReset {
				valid[rec.Device] = true
			}
		})
	}
	t.Logf("records per device: %v", seen)
}
