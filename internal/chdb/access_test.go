package chdb

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/internal/testenv"
)

func TestGuardRefusesWhatReachesOutsideTheDatabase(t *testing.T) {
	for _, tc := range []struct {
		role, stmt string
		code       int // 0: allowed
	}{
		{RoleWriter, "SELECT * FROM file('/etc/shadow', 'LineAsString')", codeAccessDenied},
		{RoleWriter, "SELECT file('/proc/self/environ')", codeAccessDenied},
		{RoleWriter, "select * from `file` ('/etc/passwd')", codeAccessDenied},
		{RoleWriter, "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')", codeAccessDenied},
		{RoleWriter, "SELECT * FROM remote('127.0.0.1', system.one)", codeAccessDenied},
		{RoleWriter, "SELECT * FROM executable('id', TSV, 'x String')", codeAccessDenied},
		{RoleWriter, "SELECT 1 INTO OUTFILE '/root/x'", codeAccessDenied},
		{RoleWriter, "INSERT INTO t FROM INFILE '/etc/shadow' FORMAT LineAsString", codeAccessDenied},
		{RoleWriter, "INSERT INTO FUNCTION file('/tmp/x', TSV) SELECT 1", codeAccessDenied},
		{RoleWriter, "CREATE TABLE x (a String) ENGINE = File(TSV, '/etc/shadow')", codeAccessDenied},
		{RoleWriter, "CREATE DICTIONARY d (a UInt8) PRIMARY KEY a SOURCE(EXECUTABLE(COMMAND 'id' FORMAT TSV)) LAYOUT(FLAT()) LIFETIME(0)", codeAccessDenied},
		{RoleWriter, "SYSTEM SHUTDOWN", codeAccessDenied},
		{RoleWriter, "BACKUP TABLE t TO Disk('default', 'x')", codeAccessDenied},
		{RoleWriter, "CREATE TABLE flows (a UInt8, file String) ENGINE = MergeTree ORDER BY a", 0},
		{RoleWriter, "SELECT 'file(' AS s, \"url\" FROM t -- file(", 0},
		{RoleWriter, "INSERT INTO t FORMAT Native", 0},
		{RoleWriter, "DROP TABLE t", 0},
		{RoleWriter, "SELECT 1; SELECT * FROM file('/etc/shadow')", codeAccessDenied},
		{RoleReader, "SELECT count() FROM flows", 0},
		{RoleReader, "WITH 1 AS x SELECT x", 0},
		{RoleReader, "DROP TABLE flows", codeReadonly},
		{RoleReader, "INSERT INTO flows VALUES (1)", codeReadonly},
		{RoleReader, "CREATE TABLE x (a UInt8) ENGINE = Memory", codeReadonly},
		{RoleReader, "SELECT * FROM file('/etc/shadow')", codeAccessDenied},
	} {
		err := guard(tc.role, []byte(tc.stmt))
		code := 0
		if ex, ok := err.(*exception); ok {
			code = ex.Code
		} else if err != nil {
			t.Fatalf("%s %q: %v", tc.role, tc.stmt, err)
		}
		if code != tc.code {
			t.Errorf("%s %q: code %d (%v), want %d", tc.role, tc.stmt, code, err, tc.code)
		}
	}
}

func TestCredentialsAreGeneratedPrivateAndKept(t *testing.T) {
	dir := t.TempDir()
	c, err := loadOrCreateCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, CredentialsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st.Mode(), err)
	}
	again, err := loadOrCreateCredentials(dir)
	if err != nil || again != c || c.Writer.Password == c.Reader.Password || len(c.Writer.Password) < 32 {
		t.Fatalf("second start: %+v %v (first %+v)", again, err, c)
	}
	if err := os.Chmod(filepath.Join(dir, CredentialsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateCredentials(dir); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a world-readable file was accepted: %v", err)
	}
}

// query posts stmt with the given headers and returns the status and body.
func query(t *testing.T, srv *Server, stmt string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+srv.Addr()+"/", strings.NewReader(stmt))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerRefusesWithoutCredentialsFromPagesAndForOtherHosts(t *testing.T) {
	srv := startServer(t, t.TempDir())
	w, r := srv.Credentials().Writer, srv.Credentials().Reader
	writer := map[string]string{"X-ClickHouse-User": w.User, "X-ClickHouse-Key": w.Password}
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"no credentials", nil, 401},
		{"wrong password", map[string]string{"X-ClickHouse-User": w.User, "X-ClickHouse-Key": "guess"}, 401},
		{"reader password for the writer", map[string]string{"X-ClickHouse-User": w.User, "X-ClickHouse-Key": r.Password}, 401},
		{"a web page", map[string]string{"X-ClickHouse-User": w.User, "X-ClickHouse-Key": w.Password, "Origin": "http://evil.example"}, 403},
		{"DNS rebinding", map[string]string{"X-ClickHouse-User": w.User, "X-ClickHouse-Key": w.Password, "Host": "evil.example:8123"}, 403},
		{"writer", writer, 200},
	} {
		if code, body := query(t, srv, "SELECT 1", tc.header); code != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.status)
		}
	}
	if srv.Refusals() != 5 {
		t.Errorf("refusals = %d, want 5", srv.Refusals())
	}
	for _, stmt := range []string{"SELECT * FROM file('/etc/hostname', 'LineAsString')", "SELECT 1 INTO OUTFILE 'x.tsv'"} {
		if code, body := query(t, srv, stmt, writer); code != 403 || !strings.Contains(body, "Code: 497") {
			t.Errorf("writer %q: %d %q", stmt, code, body)
		}
	}
}

func TestReaderIsReadOnlyAndBoundedWhateverItAsks(t *testing.T) {
	srv := startServer(t, t.TempDir())
	setup := openCH(t, srv)
	ctx := context.Background()
	if err := setup.Exec(ctx, "CREATE TABLE n (a UInt64) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	if err := setup.Exec(ctx, "INSERT INTO n SELECT number FROM numbers(2000000)"); err != nil {
		t.Fatal(err)
	}
	rd := srv.Credentials().Reader
	reader := openCH(t, srv, func(o *clickhouse.Options) {
		o.Auth.Username, o.Auth.Password = rd.User, rd.Password
		o.Settings = clickhouse.Settings{"max_result_rows": 0} // asks for no limit
	})
	var n uint64
	if err := reader.QueryRow(ctx, "SELECT count() FROM n").Scan(&n); err != nil || n != 2000000 {
		t.Fatalf("reader count: %d %v", n, err)
	}
	var threads uint64
	want := max(runtime.NumCPU()/2/cap(srv.readerSlots), 1) // half the cores over the slots, one at least
	if err := reader.QueryRow(ctx, "SELECT toUInt64(getSetting('max_threads'))").Scan(&threads); err != nil || int(threads) != want {
		t.Errorf("reader max_threads %d, want %d for %d slots on %d cores (%v)", threads, want, cap(srv.readerSlots), runtime.NumCPU(), err)
	}
	if err := reader.Exec(ctx, "DROP TABLE n"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("reader dropped a table: %v", err)
	}
	rows, err := reader.Query(ctx, "SELECT a FROM n")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "Limit for result") {
		t.Errorf("2M rows past the reader's 1M limit: %v", err)
	}
	if err := setup.QueryRow(ctx, "SELECT count() FROM n").Scan(&n); err != nil || n != 2000000 {
		t.Errorf("after the reader: %d %v", n, err)
	}
}

// TestLocalUserCannotReachTheData runs the attempts of an unprivileged
// local user (uid nobody) against a server run by root: the credentials
// file cannot be read, and every query without it is refused.
func TestLocalUserCannotReachTheData(t *testing.T) {
	testenv.Root(t)
	setpriv := testenv.Command(t, "setpriv")
	curl := testenv.Command(t, "curl")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // t.TempDir is 0700: let nobody look
		t.Fatal(err)
	}
	srv := startServer(t, filepath.Join(dir, "data"))
	asNobody := func(args ...string) (string, error) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := asNobody("cat", filepath.Join(dir, "data", CredentialsFile)); err == nil {
		t.Fatalf("nobody read the credentials: %s", out)
	}
	base := "http://" + srv.Addr() + "/"
	for _, stmt := range []string{
		"SELECT * FROM file('/etc/shadow', 'LineAsString')",
		"SELECT * FROM file('/proc/self/environ', 'LineAsString')",
		"SELECT 1 INTO OUTFILE '/root/netstrata-pwned'",
		"SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')",
		"DROP DATABASE default",
	} {
		for _, auth := range []string{"", "-u" + ReaderUser + ":guess", "-u" + WriterUser + ":"} {
			args := []string{curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", stmt, base}
			if auth != "" {
				args = append(args[:1], append([]string{auth}, args[1:]...)...)
			}
			out, _ := asNobody(args...)
			if out != "401" {
				t.Errorf("nobody %q with %q: HTTP %s, want 401", stmt, auth, out)
			}
		}
		out, _ := asNobody(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Origin: http://page.example",
			"--data-binary", stmt, base+"?"+url.Values{"user": {WriterUser}}.Encode())
		if out != "403" {
			t.Errorf("cross-origin %q: HTTP %s, want 403", stmt, out)
		}
	}
	if _, err := os.Stat("/root/netstrata-pwned"); err == nil {
		t.Error("INTO OUTFILE wrote a file")
	}
	conn := openCH(t, srv)
	var one uint8
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("the components' client after the attempts: %d %v", one, err)
	}
}

// TestReadersNeverTakeTheWritersConnections: with every reader slot in
// use, another reader waits while a writer still gets a connection.
func TestReadersNeverTakeTheWritersConnections(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := context.Background()
	var held []func()
	for range cap(srv.readerSlots) {
		c, free, err := srv.acquireFor(ctx, RoleReader)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, func() { srv.release(c, false); free() })
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := srv.acquireFor(short, RoleReader); err == nil {
		t.Fatal("a reader got more than its share of connections")
	}
	c, free, err := srv.acquireFor(ctx, RoleWriter)
	if err != nil {
		t.Fatalf("writer starved by readers: %v", err)
	}
	srv.release(c, false)
	free()
	for _, h := range held {
		h()
	}
}

// FuzzGuard: the guard never panics, and whatever it lets through holds no
// call of a function that reaches outside the database.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT * FROM file('/etc/shadow')", "select `url`(x)", "/* /* */ */ file(", "'", "INSERT INTO t FORMAT Native"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, stmt string, reader bool) {
		role := RoleWriter
		if reader {
			role = RoleReader
		}
		if guard(role, []byte(stmt)) != nil {
			return
		}
		s := scanner{text: []byte(stmt)}
		var prev token
		for {
			tok, ok := s.next()
			if !ok {
				if s.pos >= len(stmt) {
					return
				}
				s.pos++
				continue
			}
			if tok.word == "" && stmt[tok.start] == '(' && reachingOut[name([]byte(stmt), prev)] {
				t.Fatalf("allowed %q, which calls %s", stmt, stmt[prev.start:prev.end])
			}
			prev = tok
		}
	})
}
