package snmppoller

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

func TestValidateNamesTheBadField(t *testing.T) {
	base := func() Configuration {
		c := DefaultConfiguration()
		c.Targets = []Target{{Name: "a", Address: "10.0.0.1"}}
		return c
	}
	tests := []struct {
		field  string
		mutate func(*Configuration)
	}{
		{"snmp_poller.targets[0].address", func(c *Configuration) { c.Targets[0].Address = "" }},
		{"snmp_poller.targets[0].address", func(c *Configuration) { c.Targets[0].Address = "10.0.0.1:161" }},
		{"snmp_poller.targets[0].version", func(c *Configuration) { c.Targets[0].Version = "4" }},
		{"snmp_poller.targets[0].interval", func(c *Configuration) { c.Targets[0].Interval = time.Millisecond }},
		{"snmp_poller.targets[0].v3.user", func(c *Configuration) { c.Targets[0].Version = "3" }},
		{"snmp_poller.targets[0].v3.auth_protocol", func(c *Configuration) {
			c.Targets[0].Version = "3"
			c.Targets[0].V3 = &V3Credentials{User: "u", AuthProtocol: "sha3"}
		}},
		{"snmp_poller.targets[0].v3.auth_password", func(c *Configuration) {
			c.Targets[0].Version = "3"
			c.Targets[0].V3 = &V3Credentials{User: "u", AuthProtocol: "sha", AuthPassword: "short"}
		}},
		{"snmp_poller.targets[0].v3.priv_protocol", func(c *Configuration) {
			c.Targets[0].Version = "3"
			c.Targets[0].V3 = &V3Credentials{User: "u", PrivProtocol: "aes", PrivPassword: "longenough"}
		}},
		{"snmp_poller.targets[1].name", func(c *Configuration) { c.Targets = append(c.Targets, Target{Name: "a", Address: "10.0.0.2"}) }},
		{"snmp_poller.defaults.community", func(c *Configuration) { c.Defaults.Community = "" }},
		{"snmp_poller.workers", func(c *Configuration) { c.Workers = 0 }},
		{"snmp_poller.jitter", func(c *Configuration) { c.Jitter = 2 }},
		{"snmp_poller.over_speed_factor", func(c *Configuration) { c.OverSpeedFactor = 0.5 }},
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	for _, tt := range tests {
		c := base()
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("want an error naming %s, got %v", tt.field, err)
		}
	}
}

func TestTargetsInheritDefaultsAndKeepExplicitZeros(t *testing.T) {
	yml := `
defaults:
  community: fleet-ro
  interval: 30s
  retries: 2
targets:
  - address: 192.0.2.1
  - name: edge
    address: edge.example.net
    port: 1161
    retries: 0
    max_repetitions: 0
    version: "3"
    v3: {user: poller, auth_protocol: sha256, auth_password: abcdefgh1, priv_protocol: aes, priv_password: abcdefgh2}
`
	cfg := DefaultConfiguration()
	if err := config.Decode([]byte(yml), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	list, err := resolveAll(cfg.Targets, cfg.Defaults, "t")
	if err != nil {
		t.Fatal(err)
	}
	a, e := list[0], list[1]
	if a.Name != "192.0.2.1" || a.Community != "fleet-ro" || a.Interval != 30*time.Second || a.Retries != 2 || a.Port != 161 || a.Version != "2c" || a.MaxRepetitions != 10 {
		t.Errorf("defaults not applied: %+v", a)
	}
	if e.Retries != 0 || e.MaxRepetitions != 0 || e.Port != 1161 || e.V3.User != "poller" {
		t.Errorf("explicit values lost: %+v", e)
	}
	red := cfg.Redacted()
	if red.Defaults.Community == "fleet-ro" || red.Targets[1].V3.AuthPassword == "abcdefgh1" || cfg.Targets[1].V3.AuthPassword != "abcdefgh1" {
		t.Errorf("Redacted must mask secrets in a copy only")
	}
}

func TestTargetsFileIsReReadWhenItChanges(t *testing.T) {
	a := startSim(t, defaultSimConfig("from-file-a"))
	b := startSim(t, defaultSimConfig("from-file-b"))
	path := filepath.Join(t.TempDir(), "targets.yaml")
	write := func(body string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(s *simAgent) string {
		return "  - {name: " + s.cfg.Name + ", address: 127.0.0.1, port: " + strconv.Itoa(int(s.port())) + "}\n"
	}
	write("targets:\n" + entry(a))

	cfg := DefaultConfiguration()
	cfg.Defaults.Interval = time.Second
	cfg.TargetsFile = path
	cfg.TargetsFileCheck = 50 * time.Millisecond
	c, pub := newTestComponent(t, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	waitFor(t, 30*time.Second, "records from the first file's target", func() bool { return pub.Count("from-file-a") > 0 })

	// A broken file keeps the running targets and marks the component unhealthy.
	write("targets: [{address: ''}]\n")
	waitFor(t, 30*time.Second, "the broken file to be reported", func() bool {
		ok, checks := c.r.Health.Status()
		return !ok && strings.Contains(checks["targets_file"], "address")
	})
	c.mu.Lock()
	_, stillA := c.targets["from-file-a"]
	c.mu.Unlock()
	if !stillA {
		t.Fatal("a broken targets file dropped the running targets")
	}

	// A bare list works too; a replaced target goes away.
	write(entry(b))
	waitFor(t, 30*time.Second, "records from the new target", func() bool { return pub.Count("from-file-b") > 0 })
	c.mu.Lock()
	_, stillA = c.targets["from-file-a"]
	n := len(c.targets)
	c.mu.Unlock()
	if stillA || n != 1 {
		t.Fatalf("after the change: %d targets, old one kept=%v", n, stillA)
	}
	if ok, _ := c.r.Health.Status(); !ok {
		t.Fatal("still unhealthy after the file was fixed")
	}
}

func TestExampleTargetsFileLoads(t *testing.T) {
	list, _, err := loadTargetsFile("testdata/targets.example.yaml", DefaultConfiguration().Defaults)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[1].V3.PrivProtocol != "aes" || list[1].Interval != 30*time.Second || list[2].Retries != 0 {
		t.Fatalf("example targets: %+v", list)
	}
}

func TestTargetsOnOneAddressGetDefaultNamesApartOrMustBeNamed(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Targets = []Target{
		{Address: "10.0.0.1"},
		{Address: "10.0.0.1", Port: 1161},
		{Address: "10.0.0.1", Version: "3", V3: &V3Credentials{User: "u", ContextName: "vrf-red"}},
	}
	got, err := resolveAll(cfg.Targets, cfg.Defaults, "snmp_poller.targets")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"10.0.0.1", "10.0.0.1:1161", "10.0.0.1/vrf-red"} {
		if got[i].Name != want {
			t.Errorf("targets[%d] named %q, want %q", i, got[i].Name, want)
		}
	}
	// Only the community differs: nothing to tell them apart by but a name.
	cfg.Targets = []Target{{Address: "10.0.0.1", Community: "a"}, {Address: "10.0.0.1", Community: "b"}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "targets[1].name:") || !strings.Contains(err.Error(), "give each target") {
		t.Fatalf("want an error asking for names, got %v", err)
	}
	cfg.Targets[0].Name, cfg.Targets[1].Name = "vlan-10", "vlan-20"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("named targets on one address refused: %v", err)
	}
}

func TestPollTimeoutIsItsOwnSettingAndCoversOneRequest(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Defaults.Interval = 2 * time.Second
	cfg.Targets = []Target{{Name: "big", Address: "10.0.0.1"}, {Name: "short", Address: "10.0.0.2", PollTimeout: 30 * time.Second}}
	got, err := resolveAll(cfg.Targets, cfg.Defaults, "snmp_poller.targets")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].PollTimeout != 5*time.Minute || got[1].PollTimeout != 30*time.Second {
		t.Fatalf("poll timeouts %s and %s, want the default 5m and 30s whatever the 2s interval", got[0].PollTimeout, got[1].PollTimeout)
	}
	cfg.Targets[1].PollTimeout = time.Second // below the 2 s request timeout
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "snmp_poller.targets[1].poll_timeout:") {
		t.Fatalf("want an error naming poll_timeout, got %v", err)
	}
}
