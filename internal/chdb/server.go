package chdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the embedded ClickHouse: the chDB engine of this process behind
// a ClickHouse HTTP interface on loopback.
type Server struct {
	cfg Configuration
	log *slog.Logger

	mu       sync.Mutex // guards state changes (Start, Stop)
	state    int
	ln       net.Listener
	http     *http.Server
	served   chan struct{}
	healthy  atomic.Bool
	inflight sync.WaitGroup // requests being handled; their results live in C memory

	// pool hands each connection to one request at a time; size is the
	// number of connections that exist (in the pool or in use).
	pool  chan *conn
	size  atomic.Int32
	api   *api
	spool string // directory for insert data handed to the engine as files

	// base holds the settings chDB itself sets on a new connection; a
	// setting a request no longer wants goes back to this value, else to
	// DEFAULT.
	base map[string]string
	info struct{ version, timezone, displayName string }

	creds       Credentials
	refusals    atomic.Uint64 // requests refused: origin, host, authentication
	readerSlots chan struct{} // engine connections the reader may hold at once
}

const (
	stateNew = iota
	stateRunning
	stateStopped
)

// stopTimeout bounds how long Stop waits for clients to finish before it
// closes their connections; queries already in the engine still complete.
const stopTimeout = 30 * time.Second

// New checks cfg and returns a Server that is not started. Empty fields of
// cfg take their DefaultConfiguration values. A nil log discards logs.
func New(cfg Configuration, log *slog.Logger) (*Server, error) {
	def := DefaultConfiguration()
	if cfg.Listen == "" {
		cfg.Listen = def.Listen
	}
	if cfg.DataDir == "" {
		cfg.DataDir = def.DataDir
	}
	if cfg.ReaderMaxMemoryUsage == 0 {
		cfg.ReaderMaxMemoryUsage = def.ReaderMaxMemoryUsage
	}
	if cfg.ReaderMaxExecutionTime <= 0 {
		cfg.ReaderMaxExecutionTime = def.ReaderMaxExecutionTime
	}
	if cfg.ReaderMaxResultRows == 0 {
		cfg.ReaderMaxResultRows = def.ReaderMaxResultRows
	}
	if cfg.MergeNice == 0 {
		cfg.MergeNice = def.MergeNice
	}
	if cfg.MergeNice < -1 || cfg.MergeNice > 19 {
		return nil, fmt.Errorf("chdb: merge_nice %d is not within -1..19", cfg.MergeNice)
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("chdb: listen address %q: %w", cfg.Listen, err)
	}
	// Passwords are sent in clear text over HTTP: it must not leave the host.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("chdb: listen address %q is not loopback; the embedded ClickHouse serves plain HTTP", cfg.Listen)
	}
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("chdb: data dir: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log}, nil
}

// Start loads the engine (fetching the library first if needed, see
// EnsureLibrary), opens the data dir and starts serving HTTP. ctx bounds
// the library fetch. A Server starts once; to restart, make a new one.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("chdb: server already started")
	}
	began := time.Now()
	lib, err := resolveLibrary(ctx, s.cfg.Library)
	if err != nil {
		return err
	}
	if s.api, err = loadLibrary(lib); err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("chdb: data dir: %w", err)
	}
	if s.creds, err = loadOrCreateCredentials(s.cfg.DataDir); err != nil {
		return err
	}
	s.spool = filepath.Join(s.cfg.DataDir, "netstrata-spool")
	if err := os.RemoveAll(s.spool); err != nil {
		return fmt.Errorf("chdb: clear spool dir: %w", err)
	}
	if err := os.MkdirAll(s.spool, 0o700); err != nil {
		return fmt.Errorf("chdb: spool dir: %w", err)
	}

	n := poolSize()
	s.pool = make(chan *conn, n)
	// Readers (the API) take at most half the connections: queries,
	// however many, never starve ingest.
	s.readerSlots = make(chan struct{}, max(n/2, 1))
	defer func() {
		if err != nil {
			s.closeConns()
		}
	}()
	for range n {
		c, err := openConn(s.api, s.cfg)
		if err != nil {
			return err
		}
		s.pool <- c
		s.size.Add(1)
	}
	if err := s.loadInfo(); err != nil {
		return err
	}

	if s.ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
		return fmt.Errorf("chdb: listen: %w", err)
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       10 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.served = make(chan struct{})
	go func(ln net.Listener) {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP server failed", "error", err)
			s.healthy.Store(false)
		}
	}(s.ln)
	s.state = stateRunning
	s.healthy.Store(true)
	s.log.Info("embedded ClickHouse started", "addr", s.ln.Addr().String(), "data_dir", s.cfg.DataDir,
		"version", s.info.version, "library", lib, "connections", n, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// poolSize is the number of engine connections, i.e. of statements that
// run at once; each statement also uses several engine threads.
func poolSize() int {
	return min(max(runtime.GOMAXPROCS(0), 4), 16)
}

func resolveLibrary(ctx context.Context, lib string) (string, error) {
	if lib != "" {
		return lib, nil
	}
	if lib = os.Getenv(EnvLibrary); lib != "" {
		return lib, nil
	}
	return EnsureLibrary(ctx, "")
}

// loadInfo reads what the HTTP headers and the hello query report, and the
// settings chDB changes on each connection.
func (s *Server) loadInfo() error {
	c := <-s.pool
	defer func() { s.pool <- c }()
	rows, err := queryTSV(c, "SELECT version(), timezone(), displayName()")
	if err != nil {
		return fmt.Errorf("chdb: probe engine: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 3 {
		return fmt.Errorf("chdb: probe engine: unexpected answer %q", rows)
	}
	s.info.version, s.info.timezone, s.info.displayName = rows[0][0], rows[0][1], rows[0][2]
	rows, err = queryTSV(c, "SELECT name, value FROM system.settings WHERE changed")
	if err != nil {
		return fmt.Errorf("chdb: read connection settings: %w", err)
	}
	s.base = make(map[string]string, len(rows))
	for _, r := range rows {
		if len(r) == 2 {
			s.base[r[0]] = r[1]
		}
	}
	return nil
}

// queryTSV runs a small query and splits its TabSeparated output.
func queryTSV(c *conn, q string) ([][]string, error) {
	res, err := c.query([]byte(q), "TabSeparated", nil)
	if err != nil {
		return nil, err
	}
	defer res.free()
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(res.data()), "\n"), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for i, f := range fields {
			fields[i] = unescapeTSV(f)
		}
		rows = append(rows, fields)
	}
	return rows, nil
}

func unescapeTSV(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Credentials are the users of the running server (see access.go).
func (s *Server) Credentials() Credentials { return s.creds }

// Refusals counts requests refused before any statement ran: from a web
// page, naming a non-loopback host, or without valid credentials.
func (s *Server) Refusals() uint64 { return s.refusals.Load() }

// limitReader bounds a reader's query whatever it asked for.
func (s *Server) limitReader(req *request) {
	req.settings["max_memory_usage"] = strconv.FormatUint(s.cfg.ReaderMaxMemoryUsage, 10)
	req.settings["max_execution_time"] = strconv.FormatFloat(s.cfg.ReaderMaxExecutionTime.Seconds(), 'f', -1, 64)
	req.settings["max_result_rows"] = strconv.FormatUint(s.cfg.ReaderMaxResultRows, 10)
	req.settings["result_overflow_mode"] = "throw"
	// The reader's slots times its threads stay within half the cores (one
	// thread a query at least): queries never take all the CPU ingest needs.
	req.settings["max_threads"] = strconv.Itoa(max(runtime.NumCPU()/2/cap(s.readerSlots), 1))
}

// Addr is the address the HTTP interface listens on (host:port), the
// actual port when the configuration asked for port 0.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.Listen
}

// Ping runs SELECT 1 in the engine. It fails when the server is not
// running or the engine does not answer before ctx is done.
func (s *Server) Ping(ctx context.Context) error {
	if !s.healthy.Load() {
		return errors.New("chdb: server is not running")
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("chdb: ping: %w", err)
	}
	rows, err := queryTSV(c, "SELECT 1")
	s.release(c, false)
	if err != nil {
		return fmt.Errorf("chdb: ping: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != "1" {
		return fmt.Errorf("chdb: ping: unexpected answer %q", rows)
	}
	return nil
}

// Stop stops accepting requests, lets the ones in flight finish (clients
// get up to 30 s; a statement already in the engine always runs to its
// end, as chDB cannot interrupt it), then closes the engine so the data dir
// can be opened again, by this process or another. Stop is idempotent.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateRunning {
		s.state = stateStopped
		return nil
	}
	s.state = stateStopped
	s.healthy.Store(false)
	began := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("chdb: HTTP shutdown: %w", err))
		_ = s.http.Close()
	}
	<-s.served
	// Handlers may outlive Shutdown's deadline; their connections and
	// results must be back before the engine goes away.
	s.inflight.Wait()
	s.closeConns()
	if err := os.RemoveAll(s.spool); err != nil {
		errs = append(errs, fmt.Errorf("chdb: remove spool dir: %w", err))
	}
	s.log.Info("embedded ClickHouse stopped", "took", time.Since(began).Round(time.Millisecond))
	return errors.Join(errs...)
}

// closeConns closes every connection once it is back in the pool; closing
// the last one shuts the engine down.
func (s *Server) closeConns() {
	for s.size.Load() > 0 {
		c := <-s.pool
		c.close()
		s.size.Add(-1)
	}
}

// acquire takes a connection for one request.
func (s *Server) acquire(ctx context.Context) (*conn, error) {
	select {
	case c := <-s.pool:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// acquireFor takes a connection for a request of role; a reader first
// takes one of its slots, given back by the returned release.
func (s *Server) acquireFor(ctx context.Context, role string) (*conn, func(), error) {
	if role != RoleReader {
		c, err := s.acquire(ctx)
		return c, func() {}, err
	}
	select {
	case s.readerSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	free := func() { <-s.readerSlots }
	c, err := s.acquire(ctx)
	if err != nil {
		free()
		return nil, nil, err
	}
	return c, free, nil
}

// release returns a connection to the pool. A tainted connection (one a
// statement may have left with session state, such as SET) is replaced by
// a fresh one.
func (s *Server) release(c *conn, tainted bool) {
	if tainted {
		if c = s.replace(c); c == nil {
			return
		}
	}
	s.pool <- c
}

// replace closes c and returns a new connection, or nil (and one
// connection less in the pool) when none can be opened.
func (s *Server) replace(c *conn) *conn {
	// Open before closing: closing the last connection would shut the
	// engine down.
	fresh, err := openConn(s.api, s.cfg)
	c.close()
	if err != nil {
		s.log.Error("cannot replace engine connection; serving with fewer", "error", err)
		s.size.Add(-1)
		return nil
	}
	return fresh
}
