// Package api is netstrata's HTTP API: interfaces, flow TopN, sockets,
// the traffic map and the investigation ("why did traffic here spike?"),
// read from the correlator's ClickHouse schema, plus the terminal client
// behind `netstrata investigate`.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/investigation"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Dependencies is what the API needs from outside: where ClickHouse is.
type Dependencies struct {
	Store store.Configuration
	// LayersOff names the layers this process knows are off, with why
	// (in standalone: the eBPF agent could not start on this kernel); an
	// investigation that finds no rows of such a layer says so. nil: none.
	LayersOff func() map[string]string
	// Console is the web console's built files, served at /; nil when
	// the binary was built without them (a page says how to build them).
	Console fs.FS
}

// Component is the running API.
type Component struct {
	r         *telemetry.Reporter
	cfg       Configuration
	deps      Dependencies
	metrics   *metrics
	admission *admission // bounds the queries running at once
	warn      *telemetry.RateLimited
	tls       *tls.Config
	// investigator runs the investigation and the reads the endpoints
	// share with it, through run.
	investigator *investigation.Investigator

	conn  atomic.Pointer[driver.Conn]
	dbMu  sync.Mutex
	dbErr error // the last reason the database is unavailable

	// sessions is what the schema has of the session rollup, once read
	// (sessionsCompleteFrom).
	sessionRollup atomic.Pointer[sessionRollup]

	openapi  openAPIDoc
	handler  http.Handler
	patterns []string // every pattern the mux serves, for the OpenAPI test

	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	now    func() time.Time
}

// New checks the configuration, loads the TLS key pair and builds the
// routes; nothing listens or connects until Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.Store.Validate(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	c := &Component{r: r, cfg: cfg, deps: deps, now: time.Now, warn: telemetry.NewRateLimited(r.Log, time.Minute)}
	c.investigator = &investigation.Investigator{Run: c.run, RawRange: cfg.RawRange, LayersOff: deps.LayersOff}
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("api.tls_cert, api.tls_key: %w", err)
		}
		c.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	var err error
	if c.metrics, err = newMetrics(r.Registry); err != nil {
		return nil, fmt.Errorf("api: metrics: %w", err)
	}
	c.admission = newAdmission(cfg.MaxConcurrentQueries, cfg.MaxQueuedQueries, cfg.QueueTimeout)
	c.dbErr = errors.New("not connected yet")
	c.handler = c.routes()
	return c, nil
}

// Start listens and connects to the database in the background; requests
// get 503 until the connection is up.
func (c *Component) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", c.cfg.Listen, err)
	}
	c.ln = ln
	c.srv = &http.Server{
		Handler:           c.handler,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      c.cfg.QueryTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSConfig:         c.tls,
	}
	ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		var err error
		if c.tls != nil {
			err = c.srv.ServeTLS(ln, "", "")
		} else {
			err = c.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.r.Log.Error("API server stopped", "addr", c.cfg.Listen, "error", err)
			c.r.SetHealth("http", err)
		}
	}()
	go func() {
		defer c.wg.Done()
		c.keepConnected(ctx)
	}()
	scheme := "http"
	if c.tls != nil {
		scheme = "https"
	}
	c.r.Log.Info("API listening", "url", scheme+"://"+ln.Addr().String(), "auth", !c.cfg.AuthDisabled)
	return nil
}

// Addr is the bound listen address (the real port when Listen asked for 0).
func (c *Component) Addr() string {
	if c.ln == nil {
		return c.cfg.Listen
	}
	return c.ln.Addr().String()
}

// Stop drains in-flight requests and closes the database connection.
func (c *Component) Stop() error {
	if c.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	c.cancel()
	c.wg.Wait()
	if conn := c.conn.Swap(nil); conn != nil {
		if cerr := (*conn).Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// keepConnected opens the database, retrying until it answers, then
// pings it so that /healthz follows its state. Retries start fast and
// back off to ReconnectInterval: in standalone the correlator creates the
// database a moment after the API starts, and the API should answer then.
func (c *Component) keepConnected(ctx context.Context) {
	wait := min(100*time.Millisecond, c.cfg.ReconnectInterval)
	for {
		if c.conn.Load() == nil {
			c.connect(ctx)
		} else {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := (*c.conn.Load()).Ping(pctx)
			cancel()
			if ctx.Err() == nil {
				c.setDBErr(err)
			}
		}
		if c.conn.Load() != nil {
			wait = c.cfg.ReconnectInterval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, c.cfg.ReconnectInterval)
	}
}

// connect opens the database once and records the outcome.
func (c *Component) connect(ctx context.Context) {
	octx, cancel := context.WithTimeout(ctx, c.cfg.ReconnectInterval+5*time.Second)
	defer cancel()
	conn, err := store.Open(octx, c.deps.Store)
	if err == nil {
		c.conn.Store(&conn)
		c.setDBErr(nil)
	} else if ctx.Err() == nil {
		c.setDBErr(err)
	}
}

// db returns the connection or the 503 that says why there is none.
func (c *Component) db() (driver.Conn, error) {
	if p := c.conn.Load(); p != nil {
		return *p, nil
	}
	c.dbMu.Lock()
	err := c.dbErr
	c.dbMu.Unlock()
	return nil, errDatabaseDown(err)
}

func (c *Component) setDBErr(err error) {
	c.dbMu.Lock()
	c.dbErr = err
	c.dbMu.Unlock()
	c.r.SetHealth("clickhouse", err)
}
