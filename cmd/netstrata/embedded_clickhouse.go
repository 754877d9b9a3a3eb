package main

import (
	"errors"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// EmbeddedClickHouse is the chDB engine served over HTTP on loopback.
type EmbeddedClickHouse struct {
	Enable bool `yaml:"enable"`
}

func defaultEmbeddedClickHouse() EmbeddedClickHouse { return EmbeddedClickHouse{Enable: true} }

func (c *Config) fillEmbeddedClickHouse() {}

func (c *Config) validateEmbeddedClickHouse() error { return nil }

func embeddedClickHouse(cfg *Config) component {
	return component{name: "embedded-clickhouse", build: func(e *env, r *telemetry.Reporter) (service, error) {
		return nil, errors.New("not available yet")
	}}
}
