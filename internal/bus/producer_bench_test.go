package bus

import (
	"context"
	"crypto/rand"
	"testing"
	"time"
)

// BenchmarkProducerZstd measures records/s from Publish to acknowledged
// by the embedded broker, with zstd batches of flow-sized records keyed by
// four exporters.
func BenchmarkProducerZstd(b *testing.B) { benchProducer(b, false) }

// BenchmarkProducerZstdSpread is the same with the topic spread (see
// Producer.Spread), as the flow collector publishes flows.
func BenchmarkProducerZstdSpread(b *testing.B) { benchProducer(b, true) }

func benchProducer(b *testing.B, spread bool) {
	e, err := StartEmbedded(EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: 2}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	topic := "netstrata.bench.v1"
	if err := EnsureTopics(context.Background(), cfg, topic); err != nil {
		b.Fatal(err)
	}
	p, err := NewProducer(cfg, quietReporter(), topic)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	if spread {
		p.Spread(topic)
	}
	// ~120-byte values, half random so zstd has realistic work.
	vals := make([][]byte, 1024)
	for i := range vals {
		v := make([]byte, 120)
		rand.Read(v[:60])
		vals[i] = v
	}
	keys := [][]byte{[]byte("exporter-1"), []byte("exporter-2"), []byte("exporter-3"), []byte("exporter-4")}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for p.cl.BufferedProduceRecords() >= int64(cfg.MaxBufferedRecords)-1 {
			time.Sleep(100 * time.Microsecond)
		}
		p.Publish(topic, keys[i%len(keys)], vals[i%len(vals)])
	}
	if err := p.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
