package testenv

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BrowserScript runs one of the console's browser scripts (console/e2e,
// Node.js with playwright-core driving the system's Chromium) in dir
// with its facts as JSON in NETSTRATA_E2E, logs what it printed, fails
// the test when it fails and returns its output.
func BrowserScript(t testing.TB, dir, script string, facts any) []byte {
	t.Helper()
	env, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NETSTRATA_E2E="+string(env))
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("browser script %s: %v", script, err)
	}
	return out
}
