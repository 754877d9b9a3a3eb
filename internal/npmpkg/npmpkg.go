// Package npmpkg fetches pinned npm packages with the machine's own npm
// client (its registry, proxy and cache settings apply) and verifies them
// against their integrity strings: how netstrata gets what it must never
// commit, the chDB engine and the IP databases.
package npmpkg

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Pack downloads name@version's tarball into dir and returns its path. A
// missing npm client is an error wrapping exec.ErrNotFound, so that
// callers can say what else would do.
func Pack(ctx context.Context, dir, name, version string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is needed to fetch %s@%s: %w", name, version, err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", name+"@"+version)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w: %s", name, version, err, strings.TrimSpace(lastBytes(stderr.String(), 2000)))
	}
	// npm prints the tarball's name last.
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return "", fmt.Errorf("npm pack %s@%s named no tarball", name, version)
	}
	tarball := filepath.Join(dir, filepath.Base(out))
	if _, err := os.Stat(tarball); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w", name, version, err)
	}
	return tarball, nil
}

// Verify checks a file against an npm integrity string ("sha512-" and the
// base64 of the digest).
func Verify(path, integrity string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	if got := "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil)); got != integrity {
		return fmt.Errorf("integrity mismatch for %s: want %s, got %s; refusing to use it", path, integrity, got)
	}
	return nil
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// EnvCache names the cache root of fetched packages.
const EnvCache = "NETSTRATA_CACHE"

// CacheRoot is ${NETSTRATA_CACHE:-$HOME/.cache/netstrata}; each user of
// this package keeps its packages in a directory of its own below it.
func CacheRoot() string {
	if root := os.Getenv(EnvCache); root != "" {
		return root
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "netstrata")
	}
	return filepath.Join(os.TempDir(), "netstrata-cache")
}

// WriteFile copies r into a new file at path with mode and syncs it, so
// that a stamp written after it never vouches for a torn file.
func WriteFile(path string, r io.Reader, mode os.FileMode) (int64, error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, r)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}
