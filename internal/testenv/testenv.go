// Package testenv lets tests that need a real peer (root, eBPF, snmpd,
// softflowd, the chDB engine, ...) skip where it is missing, and fail
// instead on machines that must run them (NETSTRATA_REQUIRE_PEERS=1, which
// `make test` and CI set).
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing peers fail tests instead of skipping.
func Required() bool { return os.Getenv("NETSTRATA_REQUIRE_PEERS") == "1" }

// Skip skips t with reason, or fails it when peers are required.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("required peer missing: %s (NETSTRATA_REQUIRE_PEERS=1)", reason)
	}
	t.Skip(reason)
}

// Root skips unless the test runs as root.
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root")
	}
}

// Command skips unless each named program is on PATH and returns the
// path of the first.
func Command(t testing.TB, names ...string) string {
	t.Helper()
	first := ""
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			Skip(t, n+" is not installed (scripts/test-deps.sh installs it)")
		}
		if first == "" {
			first = p
		}
	}
	return first
}
