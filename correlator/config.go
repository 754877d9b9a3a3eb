package correlator

import (
	"errors"
	"fmt"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
)

// Configuration is the correlator's YAML section.
type Configuration struct {
	// Group is the Kafka consumer group; every correlator process of a
	// deployment uses the same one and they share the partitions.
	Group string `yaml:"group"`
	// Batching. A batch is what one poll returns: the broker answers a
	// fetch when BatchMinBytes are ready or BatchMaxWait has passed (the
	// time threshold), and one batch holds at most BatchMaxRecords (the
	// size threshold). Each batch is one INSERT per table.
	BatchMaxRecords int           `yaml:"batch_max_records"`
	BatchMinBytes   int32         `yaml:"batch_min_bytes"`
	BatchMaxWait    time.Duration `yaml:"batch_max_wait"`
	// BatchCatchUpWait: the consumer fetches while a batch is stored and
	// keeps one answer, which is as old as that batch's INSERT when it is
	// taken; what arrived since is fetched at once and joins the next
	// batch rather than the one after, within this wait. It keeps a
	// flow's age near one batch's handling at a rate that keeps the
	// INSERTs busy. 0 disables it.
	BatchCatchUpWait time.Duration `yaml:"batch_catch_up_wait"`
	// InsertConcurrency is how many groups a batch's partitions are split
	// into, each stored with its own INSERT per table. ClickHouse writes
	// one INSERT, with its materialized views, on one core; a group's
	// INSERTs (raw flows, flow rollups, other topics) run at once.
	InsertConcurrency int `yaml:"insert_concurrency"`
	// SessionTimeout is how long the group waits for a silent member
	// before handing its partitions to the others.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// EnrichmentRefresh is how often the interface and pod caches reload
	// what other members stored (each member consumes only some
	// partitions of the SNMP and pod topics).
	EnrichmentRefresh time.Duration `yaml:"enrichment_refresh"`
	// PodHistory is how long an IP's past pods stay in memory for
	// time-aware lookups of late records.
	PodHistory time.Duration `yaml:"pod_history"`
	// MaxInterfaces and MaxPodIPs bound the caches' memory.
	MaxInterfaces int `yaml:"max_interfaces"`
	MaxPodIPs     int `yaml:"max_pod_ips"`
	// IPDB is the AS and country enrichment of flows.
	IPDB IPDBConfiguration `yaml:"ipdb"`
	// Schema holds the tables' retention.
	Schema schema.Options `yaml:"schema"`
}

// DefaultConfiguration returns working defaults.
func DefaultConfiguration() Configuration {
	return Configuration{
		Group:             "netstrata-correlator",
		BatchMaxRecords:   400_000,
		BatchMinBytes:     1 << 20,
		BatchMaxWait:      500 * time.Millisecond,
		BatchCatchUpWait:  50 * time.Millisecond,
		InsertConcurrency: 2,
		SessionTimeout:    15 * time.Second,
		EnrichmentRefresh: 10 * time.Second,
		PodHistory:        24 * time.Hour,
		MaxInterfaces:     1_000_000,
		MaxPodIPs:         1_000_000,
		IPDB:              defaultIPDBConfiguration(),
		Schema:            schema.DefaultOptions(),
	}
}

// Validate names the bad field.
func (c Configuration) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("correlator.group: must not be empty"))
	}
	if c.BatchMaxRecords < 1 || c.BatchMaxRecords > 1_000_000 {
		errs = append(errs, fmt.Errorf("correlator.batch_max_records: %d is not within 1..1000000", c.BatchMaxRecords))
	}
	if c.BatchMinBytes < 1 {
		errs = append(errs, errors.New("correlator.batch_min_bytes: must be positive"))
	}
	if c.BatchMaxWait < time.Millisecond || c.BatchMaxWait > time.Minute {
		errs = append(errs, fmt.Errorf("correlator.batch_max_wait: %v is not within 1ms..1m", c.BatchMaxWait))
	}
	if c.BatchCatchUpWait < 0 || c.BatchCatchUpWait > c.BatchMaxWait {
		errs = append(errs, fmt.Errorf("correlator.batch_catch_up_wait: %v is not within 0..batch_max_wait", c.BatchCatchUpWait))
	}
	if c.InsertConcurrency < 1 || c.InsertConcurrency > 64 {
		errs = append(errs, fmt.Errorf("correlator.insert_concurrency: %d is not within 1..64", c.InsertConcurrency))
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("correlator.session_timeout: %v is below 1s", c.SessionTimeout))
	}
	if c.EnrichmentRefresh < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("correlator.enrichment_refresh: %v is below 100ms", c.EnrichmentRefresh))
	}
	if c.PodHistory < time.Minute {
		errs = append(errs, fmt.Errorf("correlator.pod_history: %v is below 1m", c.PodHistory))
	}
	if c.MaxInterfaces < 1 {
		errs = append(errs, errors.New("correlator.max_interfaces: must be positive"))
	}
	if c.MaxPodIPs < 1 {
		errs = append(errs, errors.New("correlator.max_pod_ips: must be positive"))
	}
	if err := c.IPDB.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Schema.Validate("correlator.schema"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// consumerConfiguration maps the batching settings onto the bus consumer.
func (c Configuration) consumerConfiguration() bus.ConsumerConfiguration {
	cc := bus.DefaultConsumerConfiguration(c.Group)
	cc.MaxPollRecords = c.BatchMaxRecords
	cc.FetchMinBytes = c.BatchMinBytes
	cc.FetchMaxWait = c.BatchMaxWait
	cc.CatchUpWait = c.BatchCatchUpWait
	cc.SessionTimeout = c.SessionTimeout
	return cc
}

// Dependencies are where the correlator reads and writes. Both may be
// down at start and at any time: the correlator retries.
type Dependencies struct {
	Kafka      bus.Configuration
	ClickHouse store.Configuration
	// Stored, when set, is called after every INSERT of flows with when
	// they went through each stage (benchmarks; see StoredFlows).
	Stored func(StoredFlows)
}
