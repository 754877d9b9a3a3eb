package alerting

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// LeaderTopic is the one-partition topic whose consumer group elects the
// active alerting replica: the member that holds partition 0 evaluates
// and notifies. Nothing is ever written to it.
const LeaderTopic = "netstrata.alerting-leader.v1"

// electionSessionTimeout is how long a silent member keeps the role.
const electionSessionTimeout = 10 * time.Second

// election tells the component when this replica gains and loses the
// active role. Losing it waits until the evaluation in progress ended
// (the group's rebalance waits for that), so that the next holder starts
// only after this one stopped: two replicas never notify at once.
type election interface {
	Start(ctx context.Context) error
	Stop() error
}

// roleHandler is what the election drives.
type roleHandler interface {
	gain(ctx context.Context)
	lose()
}

// alwaysActive is the election of a single replica.
type alwaysActive struct{ h roleHandler }

func (a alwaysActive) Start(ctx context.Context) error { a.h.gain(ctx); return nil }
func (a alwaysActive) Stop() error                     { a.h.lose(); return nil }

// kafkaElection is a consumer-group member of LeaderTopic.
type kafkaElection struct {
	kafka bus.Configuration
	group string
	h     roleHandler
	r     *telemetry.Reporter

	mu       sync.Mutex
	consumer *bus.Consumer
	holding  bool
}

func newKafkaElection(kafka bus.Configuration, group string, h roleHandler, r *telemetry.Reporter) *kafkaElection {
	return &kafkaElection{kafka: kafka, group: group, h: h, r: r}
}

// Start creates the topic (one partition) and joins the group; it
// returns at once, the role follows the group's assignments.
func (e *kafkaElection) Start(ctx context.Context) error {
	one := e.kafka
	one.Partitions = 1
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := bus.Retry(tctx, func(ctx context.Context) error { return bus.EnsureTopics(ctx, one, LeaderTopic) }); err != nil {
		return fmt.Errorf("alerting election: %w", err)
	}
	ccfg := bus.DefaultConsumerConfiguration(e.group)
	ccfg.SessionTimeout = electionSessionTimeout
	c, err := bus.NewConsumer(e.kafka, ccfg, []string{LeaderTopic}, e, e.r)
	if err != nil {
		return fmt.Errorf("alerting election: %w", err)
	}
	e.mu.Lock()
	e.consumer = c
	e.mu.Unlock()
	return c.Start(ctx)
}

// Stop gives the role up, then leaves the group so that another replica
// takes it over at once.
func (e *kafkaElection) Stop() error {
	e.mu.Lock()
	c := e.consumer
	e.mu.Unlock()
	if c == nil {
		return nil
	}
	// Passive first (after the evaluation in progress), then leave: the
	// next holder cannot start while this one still evaluates.
	e.Revoked(context.Background(), map[string][]int32{LeaderTopic: {0}})
	return c.Stop()
}

// Handle is never called with records: nothing is written to the topic.
func (e *kafkaElection) Handle(context.Context, []bus.PartitionBatch) error { return nil }

// Assigned makes this replica active when it got the partition.
func (e *kafkaElection) Assigned(ctx context.Context, partitions map[string][]int32) {
	if len(partitions[LeaderTopic]) == 0 {
		return
	}
	e.mu.Lock()
	already := e.holding
	e.holding = true
	e.mu.Unlock()
	if !already {
		e.h.gain(context.WithoutCancel(ctx))
	}
}

// Revoked makes it passive when the partition went; it returns once the
// evaluation in progress is over. A cooperative rebalance calls it with
// only what moved, often nothing.
func (e *kafkaElection) Revoked(_ context.Context, partitions map[string][]int32) {
	if len(partitions[LeaderTopic]) == 0 {
		return
	}
	e.mu.Lock()
	was := e.holding
	e.holding = false
	e.mu.Unlock()
	if was {
		e.h.lose()
	}
}
