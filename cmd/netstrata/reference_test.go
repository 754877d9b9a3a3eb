package main

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var updateReference = flag.Bool("update-reference", false, "rewrite deploy/netstrata.reference.yaml")

const referencePath = "../../deploy/netstrata.reference.yaml"

const referenceHeader = `# netstrata configuration reference: every key with its default value.
# Generated from the configuration structs by
#   go test ./cmd/netstrata -run TestConfigurationReferenceIsCurrent -update-reference
# and kept in sync by that test. Any scalar can be overridden with
# NETSTRATA_<SECTION>_<KEY> (e.g. NETSTRATA_KAFKA_BROKERS=k1:9092,k2:9092).
# npm_agent.node defaults to $NODE_NAME, else the host name.
`

// The reference in deploy/ is what the README points operators at: it
// must list exactly the keys and defaults the binary has.
func TestConfigurationReferenceIsCurrent(t *testing.T) {
	t.Setenv("NODE_NAME", "worker-1")
	t.Setenv("NETSTRATA_DATA", "")
	var buf bytes.Buffer
	buf.WriteString(referenceHeader)
	if err := DefaultConfig().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if *updateReference {
		if err := os.WriteFile(referencePath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (generate it with -update-reference)", err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s is out of date: run go test ./cmd/netstrata -run TestConfigurationReferenceIsCurrent -update-reference", referencePath)
	}
	// And it loads: every key in it is a real key.
	cfg := DefaultConfig()
	cfg.runs = map[string]bool{}
	if err := cfg.Load(referencePath, nil); err != nil {
		t.Fatalf("reference does not load: %v", err)
	}
}
