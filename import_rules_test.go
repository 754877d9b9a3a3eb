package netstrata_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/netstrata/netstrata/"

// shared are the packages of a component that others may import: the
// API's JSON shapes and its client (used by the CLI, the demo and the
// alerting), and the console's embedded build (files only, which the API
// serves). They import no server code, so importing them pulls in no
// component.
var shared = map[string]bool{"api/apiv1": true, "api/client": true, "console": true}

// notComponents are the top-level folders that are not components.
var notComponents = map[string]bool{"cmd": true, "internal": true, "bpf": true, "deploy": true, "scripts": true, "docs": true}

// TestNoComponentImportsAnother checks docs/architecture.md's import
// rules on every Go file, tests included: a component imports no other
// component (only the shared subpackages above), and internal/ and bpf/
// import no component at all. cmd/ wires everything and may import all.
func TestNoComponentImportsAnother(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		from := owner(filepath.ToSlash(path))
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			rel, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if why := forbidden(from, rel); why != "" {
				t.Errorf("%s imports %s: %s", path, imp, why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// owner is the top-level folder of a file ("" for the module root).
func owner(path string) string {
	top, _, found := strings.Cut(path, "/")
	if !found {
		return ""
	}
	return top
}

// forbidden says why a file under the top-level folder from may not
// import the module's package rel, or "" when it may.
func forbidden(from, rel string) string {
	to := owner(rel + "/")
	switch {
	case notComponents[to] || to == from || from == "cmd" || from == "":
		return ""
	case from == "internal" || from == "bpf":
		return "shared code imports no component"
	case shared[rel] || notComponents[from]:
		return ""
	}
	return "a component imports no other component (only its shared subpackages: api/apiv1, api/client)"
}

func TestImportRulesForbidWhatTheArchitectureForbids(t *testing.T) {
	for _, c := range []struct {
		from, rel string
		ok        bool
	}{
		{"correlator", "internal/schema", true},
		{"alerting", "api/client", true},
		{"alerting", "api/apiv1", true},
		{"api", "api/apiv1", true},
		{"api", "api/query", true},
		{"alerting", "api/query", false},
		{"api", "api/investigation", true},
		{"alerting", "api/investigation", false},
		{"cmd", "flow-collector", true},
		{"alerting", "api", false},
		{"correlator", "flow-collector/decoder", false},
		{"internal", "api/client", false},
		{"internal", "correlator", false},
		{"bpf", "npm-agent", false},
	} {
		if got := forbidden(c.from, c.rel) == ""; got != c.ok {
			t.Errorf("%s importing %s: allowed %v, want %v", c.from, c.rel, got, c.ok)
		}
	}
}
