package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/store"
)

// The webhooks' outbox: every transition is in the alert history before
// it is queued (commit), and a webhook's acknowledgement is written to
// alert_deliveries. A replica that becomes active sends again the
// transitions of the last retry_for that no webhook acknowledged — those
// queued by a replica that was killed or stopped before it could deliver
// them — but none from before the webhook was first known (a row with no
// fingerprint marks that). Delivery is at least once: a message carries its transition's
// key, by which receivers deduplicate.

var deliveryColumns = []string{"time", "receiver", "fingerprint", "status", "starts_at"}

// key identifies a transition: the same alert firing again later has
// another key, the same notification sent twice the same one.
func (a *Alert) key() string {
	return a.Fingerprint + "/" + a.Status() + "/" + strconv.FormatInt(a.StartsAt.UnixMilli(), 10)
}

// outboxID names a webhook in alert_deliveries: a hash of its URL, the
// same on every replica, that shows no secret the URL holds.
func outboxID(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "webhook-" + hex.EncodeToString(sum[:6])
}

// markDelivered records that receiver acknowledged alerts' transitions;
// a retry stores them once.
func markDelivered(ctx context.Context, conn driver.Conn, receiver string, now time.Time, alerts []*Alert) error {
	token := contentToken("delivered-"+receiver+"-", func(w io.Writer) {
		for _, a := range alerts {
			fmt.Fprintf(w, "%s/", a.key())
		}
	})
	return store.Insert(ctx, conn, schema.TableAlertDeliveries, deliveryColumns, token, func(b driver.Batch) error {
		for _, a := range alerts {
			if err := b.Append(now, receiver, a.Fingerprint, a.Status(), a.StartsAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// delivered is a webhook receiver's acknowledgement hook: it writes the
// delivery marks, so that the next active replica does not send them
// again. A mark that cannot be written means a duplicate later, never a
// loss.
func (c *Component) delivered(receiver string) func([]*Alert) {
	return func(alerts []*Alert) {
		p := c.conn.Load()
		if p == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.QueryTimeout)
		defer cancel()
		if err := markDelivered(ctx, *p, receiver, c.now(), alerts); err != nil {
			c.m.historyErrors.Add(float64(len(alerts)))
			c.m.warn.Warn("outbox", "webhook delivery not recorded: the next active replica will send it again", "error", err)
		}
	}
}

// undelivered queues again, for each webhook, the transitions of the
// last retry_for it did not acknowledge, with their first queuing time
// (the retry budget goes on). It returns how many.
func (c *Component) undelivered(ctx context.Context, conn driver.Conn, now time.Time) (int, error) {
	n := 0
	for _, rc := range c.receivers {
		if rc.outbox == "" {
			continue
		}
		known, err := knownSince(ctx, conn, rc.outbox)
		if err != nil {
			return n, err
		}
		if known.IsZero() {
			// A webhook new to the outbox (or the first start with one)
			// gets what happens from now on, not the past hour again.
			if err := markDelivered(ctx, conn, rc.outbox, now, []*Alert{{}}); err != nil {
				return n, err
			}
			continue
		}
		since := now.Add(-c.cfg.Delivery.RetryFor)
		if known.After(since) {
			since = known
		}
		queued, alerts, err := readUndelivered(ctx, conn, rc.outbox, since, c.cfg.Delivery.QueueSize)
		if err != nil {
			return n, err
		}
		for i, a := range alerts {
			rc.enqueue(queued[i], a)
		}
		n += len(alerts)
	}
	return n, nil
}

// knownSince is when receiver was first known to the outbox (its oldest
// row: the mark written when an active replica first met it), zero if
// never.
func knownSince(ctx context.Context, conn driver.Conn, receiver string) (time.Time, error) {
	var n uint64
	var first time.Time
	err := conn.QueryRow(ctx, `SELECT count(), min(time) FROM `+schema.TableAlertDeliveries+` WHERE receiver = {receiver:String}`,
		named("receiver", receiver)).Scan(&n, &first)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the outbox of %s: %w", receiver, err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return first, nil
}

// readUndelivered reads the history's transitions since then that
// receiver did not acknowledge, oldest first, at most limit.
func readUndelivered(ctx context.Context, conn driver.Conn, receiver string, since time.Time, limit int) ([]time.Time, []*Alert, error) {
	var times []time.Time
	alerts, err := queryAlerts(ctx, conn, "read undelivered notifications", `SELECT time, fingerprint, rule, kind, toString(status),
			starts_at, ends_at, value, labels, annotations, generator_url
		FROM `+schema.TableAlerts+`
		WHERE time >= {since:DateTime64(3)} AND (fingerprint, status, starts_at) NOT IN (
			SELECT fingerprint, status, starts_at FROM `+schema.TableAlertDeliveries+`
			WHERE receiver = {receiver:String} AND time >= {since:DateTime64(3)})
		ORDER BY time, fingerprint
		LIMIT {limit:UInt32}`,
		[]any{named("since", chTime(since)), named("receiver", receiver), named("limit", uint32(limit))},
		func(rows driver.Rows, a *Alert) error {
			var t time.Time
			var status string
			if err := rows.Scan(&t, &a.Fingerprint, &a.Rule, &a.Kind, &status, &a.StartsAt, &a.EndsAt, &a.Value,
				&a.Labels, &a.Annotations, &a.GeneratorURL); err != nil {
				return err
			}
			if status == "firing" {
				a.EndsAt = time.Time{} // stored as 1970
			}
			times = append(times, t)
			return nil
		})
	return times, alerts, err
}
