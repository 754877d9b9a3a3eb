package chdb

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/netstrata/netstrata/internal/npmpkg"
)

const (
	libraryFile = "libchdb.so"
	// stampSuffix names the file beside the library that records the
	// integrity of the tarball it came from and its size, so a later run
	// can trust it without hashing 560 MB again.
	stampSuffix = ".integrity"
)

// EnsureLibrary returns the path of a verified libchdb.so in cacheDir
// (DefaultCacheDir when empty), fetching it first if needed: `npm pack` of
// the pinned @chdb/lib-linux-x64-gnu (or the tarball named by
// $NETSTRATA_CHDB_TARBALL), a check of the tarball's sha512 against the
// pinned npm integrity, and extraction. It is what scripts/fetch-chdb.sh
// does, with the same cache layout, and it is safe to call from several
// processes at once (the cache is locked while it is filled).
//
// The package only exists for Linux x86-64 (glibc); elsewhere, point
// Configuration.Library or $NETSTRATA_CHDB_LIB at a libchdb for the platform.
func EnsureLibrary(ctx context.Context, cacheDir string) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("chdb: %s is only published for linux/amd64, not %s/%s: set %s to a libchdb built for this platform",
			libraryPackage, runtime.GOOS, runtime.GOARCH, EnvLibrary)
	}
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	lib := filepath.Join(cacheDir, libraryFile)
	if libraryVerified(lib) {
		return lib, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("chdb: create library cache: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cacheDir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("chdb: lock library cache %s: %w", cacheDir, err)
	}
	defer unlock()
	// Another process may have filled the cache while we waited.
	if libraryVerified(lib) {
		return lib, nil
	}

	work, err := os.MkdirTemp(cacheDir, ".fetch.")
	if err != nil {
		return "", fmt.Errorf("chdb: %w", err)
	}
	defer os.RemoveAll(work)

	tarball := os.Getenv(EnvTarball)
	if tarball == "" {
		if tarball, err = npmpkg.Pack(ctx, work, libraryPackage, LibraryVersion); err != nil {
			return "", fmt.Errorf("chdb: %w (or set %s or %s)", err, EnvLibrary, EnvTarball)
		}
	}
	if err := npmpkg.Verify(tarball, libraryIntegrity); err != nil {
		return "", fmt.Errorf("chdb: %w", err)
	}
	size, err := extractLibrary(tarball, work)
	if err != nil {
		return "", err
	}
	// The library is renamed into place before the stamp is written, so an
	// interrupted run leaves no stamp and is redone.
	if err := os.Rename(filepath.Join(work, libraryFile), lib); err != nil {
		return "", fmt.Errorf("chdb: install library: %w", err)
	}
	stamp := fmt.Sprintf("%s %d\n", libraryIntegrity, size)
	if err := os.WriteFile(lib+stampSuffix+".tmp", []byte(stamp), 0o644); err != nil {
		return "", fmt.Errorf("chdb: write library stamp: %w", err)
	}
	if err := os.Rename(lib+stampSuffix+".tmp", lib+stampSuffix); err != nil {
		return "", fmt.Errorf("chdb: write library stamp: %w", err)
	}
	return lib, nil
}

// libraryVerified reports whether lib was extracted from the pinned tarball
// and has not been truncated or replaced since.
func libraryVerified(lib string) bool {
	stamp, err := os.ReadFile(lib + stampSuffix)
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stamp))
	if len(fields) != 2 || fields[0] != libraryIntegrity {
		return false
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return false
	}
	fi, err := os.Stat(lib)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// extractLibrary writes package/libchdb.so of the tarball into dir and
// returns its size.
func extractLibrary(tarball, dir string) (int64, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return 0, fmt.Errorf("chdb: open tarball: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("chdb: read tarball %s: %w", tarball, err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("chdb: %s has no package/%s", tarball, libraryFile)
		}
		if err != nil {
			return 0, fmt.Errorf("chdb: read tarball %s: %w", tarball, err)
		}
		if hdr.Name != "package/"+libraryFile || hdr.Typeflag != tar.TypeReg {
			continue
		}
		n, err := npmpkg.WriteFile(filepath.Join(dir, libraryFile), tr, 0o755)
		if err != nil {
			return 0, fmt.Errorf("chdb: extract library: %w", err)
		}
		if n != hdr.Size {
			return 0, fmt.Errorf("chdb: extract library: wrote %d of %d bytes", n, hdr.Size)
		}
		return n, nil
	}
}
