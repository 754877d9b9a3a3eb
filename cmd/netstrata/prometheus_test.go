package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/cmd/netstrata/demo"
	"github.com/netstrata/netstrata/internal/testenv"
)

const prometheusDir = "../../deploy/prometheus"

// The shipped rules load, and their unit tests pass, in Debian's promtool.
func TestPrometheusRulesCheckAndPassTheirUnitTests(t *testing.T) {
	promtool := testenv.Command(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "rules/netstrata.rules.yml"},
		{"test", "rules", "rules/netstrata.test.yml"},
		// kubernetes.yml is not checked: Debian's build has no Kubernetes
		// service discovery.
		{"check", "config", "prometheus.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = prometheusDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPrometheusScrapesStandaloneWithTheShippedConfig runs standalone and
// a real Prometheus with deploy/prometheus/prometheus.yml (its target
// moved to the test's port): the target is up, netstrata's metrics are
// there, and every shipped rule loads and evaluates without error.
func TestPrometheusScrapesStandaloneWithTheShippedConfig(t *testing.T) {
	prom := testenv.Command(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBinary(t)
	ports, err := demo.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := demo.Settings{DataDir: filepath.Join(dir, "var"), Ports: ports, Node: "worker-1", AgentInterval: 5 * time.Second, Group: "prom"}
	cfgPath := filepath.Join(dir, "netstrata.yaml")
	if err := s.WriteConfig(cfgPath); err != nil {
		t.Fatal(err)
	}
	sa, err := demo.StartNetstrata("standalone", bin, cfgPath, nil, "standalone", "--only", "kafka,clickhouse,correlator,api,alerting")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sa.Stop(30 * time.Second); err != nil || t.Failed() {
			t.Logf("standalone (stop: %v):\n%s", err, tailLines(sa.Output(), 30))
		}
	})
	if err := demo.WaitHealthy(ctx, fmt.Sprintf("127.0.0.1:%d", ports.Alerting)); err != nil {
		t.Fatalf("standalone: %v\n%s", err, tailLines(sa.Output(), 30))
	}

	// The shipped configuration, pointed at this standalone.
	shipped, err := os.ReadFile(filepath.Join(prometheusDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(shipped), "targets: [127.0.0.1:9104]", fmt.Sprintf("targets: [127.0.0.1:%d]", ports.Correlator), 1)
	conf = strings.Replace(conf, "scrape_interval: 15s", "scrape_interval: 1s", 1)
	conf = strings.Replace(conf, "evaluation_interval: 15s", "evaluation_interval: 1s", 1)
	if !strings.Contains(conf, fmt.Sprint(ports.Correlator)) {
		t.Fatal("the shipped prometheus.yml no longer has the target this test moves")
	}
	if err := os.CopyFS(filepath.Join(dir, "prom"), os.DirFS(prometheusDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prom", "prometheus.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr, err := freeTCP()
	if err != nil {
		t.Fatal(err)
	}
	log := &testenv.LogBuffer{}
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prom", "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus:\n%s", tailLines(log.String(), 30))
		}
	})
	base := "http://" + promAddr
	// The target is up and netstrata's own series are scraped: alerting
	// is active in this single process.
	waitQuery(ctx, t, base, `up{job="netstrata"}`, "1")
	waitQuery(ctx, t, base, `sum(netstrata_alerting_active)`, "1")
	// Every rule loaded and has been evaluated without error.
	deadline := time.Now().Add(time.Minute)
	for {
		var rules struct {
			Data struct {
				Groups []struct {
					Name  string `json:"name"`
					Rules []struct {
						Name, Health, LastError string
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		getJSON(t, base+"/api/v1/rules", &rules)
		var n, ok int
		var bad []string
		for _, g := range rules.Data.Groups {
			for _, r := range g.Rules {
				n++
				if r.Health == "ok" {
					ok++
				} else if r.LastError != "" {
					bad = append(bad, r.Name+": "+r.LastError)
				}
			}
		}
		if len(bad) > 0 {
			t.Fatalf("rules failing: %v", bad)
		}
		if len(rules.Data.Groups) == 2 && n > 0 && ok == n {
			t.Logf("%d rules in %d groups loaded and evaluated", n, len(rules.Data.Groups))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rules: %d groups, %d of %d rules healthy", len(rules.Data.Groups), ok, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitQuery waits until the instant query returns one sample of value want.
func waitQuery(ctx context.Context, t *testing.T, base, query, want string) {
	t.Helper()
	var last string
	for {
		var resp struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if getJSON(t, base+"/api/v1/query?query="+url.QueryEscape(query), &resp) {
			if r := resp.Data.Result; len(r) == 1 && len(r[0].Value) == 2 {
				last = fmt.Sprint(r[0].Value[1])
				if last == want {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %q, want %s", query, last, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freeTCP is a loopback address whose port is free right now.
func freeTCP() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// getJSON decodes a GET's answer; false when it failed (not ready yet).
func getJSON(t *testing.T, u string, out any) bool {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(out) == nil
}
