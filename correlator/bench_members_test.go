package correlator

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// BenchmarkOneExporterMembers measures how fast NETSTRATA_BENCH_MEMBERS
// correlator members (2) in one group drain a backlog of
// NETSTRATA_BENCH_FLOWS flows (300,000) that all come from one exporter,
// over 12 partitions: keyed by exporter (NETSTRATA_BENCH_KEYED=1: one
// partition, so one member and one INSERT at a time) or spread batch by
// batch as the flow collector publishes them (the default).
//
//	NETSTRATA_BENCH_MEMBERS=4 go test -run '^$' -bench BenchmarkOneExporterMembers -benchtime 1x ./correlator
func BenchmarkOneExporterMembers(b *testing.B) {
	backlog := benchEnv(b, "NETSTRATA_BENCH_FLOWS", 300_000)
	members, keyed := benchEnv(b, "NETSTRATA_BENCH_MEMBERS", 2), benchEnv(b, "NETSTRATA_BENCH_KEYED", 0) == 1
	for range b.N {
		e := newEnvPartitions(b, 12)
		partitioner := kgo.StickyPartitioner()
		if keyed {
			partitioner = kgo.StickyKeyPartitioner(nil)
		}
		prod, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(partitioner),
			kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerLinger(5*time.Millisecond),
			kgo.MaxBufferedRecords(200_000))
		if err != nil {
			b.Fatal(err)
		}
		defer prod.Close()
		var wg sync.WaitGroup
		key := ip("192.0.2.1")
		for _, v := range benchFlows(backlog, 5000, time.Now().Add(-time.Minute), time.Minute) {
			wg.Add(1)
			prod.Produce(context.Background(), &kgo.Record{Topic: record.TopicFlows, Key: key, Value: v}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
				wg.Done()
			})
		}
		wg.Wait()
		b.ResetTimer()
		for range members {
			r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
			c, err := New(r, DefaultConfiguration(), Dependencies{Kafka: e.kcfg, ClickHouse: e.ch})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer c.Stop()
		}
		e.waitRows("SELECT count() FROM flows", uint64(backlog/10), 30*time.Minute)
		tenth := time.Now()
		e.waitRows("SELECT count() FROM flows", uint64(backlog), 30*time.Minute)
		took := time.Since(tenth)
		b.StopTimer()
		b.ReportMetric(float64(backlog-backlog/10)/took.Seconds(), "flows/s")
		b.ReportMetric(float64(e.count("SELECT uniqExact(kafka_partition) FROM flows")), "partitions")
		if n := e.count("SELECT count() FROM flows"); n != uint64(backlog) {
			b.Errorf("flows holds %d rows, want %d", n, backlog)
		}
	}
}
