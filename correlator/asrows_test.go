package correlator

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func TestExporterASWinsAndTheDatabaseNamesIt(t *testing.T) {
	dir := t.TempDir()
	asn := filepath.Join(dir, "asn.csv")
	cc := filepath.Join(dir, "cc.csv")
	if err := os.WriteFile(asn, []byte("8.8.8.0,8.8.8.255,15169,Google LLC\n9.9.9.0,9.9.9.255,19281,Quad9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cc, []byte("8.8.8.0,8.8.8.255,US\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := ipdb.Load(ipdb.Files{ASN: []string{asn}, Country: []string{cc}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	a := asCols{names: dstASColumns}
	ip := func(s string) [16]byte { return netip.MustParseAddr(s).As16() }
	a.add(db, ip("::ffff:8.8.8.8"), 0)     // the database's AS
	a.add(db, ip("::ffff:8.8.8.8"), 19281) // the exporter's, named by the database
	a.add(db, ip("::ffff:10.0.0.1"), 64500)
	a.add(nil, ip("::ffff:8.8.8.8"), 0) // not loaded yet
	a.add(db, [16]byte{}, 0)
	want := []struct {
		asn           uint32
		name, country string
	}{{15169, "Google LLC", "US"}, {19281, "Quad9", "US"}, {64500, "", ""}, {0, "", ""}, {0, "", ""}}
	for i, w := range want {
		if a.asn[i] != w.asn || a.name[i] != w.name || a.country[i] != w.country {
			t.Errorf("row %d: AS%d %q %q, want AS%d %q %q", i, a.asn[i], a.name[i], a.country[i], w.asn, w.name, w.country)
		}
	}
	if c := a.columns(); len(c) != 3 || c[0].name != "dst_as" || c[1].name != "dst_as_name" || c[2].name != "dst_country" {
		t.Errorf("columns %+v", c)
	}
}

// TestMissingIPDatabasesLeaveTheCorrelatorHealthy: without the databases
// flows are stored unenriched; /healthz says so in a note and stays ok.
func TestMissingIPDatabasesLeaveTheCorrelatorHealthy(t *testing.T) {
	cfg := defaultIPDBConfiguration()
	cfg.ASNFiles = []string{filepath.Join(t.TempDir(), "missing.csv")}
	cfg.CountryFiles = cfg.ASNFiles
	r := telemetry.NewReporter(slog.New(slog.DiscardHandler)).Component("correlator")
	e, err := newASEnricher(cfg, r.Registry)
	if err != nil {
		t.Fatal(err)
	}
	e.check(context.Background(), r)
	ok, checks := r.Health.Status()
	if !ok || checks["correlator/ipdb"] != "ok" {
		t.Fatalf("missing databases made the correlator unhealthy: %v", checks)
	}
	if note := r.Health.Notes()["correlator/ipdb"]; !strings.Contains(note, "not loaded") {
		t.Errorf("note %q does not say the databases are missing", note)
	}
}
