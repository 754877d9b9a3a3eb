package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogConfiguration selects the log level and format.
type LogConfiguration struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// DefaultLogConfiguration logs info and above as text.
func DefaultLogConfiguration() LogConfiguration {
	return LogConfiguration{Level: "info", Format: "text"}
}

// Validate names the bad field.
func (c LogConfiguration) Validate() error {
	if _, err := parseLevel(c.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	if c.Format != "text" && c.Format != "json" {
		return fmt.Errorf("log.format: %q is not text or json", c.Format)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger builds the process logger.
func NewLogger(c LogConfiguration, w io.Writer) *slog.Logger {
	level, err := parseLevel(c.Level)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// RateLimited logs at most one line per call site and key per interval
// and counts what it swallowed, so that a flood of bad input cannot flood
// the logs. A call site is known by its message (each logs its own
// constant text): two places that log with the same key, sharing one
// component's limiter, do not silence each other.
type RateLimited struct {
	log      *slog.Logger
	interval time.Duration
	mu       sync.Mutex
	last     map[logSite]time.Time
	dropped  map[logSite]int
}

// logSite is a rate-limited line: its message, and the key that tells
// its instances apart (a target, an exporter, a topic).
type logSite struct {
	msg, key string
}

// NewRateLimited logs each call site and key at most once per interval.
func NewRateLimited(log *slog.Logger, interval time.Duration) *RateLimited {
	return &RateLimited{log: log, interval: interval, last: map[logSite]time.Time{}, dropped: map[logSite]int{}}
}

// Warn logs msg unless msg was logged for key within the interval.
func (r *RateLimited) Warn(key, msg string, args ...any) {
	site := logSite{msg: msg, key: key}
	now := time.Now()
	r.mu.Lock()
	if t, ok := r.last[site]; ok && now.Sub(t) < r.interval {
		r.dropped[site]++
		r.mu.Unlock()
		return
	}
	if len(r.last) > 10000 { // bound memory under hostile, ever-new keys
		clear(r.last)
		clear(r.dropped)
	}
	r.last[site] = now
	n := r.dropped[site]
	delete(r.dropped, site)
	r.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	r.log.Warn(msg, args...)
}
