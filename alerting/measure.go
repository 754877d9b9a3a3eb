package alerting

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// series is one measured value of a rule: an interface, a node, a
// service or a reporter.
type series struct {
	labels  map[string]string // identify the series (part of the alert's labels)
	info    map[string]string // shown in annotations only (a direction, a ratio)
	value   float64
	subject subject // what the investigation is asked about; zero: nothing
}

// subject is what the API's investigate endpoint explains.
type subject struct {
	Node    string
	Device  string
	IfIndex uint32
	IP      string
}

func (s subject) zero() bool { return s == subject{} }

// query is the subject as investigate parameters.
func (s subject) query() url.Values {
	q := url.Values{}
	switch {
	case s.Node != "":
		q.Set("node", s.Node)
	case s.Device != "":
		q.Set("device", s.Device)
		q.Set("if_index", strconv.FormatUint(uint64(s.IfIndex), 10))
	case s.IP != "":
		q.Set("ip", s.IP)
	}
	return q
}

// measurer reads one rule's series from ClickHouse at now.
type measurer func(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error)

// measurers by kind.
var measurers = map[string]measurer{
	KindUtilisation:   measureUtilisation,
	KindTrafficSpike:  measureSpike,
	KindSessionHealth: measureSessionHealth,
	KindFlowSNMP:      measureFlowSNMP,
	KindSilence:       measureSilence,
}

// database runs the rules' queries with a server-side time limit and a
// row bound, and caches a query shared by several rules within one
// evaluation (the three session-health metrics read one result).
type database struct {
	conn    driver.Conn
	limit   int // rows one query may return
	queries func(kind string, took time.Duration)
	cache   map[string]any
}

// query runs sql with args (clickhouse.Named) and hands each row to
// scan. {limit} in sql is replaced by the row bound.
func (d *database) query(ctx context.Context, kind, sql string, args []any, scan func(driver.Rows) error) error {
	settings := clickhouse.Settings{}
	if dl, ok := ctx.Deadline(); ok {
		if secs := int(time.Until(dl).Seconds()); secs >= 1 {
			settings["max_execution_time"] = secs
		}
	}
	sql = strings.ReplaceAll(sql, "{limit}", strconv.Itoa(d.limit))
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings))
	began := time.Now()
	err := d.scan(ctx, sql, args, scan)
	if d.queries != nil {
		d.queries(kind, time.Since(began))
	}
	if err != nil {
		return fmt.Errorf("%s query: %w", kind, err)
	}
	return nil
}

func (d *database) scan(ctx context.Context, sql string, args []any, scan func(driver.Rows) error) error {
	rows, err := d.conn.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// chTime formats a time for a DateTime64(3) parameter.
func chTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// named binds a query parameter.
func named(name string, v any) any { return clickhouse.Named(name, v) }

// showIP is the SQL that shows an IPv6 column as users write it.
func showIP(col string) string {
	return "replaceRegexpOne(IPv6NumToString(" + col + "), '^::ffff:', '')"
}
