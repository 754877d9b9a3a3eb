package chdb

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Who may use the embedded ClickHouse. The engine runs inside a root
// process and can read and write any file, so the HTTP front-end is the
// only gate: every query needs a user, a request from a browser page
// (an Origin header, a Host that is not loopback) is refused, and
// statements that would reach files, the network or programs are refused
// for every user (guard.go).

// Roles of the two users the front-end knows.
const (
	// RoleWriter is the correlator's: inserts and its own DDL.
	RoleWriter = "writer"
	// RoleReader is the API's: read-only statements within limits.
	RoleReader = "reader"
)

// User names of the roles.
const (
	WriterUser = "netstrata"
	ReaderUser = "netstrata_reader"
)

// Credential is one user's name and password.
type Credential struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Credentials are the users of one data directory, generated at its first
// start into CredentialsFile (mode 0600, readable by the owner only).
type Credentials struct {
	Writer Credential `json:"writer"`
	Reader Credential `json:"reader"`
}

// CredentialsFile is the name of the credentials file in the data dir.
const CredentialsFile = "credentials.json"

// ReadCredentials reads the credentials of the engine whose data dir is
// dir, for tools that run beside it as the same user (the demo, tests).
func ReadCredentials(dir string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(filepath.Join(dir, CredentialsFile))
	if err != nil {
		return c, fmt.Errorf("chdb: read credentials: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("chdb: credentials file %s: %w", filepath.Join(dir, CredentialsFile), err)
	}
	if c.Writer.Password == "" || c.Reader.Password == "" {
		return c, fmt.Errorf("chdb: credentials file %s lacks a password", filepath.Join(dir, CredentialsFile))
	}
	return c, nil
}

// loadOrCreateCredentials returns the data dir's credentials, creating
// them on first start. A file others can read is refused: its passwords
// would be anybody's.
func loadOrCreateCredentials(dir string) (Credentials, error) {
	path := filepath.Join(dir, CredentialsFile)
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Mode().Perm()&0o077 != 0:
		return Credentials{}, fmt.Errorf("chdb: %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	case err == nil:
		return ReadCredentials(dir)
	case !errors.Is(err, os.ErrNotExist):
		return Credentials{}, fmt.Errorf("chdb: credentials: %w", err)
	}
	c := Credentials{Writer: Credential{WriterUser, newPassword()}, Reader: Credential{ReaderUser, newPassword()}}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return Credentials{}, fmt.Errorf("chdb: write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Credentials{}, fmt.Errorf("chdb: write credentials: %w", err)
	}
	return c, nil
}

func newPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// errForbidden is a request refused before authentication: from a
// browser page, or naming a host that is not this one.
type errForbidden string

func (e errForbidden) Error() string { return string(e) }

// checkOrigin refuses what a web page could send: any request with an
// Origin header (cross-origin POSTs of text/plain need no preflight), and
// any Host that is not a loopback name (DNS rebinding).
func checkOrigin(r *http.Request) error {
	if r.Header.Get("Origin") != "" {
		return errForbidden("requests with an Origin header (from a web page) are refused")
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() {
		return nil
	}
	return errForbidden(fmt.Sprintf("Host %q is not a loopback name", r.Host))
}

// authenticate returns the role of the request's user, from the headers
// clickhouse-go sends (X-ClickHouse-User/-Key), HTTP basic auth, or the
// user and password parameters.
func (s *Server) authenticate(r *http.Request) (string, error) {
	user, pass := r.Header.Get("X-ClickHouse-User"), r.Header.Get("X-ClickHouse-Key")
	if user == "" {
		user, pass, _ = r.BasicAuth()
	}
	if user == "" {
		q := r.URL.Query()
		user, pass = q.Get("user"), q.Get("password")
	}
	for role, c := range map[string]Credential{RoleWriter: s.creds.Writer, RoleReader: s.creds.Reader} {
		if user == c.User && subtle.ConstantTimeCompare([]byte(pass), []byte(c.Password)) == 1 {
			return role, nil
		}
	}
	if user == "" {
		return "", &exception{Code: codeAuthFailed, Message: "Authentication required: the embedded ClickHouse's users are in " + CredentialsFile + " of its data dir"}
	}
	return "", &exception{Code: codeAuthFailed, Message: fmt.Sprintf("%s: Authentication failed: password is incorrect, or there is no user with such name", user)}
}
