package api

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Configuration is the `api` section of the YAML file.
type Configuration struct {
	// Listen is where the API (and its /healthz, /metrics) is served.
	Listen string `yaml:"listen"`
	// Tokens are the accepted bearer tokens. Required unless AuthDisabled.
	Tokens []string `yaml:"tokens"`
	// AuthDisabled turns bearer authentication off; allowed only when
	// Listen is a loopback address, so that an open API never leaves the host.
	AuthDisabled bool `yaml:"auth_disabled"`
	// TLSCert and TLSKey (PEM files) serve HTTPS instead of HTTP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// QueryTimeout bounds each request's database work.
	QueryTimeout time.Duration `yaml:"query_timeout"`
	// MaxRange is the widest from..to a request may ask for.
	MaxRange time.Duration `yaml:"max_range"`
	// RawRange is the widest range answered from the raw tables; wider
	// ranges read the per-minute rollups, which are much smaller.
	RawRange time.Duration `yaml:"raw_range"`
	// MaxLimit caps the row count of list endpoints.
	MaxLimit int `yaml:"max_limit"`
	// MaxPoints caps the points of a time series (step grows to fit).
	MaxPoints int `yaml:"max_points"`
	// ReconnectInterval is how often a missing database is retried.
	ReconnectInterval time.Duration `yaml:"reconnect_interval"`
	// MaxConcurrentQueries requests query the database at once; up to
	// MaxQueuedQueries more wait up to QueueTimeout for a slot, and the
	// rest are answered 429 with Retry-After.
	MaxConcurrentQueries int           `yaml:"max_concurrent_queries"`
	MaxQueuedQueries     int           `yaml:"max_queued_queries"`
	QueueTimeout         time.Duration `yaml:"queue_timeout"`
}

// DefaultConfiguration listens on loopback with authentication on: tokens
// must be configured, or auth_disabled set explicitly.
func DefaultConfiguration() Configuration {
	return Configuration{
		Listen:            "127.0.0.1:8080",
		QueryTimeout:      30 * time.Second,
		MaxRange:          31 * 24 * time.Hour,
		RawRange:          3 * time.Hour,
		MaxLimit:          1000,
		MaxPoints:         1500,
		ReconnectInterval: 5 * time.Second,

		MaxConcurrentQueries: 4,
		MaxQueuedQueries:     16,
		QueueTimeout:         5 * time.Second,
	}
}

// Validate names the bad field with the api. prefix.
func (c Configuration) Validate() error {
	errs := []error{config.CheckListen("api.listen", c.Listen)}
	if c.AuthDisabled && !isLoopbackListen(c.Listen) {
		errs = append(errs, fmt.Errorf("api.auth_disabled: only allowed when api.listen is a loopback address, not %q", c.Listen))
	}
	if !c.AuthDisabled && len(c.Tokens) == 0 {
		errs = append(errs, errors.New("api.tokens: at least one bearer token is needed (or set api.auth_disabled: true on a loopback api.listen)"))
	}
	for i, t := range c.Tokens {
		if len(t) < 16 {
			errs = append(errs, fmt.Errorf("api.tokens[%d]: shorter than 16 characters", i))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("api.tls_cert, api.tls_key: set both or neither"))
	}
	errs = append(errs,
		config.Check(c.QueryTimeout > 0, "api.query_timeout", "must be positive"),
		config.Check(c.MaxRange >= time.Minute, "api.max_range", "must be at least 1m"),
		config.Check(c.RawRange >= 0, "api.raw_range", "must not be negative"),
		config.Check(c.MaxLimit > 0, "api.max_limit", "must be positive"),
		config.Check(c.MaxPoints >= 10, "api.max_points", "must be at least 10"),
		config.Check(c.ReconnectInterval > 0, "api.reconnect_interval", "must be positive"),
		config.Check(c.MaxConcurrentQueries > 0, "api.max_concurrent_queries", "must be positive"),
		config.Check(c.MaxQueuedQueries >= 0, "api.max_queued_queries", "must not be negative"),
		config.Check(c.QueueTimeout >= 0, "api.queue_timeout", "must not be negative"),
	)
	return errors.Join(errs...)
}

// isLoopbackListen reports whether addr binds only the loopback interface.
func isLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
