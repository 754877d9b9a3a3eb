// Package alertingtest runs a real Alertmanager for tests, with a
// webhook receiver the test serves, and records what it is notified.
package alertingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
)

// Notification is what Alertmanager's webhook receiver is sent.
type Notification struct {
	Status string  `json:"status"`
	Alerts []Alert `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alertmanager is a running prometheus-alertmanager on loopback whose
// only receiver is a webhook served by the test.
type Alertmanager struct {
	URL  string
	Log  *testenv.LogBuffer
	mu   sync.Mutex
	seen []Notification
}

// StartAlertmanager runs Alertmanager (Debian's prometheus-alertmanager)
// in a temporary directory, one alert per group (group_by ['...']), a
// group flushed every second and never repeated within the test; it is
// stopped when tb ends. It skips tb when the program is absent.
func StartAlertmanager(tb testing.TB) *Alertmanager {
	tb.Helper()
	bin := lookAlertmanager(tb)
	am := &Alertmanager{Log: &testenv.LogBuffer{}}
	hook := httptest.NewServer(http.HandlerFunc(am.receive))
	tb.Cleanup(hook.Close)
	dir := tb.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: test
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: test
    webhook_configs:
      - url: %s/hook
        send_resolved: true
`, hook.URL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	addr := freeAddr(tb)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=info")
	cmd.Stdout, cmd.Stderr = am.Log, am.Log
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start alertmanager: %v", err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if tb.Failed() {
			tb.Logf("alertmanager log:\n%s", am.Log.String())
		}
	})
	am.URL = "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(am.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("alertmanager not ready on %s:\n%s", addr, am.Log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func lookAlertmanager(tb testing.TB) string {
	for _, n := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	testenv.Skip(tb, "prometheus-alertmanager is not installed (scripts/test-deps.sh installs it)")
	return ""
}

func (am *Alertmanager) receive(w http.ResponseWriter, r *http.Request) {
	var n Notification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	am.mu.Lock()
	am.seen = append(am.seen, n)
	am.mu.Unlock()
}

// Notifications are what the receiver got so far.
func (am *Alertmanager) Notifications() []Notification {
	am.mu.Lock()
	defer am.mu.Unlock()
	return append([]Notification(nil), am.seen...)
}

// Alerts are the notified alerts whose labels include match, with status
// ("firing" or "resolved").
func (am *Alertmanager) Alerts(status string, match map[string]string) []Alert {
	var out []Alert
	for _, n := range am.Notifications() {
		for _, a := range n.Alerts {
			if a.Status == status && matches(a.Labels, match) {
				out = append(out, a)
			}
		}
	}
	return out
}

// WaitAlert waits until an alert of status matching match was notified.
func (am *Alertmanager) WaitAlert(ctx context.Context, status string, match map[string]string) (Alert, error) {
	for {
		if as := am.Alerts(status, match); len(as) > 0 {
			return as[0], nil
		}
		select {
		case <-ctx.Done():
			return Alert{}, fmt.Errorf("no %s alert %v notified: %w", status, match, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// freeAddr is a loopback address with a port free right now.
func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
