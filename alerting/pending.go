package alerting

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
)

// Pending alerts are written to alert_pending when they start and stop
// pending, so that the next active replica keeps each one's ActiveAt: a
// hand-over inside a rule's `for` neither restarts it nor shortens it.

var pendingColumns = []string{"time", "fingerprint", "rule", "kind", "active_at", "labels", "pending"}

// pendingChanges compares the alerts pending now with those last saved:
// started are new (or pending again since another time), stopped fired
// or were dropped.
func pendingChanges(states map[string]*ruleState, saved map[string]*Alert) (now map[string]*Alert, started, stopped []*Alert) {
	now = map[string]*Alert{}
	for _, st := range states {
		for fp, a := range st.active {
			if a.Firing() {
				continue
			}
			now[fp] = a
			if s, ok := saved[fp]; !ok || !s.ActiveAt.Equal(a.ActiveAt) {
				started = append(started, a)
			}
		}
	}
	for fp, a := range saved {
		if _, ok := now[fp]; !ok {
			stopped = append(stopped, a)
		}
	}
	sortAlerts(started)
	sortAlerts(stopped)
	return now, started, stopped
}

// savePending writes the changes of the pending alerts; the insert is
// deduplicated by its content, so a retry stores it once.
func savePending(ctx context.Context, conn driver.Conn, now time.Time, started, stopped []*Alert) error {
	if len(started)+len(stopped) == 0 {
		return nil
	}
	token := contentToken("pending-", func(w io.Writer) {
		fmt.Fprintf(w, "%d/", now.UnixMilli())
		for _, a := range started {
			fmt.Fprintf(w, "+%s-%d/", a.Fingerprint, a.ActiveAt.UnixMilli())
		}
		for _, a := range stopped {
			fmt.Fprintf(w, "-%s/", a.Fingerprint)
		}
	})
	return store.Insert(ctx, conn, schema.TableAlertPending, pendingColumns, token, func(b driver.Batch) error {
		for _, a := range started {
			if err := b.Append(now, a.Fingerprint, a.Rule, a.Kind, a.ActiveAt, a.Labels, uint8(1)); err != nil {
				return err
			}
		}
		for _, a := range stopped {
			if err := b.Append(now, a.Fingerprint, a.Rule, a.Kind, a.ActiveAt, a.Labels, uint8(0)); err != nil {
				return err
			}
		}
		return nil
	})
}

// restorePending reads the alerts whose latest row says pending.
func restorePending(ctx context.Context, conn driver.Conn) ([]*Alert, error) {
	return queryAlerts(ctx, conn, "restore pending alerts", `SELECT fingerprint, argMax(rule, time), argMax(kind, time),
			argMax(active_at, time), argMax(labels, time)
		FROM `+schema.TableAlertPending+`
		GROUP BY fingerprint
		HAVING argMax(pending, time) = 1`, nil, func(rows driver.Rows, a *Alert) error {
		return rows.Scan(&a.Fingerprint, &a.Rule, &a.Kind, &a.ActiveAt, &a.Labels)
	})
}

// persistPending saves what changed among the pending alerts since the
// last save; on failure the next evaluation tries again.
func (c *Component) persistPending(ctx context.Context, conn driver.Conn, now time.Time) {
	current, started, stopped := pendingChanges(c.states, c.pending)
	if len(started)+len(stopped) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
	err := bus.Retry(pctx, func(ctx context.Context) error { return savePending(ctx, conn, now, started, stopped) })
	cancel()
	if err != nil {
		c.m.historyErrors.Add(float64(len(started) + len(stopped)))
		c.m.warn.Warn("pending", "pending alerts not saved: a hand-over now would start their for over", "error", err)
		return
	}
	c.pending = current
}
