package correlator

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/ipdb"
	"github.com/netstrata/netstrata/internal/periodic"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// IPDBConfiguration is the AS and country enrichment of flows.
type IPDBConfiguration struct {
	// Enable looks up each flow's addresses in the IP databases.
	Enable bool `yaml:"enable"`
	// ASNFiles ("first,last,asn,name" CSV) and CountryFiles
	// ("first,last,country") replace the pinned @ip-location-db packages,
	// which are fetched with npm into the cache when both are empty.
	ASNFiles     []string `yaml:"asn_files"`
	CountryFiles []string `yaml:"country_files"`
	// ReloadInterval is how often the files are checked: a changed file
	// is loaded and swapped in without a restart.
	ReloadInterval time.Duration `yaml:"reload_interval"`
	// MaxRanges bounds the ranges loaded (about 28 bytes each), and so
	// the memory a wrong file can take.
	MaxRanges int `yaml:"max_ranges"`
}

func defaultIPDBConfiguration() IPDBConfiguration {
	return IPDBConfiguration{Enable: true, ReloadInterval: time.Minute, MaxRanges: ipdb.DefaultMaxRanges}
}

func (c IPDBConfiguration) validate() error {
	var errs []error
	if c.ReloadInterval < time.Second {
		errs = append(errs, fmt.Errorf("correlator.ipdb.reload_interval: %v is below 1s", c.ReloadInterval))
	}
	if c.MaxRanges < 1 {
		errs = append(errs, errors.New("correlator.ipdb.max_ranges: must be positive"))
	}
	return errors.Join(errs...)
}

// asEnricher holds the IP databases once loaded; until then (or when
// disabled, or when they cannot be had) flows keep the AS numbers their
// exporter sent and no name or country.
type asEnricher struct {
	cfg      IPDBConfiguration
	reloader atomic.Pointer[ipdb.Reloader]
	reloads  *prometheus.CounterVec // result
	failing  bool                   // the last check failed (only run's goroutine reads it)
}

func newASEnricher(cfg IPDBConfiguration, reg prometheus.Registerer) (*asEnricher, error) {
	f := telemetry.NewMetrics(reg, "correlator")
	e := &asEnricher{cfg: cfg, reloads: f.CounterVec("ipdb_loads_total", "Loads of the IP (AS, country) databases, by result (loaded, failed).", "result")}
	stats := func(of func(ipdb.Stats) int) func() float64 {
		return func() float64 { return float64(of(e.db().Stats())) }
	}
	f.GaugeFunc("ipdb_ranges", "AS and country ranges loaded.", stats(func(s ipdb.Stats) int { return s.Ranges }))
	f.GaugeFunc("ipdb_bytes", "Memory held by the loaded IP databases (estimate).", stats(func(s ipdb.Stats) int { return s.Bytes }))
	return e, f.Err()
}

// db is the current database; nil (which answers nothing) before a load.
func (e *asEnricher) db() *ipdb.DB {
	if r := e.reloader.Load(); r != nil {
		return r.DB()
	}
	return nil
}

// run loads the databases, then checks them for changes every reload
// interval; a failure is retried at the next one.
func (e *asEnricher) run(ctx context.Context, r *telemetry.Reporter) {
	if !e.cfg.Enable {
		return
	}
	e.check(ctx, r)
	periodic.Every(ctx, e.cfg.ReloadInterval, func() { e.check(ctx, r) })
}

func (e *asEnricher) check(ctx context.Context, r *telemetry.Reporter) {
	var reloaded bool
	var err error
	if rl := e.reloader.Load(); rl != nil {
		reloaded, err = rl.Check()
	} else {
		reloaded, err = e.load(ctx)
	}
	if ctx.Err() != nil {
		return
	}
	e.report(r, err)
	switch {
	case err != nil:
		e.reloads.WithLabelValues("failed").Inc()
	case reloaded:
		e.reloads.WithLabelValues("loaded").Inc()
		s := e.db().Stats()
		r.Log.Info("IP databases loaded", "ranges", s.Ranges, "asns", s.ASNs, "bytes", s.Bytes)
	}
}

// report says in /healthz whether the databases are loaded. Without
// them flows are still stored, only not enriched: a note, not a failure
// that would take the correlator out of its Service. The change is logged
// once.
func (e *asEnricher) report(r *telemetry.Reporter, err error) {
	if err == nil {
		r.SetNote("ipdb", "AS and country databases loaded")
		if e.failing {
			r.Log.Info("IP databases available again")
		}
		e.failing = false
		return
	}
	r.SetNote("ipdb", "not loaded, flows are stored without AS names and countries: "+err.Error())
	if !e.failing {
		r.Log.Warn("IP databases not loaded; flows are stored without AS names and countries", "error", err)
	}
	e.failing = true
}

// load makes the first Reloader, fetching the pinned packages when no
// files are configured.
func (e *asEnricher) load(ctx context.Context) (bool, error) {
	files := ipdb.Files{ASN: e.cfg.ASNFiles, Country: e.cfg.CountryFiles}
	if len(files.ASN) == 0 && len(files.Country) == 0 {
		var err error
		if files, err = ipdb.EnsureDatabases(ctx, ""); err != nil {
			return false, err
		}
	}
	rl, err := ipdb.NewReloader(files, e.cfg.MaxRanges)
	if err != nil {
		return false, err
	}
	e.reloader.Store(rl)
	return true, nil
}
