// Package store is netstrata's ClickHouse layer on clickhouse-go/v2 (the
// only database client in the code): connection, versioned migrations and
// batch inserts with explicit column lists and deduplication tokens.
package store

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Configuration points at ClickHouse: a real server (native protocol,
// port 9000/9440) or the embedded engine (HTTP on 127.0.0.1:8123).
type Configuration struct {
	Protocol         string        `yaml:"protocol"` // native or http
	Addresses        []string      `yaml:"addresses"`
	Database         string        `yaml:"database"`
	Username         string        `yaml:"username"`
	Password         string        `yaml:"password"`
	TLS              bool          `yaml:"tls"`
	TLSSkipVerify    bool          `yaml:"tls_skip_verify"`
	DialTimeout      time.Duration `yaml:"dial_timeout"`
	MaxExecutionTime time.Duration `yaml:"max_execution_time"`
	MaxOpenConns     int           `yaml:"max_open_conns"`
	// Cluster names the ClickHouse cluster (remote_servers) that holds the
	// database; empty for one server. With a cluster the schema is
	// created ON CLUSTER with replicated, sharded tables, and inserts into
	// Distributed tables return once every shard has its rows.
	Cluster string `yaml:"cluster"`
}

// DefaultConfiguration targets the embedded engine.
func DefaultConfiguration() Configuration {
	return Configuration{
		Protocol:         "http",
		Addresses:        []string{"127.0.0.1:8123"},
		Database:         "netstrata",
		Username:         "default",
		DialTimeout:      5 * time.Second,
		MaxExecutionTime: 60 * time.Second,
		MaxOpenConns:     8,
	}
}

// Validate names the bad field.
func (c Configuration) Validate() error {
	var errs []error
	if c.Protocol != "native" && c.Protocol != "http" {
		errs = append(errs, fmt.Errorf("clickhouse.protocol: %q is not native or http", c.Protocol))
	}
	if len(c.Addresses) == 0 {
		errs = append(errs, errors.New("clickhouse.addresses: at least one address is needed"))
	}
	if !validIdentifier(c.Database) {
		errs = append(errs, fmt.Errorf("clickhouse.database: %q is not a plain identifier", c.Database))
	}
	if c.Cluster != "" && !validIdentifier(c.Cluster) {
		errs = append(errs, fmt.Errorf("clickhouse.cluster: %q is not a plain identifier", c.Cluster))
	}
	if c.MaxOpenConns <= 0 {
		errs = append(errs, errors.New("clickhouse.max_open_conns: must be positive"))
	}
	return errors.Join(errs...)
}

func (c Configuration) tlsConfig() *tls.Config {
	if !c.TLS {
		return nil
	}
	return &tls.Config{InsecureSkipVerify: c.TLSSkipVerify, MinVersion: tls.VersionTLS12}
}

// validIdentifier accepts what we splice into DDL as a database name.
func validIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
