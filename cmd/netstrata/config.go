package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/chdb"
	"github.com/netstrata/netstrata/internal/config"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Config is the one YAML file: shared infrastructure first, then one
// section per component.
type Config struct {
	Log               telemetry.LogConfiguration `yaml:"log"`
	DataDir           string                     `yaml:"data_dir"` // state of the embedded services and the collectors
	Kafka             bus.Configuration          `yaml:"kafka"`
	ClickHouse        store.Configuration        `yaml:"clickhouse"`
	Embedded          EmbeddedConfig             `yaml:"embedded"`
	componentSections `yaml:",inline"`

	// runs names the components the command runs; only their sections are
	// validated. nil validates every section.
	runs map[string]bool
	// clickhouseReader is how the API reads the embedded ClickHouse (its
	// read-only user); nil: the API uses clickhouse like the correlator.
	clickhouseReader *store.Configuration
}

// apiStore is the database configuration the API connects with: the
// embedded ClickHouse's read-only user when that is where it points.
func (c *Config) apiStore() store.Configuration {
	if c.clickhouseReader != nil {
		return *c.clickhouseReader
	}
	return c.embeddedUser(func(cr chdb.Credentials) chdb.Credential { return cr.Reader })
}

// correlatorStore is the database configuration the correlator writes with.
func (c *Config) correlatorStore() store.Configuration {
	return c.embeddedUser(func(cr chdb.Credentials) chdb.Credential { return cr.Writer })
}

// embeddedUser is clickhouse with a user of the embedded ClickHouse when
// it points at that engine's address with no password of its own: the
// engine may run in another process of the same configuration (make demo,
// a split standalone), whose data dir holds its users.
func (c *Config) embeddedUser(pick func(chdb.Credentials) chdb.Credential) store.Configuration {
	st := c.ClickHouse
	if st.Password != "" || len(st.Addresses) != 1 || st.Addresses[0] != c.Embedded.ClickHouse.Listen {
		return st
	}
	creds, err := chdb.ReadCredentials(c.Embedded.ClickHouse.DataDir)
	if err != nil {
		return st // the engine answers 401 naming the credentials file
	}
	u := pick(creds)
	st.Username, st.Password = u.User, u.Password
	return st
}

// EmbeddedConfig configures what `standalone` runs in-process.
type EmbeddedConfig struct {
	Kafka      EmbeddedKafka      `yaml:"kafka"`
	ClickHouse EmbeddedClickHouse `yaml:"clickhouse"`
}

// EmbeddedKafka is the kfake broker; Enable false uses kafka.brokers.
type EmbeddedKafka struct {
	Enable                    bool `yaml:"enable"`
	bus.EmbeddedConfiguration `yaml:",inline"`
}

// DefaultConfig is what runs with no file: everything on loopback.
func DefaultConfig() *Config {
	dataDir := os.Getenv("NETSTRATA_DATA")
	if dataDir == "" {
		dataDir = "var"
	}
	c := &Config{
		Log:        telemetry.DefaultLogConfiguration(),
		DataDir:    dataDir,
		Kafka:      bus.DefaultConfiguration(),
		ClickHouse: store.DefaultConfiguration(),
		Embedded: EmbeddedConfig{
			Kafka:      EmbeddedKafka{Enable: true, EmbeddedConfiguration: bus.DefaultEmbeddedConfiguration("")},
			ClickHouse: defaultEmbeddedClickHouse(),
		},
	}
	c.componentSections = defaultComponentSections()
	return c
}

// Load applies the file and the environment, fills derived paths and
// validates.
func (c *Config) Load(path string, environ []string) error {
	if err := config.Load(path, c, environ); err != nil {
		return err
	}
	if c.Embedded.Kafka.DataDir == "" {
		c.Embedded.Kafka.DataDir = filepath.Join(c.DataDir, "kafka")
	}
	c.fillEmbeddedClickHouse()
	c.fillComponentPaths()
	return nil
}

// Validate checks every section; errors name the field.
func (c *Config) Validate() error {
	errs := []error{c.Log.Validate(), c.Kafka.Validate(), c.ClickHouse.Validate(),
		config.CheckListen("embedded.kafka.listen", c.Embedded.Kafka.Listen)}
	errs = append(errs, c.validateEmbeddedClickHouse())
	errs = append(errs, c.validateComponents()...)
	return errors.Join(errs...)
}

// Write prints the effective configuration. Secrets are masked.
func (c *Config) Write(w io.Writer) error {
	masked := *c
	masked.API.Tokens = append([]string(nil), c.API.Tokens...)
	if masked.Kafka.SASL.Password != "" {
		masked.Kafka.SASL.Password = "********"
	}
	if masked.ClickHouse.Password != "" {
		masked.ClickHouse.Password = "********"
	}
	masked.maskSecrets()
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&masked); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return enc.Close()
}
