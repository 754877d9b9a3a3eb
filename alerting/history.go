package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
)

var historyColumns = []string{"time", "fingerprint", "rule", "kind", "status", "starts_at", "ends_at", "value",
	"labels", "annotations", "generator_url", "instance"}

// record writes the transitions of alerts to the history. The insert is
// deduplicated by its content (fingerprint, status and times), so a
// retried write after a timeout stores it once.
func record(ctx context.Context, conn driver.Conn, instance string, now time.Time, alerts []*Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	token := contentToken("alerts-", func(w io.Writer) {
		for _, a := range alerts {
			fmt.Fprintf(w, "%s-%s-%d-%d/", a.Fingerprint, a.Status(), a.StartsAt.UnixMilli(), a.EndsAt.UnixMilli())
		}
	})
	return store.Insert(ctx, conn, schema.TableAlerts, historyColumns, token, func(b driver.Batch) error {
		for _, a := range alerts {
			if err := b.Append(now, a.Fingerprint, a.Rule, a.Kind, a.Status(), a.StartsAt, a.EndsAt, a.Value,
				a.Labels, a.Annotations, a.GeneratorURL, instance); err != nil {
				return err
			}
		}
		return nil
	})
}

// restore reads the alerts whose latest transition is "firing": what the
// previous active instance had notified and not yet resolved.
func restore(ctx context.Context, conn driver.Conn) ([]*Alert, error) {
	return queryAlerts(ctx, conn, "restore alerts", `SELECT fingerprint, argMax(rule, time), argMax(kind, time), argMax(starts_at, time),
			argMax(value, time), argMax(labels, time), argMax(annotations, time), argMax(generator_url, time)
		FROM `+schema.TableAlerts+`
		GROUP BY fingerprint
		HAVING argMax(status, time) = 'firing'`, nil, func(rows driver.Rows, a *Alert) error {
		err := rows.Scan(&a.Fingerprint, &a.Rule, &a.Kind, &a.StartsAt, &a.Value, &a.Labels, &a.Annotations, &a.GeneratorURL)
		a.ActiveAt = a.StartsAt
		return err
	})
}

// queryAlerts runs sql and makes an alert of each row with scan; what
// names the reading in errors.
func queryAlerts(ctx context.Context, conn driver.Conn, what, sql string, args []any, scan func(driver.Rows, *Alert) error) ([]*Alert, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*Alert
	for rows.Next() {
		a := &Alert{}
		if err := scan(rows, a); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// schemaReady says whether the alert history exists (the correlator
// applies the migrations).
func schemaReady(ctx context.Context, conn driver.Conn) error {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '"+schema.TableAlerts+"'").Scan(&n); err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("table %s does not exist yet: the correlator applies the schema migrations", schema.TableAlerts)
	}
	return nil
}

// contentToken is the deduplication token of an INSERT made of what write
// puts into it, so that a retried write stores its rows once. Hashed: a
// mass event's token must still fit in a request.
func contentToken(prefix string, write func(w io.Writer)) string {
	h := sha256.New()
	write(h)
	return prefix + hex.EncodeToString(h.Sum(nil))
}
