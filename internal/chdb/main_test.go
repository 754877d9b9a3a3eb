package chdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The tests run against the real engine. TestMain obtains libchdb.so
// ($NETSTRATA_CHDB_LIB, else the cache, else npm pack). Without it the
// engine tests skip, unless NETSTRATA_REQUIRE_CHDB is set: then the run
// fails, so CI cannot pass by skipping.
//
// chDB runs one engine per process, so no engine test is parallel; each
// starts its own Server on its own data dir and stops it when done.

var (
	testLib       string
	testLibErr    error
	requireEngine = os.Getenv("NETSTRATA_REQUIRE_CHDB") != "" || os.Getenv("NETSTRATA_REQUIRE_PEERS") == "1"
)

func TestMain(m *testing.M) {
	testLib = os.Getenv(EnvLibrary)
	if testLib == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		testLib, testLibErr = EnsureLibrary(ctx, "")
		cancel()
	} else if _, err := os.Stat(testLib); err != nil {
		testLibErr = err
	}
	if testLibErr != nil && requireEngine {
		fmt.Fprintf(os.Stderr, "NETSTRATA_REQUIRE_CHDB is set but libchdb.so cannot be obtained: %v\n", testLibErr)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// needEngine skips tb when the library is unavailable (and not required).
func needEngine(tb testing.TB) {
	tb.Helper()
	if testLibErr != nil {
		tb.Skipf("libchdb.so unavailable (set NETSTRATA_REQUIRE_CHDB=1 to fail instead): %v", testLibErr)
	}
}

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("NETSTRATA_CHDB_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// startServer starts a Server on a random loopback port; it stops when the
// test ends (stopping twice is fine).
func startServer(tb testing.TB, dataDir string) *Server {
	tb.Helper()
	needEngine(tb)
	srv, err := New(Configuration{Listen: "127.0.0.1:0", DataDir: dataDir, Library: testLib}, testLogger())
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
	return srv
}

// openCH connects clickhouse-go over HTTP as the writer, as
// internal/store does.
func openCH(tb testing.TB, srv *Server, tweak ...func(*clickhouse.Options)) driver.Conn {
	tb.Helper()
	w := srv.Credentials().Writer
	opts := &clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{srv.Addr()},
		DialTimeout: 10 * time.Second,
		Auth:        clickhouse.Auth{Username: w.User, Password: w.Password},
	}
	for _, f := range tweak {
		f(opts)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	if err := conn.Ping(context.Background()); err != nil {
		tb.Fatalf("ping: %v", err)
	}
	return conn
}

func mustExec(tb testing.TB, conn driver.Conn, ctx context.Context, query string, args ...any) {
	tb.Helper()
	if err := conn.Exec(ctx, query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// authed adds the writer's credentials to a URL of srv, as curl users do.
func authed(srv *Server, u string) string {
	w := srv.Credentials().Writer
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "user=" + w.User + "&password=" + w.Password
}
