package chdb

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The subset of the ClickHouse HTTP interface that clickhouse-go/v2 uses
// (and curl-style GET/POST queries): see the package documentation.

// httpParams are URL parameters of the HTTP interface that are not
// settings (and are not passed to SET).
var httpParams = map[string]bool{
	"query": true, "database": true, "default_format": true, "client_protocol_version": true,
	"query_id": true, "quota_key": true, "session_id": true, "session_timeout": true, "session_check": true,
	"compress": true, "decompress": true, "user": true, "password": true, "buffer_size": true,
	"wait_end_of_query": true, "role": true, "stacktrace": true, "enable_http_compression": true,
	"network_compression_method": true, "http_native_compression_disable_checksumming_on_decompress": true,
}

var settingNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// request is what one HTTP request asks of the engine.
type request struct {
	settings map[string]string
	params   []param
	database string
	format   string
	queryID  string
	// compress asks for ClickHouse-compressed output with this method
	// ("" = no native compression).
	compress string
	encoding string // HTTP Content-Encoding of the response
}

func parseRequest(r *http.Request) (*request, error) {
	q := r.URL.Query()
	req := &request{
		settings: map[string]string{},
		database: firstNonEmpty(q.Get("database"), r.Header.Get("X-ClickHouse-Database"), "default"),
		format:   firstNonEmpty(q.Get("default_format"), r.Header.Get("X-ClickHouse-Format"), "TabSeparated"),
		queryID:  q.Get("query_id"),
	}
	if q.Has("session_id") {
		return nil, &exception{Code: codeUnsupportedMethod, Message: "HTTP sessions (session_id) are not supported by the embedded chDB server"}
	}
	if truthy(q.Get("compress")) {
		req.compress = firstNonEmpty(q.Get("network_compression_method"), "LZ4")
	}
	req.encoding = responseEncoding(r.Header.Get("Accept-Encoding"), truthy(q.Get("enable_http_compression")))
	for name, values := range q {
		value := values[len(values)-1]
		if p, ok := strings.CutPrefix(name, "param_"); ok {
			req.params = append(req.params, param{name: p, value: value})
			continue
		}
		if httpParams[name] {
			continue
		}
		if !settingNameRe.MatchString(name) {
			return nil, &exception{Code: codeBadArguments, Message: fmt.Sprintf("Invalid setting name %q", name)}
		}
		req.settings[name] = value
	}
	sort.Slice(req.params, func(i, j int) bool { return req.params[i].name < req.params[j].name })
	return req, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// serveHTTP answers the ClickHouse HTTP interface.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r); err != nil {
		s.refused(r, err)
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	switch r.URL.Path {
	case "/ping", "/replicas_status":
		if !s.healthy.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, "Ok.\n")
	case "/":
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.Method == http.MethodGet && !r.URL.Query().Has("query") {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			_, _ = io.WriteString(w, "Ok.\n")
			return
		}
		s.inflight.Add(1)
		defer s.inflight.Done()
		s.handleQuery(w, r)
	default:
		http.Error(w, "There is no handle "+r.URL.Path, http.StatusNotFound)
	}
}

// refused counts a refused request; the first is logged as a warning, the
// rest at debug level (a scan of the port must not flood the log).
func (s *Server) refused(r *http.Request, err error) {
	level := slog.LevelDebug
	if s.refusals.Add(1) == 1 {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "request refused (counted in Refusals; later ones at debug level)",
		"reason", err, "remote", r.RemoteAddr)
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	queryID := r.URL.Query().Get("query_id")
	if queryID == "" {
		queryID = newQueryID()
	}
	w.Header().Set("X-ClickHouse-Query-Id", queryID)
	w.Header().Set("X-ClickHouse-Server-Display-Name", s.info.displayName)
	w.Header().Set("X-ClickHouse-Timezone", s.info.timezone)

	role, err := s.authenticate(r)
	if err != nil {
		s.refused(r, err)
		s.writeError(w, err, began, nil)
		return
	}
	stmt, req, cleanup, err := s.readStatement(r, role)
	defer cleanup()
	if err != nil {
		s.writeError(w, err, began, s.log)
		return
	}
	if role == RoleReader {
		s.limitReader(req)
	}
	log := s.log.With("query_id", queryID)

	c, freeSlot, err := s.acquireFor(r.Context(), role)
	if err != nil {
		// The client went away while waiting for a connection.
		log.Debug("request abandoned", "error", err)
		return
	}
	defer freeSlot()
	c, err = s.prepare(c, req)
	var (
		res     *execResult
		tainted bool
	)
	if err == nil {
		res, tainted, err = s.run(c, stmt, req)
	}
	if c != nil {
		s.release(c, tainted)
	}
	if err != nil {
		s.writeError(w, err, began, log.With("sql", preview(stmt)))
		return
	}
	defer res.free()

	st := res.stats()
	data := res.synthetic
	if res.result != nil {
		data = res.result.data()
	}
	summary, _ := json.Marshal(map[string]string{
		"read_rows": strconv.FormatUint(st.readRows, 10), "read_bytes": strconv.FormatUint(st.readBytes, 10),
		"written_rows": strconv.FormatUint(st.writtenRows, 10), "written_bytes": strconv.FormatUint(st.writtenB, 10),
		"total_rows_to_read": "0", "result_rows": strconv.FormatUint(st.resultRows, 10), "result_bytes": strconv.Itoa(len(data)),
		"elapsed_ns": strconv.FormatInt(int64(st.elapsedSeconds*1e9), 10),
	})
	h := w.Header()
	h.Set("X-ClickHouse-Format", req.format)
	h.Set("X-ClickHouse-Summary", string(summary))
	h.Set("Content-Type", contentType(req.format))
	if err := writeBody(w, data, req); err != nil {
		log.Debug("writing response failed", "error", err)
	}
	log.Debug("query", "sql", preview(stmt), "took", time.Since(began), "bytes", len(data),
		"read_rows", st.readRows, "written_rows", st.writtenRows)
}

// readStatement reads the query and its data from the request. HTTP
// semantics: the statement is the query parameter, a line break and the
// body; or the body alone. An INSERT ... FORMAT's data is spooled to a file
// and the statement rewritten to read it FROM INFILE, because chDB cannot
// take binary data (Native) inline in the statement text. cleanup removes
// the file.
func (s *Server) readStatement(r *http.Request, role string) (stmt []byte, req *request, cleanup func(), err error) {
	cleanup = func() {}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(ct, "multipart/") {
		return nil, nil, cleanup, &exception{Code: codeUnsupportedMethod, Message: "external tables (multipart requests) are not supported by the embedded chDB server"}
	}
	if req, err = parseRequest(r); err != nil {
		return nil, nil, cleanup, err
	}
	body, closeBody, err := decodeBody(r.Body, r.Header.Get("Content-Encoding"), truthy(r.URL.Query().Get("decompress")))
	if err != nil {
		return nil, nil, cleanup, err
	}
	defer closeBody()

	query := []byte(r.URL.Query().Get("query"))
	if fi, ok := parseFormatInsert(query); ok && len(bytes.TrimSpace(query[fi.dataStart:])) == 0 {
		if err := guard(role, query[:fi.dataStart]); err != nil {
			return nil, nil, cleanup, err
		}
		// The common batch insert: the body is the data; stream it to disk.
		path, err := s.spoolData(nil, body)
		if path != "" {
			cleanup = func() { _ = os.Remove(path) }
		}
		if err != nil {
			return nil, nil, cleanup, err
		}
		return []byte(fi.infileQuery(path)), req, cleanup, nil
	}

	var text bytes.Buffer
	text.Write(query)
	if len(query) > 0 {
		text.WriteByte('\n')
	}
	if _, err := text.ReadFrom(body); err != nil {
		return nil, nil, cleanup, &exception{Code: codeNetworkError, Message: fmt.Sprintf("cannot read request body: %v", err)}
	}
	stmt = text.Bytes()
	if fi, ok := parseFormatInsert(stmt); ok {
		if err := guard(role, stmt[:fi.dataStart]); err != nil {
			return nil, nil, cleanup, err
		}
		path, err := s.spoolData(stmt[fi.dataStart:], nil)
		if path != "" {
			cleanup = func() { _ = os.Remove(path) }
		}
		if err != nil {
			return nil, nil, cleanup, err
		}
		return []byte(fi.infileQuery(path)), req, cleanup, nil
	}
	stmt = bytes.TrimRight(stmt, " \t\r\n")
	if len(stmt) == 0 {
		return nil, nil, cleanup, &exception{Code: codeSyntaxError, Message: "Empty query"}
	}
	if multiStatement(stmt) {
		// chDB would run them all; a ClickHouse server refuses.
		return nil, nil, cleanup, &exception{Code: codeSyntaxError, Message: "Syntax error: Multi-statements are not allowed"}
	}
	if err := guard(role, stmt); err != nil {
		return nil, nil, cleanup, err
	}
	return stmt, req, cleanup, nil
}

// spoolData writes insert data (data, then everything from r) to a file in
// the spool directory. An empty file is written too: without FROM INFILE
// the engine would read the data from the process's stdin.
func (s *Server) spoolData(data []byte, r io.Reader) (string, error) {
	f, err := os.CreateTemp(s.spool, "insert-*.data")
	if err != nil {
		return "", &exception{Code: codeUnknownException, Message: fmt.Sprintf("cannot spool insert data: %v", err)}
	}
	path := f.Name()
	_, err = f.Write(data)
	if err == nil && r != nil {
		_, err = io.Copy(f, r)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return path, &exception{Code: codeNetworkError, Message: fmt.Sprintf("cannot receive insert data: %v", err)}
	}
	return path, nil
}

// execResult is an engine result, or output the server made itself.
type execResult struct {
	*result
	synthetic []byte
}

func (r *execResult) free() {
	if r.result != nil {
		r.result.free()
	}
}

func (r *execResult) stats() stats {
	if r.result == nil || r.r == 0 {
		return stats{}
	}
	return r.result.stats()
}

// prepare gives the connection's session the settings and database of
// req. When the settings of an earlier request cannot be undone (say it set
// readonly=1), the connection is replaced by a fresh one; so c may change,
// and is nil when no connection is left to return to the pool.
func (s *Server) prepare(c *conn, req *request) (*conn, error) {
	if err := s.applySettings(c, req.settings); err != nil {
		if len(c.settings) == 0 {
			// The request's own settings are wrong (e.g. an unknown one).
			return s.replace(c), err
		}
		if c = s.replace(c); c == nil {
			return nil, err
		}
		if err := s.applySettings(c, req.settings); err != nil {
			return s.replace(c), err
		}
	}
	if c.db != req.database {
		if err := c.exec("USE " + quoteIdent(req.database)); err != nil {
			return c, err
		}
		c.db = req.database
	}
	return c, nil
}

// run runs stmt on a prepared connection. tainted reports that the
// connection may carry state that the next request must not see.
func (s *Server) run(c *conn, stmt []byte, req *request) (res *execResult, tainted bool, err error) {
	if req.format == "Native" && isHelloQuery(stmt) {
		return &execResult{synthetic: helloBlock(s.info.displayName, s.info.version, 0, s.info.timezone)}, false, nil
	}
	switch firstKeyword(stmt) {
	case "SET":
		// A SET without a session changes nothing for later requests.
		tainted = true
	case "USE":
		c.db = ""
	}
	r, err := c.query(stmt, req.format, req.params)
	if err != nil {
		return nil, tainted, err
	}
	return &execResult{result: r}, tainted, nil
}

// applySettings makes the connection's session settings those of the
// request, with one SET for what differs from the previous request.
func (s *Server) applySettings(c *conn, want map[string]string) error {
	var assign []string
	for name, value := range want {
		if old, ok := c.settings[name]; !ok || old != value {
			assign = append(assign, name+" = "+quoteString(value))
		}
	}
	for name := range c.settings {
		if _, ok := want[name]; ok {
			continue
		}
		if base, ok := s.base[name]; ok {
			assign = append(assign, name+" = "+quoteString(base))
		} else {
			assign = append(assign, name+" = DEFAULT")
		}
	}
	if len(assign) == 0 {
		return nil
	}
	sort.Strings(assign)
	if err := c.exec("SET " + strings.Join(assign, ", ")); err != nil {
		return err
	}
	c.settings = make(map[string]string, len(want))
	for k, v := range want {
		c.settings[k] = v
	}
	return nil
}

func writeBody(w http.ResponseWriter, data []byte, req *request) error {
	switch {
	case req.compress != "":
		if len(data) == 0 {
			w.Header().Set("Content-Length", "0")
			return nil
		}
		return writeNativeCompressed(w, data, req.compress)
	case req.encoding != "" && len(data) > 0:
		w.Header().Set("Content-Encoding", req.encoding)
		enc, err := encodeWriter(w, req.encoding)
		if err != nil {
			return err
		}
		if _, err := enc.Write(data); err != nil {
			return err
		}
		return enc.Close()
	default:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, err := w.Write(data)
		return err
	}
}

// writeError answers as ClickHouse does: status 500 (401 and 403 for
// authentication and access), the exception code in
// X-ClickHouse-Exception-Code and "Code: N. DB::Exception: ..." as body,
// which clickhouse-go turns into a *clickhouse.Exception.
func (s *Server) writeError(w http.ResponseWriter, err error, began time.Time, log *slog.Logger) {
	var ex *exception
	if !errors.As(err, &ex) {
		ex = &exception{Code: codeUnknownException, Message: err.Error()}
	}
	if log != nil {
		log.Debug("query failed", "code", ex.Code, "error", ex.Message, "took", time.Since(began))
	}
	h := w.Header()
	h.Set("X-ClickHouse-Exception-Code", strconv.Itoa(ex.Code))
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Del("Content-Encoding")
	msg := ex.text()
	if s.info.version != "" && !strings.Contains(msg, "(version ") {
		msg += " (version " + s.info.version + ")"
	}
	msg += "\n"
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(ex.httpStatus())
	_, _ = io.WriteString(w, msg)
}

func contentType(format string) string {
	switch format {
	case "TabSeparated", "TSV", "TabSeparatedWithNames", "TSVWithNames", "TabSeparatedWithNamesAndTypes", "TSVWithNamesAndTypes", "TabSeparatedRaw", "TSVRaw":
		return "text/tab-separated-values; charset=UTF-8"
	case "CSV", "CSVWithNames", "CSVWithNamesAndTypes":
		return "text/csv; charset=UTF-8; header=absent"
	case "JSON", "JSONCompact", "JSONEachRow", "JSONCompactEachRow", "JSONStrings", "JSONObjectEachRow", "NDJSON", "JSONLines":
		return "application/json; charset=UTF-8"
	case "Pretty", "PrettyCompact", "PrettySpace", "Vertical", "Markdown", "Values":
		return "text/plain; charset=UTF-8"
	}
	return "application/octet-stream"
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // UUID v4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// preview shortens a statement for logs.
func preview(stmt []byte) string {
	const max = 300
	if len(stmt) > max {
		return string(stmt[:max]) + "…"
	}
	return string(stmt)
}
