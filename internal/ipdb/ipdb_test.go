package ipdb

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeCSV(t testing.TB, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ip16(s string) [16]byte { return netip.MustParseAddr(s).As16() }

func smallFiles(t testing.TB) Files {
	dir := t.TempDir()
	return Files{
		ASN: []string{
			writeCSV(t, dir, "asn4.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n10.0.0.0,10.0.0.255,0,Not routed\n9.9.9.0,9.9.9.255,19281,Quad9\n"),
			writeCSV(t, dir, "asn6.csv", "2001:4860::,2001:4860:4804:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n"),
		},
		Country: []string{writeCSV(t, dir, "cc.csv", "1.0.0.0,1.0.0.255,au\n2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,US\n")},
	}
}

func TestLookupFindsTheRangeOfEitherFamily(t *testing.T) {
	db, err := Load(smallFiles(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]Info{
		"1.0.0.0":                {13335, "Cloudflare, Inc.", "AU"},
		"1.0.0.255":              {13335, "Cloudflare, Inc.", "AU"},
		"::ffff:1.0.0.7":         {13335, "Cloudflare, Inc.", "AU"},
		"9.9.9.9":                {19281, "Quad9", ""},
		"1.0.1.0":                {},
		"0.0.0.0":                {},
		"10.0.0.1":               {}, // AS 0: not routed
		"2001:4860:4801::8888":   {15169, "Google LLC", "US"},
		"2001:4860:4805::1":      {0, "", "US"},
		"::":                     {},
		"ffff:ffff:ffff:ffff::1": {},
	} {
		if got := db.Lookup(ip16(addr)); got != want {
			t.Errorf("Lookup(%s) = %+v, want %+v", addr, got, want)
		}
	}
	if got := db.ASName(15169); got != "Google LLC" {
		t.Errorf("ASName(15169) = %q", got)
	}
	if s := db.Stats(); s.Ranges != 5 || s.ASNs != 3 {
		t.Errorf("stats = %+v, want 5 ranges and 3 named ASNs", s)
	}
	var none *DB
	if got := none.Lookup(ip16("1.0.0.1")); got != (Info{}) {
		t.Errorf("nil DB answered %+v", got)
	}
}

func TestLoadRefusesBadLinesAndTooManyRanges(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"mixed.csv":   "1.0.0.0,2001::,1,x\n",
		"reverse.csv": "1.0.0.9,1.0.0.0,1,x\n",
		"short.csv":   "1.0.0.0,1.0.0.9\n",
		"asn.csv":     "1.0.0.0,1.0.0.9,AS-x,x\n",
	} {
		_, err := Load(Files{ASN: []string{writeCSV(t, dir, name, text)}}, 0)
		if err == nil || !strings.Contains(err.Error(), name+": line 1") {
			t.Errorf("%s: err = %v, want one naming the file and line", name, err)
		}
	}
	_, err := Load(smallFiles(t), 3)
	if err == nil || !strings.Contains(err.Error(), "max_ranges") {
		t.Errorf("4+ ranges with max 3: err = %v", err)
	}
}

func TestOverlappingRangesKeepTheFirst(t *testing.T) {
	dir := t.TempDir()
	db, err := Load(Files{ASN: []string{writeCSV(t, dir, "a.csv", "1.0.0.0,1.0.0.255,1,a\n1.0.0.128,1.0.1.255,2,b\n1.0.2.0,1.0.2.0,3,c\n")}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]uint32{"1.0.0.200": 1, "1.0.1.5": 0, "1.0.2.0": 3} {
		if got := db.Lookup(ip16(addr)).ASN; got != want {
			t.Errorf("%s: AS%d, want AS%d", addr, got, want)
		}
	}
}

func TestReloaderPicksUpAChangedFile(t *testing.T) {
	dir := t.TempDir()
	f := writeCSV(t, dir, "a.csv", "1.0.0.0,1.0.0.255,1,one\n")
	r, err := NewReloader(Files{ASN: []string{f}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if reloaded, err := r.Check(); err != nil || reloaded {
		t.Fatalf("unchanged file: reloaded %v, %v", reloaded, err)
	}
	old := r.DB()
	writeCSV(t, dir, "a.csv", "1.0.0.0,1.0.0.255,2,two\n")
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	if reloaded, err := r.Check(); err != nil || !reloaded {
		t.Fatalf("changed file: reloaded %v, %v", reloaded, err)
	}
	if got := r.DB().Lookup(ip16("1.0.0.1")); got.ASN != 2 || got.ASName != "two" {
		t.Errorf("after reload: %+v", got)
	}
	if got := old.Lookup(ip16("1.0.0.1")); got.ASN != 1 {
		t.Errorf("the DB a reader held changed under it: %+v", got)
	}
	// A broken file keeps the last good DB.
	writeCSV(t, dir, "a.csv", "garbage\n")
	if _, err := r.Reload(); err == nil {
		t.Error("a broken file reloaded")
	}
	if got := r.DB().Lookup(ip16("1.0.0.1")); got.ASN != 2 {
		t.Errorf("after a failed reload: %+v", got)
	}
}
