package investigation

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// flowsOutside is where the subject's flows lie when the flows layer has
// none in the range (nil otherwise).
func (r *investigation) flowsOutside(ctx context.Context) (*apiv1.OutsideRange, error) {
	if r.rows["flows"] > 0 || r.sc.flows == nil {
		return nil, nil
	}
	o, err := r.c.OutsideRange(ctx, r.sc.flows, r.from, r.to)
	return o, layerError("flows", err)
}

// exporterTime is a raw flow's end or start as its exporter stamped it.
const exporterTime = "%s - toIntervalMillisecond(exporter_clock_skew_ms)"

// OutsideRange counts the raw flows that q's filters (without a time
// condition) match outside [from, to).
func (c *Investigator) OutsideRange(ctx context.Context, filters *query.Builder, from, to time.Time) (*apiv1.OutsideRange, error) {
	q := filters.Clone()
	f, t := q.Bind("DateTime64(3, 'UTC')", query.Time(from)), q.Bind("DateTime64(3, 'UTC')", query.Time(to))
	q.And("NOT (time_received >= " + f + " AND time_received < " + t + ")")
	sql := `SELECT count(), countIf(time_received < ` + f + `), countIf(time_received >= ` + t + `),
	min(time_received), max(time_received),
	countIf(` + fmt.Sprintf(exporterTime, "time_flow_end") + ` >= ` + f + ` AND ` + fmt.Sprintf(exporterTime, "time_flow_start") + ` < ` + t + `)
FROM ` + schema.TableFlows + ` WHERE ` + q.Where()
	var o apiv1.OutsideRange
	var earliest, latest time.Time
	err := c.Run(ctx, "outside_range", sql, q.Args, func(rows driver.Rows) error {
		return rows.Scan(&o.Rows, &o.Before, &o.After, &earliest, &latest, &o.ExporterTimeInRange)
	})
	if err != nil {
		return nil, err
	}
	o.Note = "no flow matches in the range"
	if o.Rows > 0 {
		o.Earliest, o.Latest = &earliest, &latest
		o.Note = fmt.Sprintf("%d matching flows were received outside the range, from %s to %s",
			o.Rows, earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
		if o.ExporterTimeInRange > 0 {
			o.Note += fmt.Sprintf("; %d of them carry exporter times inside the range (a replayed capture, or an exporter clock that is off: placed by its corrected or receive time)", o.ExporterTimeInRange)
		}
	}
	return &o, nil
}
