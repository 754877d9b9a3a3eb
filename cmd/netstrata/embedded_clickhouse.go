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
	// The correlator writes as the writer, the API reads as the reader;
	// both users exist only in the data dir's credentials file.
	creds := s.s.Credentials()
	s.cfg.ClickHouse.Protocol = "http"
	s.cfg.ClickHouse.Addresses = []string{s.s.Addr()}
	s.cfg.ClickHouse.Username, s.cfg.ClickHouse.Password = creds.Writer.User, creds.Writer.Password
	reader := s.cfg.ClickHouse
	reader.Username, reader.Password = creds.Reader.User, creds.Reader.Password
	s.cfg.clickhouseReader = &reader
	return nil
}

func (s *embeddedClickHouseService) Stop() error { return s.s.Stop() }
