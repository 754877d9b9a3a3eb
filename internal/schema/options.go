// Package schema is netstrata's ClickHouse schema: the raw tables the
// correlator writes, the rollups materialized views keep, and the views
// that join the layers. It is shared by the correlator (which applies it)
// and the API (which reads it); SCHEMA.md documents every table for the
// people writing queries.
package schema

import (
	"errors"
	"fmt"
	"time"

	"github.com/netstrata/netstrata/internal/store"
)

// Name is the schema name under which the migrations are recorded in
// schema_migrations.
const Name = "netstrata"

// Options are the schema's tunables: retention of every table family and
// the deduplication window that makes retried inserts idempotent.
type Options struct {
	FlowsTTL   time.Duration `yaml:"flows_ttl"`   // raw flows and the session rollups
	IfStatsTTL time.Duration `yaml:"ifstats_ttl"` // raw interface polls and interfaces_latest
	SocketsTTL time.Duration `yaml:"sockets_ttl"` // raw socket intervals
	PodsTTL    time.Duration `yaml:"pods_ttl"`    // pod history and pod_ips
	// MinuteRollupTTL keeps flows_1m, sockets_1m and the 5-minute
	// interface reconciliation rollups.
	MinuteRollupTTL time.Duration `yaml:"minute_rollup_ttl"`
	// HourRollupTTL keeps flows_1h.
	HourRollupTTL time.Duration `yaml:"hour_rollup_ttl"`
	// AlertsTTL keeps the alert history.
	AlertsTTL time.Duration `yaml:"alerts_ttl"`
	// DeduplicationWindow is non_replicated_deduplication_window: how many
	// recent insert blocks (tokens) each table remembers.
	DeduplicationWindow int `yaml:"deduplication_window"`

	// Cluster and Database come from the ClickHouse configuration (see
	// Options.For): a named cluster renders replicated, sharded DDL
	// (cluster.go).
	Cluster  string `yaml:"-"`
	Database string `yaml:"-"`
}

// For returns o for the ClickHouse that c points at: its cluster, if it
// names one, and its database.
func (o Options) For(c store.Configuration) Options {
	o.Cluster, o.Database = c.Cluster, c.Database
	return o
}

// DefaultOptions keeps raw data a week (interface polls a month),
// rollups 90 days (minute) and a year (hour), alert history a year.
func DefaultOptions() Options {
	return Options{
		FlowsTTL:            7 * 24 * time.Hour,
		IfStatsTTL:          30 * 24 * time.Hour,
		SocketsTTL:          7 * 24 * time.Hour,
		PodsTTL:             30 * 24 * time.Hour,
		MinuteRollupTTL:     90 * 24 * time.Hour,
		HourRollupTTL:       365 * 24 * time.Hour,
		AlertsTTL:           365 * 24 * time.Hour,
		DeduplicationWindow: 10000,
	}
}

// Validate names the bad field; prefix is the YAML section holding the
// options (e.g. "correlator.schema").
func (o Options) Validate(prefix string) error {
	var errs []error
	for _, f := range []struct {
		name string
		ttl  time.Duration
	}{
		{"flows_ttl", o.FlowsTTL}, {"ifstats_ttl", o.IfStatsTTL}, {"sockets_ttl", o.SocketsTTL},
		{"pods_ttl", o.PodsTTL}, {"minute_rollup_ttl", o.MinuteRollupTTL}, {"hour_rollup_ttl", o.HourRollupTTL},
		{"alerts_ttl", o.AlertsTTL},
	} {
		if f.ttl < time.Hour {
			errs = append(errs, fmt.Errorf("%s.%s: %v is shorter than one hour", prefix, f.name, f.ttl))
		}
	}
	if o.DeduplicationWindow < 100 {
		errs = append(errs, fmt.Errorf("%s.deduplication_window: %d is below 100 insert blocks", prefix, o.DeduplicationWindow))
	}
	return errors.Join(errs...)
}

// ttlSeconds maps every table with a TTL to its retention in seconds.
func (o Options) ttlSeconds() map[string]int64 {
	s := func(d time.Duration) int64 { return int64(d / time.Second) }
	return map[string]int64{
		TableIfStats:          s(o.IfStatsTTL),
		TableInterfacesLatest: s(o.IfStatsTTL),
		TableFlows:            s(o.FlowsTTL),
		TableFlows5Tuple1h:    s(o.FlowsTTL),
		TableFlows5Tuple6h:    s(o.FlowsTTL),
		TableFlowSessions1h:   s(o.FlowsTTL),
		TableFlowSessions6h:   s(o.FlowsTTL),
		TableSockets:          s(o.SocketsTTL),
		TablePods:             s(o.PodsTTL),
		TablePodIPs:           s(o.PodsTTL),
		TableFlows1m:          s(o.MinuteRollupTTL),
		TableSockets1m:        s(o.MinuteRollupTTL),
		TableInterfaceFlows5m: s(o.MinuteRollupTTL),
		TableInterfaceSNMP5m:  s(o.MinuteRollupTTL),
		TableFlows1h:          s(o.HourRollupTTL),
		TableAlerts:           s(o.AlertsTTL),
		TableAlertPending:     s(o.AlertsTTL),
		TableAlertDeliveries:  s(o.AlertsTTL),
	}
}
