package chdb

import (
	"os"
	"path/filepath"
	"time"

	"github.com/netstrata/netstrata/internal/npmpkg"
)

// Pinned engine package. Bumping the version means changing all three
// constants here and in scripts/fetch-chdb.sh.
const (
	// LibraryVersion is the version of the npm package @chdb/lib-linux-x64-gnu
	// that EnsureLibrary fetches.
	LibraryVersion = "26.5.3"
	// libraryPackage is the npm package that ships libchdb.so.
	libraryPackage = "@chdb/lib-linux-x64-gnu"
	// libraryIntegrity is the npm integrity string (sha512 of the tarball,
	// base64) of libraryPackage@LibraryVersion.
	libraryIntegrity = "sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ=="
)

// Environment variables this package reads.
const (
	// EnvLibrary names a libchdb.so to load instead of the cached one.
	EnvLibrary = "NETSTRATA_CHDB_LIB"
	// EnvCache is the cache root (default $HOME/.cache/netstrata).
	EnvCache = npmpkg.EnvCache
	// EnvData is the data root (default /var/lib/netstrata for root,
	// $HOME/.local/share/netstrata otherwise).
	EnvData = "NETSTRATA_DATA"
	// EnvTarball names a local copy of the npm tarball for offline
	// machines; it is verified against the pinned hash like a download.
	EnvTarball = "NETSTRATA_CHDB_TARBALL"
)

// Configuration of the embedded ClickHouse.
type Configuration struct {
	// Listen is the loopback address of the ClickHouse HTTP interface.
	// Port 0 picks a free port; Server.Addr reports it.
	Listen string `yaml:"listen"`
	// DataDir holds the databases; they persist across restarts.
	DataDir string `yaml:"data_dir"`
	// Library is the path of libchdb.so. Empty means $NETSTRATA_CHDB_LIB,
	// else the verified copy in the cache, fetched on first use
	// (see EnsureLibrary).
	Library string `yaml:"library"`
	// Every query of the read-only user (the API) runs within these,
	// whatever it asks for; the writer (the correlator) is not bounded.
	ReaderMaxMemoryUsage   uint64        `yaml:"reader_max_memory_usage"`
	ReaderMaxExecutionTime time.Duration `yaml:"reader_max_execution_time"`
	ReaderMaxResultRows    uint64        `yaml:"reader_max_result_rows"`
	// MergeNice is the nice value of the engine's merge threads
	// (ClickHouse's os_threads_nice_value_merge_mutate): 1..19 lowers
	// their priority below the INSERTs', the queries' and the rest of
	// the process's, so that background merges, which take about as much
	// CPU as the INSERTs themselves, use what is left instead of delaying
	// every batch (issue #19: the datagram-to-queryable p99 at 100k
	// flows/s on 2 loaded cores went from 3.0-5.2 s to 1.2-1.8 s). 0
	// takes the default, 10; -1 leaves them at the process's priority.
	MergeNice int `yaml:"merge_nice"`
}

// DefaultConfiguration returns the configuration for a laptop or CI:
// 127.0.0.1:8123, data under $NETSTRATA_DATA (or the per-user data
// directory), library from the cache.
func DefaultConfiguration() Configuration {
	return Configuration{
		Listen:                 "127.0.0.1:8123",
		DataDir:                filepath.Join(dataRoot(), "clickhouse"),
		ReaderMaxMemoryUsage:   2 << 30,
		ReaderMaxExecutionTime: time.Minute,
		ReaderMaxResultRows:    1_000_000,
		MergeNice:              10,
	}
}

func dataRoot() string {
	if d := os.Getenv(EnvData); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/netstrata"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "netstrata")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "netstrata")
	}
	return filepath.Join(os.TempDir(), "netstrata")
}

// DefaultCacheDir is where EnsureLibrary keeps libchdb.so:
// ${NETSTRATA_CACHE:-$HOME/.cache/netstrata}/chdb/<LibraryVersion>.
// scripts/fetch-chdb.sh uses the same directory.
func DefaultCacheDir() string {
	return filepath.Join(npmpkg.CacheRoot(), "chdb", LibraryVersion)
}
