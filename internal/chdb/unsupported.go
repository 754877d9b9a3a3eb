//go:build !(linux || darwin)

package chdb

import (
	"context"
	"fmt"
	"runtime"
)

// The engine is loaded with dlopen, which this package only does on Linux
// and macOS; elsewhere the package builds and Start fails.

func dlopenLibrary(path string) (*api, error) {
	return nil, fmt.Errorf("chdb: loading %s is not supported on %s", path, runtime.GOOS)
}

func lockFile(ctx context.Context, path string) (func(), error) {
	return nil, fmt.Errorf("chdb: file locks are not supported on %s", runtime.GOOS)
}

func checkDataDirFree(dataDir string) error { return nil }
