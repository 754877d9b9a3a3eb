package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/netstrata/netstrata/internal/chdb"
)

// TestComponentsOfASplitStandaloneUseTheEngineUsers: a correlator or an
// API process pointed at the embedded ClickHouse another process runs
// (same configuration) takes that engine's writer or reader from its data
// dir; a configured password, or another server, is left alone.
func TestComponentsOfASplitStandaloneUseTheEngineUsers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.runs = componentsRun("correlator", "")
	cfg.DataDir = t.TempDir()
	if err := cfg.Load("", nil); err != nil {
		t.Fatal(err)
	}
	creds := chdb.Credentials{Writer: chdb.Credential{User: chdb.WriterUser, Password: "w-secret"},
		Reader: chdb.Credential{User: chdb.ReaderUser, Password: "r-secret"}}
	b, _ := json.Marshal(creds)
	if err := os.MkdirAll(cfg.Embedded.ClickHouse.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Embedded.ClickHouse.DataDir, chdb.CredentialsFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.ClickHouse.Addresses = []string{cfg.Embedded.ClickHouse.Listen}
	if st := cfg.correlatorStore(); st.Username != chdb.WriterUser || st.Password != "w-secret" {
		t.Errorf("correlator: %s/%s", st.Username, st.Password)
	}
	if st := cfg.apiStore(); st.Username != chdb.ReaderUser || st.Password != "r-secret" {
		t.Errorf("api: %s/%s", st.Username, st.Password)
	}
	cfg.ClickHouse.Password = "mine"
	if st := cfg.apiStore(); st.Password != "mine" {
		t.Errorf("a configured password was replaced: %s", st.Password)
	}
	cfg.ClickHouse.Password = ""
	cfg.ClickHouse.Addresses = []string{"clickhouse.example:8123"}
	if st := cfg.correlatorStore(); st.Password != "" {
		t.Errorf("another server got the embedded engine's password")
	}
}
