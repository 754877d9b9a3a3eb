package flowcollector

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/record"
)

// spreadDatagram is the i-th NetFlow v9 export packet of one exporter:
// the template in the first only, then data records whose source port
// numbers them, with the packet's sequence number.
func spreadDatagram(i, perDatagram int) []byte {
	b := newV9Builder(7)
	if i == 0 {
		b.template(256, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}})
	}
	var values [][]byte
	for j := range perDatagram {
		values = append(values, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, u16(uint16(i*perDatagram+j)), u16(443), []byte{6}, u32(1500), u32(3))
	}
	b.data(256, values...)
	d := b.bytes()
	binary.BigEndian.PutUint32(d[12:], uint32(i)) // v9 counts export packets
	return d
}

// One exporter's flows spread over the partitions, batch by batch,
// while what needs its datagrams in order (templates: only the first
// datagram has one; sequence accounting) is done before publishing and
// stays exact: every flow is published once, and the one export packet
// left out is the one counted lost.
func TestOneExporterSpreadsOverPartitionsWithExactAccounting(t *testing.T) {
	broker, prod, r := startKafka(t, 12)
	c, err := New(r, testConfig(t), Dependencies{Publisher: prod})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	const bursts, perBurst, perDatagram = 20, 10, 20
	const n = bursts * perBurst * perDatagram
	const missing = 55 // an export packet lost on the way
	s := newSender(t, c.Addrs(kindNetFlow)[0])
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for burst := range bursts {
		for i := burst * perBurst; i < (burst+1)*perBurst; i++ {
			if i != missing {
				s.send(t, spreadDatagram(i, perDatagram))
			}
		}
		s.sync(t, r, kindNetFlow)
		// Each burst is its own produce batch, which goes whole to one
		// partition.
		if err := prod.Flush(fctx); err != nil {
			t.Fatal(err)
		}
	}
	if lost := metricSum(t, r, "netstrata_flow_sequence_lost_total", "", ""); lost != 1 {
		t.Errorf("sequence accounting counts %v export packets lost, want 1", lost)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr()), kgo.ConsumeTopics(record.TopicFlows),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := make([]int, n)
	partitions := map[int32]int{}
	got := 0
	for got < n-perDatagram && fctx.Err() == nil {
		cl.PollFetches(fctx).EachRecord(func(rec *kgo.Record) {
			var f record.Flow
			if err := proto.Unmarshal(rec.Value, &f); err != nil {
				t.Fatalf("record: %v", err)
			}
			seen[f.SrcPort]++
			partitions[rec.Partition]++
			got++
		})
	}
	for i, k := range seen {
		if want := 1 - b2i(i/perDatagram == missing); k != want {
			t.Errorf("flow %d published %d times, want %d", i, k, want)
		}
	}
	if len(partitions) < 2 {
		t.Errorf("one exporter's %d flows went to partitions %v: not spread", got, partitions)
	}
	t.Logf("flows per partition: %v", partitions)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
