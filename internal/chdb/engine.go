package chdb

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// api holds the C entry points of libchdb that this package uses (the
// "connection" API of chdb.h; chDB ships no header in the npm package, the
// signatures are those of chdb.h in chdb-io/chdb for 26.x).
type api struct {
	// chdb_connection *chdb_connect(int argc, char **argv)
	connect func(argc int32, argv []*byte) *uintptr
	// void chdb_close_conn(chdb_connection *conn)
	closeConn func(conn *uintptr)
	// chdb_result *chdb_query_n(chdb_connection, const char *q, size_t, const char *fmt, size_t)
	queryN func(conn uintptr, query []byte, queryLen uintptr, format []byte, formatLen uintptr) uintptr
	// chdb_result *chdb_query_with_params_n(conn, q, qlen, fmt, fmtlen,
	//     const char *const *names, const size_t *name_lens,
	//     const char *const *values, const size_t *value_lens, size_t count)
	queryWithParamsN func(conn uintptr, query []byte, queryLen uintptr, format []byte, formatLen uintptr,
		names []*byte, nameLens []uintptr, values []*byte, valueLens []uintptr, count uintptr) uintptr
	destroyResult func(res uintptr)
	resultBuffer  func(res uintptr) *byte
	resultLength  func(res uintptr) uintptr
	resultElapsed func(res uintptr) float64
	resultRows    func(res uintptr) uint64 // rows in the result
	storageRows   func(res uintptr) uint64 // rows read from tables
	storageBytes  func(res uintptr) uint64
	rowsWritten   func(res uintptr) uint64
	bytesWritten  func(res uintptr) uint64
	resultError   func(res uintptr) *byte
	// void chdb_set_signal_handlers_enabled(int enabled)
	setSignalHandlers func(enabled int32)
}

// engine is the process-wide chDB instance. libchdb boots one ClickHouse
// per process: all connections share one data path, and connecting with
// another path only works once every connection is closed (which shuts the
// engine down). dlopen'ed code is never unloaded.
var engine struct {
	mu      sync.Mutex
	api     *api
	libPath string
	dataDir string // path the running engine was booted with
	conns   int    // open connections
}

func loadLibrary(path string) (*api, error) {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("chdb: library path %q: %w", path, err)
	}
	if engine.api != nil {
		if engine.libPath != abs {
			return nil, fmt.Errorf("chdb: %s is already loaded in this process, cannot load %s as well", engine.libPath, abs)
		}
		return engine.api, nil
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("chdb: library: %w", err)
	}
	restoreSignals := preserveSignals()
	defer restoreSignals()
	a, err := dlopenLibrary(abs)
	if err != nil {
		return nil, err
	}
	// ClickHouse would install handlers for SIGSEGV, SIGBUS, SIGFPE, ...
	// when the engine boots, taking them from the Go runtime; turn that
	// off (it resets them to SIG_DFL, which restoreSignals undoes).
	a.setSignalHandlers(0)
	engine.api = a
	engine.libPath = abs
	return a, nil
}

// conn is one chDB connection (a ClickHouse session). A connection runs one
// statement at a time; the Server hands each to one request at a time.
type conn struct {
	api *api
	h   *uintptr // chdb_connection*, i.e. a pointer to the handle
	// settings are the session settings this connection currently has SET
	// on behalf of requests, by name.
	settings map[string]string
	// db is the current database, "" when unknown.
	db string
}

func openConn(a *api, cfg Configuration) (*conn, error) {
	dataDir := cfg.DataDir
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.conns > 0 && engine.dataDir != dataDir {
		return nil, fmt.Errorf("chdb: the engine of this process is running on %s; one data dir per process (stop that server first)", engine.dataDir)
	}
	if engine.conns == 0 {
		// chdb_connect reports a locked data dir only on stderr; check first
		// so the caller gets a useful error.
		if err := checkDataDirFree(dataDir); err != nil {
			return nil, err
		}
	}
	// The query profilers signal the threads they sample (SIGRTMIN), and
	// those signals have no business in a Go process.
	args := []string{"clickhouse", "--path=" + dataDir,
		"--query_profiler_real_time_period_ns=0", "--query_profiler_cpu_time_period_ns=0"}
	if cfg.MergeNice > 0 {
		args = append(args, "--os_threads_nice_value_merge_mutate="+strconv.Itoa(cfg.MergeNice))
	}
	argv := make([]*byte, len(args)+1) // NULL-terminated like main's argv
	for i, s := range args {
		argv[i] = cString(s)
	}
	restoreSignals := preserveSignals()
	h := a.connect(int32(len(args)), argv)
	restoreSignals()
	runtime.KeepAlive(argv)
	if h == nil || *h == 0 {
		return nil, fmt.Errorf("chdb: chdb_connect(--path=%s) failed (see stderr for the engine's message)", dataDir)
	}
	engine.conns++
	engine.dataDir = dataDir
	return &conn{api: a, h: h, settings: map[string]string{}}, nil
}

// close closes the connection; closing the last one shuts the engine down.
func (c *conn) close() {
	if c.h == nil {
		return
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	restoreSignals := preserveSignals()
	c.api.closeConn(c.h)
	restoreSignals()
	c.h = nil
	engine.conns--
	if engine.conns == 0 {
		engine.dataDir = ""
	}
}

// param is a query parameter for a {name:Type} placeholder, in the escaped
// text form the ClickHouse HTTP interface takes for param_<name>.
type param struct{ name, value string }

// result is a query result in C memory; free it.
type result struct {
	api *api
	r   uintptr
}

// query runs one statement and returns its output in format. On failure
// the error is an *Exception.
func (c *conn) query(q []byte, format string, params []param) (*result, error) {
	if len(q) == 0 {
		return nil, &exception{Code: codeSyntaxError, Message: "Empty query"}
	}
	f := []byte(format)
	if len(f) == 0 {
		f = []byte{0} // never pass a nil pointer; the length is what counts
	}
	var r uintptr
	if len(params) == 0 {
		r = c.api.queryN(*c.h, q, uintptr(len(q)), f, uintptr(len(format)))
	} else {
		names := make([]*byte, len(params))
		nameLens := make([]uintptr, len(params))
		values := make([]*byte, len(params))
		valueLens := make([]uintptr, len(params))
		for i, p := range params {
			names[i], nameLens[i] = bytePtr(p.name)
			values[i], valueLens[i] = bytePtr(p.value)
		}
		r = c.api.queryWithParamsN(*c.h, q, uintptr(len(q)), f, uintptr(len(format)),
			names, nameLens, values, valueLens, uintptr(len(params)))
		runtime.KeepAlive(names)
		runtime.KeepAlive(values)
	}
	runtime.KeepAlive(q)
	runtime.KeepAlive(f)
	if r == 0 {
		return nil, &exception{Code: codeUnknownException, Message: "chDB returned no result"}
	}
	res := &result{api: c.api, r: r}
	if e := c.api.resultError(r); e != nil {
		if msg := goString(e); msg != "" {
			res.free()
			return nil, parseException(msg)
		}
	}
	return res, nil
}

// exec runs a statement whose output is not needed.
func (c *conn) exec(q string) error {
	res, err := c.query([]byte(q), "TabSeparated", nil)
	if err != nil {
		return err
	}
	res.free()
	return nil
}

// data is the output; it points into C memory and is valid until free.
func (r *result) data() []byte {
	n := r.api.resultLength(r.r)
	p := r.api.resultBuffer(r.r)
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice(p, n)
}

type stats struct {
	elapsedSeconds        float64
	resultRows            uint64
	readRows, readBytes   uint64
	writtenRows, writtenB uint64
}

func (r *result) stats() stats {
	return stats{
		elapsedSeconds: r.api.resultElapsed(r.r),
		resultRows:     r.api.resultRows(r.r),
		readRows:       r.api.storageRows(r.r),
		readBytes:      r.api.storageBytes(r.r),
		writtenRows:    r.api.rowsWritten(r.r),
		writtenB:       r.api.bytesWritten(r.r),
	}
}

func (r *result) free() {
	if r.r != 0 {
		r.api.destroyResult(r.r)
		r.r = 0
	}
}

// cString returns a NUL-terminated copy of s in Go memory.
func cString(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

// bytePtr returns a pointer to a copy of s and its length (no NUL needed:
// the _n entry points take lengths).
func bytePtr(s string) (*byte, uintptr) {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0], uintptr(len(s))
}

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
