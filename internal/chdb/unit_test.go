package chdb

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// Tests that need no engine.

func TestParseFormatInsert(t *testing.T) {
	for _, tc := range []struct {
		text, head, settings, format, data string
		ok                                 bool
	}{
		{text: "INSERT INTO t (a, b) FORMAT Native", head: "INSERT INTO t (a, b) ", format: "Native", ok: true},
		{text: "INSERT INTO t (a, b) FORMAT Native\n\x00\x01;\n", head: "INSERT INTO t (a, b) ", format: "Native", data: "\x00\x01;\n", ok: true},
		{text: "insert into db.t format TSV  \r\n1\tx\n", head: "insert into db.t ", format: "TSV", data: "1\tx\n", ok: true},
		{text: "INSERT INTO t FORMAT JSONEachRow {\"a\":1}", head: "INSERT INTO t ", format: "JSONEachRow", data: "{\"a\":1}", ok: true},
		{text: "INSERT INTO t (a) SETTINGS async_insert=1, x='FORMAT' FORMAT Native", head: "INSERT INTO t (a) ", settings: "SETTINGS async_insert=1, x='FORMAT' ", format: "Native", ok: true},
		{text: "/* FORMAT */ INSERT INTO `format` (`values`) -- VALUES\n FORMAT CSV\n1", head: "/* FORMAT */ INSERT INTO `format` (`values`) -- VALUES\n ", format: "CSV", data: "1", ok: true},
		{text: "INSERT INTO t VALUES (1), (2)"},
		{text: "INSERT INTO t SELECT * FROM u FORMAT Native"},
		{text: "INSERT INTO t FROM INFILE 'x' FORMAT Native"},
		{text: "SELECT 1 FORMAT Native"},
		{text: "INSERT INTO t (a, b)"},
		{text: ""},
	} {
		fi, ok := parseFormatInsert([]byte(tc.text))
		if ok != tc.ok {
			t.Errorf("%q: ok = %v, want %v", tc.text, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		data := tc.text[fi.dataStart:]
		if fi.head != tc.head || fi.settings != tc.settings || fi.format != tc.format || data != tc.data {
			t.Errorf("%q: got head %q settings %q format %q data %q", tc.text, fi.head, fi.settings, fi.format, data)
		}
	}
	fi, _ := parseFormatInsert([]byte("INSERT INTO t (a) SETTINGS x=1 FORMAT Native"))
	if got, want := fi.infileQuery("/tmp/it's"), `INSERT INTO t (a) FROM INFILE '/tmp/it\'s' SETTINGS x=1 FORMAT Native`; got != want {
		t.Errorf("infileQuery = %q, want %q", got, want)
	}
}

func TestMultiStatement(t *testing.T) {
	for text, want := range map[string]bool{
		"SELECT 1":                     false,
		"SELECT 1;":                    false,
		"SELECT 1; -- done\n":          false,
		"SELECT ';' AS x":              false,
		"SELECT 1; SELECT 2":           true,
		"INSERT INTO t VALUES ('a;b')": false,
		"SET a = 1;\nDROP TABLE t":     true,
	} {
		if got := multiStatement([]byte(text)); got != want {
			t.Errorf("multiStatement(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestFirstKeyword(t *testing.T) {
	for text, want := range map[string]string{
		"  -- c\n set a=1":     "SET",
		"/* x /* y */ */USE d": "USE",
		"(SELECT 1)":           "",
		"select 1":             "SELECT",
	} {
		if got := firstKeyword([]byte(text)); got != want {
			t.Errorf("firstKeyword(%q) = %q, want %q", text, got, want)
		}
	}
}

// The hello block must decode the way clickhouse-go decodes it: with its
// own protocol revision.
func TestHelloBlockDecodes(t *testing.T) {
	data := helloBlock("vm", "26.5.1.1", 0, "Etc/UTC")
	var block proto.Block
	r := chproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	if err := block.Decode(r, proto.DBMS_TCP_PROTOCOL_VERSION); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(block.ColumnsNames(), ","); got != "displayName(),version(),revision(),timezone()" {
		t.Fatalf("columns %s", got)
	}
	if block.Rows() != 1 {
		t.Fatalf("rows %d", block.Rows())
	}
	if v := block.Columns[1].Row(0, false); v != "26.5.1.1" {
		t.Errorf("version %v", v)
	}
	if v := block.Columns[2].Row(0, false); v != uint32(0) {
		t.Errorf("revision %v", v)
	}
	if !isHelloQuery([]byte("  SELECT displayName(), version(), revision(), timezone() ;\n")) {
		t.Error("hello query not recognised")
	}
}

func TestParseException(t *testing.T) {
	ex := parseException("Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)")
	if ex.Code != 60 || !strings.HasPrefix(ex.text(), "Code: 60. DB::Exception: Unknown table") {
		t.Errorf("got %d %q", ex.Code, ex.text())
	}
	ex = parseException("something broke")
	if ex.Code != codeUnknownException || ex.text() != "Code: 1002. DB::Exception: something broke" {
		t.Errorf("got %d %q", ex.Code, ex.text())
	}
	if got := unescapeTSV(`a\\'b\tc\n`); got != "a\\'b\tc\n" {
		t.Errorf("unescapeTSV = %q", got)
	}
}

func TestNewRejectsNonLoopback(t *testing.T) {
	if _, err := New(Configuration{Listen: "0.0.0.0:8123", DataDir: t.TempDir()}, nil); err == nil {
		t.Error("0.0.0.0 accepted")
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if _, err := New(Configuration{Listen: addr, DataDir: t.TempDir()}, nil); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestEnsureLibraryRejectsBadTarball(t *testing.T) {
	dir := t.TempDir()
	bogus := filepath.Join(dir, "bogus.tgz")
	if err := os.WriteFile(bogus, []byte("not the package"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTarball, bogus)
	cache := filepath.Join(dir, "cache")
	_, err := EnsureLibrary(context.Background(), cache)
	if err == nil || !strings.Contains(err.Error(), "integrity mismatch") {
		t.Fatalf("err = %v, want an integrity mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(cache, libraryFile)); !os.IsNotExist(err) {
		t.Errorf("library installed despite the mismatch: %v", err)
	}
}

func TestLibraryVerified(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, libraryFile)
	if err := os.WriteFile(lib, []byte("12345"), 0o755); err != nil {
		t.Fatal(err)
	}
	if libraryVerified(lib) {
		t.Error("verified without a stamp")
	}
	if err := os.WriteFile(lib+stampSuffix, []byte(libraryIntegrity+" 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !libraryVerified(lib) {
		t.Error("not verified with a matching stamp")
	}
	if err := os.WriteFile(lib, []byte("1234"), 0o755); err != nil {
		t.Fatal(err)
	}
	if libraryVerified(lib) {
		t.Error("verified with a truncated library")
	}
	if err := os.WriteFile(lib+stampSuffix, []byte("sha512-other 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if libraryVerified(lib) {
		t.Error("verified with another package's stamp")
	}
}
