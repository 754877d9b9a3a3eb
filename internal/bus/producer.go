package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/periodic"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Publisher is what a source needs from the bus; tests may pass a fake.
type Publisher interface {
	// Publish queues value for topic, keyed by key, and never blocks: when
	// the buffer is full the record is dropped and counted.
	Publish(topic string, key, value []byte)
}

// Producer is an idempotent (acks=all), compressing, batching, async
// Kafka producer. Records wait in a bounded buffer while the brokers are
// away and are retried until delivered.
type Producer struct {
	cl     *kgo.Client
	cfg    Configuration
	r      *telemetry.Reporter
	topics []string

	produced *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	failed   *prometheus.CounterVec
	latency  prometheus.Histogram
	buffered prometheus.GaugeFunc
	promise  func(*kgo.Record, error)
	wg       sync.WaitGroup
	cancel   context.CancelFunc
	dropLog  *telemetry.RateLimited
	// counted caches the per-topic acknowledged counter: looking a label
	// up for every record showed in the flow collector's profile.
	counted sync.Map // topic -> prometheus.Counter
	// spread holds the topics whose records ignore their key for
	// partitioning (see Spread).
	spread *sync.Map // topic -> struct{}
}

// Spread makes topic's records ignore their key when choosing a
// partition: each produce batch goes, whole, to one partition, and the
// next batch to another (kgo's sticky partitioner). One busy key (an
// exporter sending 400k flows/s) then spreads over every partition, and
// so over every consumer, instead of loading one; produce batches stay
// as large as with keys. Records of one key lose their order across
// partitions: a source calls it only for a topic whose consumers need
// no order per key. It must be called before the topic's first record.
func (p *Producer) Spread(topic string) { p.spread.Store(topic, struct{}{}) }

// spreadPartitioner partitions the topics in spread with sticky and the
// others with keyed.
type spreadPartitioner struct {
	keyed, sticky kgo.Partitioner
	spread        *sync.Map
}

func (s spreadPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if _, ok := s.spread.Load(topic); ok {
		return s.sticky.ForTopic(topic)
	}
	return s.keyed.ForTopic(topic)
}

// NewProducer builds a producer for the given topics (created in the
// background when missing). Nothing connects until Start.
func NewProducer(cfg Configuration, r *telemetry.Reporter, topics ...string) (*Producer, error) {
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, fmt.Errorf("kafka.compression: %w", err)
	}
	opts, err := cfg.clientOptions()
	if err != nil {
		return nil, err
	}
	spread := &sync.Map{}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence needs acks=all
		kgo.ProducerLinger(cfg.Linger),
		kgo.ProducerBatchMaxBytes(cfg.BatchMaxBytes),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedRecords(cfg.MaxBufferedRecords),
		// Keys keep order per device/exporter/node: hash them the way
		// the Java client does so other clients agree on partitions;
		// except for the topics a source spreads (see Spread).
		kgo.RecordPartitioner(spreadPartitioner{keyed: kgo.StickyKeyPartitioner(nil), sticky: kgo.StickyPartitioner(), spread: spread}),
		// A source may publish before its topics exist (they are created
		// in the background): wait for them rather than fail records.
		kgo.UnknownTopicRetries(-1),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	p := &Producer{cl: cl, cfg: cfg, r: r, topics: topics, spread: spread, dropLog: telemetry.NewRateLimited(r.Log, time.Minute)}
	f := telemetry.NewMetrics(r.Registry, "kafka")
	p.produced = f.CounterVec("produced_records_total", "Records acknowledged by the brokers.", "topic")
	p.dropped = f.CounterVec("dropped_records_total", "Records dropped because the producer buffer was full (should stay 0).", "topic")
	p.failed = f.CounterVec("failed_records_total", "Records the brokers refused for good.", "topic")
	p.latency = f.Histogram("produce_latency_seconds", "From a record's publication to its acknowledgement by the brokers: linger, batching and the produce request (one record in 16).",
		prometheus.ExponentialBuckets(0.0025, 2, 13))
	p.buffered = f.GaugeFunc("buffered_records", "Records waiting to be acknowledged.", func() float64 { return float64(cl.BufferedProduceRecords()) })
	if err := f.Err(); err != nil {
		return nil, err
	}
	p.promise = func(rec *kgo.Record, err error) {
		if err == nil {
			c, ok := p.counted.Load(rec.Topic)
			if !ok {
				c, _ = p.counted.LoadOrStore(rec.Topic, p.produced.WithLabelValues(rec.Topic))
			}
			c.(prometheus.Counter).Inc()
			// One record in 16 (offsets are consecutive in a partition):
			// the same distribution for a sixteenth of the cost.
			if rec.Offset%16 == 0 {
				p.latency.Observe(time.Since(rec.Timestamp).Seconds())
			}
			return
		}
		if errors.Is(err, kgo.ErrMaxBuffered) {
			p.dropped.WithLabelValues(rec.Topic).Inc()
			p.dropLog.Warn("drop", "kafka producer buffer full: dropping records", "topic", rec.Topic)
			return
		}
		if errors.Is(err, kgo.ErrClientClosed) || errors.Is(err, context.Canceled) {
			p.dropped.WithLabelValues(rec.Topic).Inc()
			return
		}
		p.failed.WithLabelValues(rec.Topic).Inc()
		p.dropLog.Warn("fail:"+rec.Topic, "kafka refused records", "topic", rec.Topic, "error", err)
	}
	return p, nil
}

// Start creates missing topics in the background (retrying while the
// brokers are away) and watches broker reachability for /healthz.
func (p *Producer) Start(ctx context.Context) error {
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		Retry(ctx, func(ctx context.Context) error {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err := EnsureTopics(cctx, p.cfg, p.topics...)
			p.r.SetHealth("kafka", err)
			return err
		})
		// Afterwards, reachability follows pings.
		periodic.Every(ctx, 15*time.Second, func() {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := p.cl.Ping(pctx)
			cancel()
			if ctx.Err() == nil {
				p.r.SetHealth("kafka", err)
			}
		})
	}()
	return nil
}

// Publish implements Publisher.
func (p *Producer) Publish(topic string, key, value []byte) {
	p.cl.TryProduce(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}, p.promise)
}

// PublishMessage marshals m and publishes it.
func (p *Producer) PublishMessage(topic string, key []byte, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", topic, err)
	}
	p.Publish(topic, key, b)
	return nil
}

// ProduceSync produces records and waits for their acknowledgement; for
// callers that must know (the dead-letter path).
func (p *Producer) ProduceSync(ctx context.Context, recs ...*kgo.Record) error {
	return p.cl.ProduceSync(ctx, recs...).FirstErr()
}

// Flush waits until every buffered record is acknowledged or ctx ends.
func (p *Producer) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// Stop flushes for up to 10 s, then closes. Records still unacknowledged
// then are counted as dropped.
func (p *Producer) Stop() error {
	if p.cancel != nil {
		p.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.cl.Flush(ctx)
	p.wg.Wait()
	p.cl.Close()
	if err != nil {
		return fmt.Errorf("kafka flush at stop: %w", err)
	}
	return nil
}

// Retry calls fn until it succeeds or ctx ends, backing off from 100 ms to
// 10 s.
func Retry(ctx context.Context, fn func(context.Context) error) error {
	backoff := 100 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
