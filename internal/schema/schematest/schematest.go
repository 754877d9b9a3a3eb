// Package schematest gives tests one embedded ClickHouse (chDB) per test
// binary — the engine allows one instance per process — and a fresh
// database per test on it.
package schematest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/chdb"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/testenv"
)

var (
	mu      sync.Mutex
	srv     *chdb.Server
	dataDir string
	srvErr  error
	seq     atomic.Int64
)

// Main runs the tests of a package and stops the shared server after
// them: call it from TestMain as os.Exit(schematest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Cleanup()
	return code
}

// Stop stops the shared server (a later Server call starts a new one on
// the same data dir).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		_ = srv.Stop()
		srv = nil
	}
}

// Cleanup stops the server and removes its data dir.
func Cleanup() {
	Stop()
	mu.Lock()
	defer mu.Unlock()
	if dataDir != "" {
		_ = os.RemoveAll(dataDir)
		dataDir = ""
	}
}

// Restart stops the shared server, runs down (while the database is
// away), then starts a new engine on the same data dir and address, so
// that clients configured with the old address reconnect.
func Restart(tb testing.TB, down func()) {
	tb.Helper()
	s := Server(tb)
	addr := s.Addr()
	mu.Lock()
	if err := s.Stop(); err != nil {
		tb.Errorf("stop embedded ClickHouse: %v", err)
	}
	srv = nil
	mu.Unlock()
	down()
	mu.Lock()
	defer mu.Unlock()
	n, err := chdb.New(engineConfiguration(addr, os.Getenv(chdb.EnvLibrary)), testLogger())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		tb.Fatalf("restart embedded ClickHouse on %s: %v", addr, err)
	}
	srv = n
}

// Server returns the shared server, starting it on first use. It skips tb
// (or fails it under NETSTRATA_REQUIRE_PEERS=1) when libchdb.so cannot be
// obtained.
func Server(tb testing.TB) *chdb.Server {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		return srv
	}
	if srvErr != nil {
		testenv.Skip(tb, srvErr.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	lib := os.Getenv(chdb.EnvLibrary)
	if lib == "" {
		var err error
		if lib, err = chdb.EnsureLibrary(ctx, ""); err != nil {
			srvErr = fmt.Errorf("embedded ClickHouse: libchdb.so unavailable: %w", err)
			testenv.Skip(tb, srvErr.Error())
		}
	}
	if dataDir == "" {
		d, err := os.MkdirTemp("", "netstrata-chdb-test-")
		if err != nil {
			tb.Fatal(err)
		}
		dataDir = d
	}
	s, err := chdb.New(engineConfiguration("127.0.0.1:0", lib), testLogger())
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		srvErr = fmt.Errorf("embedded ClickHouse: start: %w", err)
		tb.Fatal(srvErr)
	}
	srv = s
	return srv
}

// testLogger shows the engine's warnings, or everything with
// NETSTRATA_CHDB_DEBUG set.
func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("NETSTRATA_CHDB_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Writer is the store configuration of the server's writer (what the
// correlator and the migrations use).
func Writer(s *chdb.Server) store.Configuration {
	cfg := store.DefaultConfiguration()
	cfg.Addresses = []string{s.Addr()}
	w := s.Credentials().Writer
	cfg.Username, cfg.Password = w.User, w.Password
	return cfg
}

// Reader is cfg (of the same server) as its read-only user, the API's.
func Reader(tb testing.TB, cfg store.Configuration) store.Configuration {
	r := Server(tb).Credentials().Reader
	cfg.Username, cfg.Password = r.User, r.Password
	return cfg
}

// Database creates a fresh database on the shared server and returns the
// store configuration pointing at it; it is dropped when tb ends.
func Database(tb testing.TB) store.Configuration {
	tb.Helper()
	s := Server(tb)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, tb.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	cfg := Writer(s)
	cfg.Database = fmt.Sprintf("t%d_%d_%s", os.Getpid(), seq.Add(1), name)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := store.Open(ctx, cfg)
		if err != nil {
			return
		}
		defer conn.Close()
		// Not SYNC: that waits for the engine to release every table.
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database)
	})
	return cfg
}

// Open connects to a fresh database with the netstrata schema applied.
func Open(tb testing.TB, o schema.Options) (driver.Conn, store.Configuration) {
	tb.Helper()
	cfg := Database(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := schema.Ensure(ctx, conn, o); err != nil {
		tb.Fatal(err)
	}
	return conn, cfg
}

// EnvMergeNice, when set, is the engine's merge_nice for the test binary
// (benchmarks compare settings with it; see chdb.Configuration.MergeNice).
const EnvMergeNice = "NETSTRATA_TEST_MERGE_NICE"

// engineConfiguration is the shared engine's configuration (dataDir set).
func engineConfiguration(listen, lib string) chdb.Configuration {
	cfg := chdb.Configuration{Listen: listen, DataDir: dataDir, Library: lib}
	if v := os.Getenv(EnvMergeNice); v != "" {
		if _, err := fmt.Sscan(v, &cfg.MergeNice); err != nil {
			panic(fmt.Sprintf("%s=%q: %v", EnvMergeNice, v, err))
		}
	}
	return cfg
}
