package store

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ensureDatabase creates the database only when it is missing, so that a
// read-only user (the API's) connects once the writer has made it.
func ensureDatabase(ctx context.Context, conn driver.Conn, name, cluster string) error {
	var exists uint8
	if err := conn.QueryRow(ctx, "EXISTS DATABASE "+name).Scan(&exists); err != nil {
		return err
	}
	if exists == 1 {
		return nil
	}
	create := "CREATE DATABASE IF NOT EXISTS " + name
	if cluster != "" {
		create += " ON CLUSTER " + cluster
	}
	if err := conn.Exec(ctx, create); err != nil {
		return fmt.Errorf("database %s does not exist yet and this user cannot create it (the correlator does): %w", name, err)
	}
	return nil
}

// Open connects to ClickHouse and creates the database if it is missing.
// It does not retry: callers that start before the database wrap it in
// bus.Retry or their own backoff.
func Open(ctx context.Context, c Configuration) (driver.Conn, error) {
	// Create the database through a connection to "default" first: the
	// HTTP protocol refuses to open a session in a database that is absent.
	boot, err := clickhouse.Open(c.options("default"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: %w", c.Addresses, err)
	}
	err = ensureDatabase(ctx, boot, c.Database, c.Cluster)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: create database %s: %w", c.Addresses, c.Database, err)
	}
	conn, err := clickhouse.Open(c.options(c.Database))
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: %w", c.Addresses, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %v: ping: %w", c.Addresses, err)
	}
	return conn, nil
}

func (c Configuration) options(database string) *clickhouse.Options {
	proto := clickhouse.Native
	if c.Protocol == "http" {
		proto = clickhouse.HTTP
	}
	settings := clickhouse.Settings{}
	if c.MaxExecutionTime > 0 {
		settings["max_execution_time"] = int(c.MaxExecutionTime.Seconds())
	}
	if c.Cluster != "" {
		// An insert into a Distributed table returns once each shard has
		// stored its rows (not when they are queued on this server), so
		// that a stored batch and its ingest progress are on every shard
		// and a retried batch is deduplicated there by its token.
		settings["insert_distributed_sync"] = 1
	}
	return &clickhouse.Options{
		Protocol:     proto,
		Addr:         c.Addresses,
		Auth:         clickhouse.Auth{Database: database, Username: c.Username, Password: c.Password},
		TLS:          c.tlsConfig(),
		DialTimeout:  c.DialTimeout,
		MaxOpenConns: c.MaxOpenConns,
		Settings:     settings,
	}
}
