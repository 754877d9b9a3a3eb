package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Listen   string        `yaml:"listen"`
	Interval time.Duration `yaml:"interval"`
	Brokers  []string      `yaml:"brokers"`
	Workers  int           `yaml:"workers"`
}

type outer struct {
	Log         inner `yaml:"log"`
	FlowCollect inner `yaml:"flow_collector"`
	Enabled     bool  `yaml:"enabled"`
}

func (o *outer) Validate() error {
	return CheckListen("flow_collector.listen", o.FlowCollect.Listen)
}

func TestLoadAppliesFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("flow_collector:\n  listen: 127.0.0.1:2055\n  interval: 10s\n  workers: 2\n"), 0o600)
	cfg := outer{FlowCollect: inner{Listen: ":1"}}
	env := []string{"NETSTRATA_FLOW_COLLECTOR_WORKERS=4", "NETSTRATA_FLOW_COLLECTOR_BROKERS=a:1, b:2", "NETSTRATA_ENABLED=true", "HOME=/root"}
	if err := Load(path, &cfg, env); err != nil {
		t.Fatal(err)
	}
	if cfg.FlowCollect.Listen != "127.0.0.1:2055" || cfg.FlowCollect.Interval != 10*time.Second {
		t.Fatalf("file not applied: %+v", cfg.FlowCollect)
	}
	if cfg.FlowCollect.Workers != 4 || strings.Join(cfg.FlowCollect.Brokers, "|") != "a:1|b:2" || !cfg.Enabled {
		t.Fatalf("environment not applied: %+v", cfg)
	}
}

func TestLoadRejectsUnknownKeysAndBadValues(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"unknown key": "flow_collector:\n  listne: x\n",
		"bad type":    "flow_collector:\n  workers: many\n",
		"bad port":    "flow_collector:\n  listen: 127.0.0.1:99999\n",
		"bad yaml":    "flow_collector: [\n",
	}
	for name, body := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(path, []byte(body), 0o600)
		cfg := outer{FlowCollect: inner{Listen: "127.0.0.1:1"}}
		if err := Load(path, &cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	cfg := outer{FlowCollect: inner{Listen: "127.0.0.1:1"}}
	err := Load("", &cfg, []string{"NETSTRATA_FLOW_COLLECTOR_LISTNE=1"})
	if err == nil || !strings.Contains(err.Error(), "NETSTRATA_FLOW_COLLECTOR_LISTNE") {
		t.Fatalf("unknown env var: %v", err)
	}
	err = Load("", &cfg, []string{"NETSTRATA_FLOW_COLLECTOR_INTERVAL=soon"})
	if err == nil || !strings.Contains(err.Error(), "duration") {
		t.Fatalf("bad duration: %v", err)
	}
}

func TestKeysListsNestedPaths(t *testing.T) {
	got := strings.Join(Keys(outer{}), " ")
	for _, want := range []string{"log.listen", "flow_collector.brokers", "enabled"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
}
