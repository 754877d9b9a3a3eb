package correlator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/schema"
)

// claim is this member's hold on a partition: the consumer-group
// generation it was taken in and the epoch it stored.
type claim struct {
	generation int32
	epoch      uint64
	checked    bool // for a batch left unfinished (see finishUnfinished)
}

// Fencing. A member paused (or cut off) past its session timeout loses
// its partitions to another member, but may wake up holding records it
// read the progress for before: inserted now, they would duplicate what
// the new owner stored meanwhile. So every member, the first time it
// handles a partition in a generation, claims it: it stores in
// ingest_progress, for its writer group, an epoch above every stored one
// (a counter in the high 32 bits, random low bits to tell apart two
// claims made at once). Before inserting, a member checks that the
// highest stored epoch of each of its partitions is still its own; if
// not, the batch is dropped uncommitted (bus.ErrFenced) and left to the
// owner. Epochs are ClickHouse's own sequence, not Kafka generations,
// which restart when an embedded broker does.
//
// The check and the INSERT are two statements (ClickHouse has no
// conditional insert). Each INSERT that starts more than fenceFreshness
// after the check (the monotonic clock runs on while a process is
// stopped) checks again. A member paused inside an INSERT's request,
// past its last check, left its batch recorded (ingest_batches) and not
// marked stored: the member that takes the partitions inserts that
// batch first, under the same tokens, and the paused INSERT, sent late,
// is dropped as a repeat as long as its table took fewer INSERTs
// meanwhile than its deduplication window (paused inside the request
// that records the batch, it is fenced at its first INSERT). What is
// left is a member paused inside an INSERT of sockets, interface polls
// or pods, whose batches are not recorded.

// claimPartitions claims, for the batches' generation, the partitions
// this member has not claimed in it yet.
func (c *Component) claimPartitions(ctx context.Context, conn driver.Conn, batches []bus.PartitionBatch) error {
	var missing []topicPartition
	gen := int32(-1)
	c.claimsMu.Lock()
	for _, pb := range batches {
		tp := topicPartition{pb.Topic, pb.Partition}
		gen = pb.Generation
		if cl, ok := c.claims[tp]; !ok || cl.generation != pb.Generation {
			missing = append(missing, tp)
		}
	}
	c.claimsMu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	epochs, err := c.readEpochs(ctx, conn)
	if err != nil {
		return err
	}
	// On a cluster, the claim is stored on its shard before the INSERT
	// returns, not queued by the Distributed table.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 1}))
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+schema.TableIngestProgress+" (writer_group, topic, partition, epoch)")
	if err != nil {
		return fmt.Errorf("claim partitions: %w", err)
	}
	claimed := map[topicPartition]uint64{}
	for _, tp := range missing {
		epoch := (epochs[tp]>>32+1)<<32 | uint64(rand.Uint32())
		claimed[tp] = epoch
		if err := batch.Append(c.cfg.Group, tp.topic, uint32(tp.partition), epoch); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("claim partitions: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("claim partitions: %w", err)
	}
	c.claimsMu.Lock()
	for tp, epoch := range claimed {
		c.claims[tp] = claim{generation: gen, epoch: epoch}
	}
	c.claimsMu.Unlock()
	c.m.claims.Add(float64(len(claimed)))
	return nil
}

// readEpochs reads the highest stored epoch of every partition of this
// member's writer group.
func (c *Component) readEpochs(ctx context.Context, conn driver.Conn) (map[topicPartition]uint64, error) {
	rows, err := conn.Query(ctx, "SELECT topic, partition, max(epoch) FROM "+schema.TableIngestProgress+
		" WHERE writer_group = {group:String} GROUP BY topic, partition", driver.NamedValue{Name: "group", Value: c.cfg.Group})
	if err != nil {
		return nil, fmt.Errorf("read partition epochs: %w", err)
	}
	defer rows.Close()
	out := map[topicPartition]uint64{}
	for rows.Next() {
		var topic string
		var partition uint32
		var epoch uint64
		if err := rows.Scan(&topic, &partition, &epoch); err != nil {
			return nil, fmt.Errorf("read partition epochs: %w", err)
		}
		out[topicPartition{topic, int32(partition)}] = epoch
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partition epochs: %w", err)
	}
	return out, nil
}

// checkFence fails with bus.ErrFenced when another member claimed one
// of the batches' partitions after this member did.
func (c *Component) checkFence(batches []bus.PartitionBatch, epochs map[topicPartition]uint64) error {
	c.claimsMu.Lock()
	defer c.claimsMu.Unlock()
	for _, pb := range batches {
		tp := topicPartition{pb.Topic, pb.Partition}
		if mine := c.claims[tp].epoch; epochs[tp] != mine {
			delete(c.claims, tp)
			c.m.fenced.WithLabelValues(pb.Topic).Inc()
			c.warn.Warn("fenced:"+pb.Topic, "another member claimed the partition after this one: dropping the batch",
				"topic", pb.Topic, "partition", pb.Partition, "generation", pb.Generation)
			return fmt.Errorf("%s/%d: %w", pb.Topic, pb.Partition, bus.ErrFenced)
		}
	}
	return nil
}

// fenceFreshness is how long a fencing check holds for the INSERTs that
// follow it: far below any session timeout.
const fenceFreshness = time.Second

// fenceBeforeInsert re-reads the epochs right before the INSERTs (an
// unfenced batch only clears the last check, for refence).
func (c *Component) fenceBeforeInsert(ctx context.Context, conn driver.Conn, batches []bus.PartitionBatch, fenced bool) error {
	c.fenceMu.Lock()
	defer c.fenceMu.Unlock()
	if !fenced {
		c.fenced = fenceCheck{}
		return nil
	}
	c.fenced = fenceCheck{batches: batches}
	return c.checkFenceLocked(ctx, conn)
}

// refence checks again when the last check is older than
// fenceFreshness.
func (c *Component) refence(ctx context.Context, conn driver.Conn) error {
	c.fenceMu.Lock()
	defer c.fenceMu.Unlock()
	if c.fenced.batches == nil || time.Since(c.fenced.at) < fenceFreshness {
		return nil
	}
	return c.checkFenceLocked(ctx, conn)
}

func (c *Component) checkFenceLocked(ctx context.Context, conn driver.Conn) error {
	epochs, err := c.readEpochs(ctx, conn)
	if err != nil {
		return err
	}
	if err := c.checkFence(c.fenced.batches, epochs); err != nil {
		return err
	}
	c.fenced.at = time.Now()
	return nil
}

// fenceCheck is the last fencing check of the batch being inserted.
type fenceCheck struct {
	batches []bus.PartitionBatch
	at      time.Time
}
