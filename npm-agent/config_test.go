package npmagent

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/telemetry"

	"github.com/netstrata/netstrata/internal/bus/bustest"
)

func TestDefaultConfigurationIsValid(t *testing.T) {
	c := DefaultConfiguration()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Interval != 10*time.Second || c.samplesPerInterval() != 5 {
		t.Errorf("interval %s, %d samples", c.Interval, c.samplesPerInterval())
	}
}

func TestNodeNameComesFromNODE_NAME(t *testing.T) {
	t.Setenv("NODE_NAME", "worker-7")
	if got := DefaultConfiguration().Node; got != "worker-7" {
		t.Errorf("node %q", got)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	for field, mutate := range map[string]func(*Configuration){
		"npm_agent.node":              func(c *Configuration) { c.Node = "" },
		"npm_agent.interval":          func(c *Configuration) { c.Interval = time.Millisecond },
		"npm_agent.sample_interval":   func(c *Configuration) { c.SampleInterval = time.Minute },
		"npm_agent.max_sockets":       func(c *Configuration) { c.MaxSockets = 1 },
		"npm_agent.ring_buffer_bytes": func(c *Configuration) { c.RingBufferBytes = 5000 },
		"npm_agent.kubernetes":        func(c *Configuration) { c.Kubernetes = "maybe" },
		"npm_agent.pod_resync":        func(c *Configuration) { c.PodResync = time.Second },
		"npm_agent.proc_root":         func(c *Configuration) { c.ProcRoot = "" },
	} {
		c := DefaultConfiguration()
		c.Node = "n"
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field+":") {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestNewRefusesWithoutPublisherOrWithBadConfiguration(t *testing.T) {
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := New(r, DefaultConfiguration(), Dependencies{}); err == nil {
		t.Error("no publisher accepted")
	}
	bad := DefaultConfiguration()
	bad.Interval = 0
	if _, err := New(r, bad, Dependencies{Publisher: &bustest.Publisher{}}); err == nil || !strings.Contains(err.Error(), "npm_agent.interval") {
		t.Errorf("bad interval: %v", err)
	}
}
