package console

import (
	"io/fs"
	"testing"
)

// A tree without a build compiles and says so; a built one serves its
// index and the assets it links.
func TestAssetsAreTheBuildOrNothing(t *testing.T) {
	app, ok := Assets()
	if !ok {
		if _, err := fs.Stat(dist, "dist/README.md"); err != nil {
			t.Fatalf("placeholder missing: %v", err)
		}
		t.Skip("console not built (npm ci && npm run build in console/)")
	}
	index, err := fs.ReadFile(app, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(app, "assets")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no assets beside index.html: %v", err)
	}
	if len(index) == 0 {
		t.Fatal("empty index.html")
	}
}
