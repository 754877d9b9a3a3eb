package correlator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/periodic"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Component is one correlator process: a member of the consumer group.
type Component struct {
	r    *telemetry.Reporter
	cfg  Configuration
	deps Dependencies
	m    *metrics
	// progressWG and progressDone track the INSERT of the last batch's
	// progress, made in the background (recordProgressAfter).
	progressWG   sync.WaitGroup
	progressMu   sync.Mutex
	progressDone chan struct{}
	marked       map[topicPartition]progress // this member's marks, see withMarks
	warn         *telemetry.RateLimited

	ifs  *interfaceCache
	pods *podCache
	as   *asEnricher
	dlq  *bus.Producer
	// exporters names flow exporters in the per-exporter metrics.
	exporters exporterLabels

	mu       sync.Mutex
	conn     driver.Conn
	consumer *bus.Consumer

	// failedTokens are the tokens whose INSERT failed, to count retries
	// that ClickHouse may deduplicate.
	tokensMu     sync.Mutex
	failedTokens map[string]bool
	// types are the wire types of each table's INSERT, by table and
	// column list (see wireTypes).
	typesMu sync.Mutex
	types   map[string][]clickhouse.ColumnNameAndType
	// podsLoadedMs is the time of the newest pod row loaded from the
	// database (refresh goroutine only).
	podsLoadedMs int64

	// claims are this member's partitions and their fencing epochs (see
	// fence.go).
	claimsMu sync.Mutex
	claims   map[topicPartition]claim
	// fenced is the last fencing check, which the INSERTs renew when it
	// is old (see refence).
	fenceMu sync.Mutex
	fenced  fenceCheck

	// beforeFence, when set (by tests), runs after a batch is decoded and
	// before the fencing check that precedes its INSERTs.
	beforeFence func()
	// beforeInsert, when set (by tests), runs before each INSERT with the
	// table and partition ranges; an error fails the INSERT.
	beforeInsert func(table string, ranges []string) error
	// insideInsert, when set (by tests), runs inside each INSERT's
	// request, after its fencing check, before its rows are sent.
	insideInsert func(table string)
	// inserted, when set (by tests), runs after each INSERT that
	// succeeded.
	inserted func(table string)
	// afterInsert, when set (by tests), runs after a batch is stored and
	// before its offsets are committed.
	afterInsert func()
	// extraInsertSettings, when set (by benchmarks), are added to every
	// INSERT's settings.
	extraInsertSettings clickhouse.Settings
	// onFreshness, when set (by benchmarks), receives the age in seconds
	// of every record of a stored batch.
	onFreshness func(ages []float64)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the configuration and builds the component; nothing
// connects until Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if err := errors.Join(cfg.Validate(), deps.Kafka.Validate(), deps.ClickHouse.Validate()); err != nil {
		return nil, err
	}
	c := &Component{
		r: r, cfg: cfg, deps: deps,
		warn:         telemetry.NewRateLimited(r.Log, time.Minute),
		ifs:          newInterfaceCache(cfg.MaxInterfaces),
		pods:         newPodCache(cfg.MaxPodIPs, cfg.PodHistory.Milliseconds()),
		failedTokens: map[string]bool{},
		marked:       map[topicPartition]progress{},
		claims:       map[topicPartition]claim{},
		types:        map[string][]clickhouse.ColumnNameAndType{},
	}
	var err error
	if c.as, err = newASEnricher(cfg.IPDB, r.Registry); err != nil {
		return nil, err
	}
	if c.m, err = newMetrics(r.Registry, func() (float64, float64) { return float64(c.ifs.len()), float64(c.pods.len()) }); err != nil {
		return nil, err
	}
	// The dead-letter producer also creates the data topics when they
	// are missing, with the configured partitions.
	topics := append([]string{record.TopicDeadLetter}, record.Topics...)
	if c.dlq, err = bus.NewProducer(deps.Kafka, r, topics...); err != nil {
		return nil, fmt.Errorf("dead-letter producer: %w", err)
	}
	return c, nil
}

// Start connects in the background: it waits for ClickHouse (applying the
// schema), loads the enrichment caches, then joins the consumer group.
func (c *Component) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	if err := c.dlq.Start(ctx); err != nil {
		return err
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.as.run(ctx, c.r)
	}()
	go func() {
		defer c.wg.Done()
		if err := c.connect(ctx); err != nil {
			return
		}
		if err := c.join(ctx); err != nil {
			return
		}
		c.refreshLoop(ctx)
	}()
	return nil
}

// connect opens ClickHouse and applies the schema, retrying while the
// database is unreachable, then loads the caches.
func (c *Component) connect(ctx context.Context) error {
	var conn driver.Conn
	err := bus.Retry(ctx, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		var err error
		if conn, err = store.Open(cctx, c.deps.ClickHouse); err != nil {
			c.r.SetHealth("clickhouse", err)
			return err
		}
		if err = schema.Ensure(cctx, conn, c.cfg.Schema.For(c.deps.ClickHouse)); err != nil {
			conn.Close()
			c.r.SetHealth("clickhouse", fmt.Errorf("schema: %w", err))
			return err
		}
		if err = c.refresh(cctx, conn); err != nil {
			conn.Close()
			c.r.SetHealth("clickhouse", fmt.Errorf("load caches: %w", err))
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.r.SetHealth("clickhouse", nil)
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	return nil
}

func (c *Component) connection() driver.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// join starts the consumer-group member.
func (c *Component) join(ctx context.Context) error {
	consumer, err := bus.NewConsumer(c.deps.Kafka, c.cfg.consumerConfiguration(), record.Topics, c, c.r)
	if err != nil {
		c.r.SetHealth("kafka", err)
		return err
	}
	c.mu.Lock()
	if ctx.Err() != nil {
		c.mu.Unlock()
		consumer.Stop()
		return ctx.Err()
	}
	c.consumer = consumer
	c.mu.Unlock()
	return consumer.Start(ctx)
}

// refreshLoop reloads what other members stored into the caches.
func (c *Component) refreshLoop(ctx context.Context) {
	periodic.Every(ctx, c.cfg.EnrichmentRefresh, func() {
		if err := c.refresh(ctx, c.connection()); err != nil && ctx.Err() == nil {
			c.warn.Warn("refresh", "reload enrichment caches", "error", err)
		}
		c.pods.prune(time.Now().UnixMilli())
	})
}

// refresh loads the latest interfaces and the pod IPs stored since the
// previous load.
func (c *Component) refresh(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, `SELECT device_ip, if_index, argMax(device, time), argMax(if_name, time),
		argMax(if_alias, time), argMax(speed_bps, time), max(time)
		FROM `+schema.TableInterfacesLatest+` GROUP BY device_ip, if_index`)
	if err != nil {
		return fmt.Errorf("load interfaces: %w", err)
	}
	for rows.Next() {
		var ip netip.Addr
		var index uint32
		var info ifInfo
		var t time.Time
		if err := rows.Scan(&ip, &index, &info.device, &info.name, &info.alias, &info.speed, &t); err != nil {
			rows.Close()
			return fmt.Errorf("load interfaces: %w", err)
		}
		info.timeMs = t.UnixMilli()
		if !c.ifs.update(ip.As16(), index, info) {
			c.m.cacheFull.WithLabelValues("interfaces").Inc()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load interfaces: %w", err)
	}

	since := c.podsLoadedMs - time.Minute.Milliseconds() // late rows of the last load
	if c.podsLoadedMs == 0 {
		since = time.Now().Add(-c.cfg.PodHistory).UnixMilli()
	}
	rows, err = conn.Query(ctx, `SELECT time, uid, any(name), any(namespace), any(node), any(owner_name), any(start_time),
		any(deleted), any(host_network), groupArray(ip)
		FROM `+schema.TablePodIPs+` WHERE time >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
		GROUP BY time, uid ORDER BY time`, driver.NamedValue{Name: "since", Value: since})
	if err != nil {
		return fmt.Errorf("load pod IPs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, start time.Time
		var u podUpdate
		// net.IP, not netip.Addr: clickhouse-go cannot scan an
		// Array(IPv6) into netip.Addr over HTTP.
		var ips []net.IP
		if err := rows.Scan(&t, &u.uid, &u.info.name, &u.info.namespace, &u.info.node, &u.info.workload, &start,
			&u.deleted, &u.hostNetwork, &ips); err != nil {
			return fmt.Errorf("load pod IPs: %w", err)
		}
		u.timeMs, u.startMs = t.UnixMilli(), start.UnixMilli()
		for _, ip := range ips {
			var a [16]byte
			copy(a[:], ip.To16())
			u.ips = append(u.ips, a)
		}
		if !c.pods.update(u) {
			c.m.cacheFull.WithLabelValues("pod_ips").Inc()
		}
		c.podsLoadedMs = max(c.podsLoadedMs, u.timeMs)
	}
	return rows.Err()
}

// Stop leaves the group (committing what was stored), flushes the
// dead-letter producer and closes the database connection.
func (c *Component) Stop() error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	var errs []error
	c.mu.Lock()
	consumer, conn := c.consumer, c.conn
	c.consumer, c.conn = nil, nil
	c.mu.Unlock()
	if consumer != nil {
		errs = append(errs, consumer.Stop())
	}
	errs = append(errs, c.dlq.Stop())
	c.progressWG.Wait()
	if conn != nil {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}
