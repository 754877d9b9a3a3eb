package main

import (
	"context"
	"path/filepath"

	"github.com/netstrata/netstrata/internal/chdb"
	"github.com/netstrata/netstrata/internal/config"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// EmbeddedClickHouse is the chDB engine served over HTTP on loopback;
// Enable false uses clickhouse.addresses.
type EmbeddedClickHouse struct {
	Enable             bool `yaml:"enable"`
	chdb.Configuration `yaml:",inline"`
}

func defaultEmbeddedClickHouse() EmbeddedClickHouse {
	c := chdb.DefaultConfiguration()
	c.DataDir = "" // derived from data_dir unless set
	return EmbeddedClickHouse{Enable: true, Configuration: c}
}

func (c *Config) fillEmbeddedClickHouse() {
	if c.Embedded.ClickHouse.DataDir == "" {
		c.Embedded.ClickHouse.DataDir = filepath.Join(c.DataDir, "clickhouse")
	}
}

func (c *Config) validateEmbeddedClickHouse() error {
	return config.CheckListen("embedded.clickhouse.listen", c.Embedded.ClickHouse.Listen)
}

// embeddedClickHouse starts the engine and points the ClickHouse
// configuration at it.
func embeddedClickHouse(cfg *Config) component {
	return component{name: "embedded-clickhouse", build: func(e *env, r *telemetry.Reporter) (service, error) {
		s, err := chdb.New(cfg.Embedded.ClickHouse.Configuration, r.Log)
		if err != nil {
			return nil, err
		}
		return &embeddedClickHouseService{s: s, cfg: cfg}, nil
	}}
}

type embeddedClickHouseService struct {
	s   *chdb.Server
	cfg *Config
}

func (s *embeddedClickHouseService) Start(ctx context.Context) error {
	if err := s.s.Start(ctx); err != nil {
		return err
	}
	s.cfg.ClickHouse.Protocol = "http"
	s.cfg.ClickHouse.Addresses = []string{s.s.Addr()}
	return nil
}

func (s *embeddedClickHouseService) Stop() error { return s.s.Stop() }
