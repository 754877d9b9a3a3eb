package api

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// query accumulates WHERE conditions whose every value is a bound
// parameter ({pN:Type}); the SQL text holds only constants of this
// package, never request text.
type query struct {
	conds []string
	args  []any
}

// bind adds a parameter and returns its placeholder. typ is a constant.
func (q *query) bind(typ string, v any) string {
	name := fmt.Sprintf("p%d", len(q.args))
	q.args = append(q.args, clickhouse.Named(name, v))
	return "{" + name + ":" + typ + "}"
}

// and adds a condition; format's %s verbs take placeholders from bind.
func (q *query) and(cond string) { q.conds = append(q.conds, cond) }

// where renders the conditions joined by AND ("1" when none).
func (q *query) where() string {
	if len(q.conds) == 0 {
		return "1"
	}
	return "(" + strings.Join(q.conds, ") AND (") + ")"
}

// clone copies q so that a variant can add conditions.
func (q *query) clone() *query {
	return &query{conds: append([]string(nil), q.conds...), args: append([]any(nil), q.args...)}
}

// ipParam is the text form the IPv6 columns parse: IPv4 as ::ffff:a.b.c.d.
func ipParam(a netip.Addr) string { return netip.AddrFrom16(a.As16()).String() }

// ipString shows an address as users write it: IPv4-mapped as IPv4.
func ipString(ip net.IP) string {
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.String()
}

// chTime formats a time for a DateTime64(3) parameter.
func chTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// run executes a SELECT with the query timeout also set on the server,
// timing it under name.
func (c *Component) run(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error {
	conn, err := c.db()
	if err != nil {
		return err
	}
	settings := clickhouse.Settings{}
	if dl, ok := ctx.Deadline(); ok {
		if secs := int(time.Until(dl).Seconds()); secs >= 1 {
			settings["max_execution_time"] = secs
		}
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings))
	began := time.Now()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(began)
	c.metrics.queries.WithLabelValues(name).Observe(took.Seconds())
	c.r.Log.Debug("query", "name", name, "took", took)
	return nil
}
