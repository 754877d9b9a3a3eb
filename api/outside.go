package api

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// OutsideRange is where the rows an empty answer's filters match lie:
// a range that misses them (a replayed capture queried at its own dates,
// an exporter whose clock is off) then says so instead of a bare 0.
type OutsideRange struct {
	Rows     uint64     `json:"rows" doc:"Flows matching the filters outside the range (by time_received, the axis of TopN and the rollups)."`
	Before   uint64     `json:"before" doc:"Of those, received before the range."`
	After    uint64     `json:"after" doc:"Of those, received after it."`
	Earliest *time.Time `json:"earliest,omitempty" doc:"Receive time of the earliest of them."`
	Latest   *time.Time `json:"latest,omitempty" doc:"Receive time of the latest of them."`
	// Flows whose exporter stamped them inside the range: their own
	// times, before any skew correction.
	ExporterTimeInRange uint64 `json:"exporter_time_in_range" doc:"Of those, flows whose exporter's own start–end (before skew correction) overlaps the range: a replayed capture, or an exporter whose clock is off (see time_basis)."`
	Note                string `json:"note"`
}

// exporterTime is a raw flow's end or start as its exporter stamped it.
const exporterTime = "%s - toIntervalMillisecond(exporter_clock_skew_ms)"

// outsideRange counts the raw flows that q's filters (without a time
// condition) match outside [from, to).
func (c *Component) outsideRange(ctx context.Context, filters *query, from, to time.Time) (*OutsideRange, error) {
	q := filters.clone()
	f, t := q.bind("DateTime64(3, 'UTC')", chTime(from)), q.bind("DateTime64(3, 'UTC')", chTime(to))
	q.and("NOT (time_received >= " + f + " AND time_received < " + t + ")")
	sql := `SELECT count(), countIf(time_received < ` + f + `), countIf(time_received >= ` + t + `),
	min(time_received), max(time_received),
	countIf(` + fmt.Sprintf(exporterTime, "time_flow_end") + ` >= ` + f + ` AND ` + fmt.Sprintf(exporterTime, "time_flow_start") + ` < ` + t + `)
FROM flows WHERE ` + q.where()
	var o OutsideRange
	var earliest, latest time.Time
	err := c.run(ctx, "outside_range", sql, q.args, func(rows driver.Rows) error {
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
