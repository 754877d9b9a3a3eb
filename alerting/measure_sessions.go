package alerting

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// serviceHealth is one service's TCP health over a window: a service is
// the server side of the agents' sessions — its pod (or its address when
// no pod owns it) and port — seen from its own sockets and its clients'.
type serviceHealth struct {
	namespace, pod, ip, node string
	port                     uint16
	rttP95Ms, jitterP95Ms    float64
	retransmitRatio          float64
	segments                 uint64
}

// value is the health figure metric names.
func (h serviceHealth) value(metric string) float64 {
	switch metric {
	case MetricRTT:
		return h.rttP95Ms
	case MetricJitter:
		return h.jitterP95Ms
	}
	return h.retransmitRatio
}

func (h serviceHealth) name() string {
	who := h.ip
	if h.pod != "" {
		who = h.namespace + "/" + h.pod
	}
	return who + ":" + strconv.Itoa(int(h.port))
}

// serviceHealthSQL reads every service's health from the raw sockets,
// the busiest first. The client port is 0 in neither raw direction: a
// server socket's local port and a client socket's remote port are the
// service's.
const serviceHealthSQL = `SELECT ns, pod, ip, port, any(at_node),
		quantileTDigest(0.95)(srtt_us) / 1000, quantileTDigest(0.95)(jitter_us) / 1000,
		sum(retransmits) / greatest(sum(segs_out), 1), sum(segs_out) AS segs
	FROM (SELECT
			if(direction = 'server', local_namespace, remote_namespace) AS ns,
			if(direction = 'server', local_pod, remote_pod) AS pod,
			if(pod = '', ` + "%IP%" + `, '') AS ip,
			if(direction = 'server', local_port, remote_port) AS port,
			if(direction = 'server', node, remote_node) AS at_node,
			srtt_us, jitter_us, retransmits, segs_out
		FROM ` + schema.TableSockets + `
		WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)} AND direction != 'unspecified')
	GROUP BY ns, pod, ip, port
	HAVING segs > 0
	ORDER BY segs DESC LIMIT {limit}`

// serviceHealths reads (once per evaluation and window) every service's
// health.
func serviceHealths(ctx context.Context, db *database, window time.Duration, now time.Time) ([]serviceHealth, error) {
	key := "sessions/" + window.String()
	if v, ok := db.cache[key]; ok {
		return v.([]serviceHealth), nil
	}
	ipExpr := showIP("if(direction = 'server', local_ip, remote_ip)")
	sql := strings.ReplaceAll(serviceHealthSQL, "%IP%", ipExpr)
	args := []any{named("from", chTime(now.Add(-window))), named("to", chTime(now))}
	var out []serviceHealth
	err := db.query(ctx, KindSessionHealth, sql, args, func(rows driver.Rows) error {
		var h serviceHealth
		if err := rows.Scan(&h.namespace, &h.pod, &h.ip, &h.port, &h.node, &h.rttP95Ms, &h.jitterP95Ms, &h.retransmitRatio, &h.segments); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.cache[key] = out
	return out, nil
}

// measureSessionHealth is one health figure of every service that sent
// at least r.Min segments in the window.
func measureSessionHealth(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error) {
	all, err := serviceHealths(ctx, db, r.Window, now)
	if err != nil {
		return nil, err
	}
	var out []series
	for _, h := range all {
		v := h.value(r.Metric)
		if float64(h.segments) < r.Min || v <= r.ResolveThreshold {
			continue
		}
		s := series{
			labels: map[string]string{"service": h.name(), "namespace": h.namespace, "pod": h.pod, "port": strconv.Itoa(int(h.port))},
			info:   map[string]string{"node": h.node},
			value:  v,
		}
		if h.ip != "" {
			s.labels["ip"] = h.ip
			s.subject = subject{IP: h.ip}
		} else if h.node != "" {
			s.subject = subject{Node: h.node}
		}
		out = append(out, s)
	}
	return out, nil
}
