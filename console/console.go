// Package console holds netstrata's web console, built from this folder
// by `npm ci && npm run build` (the Makefile's build and run targets) into
// dist/app and embedded in the binary. The build output is not
// committed: a binary built without it serves a page saying how to build
// it.
package console

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built console (index.html at its root), and false
// when the binary was built without it.
func Assets() (fs.FS, bool) {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(app, "index.html"); err != nil {
		return nil, false
	}
	return app, true
}
