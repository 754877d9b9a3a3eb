package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpListsEveryCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range []string{"standalone", "snmp-poller", "flow-collector", "npm-agent", "correlator", "api", "alerting", "investigate", "version"} {
		if !strings.Contains(out.String(), c) {
			t.Errorf("help does not mention %s", c)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestConfigErrorsNameTheFieldAndExitNonZero(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ yaml, env, want string }{
		"unknown key":     {yaml: "kafka:\n  brokerz: [x]\n", want: "brokerz"},
		"bad listen port": {yaml: "embedded:\n  kafka:\n    listen: 127.0.0.1:70000\n", want: "embedded.kafka.listen"},
		"bad compression": {yaml: "kafka:\n  compression: brotli\n", want: "kafka.compression"},
		"bad protocol":    {env: "NETSTRATA_CLICKHOUSE_PROTOCOL=grpc", want: "clickhouse.protocol"},
		"bad env name":    {env: "NETSTRATA_KAFKA_BROKER=x", want: "NETSTRATA_KAFKA_BROKER"},
		"bad log level":   {yaml: "log:\n  level: loud\n", want: "log.level"},
	}
	for name, c := range cases {
		path := ""
		if c.yaml != "" {
			path = filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
			os.WriteFile(path, []byte(c.yaml), 0o600)
		}
		cfg := DefaultConfig()
		var env []string
		if c.env != "" {
			env = []string{c.env}
		}
		err := cfg.Load(path, env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v does not name %s", name, err, c.want)
		}
	}
	// A poller host need not carry API tokens: only the sections of what
	// runs are validated.
	cfg := DefaultConfig()
	cfg.runs = componentsRun("snmp-poller", "")
	if err := cfg.Load("", nil); err != nil {
		t.Fatalf("snmp-poller config without API tokens: %v", err)
	}
	cfg = DefaultConfig()
	cfg.runs = componentsRun("api", "")
	if err := cfg.Load("", nil); err == nil || !strings.Contains(err.Error(), "api.tokens") {
		t.Fatalf("api without tokens: %v", err)
	}
	var out, errb bytes.Buffer
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("kafka:\n  compression: brotli\n"), 0o600)
	if code := run([]string{"config", "--config", path}, &out, &errb); code == 0 {
		t.Fatal("a bad config exited 0")
	}
}

func TestConfigPrintsEffectiveValuesWithSecretsMasked(t *testing.T) {
	t.Setenv("NETSTRATA_CLICKHOUSE_PASSWORD", "hunter2")
	t.Setenv("NETSTRATA_KAFKA_BROKERS", "k1:9092,k2:9092")
	t.Setenv("NETSTRATA_API_TOKENS", "token-0123456789abcdef")
	t.Setenv("NETSTRATA_ALERTING_WEBHOOKS", "https://hooks.example.com/services/T0/B0/secret")
	var out, errb bytes.Buffer
	if code := run([]string{"config"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	// alerting.api.token is the API's first token here (same process).
	if strings.Contains(s, "hunter2") || strings.Contains(s, "token-0123456789abcdef") || strings.Contains(s, "secret") {
		t.Fatal("secret printed")
	}
	if !strings.Contains(s, "k1:9092") || !strings.Contains(s, "k2:9092") {
		t.Fatalf("env override not shown:\n%s", s)
	}
}
