package alerting

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// silenceSQL reads when each reporter was last heard of, from the
// smallest table that knows it: the minute flow rollup for exporters,
// the latest poll of each interface for SNMP devices, the minute socket
// rollup for agents. A rollup row's time is its minute's start, so a
// minute is added: silence is never overstated.
var silenceSQL = map[string]string{
	SubjectExporter: `SELECT ` + showIP("exporter_ip") + `, any(exporter_name), max(time) + 60
		FROM ` + schema.TableFlows1m + ` WHERE time >= {from:DateTime} GROUP BY exporter_ip LIMIT {limit}`,
	SubjectSNMPDevice: `SELECT device, any(sys_name), toDateTime(max(time))
		FROM ` + schema.TableInterfacesLatest + ` WHERE time >= {from:DateTime} GROUP BY device LIMIT {limit}`,
	SubjectAgent: `SELECT node, node, max(time) + 60
		FROM ` + schema.TableSockets1m + ` WHERE time >= {from:DateTime} GROUP BY node LIMIT {limit}`,
}

// silenceLabel names the reporter in the alert's labels.
var silenceLabel = map[string]string{SubjectExporter: "exporter", SubjectSNMPDevice: "device", SubjectAgent: "node"}

// measureSilence is how long (seconds) each reporter heard of within the
// window has been quiet.
func measureSilence(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error) {
	args := []any{named("from", now.Add(-r.Window).UTC().Format(time.DateTime))}
	var out []series
	err := db.query(ctx, r.Kind+"/"+r.Subject, silenceSQL[r.Subject], args, func(rows driver.Rows) error {
		var id, name string
		var last time.Time
		if err := rows.Scan(&id, &name, &last); err != nil {
			return err
		}
		quiet := now.Sub(last).Seconds()
		if quiet <= r.ResolveThreshold {
			return nil
		}
		label := r.Subject + " " + id
		if name != "" && name != id {
			label += " (" + name + ")"
		}
		out = append(out, series{labels: map[string]string{silenceLabel[r.Subject]: id},
			info: map[string]string{"subject": label, "last_seen": last.UTC().Format(time.RFC3339)}, value: quiet})
		return nil
	})
	return out, err
}
