package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/netstrata/netstrata/internal/periodic"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// ConsumerConfiguration configures a consumer-group member.
type ConsumerConfiguration struct {
	Group          string        `yaml:"group"`
	MaxPollRecords int           `yaml:"max_poll_records"`
	FetchMinBytes  int32         `yaml:"fetch_min_bytes"`
	FetchMaxWait   time.Duration `yaml:"fetch_max_wait"`
	// FetchMaxPartitionBytes bounds one partition's share of a fetch;
	// larger fetches make larger ClickHouse inserts.
	FetchMaxPartitionBytes int32         `yaml:"fetch_max_partition_bytes"`
	SessionTimeout         time.Duration `yaml:"session_timeout"`
	// CatchUpWait is how long a poll whose records were waiting in the
	// client waits for what arrived since (see Consumer.poll); 0: never.
	CatchUpWait time.Duration `yaml:"catch_up_wait"`
}

// DefaultConsumerConfiguration follows the seed's advice: wait for some
// bytes rather than spin on small fetches.
func DefaultConsumerConfiguration(group string) ConsumerConfiguration {
	return ConsumerConfiguration{
		Group:          group,
		MaxPollRecords: 50_000,
		FetchMinBytes:  64 << 10,
		FetchMaxWait:   250 * time.Millisecond,
		// 8 MiB: kgo's 1 MiB default capped correlator inserts at
		// 10-16k rows, and ClickHouse wants bigger blocks.
		FetchMaxPartitionBytes: 8 << 20,
		SessionTimeout:         15 * time.Second,
		CatchUpWait:            50 * time.Millisecond,
	}
}

// PartitionBatch is the records of one partition handed over in one call,
// in offset order.
type PartitionBatch struct {
	Topic     string
	Partition int32
	Records   []*kgo.Record
	// HighWatermark is the partition's end offset when it was fetched;
	// a handler that keeps its own position can tell from it that a
	// topic was recreated (its position lies beyond the end).
	HighWatermark int64
	// Generation is the consumer-group generation the records were
	// fetched in: a handler that fences stale writers (see ErrFenced)
	// claims the partition for it.
	Generation int32
	// Polled is when the poll that returned the records ended: what
	// came before is the producer's and the fetch's share of a record's
	// freshness, what comes after the handler's.
	Polled time.Time
}

// ErrFenced is what a handler returns (wrapped) when another member
// owns some of the partitions it was handed, in a later generation:
// this member was paused or cut off past its session timeout and the
// group moved on. Nothing of the call is committed; its partitions are
// rewound to the call's first records, so that what this member still
// owns is fetched and handled again, and what it lost is left to the
// new owner.
var ErrFenced = errors.New("fenced: another member owns the partition in a later generation")

// Handler processes what the group hands this member.
type Handler interface {
	// Handle processes batches. Offsets are committed only after it
	// returns nil; on error the same batches are handed again after a
	// backoff (and nothing new is fetched meanwhile: backpressure).
	Handle(ctx context.Context, batches []PartitionBatch) error
	// Assigned and Revoked follow the group's rebalances. Revoked is
	// called after everything handed out has been handled and committed.
	Assigned(ctx context.Context, partitions map[string][]int32)
	Revoked(ctx context.Context, partitions map[string][]int32)
}

// Consumer is one member of a consumer group with commit-after-process
// (at-least-once) semantics.
type Consumer struct {
	cl       *kgo.Client
	adm      *kadm.Client
	cfg      Configuration
	ccfg     ConsumerConfiguration
	topics   []string
	h        Handler
	r        *telemetry.Reporter
	retries  prometheus.Counter
	fenced   prometheus.Counter
	caughtUp prometheus.Counter
	lag      *prometheus.GaugeVec
	gaps     *gaps
	done     chan struct{}
	cancel   context.CancelFunc
	once     sync.Once

	// handled holds the next offset of every partition whose records were
	// handled: only these are ever committed. kgo's own "uncommitted"
	// offsets include records polled but not handled, which a commit at
	// revoke or close would otherwise skip.
	mu      sync.Mutex
	handled map[string]map[int32]kgo.EpochOffset
}

// NewConsumer builds a group member for topics. Run starts it.
func NewConsumer(cfg Configuration, ccfg ConsumerConfiguration, topics []string, h Handler, r *telemetry.Reporter) (*Consumer, error) {
	if ccfg.Group == "" {
		return nil, errors.New("consumer group: empty group name")
	}
	opts, err := cfg.clientOptions()
	if err != nil {
		return nil, err
	}
	c := &Consumer{cfg: cfg, ccfg: ccfg, topics: topics, h: h, r: r, done: make(chan struct{}),
		handled: map[string]map[int32]kgo.EpochOffset{}}
	opts = append(opts,
		kgo.ConsumerGroup(ccfg.Group),
		kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(),
		// Rebalances wait until what was polled is handled and committed,
		// so that a partition never has two members processing it.
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMinBytes(ccfg.FetchMinBytes),
		kgo.FetchMaxWait(ccfg.FetchMaxWait),
		kgo.FetchMaxPartitionBytes(ccfg.FetchMaxPartitionBytes),
		kgo.FetchMaxBytes(max(ccfg.FetchMaxPartitionBytes*4, 50<<20)),
		kgo.SessionTimeout(ccfg.SessionTimeout),
		kgo.OnPartitionsAssigned(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			r.Log.Info("partitions assigned", "group", ccfg.Group, "partitions", m)
			h.Assigned(ctx, m)
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			r.Log.Info("partitions revoked", "group", ccfg.Group, "partitions", m)
			c.forget(m)
			h.Revoked(ctx, m)
		}),
		kgo.OnPartitionsLost(func(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
			r.Log.Warn("partitions lost", "group", ccfg.Group, "partitions", m)
			c.forget(m)
			h.Revoked(ctx, m)
		}),
	)
	if c.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	c.adm = kadm.NewClient(c.cl)
	f := telemetry.NewMetrics(r.Registry, "kafka")
	c.retries = f.Counter("handler_retries_total", "Batches handed again after the handler failed.")
	c.fenced = f.Counter("handler_fenced_total", "Batches dropped uncommitted because another member owns their partitions in a later generation.")
	c.caughtUp = f.Counter("consumer_catch_ups_total", "Polls whose records had waited in the client while the previous batch was handled, joined by what arrived since.")
	c.lag = f.GaugeVec("consumer_lag_records", "Records not yet committed by the group, per partition.", "group", "topic", "partition")
	if err := f.Err(); err != nil {
		return nil, err
	}
	if c.gaps, err = newGaps(r); err != nil {
		return nil, err
	}
	return c, nil
}

// Start runs the poll loop in the background until Stop.
func (c *Consumer) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := c.gaps.seed(sctx, c.adm, c.ccfg.Group); err != nil {
		// Gaps across this restart go unseen; later ones are still counted.
		c.r.Log.Warn("cannot read the group's offsets", "error", err)
	}
	cancel()
	go func() {
		defer close(c.done)
		c.run(ctx)
	}()
	go c.watchLag(ctx)
	return nil
}

func (c *Consumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		fetches := c.poll(ctx)
		polled := time.Now()
		if fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				c.r.Log.Warn("fetch", "topic", topic, "partition", p, "error", err)
			}
		})
		_, generation := c.cl.GroupMetadata()
		batches := c.partitionBatches(fetches, generation, polled)
		if len(batches) > 0 {
			err := c.handle(ctx, batches)
			if errors.Is(err, ErrFenced) {
				c.rewind(ctx, batches)
				continue
			}
			if err != nil {
				// Only a stop interrupts handling; what was not
				// committed is handed to whoever owns it next.
				c.cl.AllowRebalance()
				return
			}
			c.markHandled(batches)
			if err := c.commit(ctx); err != nil {
				c.cl.AllowRebalance()
				return
			}
		}
		c.cl.AllowRebalance()
	}
}

// poll returns what the brokers have for this member. The client fetches
// while the handler works and keeps one answer: when that answer was
// waiting already, it is as old as the last batch's handling, and what
// arrived since would wait for a whole batch more. That is fetched at
// once (the brokers hold it: the fetch is answered without waiting)
// and joins this batch, within CatchUpWait.
func (c *Consumer) poll(ctx context.Context) kgo.Fetches {
	began := time.Now()
	fetches := c.cl.PollRecords(ctx, c.ccfg.MaxPollRecords)
	room := c.ccfg.MaxPollRecords - fetches.NumRecords()
	if c.ccfg.CatchUpWait <= 0 || room <= 0 || time.Since(began) > 5*time.Millisecond || ctx.Err() != nil {
		return fetches
	}
	c.caughtUp.Inc()
	cctx, cancel := context.WithTimeout(ctx, c.ccfg.CatchUpWait)
	defer cancel()
	return append(fetches, c.cl.PollRecords(cctx, room)...)
}

// partitionBatches turns fetches into one batch per partition, the
// records of a partition fetched twice (see poll) joined in offset order.
func (c *Consumer) partitionBatches(fetches kgo.Fetches, generation int32, polled time.Time) []PartitionBatch {
	var batches []PartitionBatch
	index := map[string]map[int32]int{}
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		c.gaps.check(p.Topic, p.Partition, p.Records)
		if i, ok := index[p.Topic][p.Partition]; ok {
			batches[i].Records = slices.Concat(batches[i].Records, p.Records)
			batches[i].HighWatermark = p.HighWatermark
			return
		}
		if index[p.Topic] == nil {
			index[p.Topic] = map[int32]int{}
		}
		index[p.Topic][p.Partition] = len(batches)
		batches = append(batches, PartitionBatch{Topic: p.Topic, Partition: p.Partition, Records: p.Records,
			HighWatermark: p.HighWatermark, Generation: generation, Polled: polled})
	})
	return batches
}

// handle retries the handler with backoff until it succeeds or ctx ends.
func (c *Consumer) handle(ctx context.Context, batches []PartitionBatch) error {
	failing := false
	var fenced error
	err := Retry(ctx, func(ctx context.Context) error {
		err := c.h.Handle(ctx, batches)
		if errors.Is(err, ErrFenced) {
			fenced = err
			return nil
		}
		if err != nil && ctx.Err() == nil {
			c.retries.Inc()
			if !failing {
				c.r.Log.Warn("handler failed; retrying the same records", "error", err)
			}
			failing = true
			c.r.SetHealth("consume", err)
		}
		return err
	})
	if failing && err == nil {
		c.r.SetHealth("consume", nil)
	}
	if err == nil && fenced != nil {
		return fenced
	}
	return err
}

// rewind handles a fenced call: nothing of it is committed, and its
// partitions go back to the call's first records. The pause lets the
// client notice that its session ended and rejoin; SetOffsets ignores
// partitions this member no longer has.
func (c *Consumer) rewind(ctx context.Context, batches []PartitionBatch) {
	c.fenced.Inc()
	c.r.Log.Warn("fenced: another member owns partitions of this batch; dropping it uncommitted", "group", c.ccfg.Group)
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for _, b := range batches {
		if offsets[b.Topic] == nil {
			offsets[b.Topic] = map[int32]kgo.EpochOffset{}
		}
		first := b.Records[0]
		offsets[b.Topic][b.Partition] = kgo.EpochOffset{Epoch: first.LeaderEpoch, Offset: first.Offset}
	}
	c.cl.SetOffsets(offsets)
	c.cl.AllowRebalance()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

func (c *Consumer) markHandled(batches []PartitionBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range batches {
		last := b.Records[len(b.Records)-1]
		if c.handled[b.Topic] == nil {
			c.handled[b.Topic] = map[int32]kgo.EpochOffset{}
		}
		c.handled[b.Topic][b.Partition] = kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}
	}
}

func (c *Consumer) forget(m map[string][]int32) {
	c.gaps.forget(m)
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range m {
		for _, p := range ps {
			delete(c.handled[topic], p)
		}
	}
}

// commit commits the handled offsets, retrying while the broker is away.
func (c *Consumer) commit(ctx context.Context) error {
	c.mu.Lock()
	offsets := make(map[string]map[int32]kgo.EpochOffset, len(c.handled))
	for t, ps := range c.handled {
		offsets[t] = make(map[int32]kgo.EpochOffset, len(ps))
		for p, o := range ps {
			offsets[t][p] = o
		}
	}
	c.mu.Unlock()
	return Retry(ctx, func(ctx context.Context) error {
		var first error
		c.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						if e := kerr.ErrorForCode(p.ErrorCode); e != nil && first == nil {
							first = fmt.Errorf("commit %s/%d: %w", t.Topic, p.Partition, e)
						}
					}
				}
			}
			if first == nil {
				first = err
			}
		})
		if first != nil && ctx.Err() == nil {
			c.r.Log.Warn("commit offsets", "error", first)
		}
		if errors.Is(first, kerr.RebalanceInProgress) || errors.Is(first, kerr.IllegalGeneration) || errors.Is(first, kerr.UnknownMemberID) {
			// The partitions moved on; whoever owns them re-handles
			// from the last commit.
			return nil
		}
		return first
	})
}

// watchLag publishes per-partition lag every 10 s.
func (c *Consumer) watchLag(ctx context.Context) {
	periodic.Every(ctx, 10*time.Second, func() {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		lags, err := c.adm.Lag(lctx, c.ccfg.Group)
		cancel()
		if err != nil {
			return
		}
		lags.Each(func(l kadm.DescribedGroupLag) {
			for _, ps := range l.Lag {
				for _, pl := range ps {
					if pl.Err == nil {
						c.lag.WithLabelValues(l.Group, pl.Topic, fmt.Sprint(pl.Partition)).Set(float64(pl.Lag))
					}
				}
			}
		})
	})
}

// Stop leaves the group after committing what was handled.
func (c *Consumer) Stop() error {
	c.once.Do(func() {
		if c.cancel != nil {
			c.cancel()
			<-c.done
		}
		c.cl.LeaveGroup()
		c.cl.Close()
	})
	return nil
}
