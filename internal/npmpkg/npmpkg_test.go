package npmpkg

import (
	"crypto/sha512"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyAcceptsTheIntegrityAndRefusesAnyOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pkg.tgz")
	data := []byte("a tarball")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	good := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if err := Verify(path, good); err != nil {
		t.Fatalf("the right integrity: %v", err)
	}
	if err := Verify(path, "sha512-AAAA"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("a wrong integrity: %v", err)
	}
	if err := Verify(filepath.Join(t.TempDir(), "missing"), good); err == nil {
		t.Fatal("a missing file verified")
	}
}
