package api

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

func (c *Component) alertsParams() []paramSpec {
	return []paramSpec{
		{Name: "state", Type: "string", Enum: []string{"history", "firing"},
			Description: "history (default): the transitions (fired, resolved) recorded in the range, newest first; firing: the alerts firing now, whenever they fired."},
		{Name: "rule", Type: "string", Description: "Only this rule (alertname)."},
		paramFrom, paramTo, paramLimit(c.cfg.MaxLimit),
	}
}

// alertColumns are read for every alert row, in apiv1.Alert's order.
const alertColumns = `time, fingerprint, rule, kind, toString(status) AS state, starts_at, ends_at, value, labels, annotations, generator_url, instance`

// handleAlerts reads the alerting component's history.
func (c *Component) handleAlerts(ctx context.Context, p *params) (any, error) {
	state, err := p.enum("state", "history", []string{"history", "firing"})
	if err != nil {
		return nil, err
	}
	from, to, err := p.timeRange(24*time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(100, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	if p.has("rule") {
		rule, err := p.name("rule")
		if err != nil {
			return nil, err
		}
		q.And("rule = " + q.Bind("String", rule))
	}
	var sql string
	if state == "firing" {
		// The latest transition of each alert, when it is "firing".
		sql = `SELECT ` + alertColumns + ` FROM ` + schema.TableAlerts + `
WHERE ` + q.Where() + `
ORDER BY time DESC LIMIT 1 BY fingerprint`
		sql = `SELECT * FROM (` + sql + `) WHERE state = 'firing' ORDER BY starts_at DESC LIMIT ` + q.Bind("UInt32", uint32(limit))
	} else {
		query.TimeCond(q, "time", from, to)
		sql = `SELECT ` + alertColumns + ` FROM ` + schema.TableAlerts + `
WHERE ` + q.Where() + `
ORDER BY time DESC, fingerprint LIMIT ` + q.Bind("UInt32", uint32(limit))
	}
	resp := apiv1.AlertsResponse{Range: Range{From: from, To: to, Source: schema.TableAlerts}, State: state, Alerts: []apiv1.Alert{}}
	err = c.run(ctx, "alerts", sql, q.Args, func(rows driver.Rows) error {
		var a apiv1.Alert
		var ends time.Time
		if err := rows.Scan(&a.Time, &a.Fingerprint, &a.Rule, &a.Kind, &a.Status, &a.StartsAt, &ends, &a.Value,
			&a.Labels, &a.Annotations, &a.GeneratorURL, &a.Instance); err != nil {
			return err
		}
		a.Time, a.StartsAt = a.Time.UTC(), a.StartsAt.UTC()
		if a.Status == "resolved" {
			e := ends.UTC()
			a.EndsAt = &e
		}
		resp.Alerts = append(resp.Alerts, a)
		return nil
	})
	return resp, err
}
