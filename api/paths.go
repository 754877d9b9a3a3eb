package api

import (
	"context"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

func ifKey(deviceIP string, ifIndex uint32) string { return fmt.Sprintf("%s/%d", deviceIP, ifIndex) }

func countSNMP(ifs []PathInterface) int {
	n := 0
	for _, i := range ifs {
		if i.OperStatus != "" {
			n++
		}
	}
	return n
}

// pathInterfaces lists the interfaces the subject's traffic crossed in
// the event window (from the flows' exporter and interface indexes), the
// subject interface first, with their SNMP rates and utilisation.
func (c *Component) pathInterfaces(ctx context.Context, sc *scope, flows []flowGroup, event window) ([]PathInterface, error) {
	type cand struct {
		ip    string
		idx   uint32
		bytes uint64
		role  string
	}
	cands := map[string]*cand{}
	var order []string
	add := func(ip net.IP, idx uint32, b uint64, role string) {
		if idx == 0 || ip == nil {
			return
		}
		s := ipString16(ip)
		k := ifKey(s, idx)
		if cands[k] == nil {
			cands[k] = &cand{ip: s, idx: idx, role: role}
			order = append(order, k)
		}
		cands[k].bytes += b
	}
	if sc.subject.Kind == "interface" {
		if ip, ok := c.subjectDeviceIP(ctx, sc); ok {
			add(ip, sc.subject.IfIndex, 0, "subject")
		}
	}
	for i := range flows {
		f := &flows[i]
		add(f.Exporter, f.InIf, f.W[1], "path")
		add(f.Exporter, f.OutIf, f.W[1], "path")
	}
	list := make([]*cand, 0, len(order))
	for _, k := range order {
		list = append(list, cands[k])
	}
	sort.SliceStable(list, func(i, j int) bool {
		if (list[i].role == "subject") != (list[j].role == "subject") {
			return list[i].role == "subject"
		}
		return list[i].bytes > list[j].bytes
	})
	if len(list) > maxPathInterfaces {
		list = list[:maxPathInterfaces]
	}
	if len(list) == 0 {
		return []PathInterface{}, nil
	}
	keys := make([]string, len(list))
	for i, cd := range list {
		keys[i] = ifKey(cd.ip, cd.idx)
	}
	q := &query{}
	q.and("has(" + q.bind("Array(String)", keys) + ", concat(toString(device_ip), '/', toString(if_index)))")
	timeCond(q, "time", event.Start.Add(-time.Hour), event.End.Add(5*time.Minute))
	e0, e1 := q.bind("DateTime64(3, 'UTC')", chTime(event.Start)), q.bind("DateTime64(3, 'UTC')", chTime(event.End.Add(2*time.Minute)))
	in := "rate_valid AND time >= " + e0 + " AND time < " + e1
	sql := `SELECT toString(device_ip), if_index, device, argMax(if_name, time), argMax(speed_bps, time), argMax(oper_status, time),
	avgIf(in_bps, ` + in + `), avgIf(out_bps, ` + in + `), avgIf(in_utilization, ` + in + `), avgIf(out_utilization, ` + in + `),
	maxIf(greatest(in_utilization, out_utilization), ` + in + `),
	sumIf(delta_in_errors + delta_out_errors, ` + in + `), sumIf(delta_in_discards + delta_out_discards, ` + in + `)
FROM ifstats WHERE ` + q.where() + `
GROUP BY device_ip, device, if_index`
	// Devices behind one address (an SNMP proxy) share a key: flows
	// cannot tell them apart, so each is listed.
	found := map[string][]PathInterface{}
	err := c.run(ctx, "investigate_interfaces", sql, q.args, func(rows driver.Rows) error {
		p := PathInterface{SNMP: &PathSNMP{}}
		var ip string
		var oper uint8
		n := p.SNMP
		if err := rows.Scan(&ip, &p.IfIndex, &p.Device, &p.Name, &n.SpeedBps, &oper, &n.InBps, &n.OutBps,
			&n.InUtilization, &n.OutUtilization, &n.MaxUtilization, &n.Errors, &n.Discards); err != nil {
			return err
		}
		p.OperStatus = operStatus(oper)
		n.InBps, n.OutBps = round(n.InBps, 0), round(n.OutBps, 0)
		n.InUtilization, n.OutUtilization, n.MaxUtilization = round(n.InUtilization, 4), round(n.OutUtilization, 4), round(n.MaxUtilization, 4)
		found[ifKey(ip, p.IfIndex)] = append(found[ifKey(ip, p.IfIndex)], p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]PathInterface, 0, len(list))
	for _, cd := range list {
		polled := found[ifKey(cd.ip, cd.idx)]
		if len(polled) == 0 {
			// Flows name it but SNMP does not poll it.
			p := PathInterface{Device: cd.ip, IfIndex: cd.idx}
			if ip := net.ParseIP(cd.ip); ip != nil {
				p.Device = ipString(ip)
			}
			polled = []PathInterface{p}
		}
		for _, p := range polled {
			p.Role, p.FlowBytes, p.DeviceIP = cd.role, cd.bytes, cd.ip
			out = append(out, p)
		}
	}
	return out, nil
}

// subjectDeviceIP is the address of an interface subject's device.
func (c *Component) subjectDeviceIP(ctx context.Context, sc *scope) (net.IP, bool) {
	q := sc.snmp.clone()
	var ip net.IP
	err := c.run(ctx, "investigate_device_ip", `SELECT device_ip FROM interfaces_latest WHERE `+q.where()+` LIMIT 1`, q.args,
		func(rows driver.Rows) error { return rows.Scan(&ip) })
	if err != nil || ip == nil {
		return parseIP(sc.subject.Device)
	}
	return ip, true
}

// contributorPods are the pods among the contributors, and the local
// pods of the sockets they come from.
func contributorPods(ct Contributors, groups []socketGroup) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ct.Pods {
		if !seen[p.Key] {
			seen[p.Key] = true
			out = append(out, p.Key)
		}
	}
	for i := range groups {
		if k := podLabel(groups[i].RemoteNS, groups[i].RemotePod); k != "" && !seen[k] && len(out) < 2*maxContributors {
			if groups[i].W[1].Bytes > 0 {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// podStatus reads the latest state of pods ("namespace/name") and their
// restarts since since.
func (c *Component) podStatus(ctx context.Context, pods []string, since, to time.Time) ([]PodStatus, error) {
	out := []PodStatus{}
	if len(pods) == 0 {
		return out, nil
	}
	q := &query{}
	q.and("has(" + q.bind("Array(String)", pods) + ", concat(namespace, '/', name))")
	q.and("time < " + q.bind("DateTime64(3, 'UTC')", chTime(to)))
	sincePh := q.bind("DateTime64(3, 'UTC')", chTime(since))
	sql := `SELECT namespace, name, argMax(node, time), argMax(owner_kind, time), argMax(owner_name, time), argMax(phase, time),
	argMax(restarts, time), argMaxIf(restarts, time, time < ` + sincePh + `), countIf(time < ` + sincePh + `) > 0, argMax(deleted, time)
FROM pods WHERE ` + q.where() + `
GROUP BY namespace, name
ORDER BY namespace, name`
	err := c.run(ctx, "investigate_pods", sql, q.args, func(rows driver.Rows) error {
		var p PodStatus
		var kind, owner string
		var before uint32
		var hadBefore, deleted bool
		if err := rows.Scan(&p.Namespace, &p.Name, &p.Node, &kind, &owner, &p.Phase, &p.Restarts, &before, &hadBefore, &deleted); err != nil {
			return err
		}
		if owner != "" {
			p.Workload = kind + "/" + owner
		}
		if hadBefore && p.Restarts > before {
			p.RestartsInWindow = p.Restarts - before
		}
		if deleted {
			p.Phase = "Deleted"
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

func (c *Component) reconciliationParams() []paramSpec {
	return []paramSpec{paramDevice,
		{Name: "if_index", Type: "integer", Maximum: 1<<32 - 1, Description: "Only this interface index."},
		{Name: "status", Type: "string", Enum: reconciliationStatuses, Description: "Only rows with this status."},
		paramFrom, paramTo, paramLimit(c.cfg.MaxLimit)}
}

func (c *Component) handleReconciliation(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	q := &query{}
	if err := interfaceFilter(p, q); err != nil {
		return nil, err
	}
	status, err := p.enum("status", "", reconciliationStatuses)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(100, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	rows, err := c.reconcile(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	resp := ReconciliationResponse{Range: Range{From: from, To: to, Source: "interface_snmp_5m, interface_flows_5m"}, Rows: []Reconciliation{}}
	for _, r := range rows {
		if (status == "" || r.Status == status) && len(resp.Rows) < limit {
			resp.Rows = append(resp.Rows, r)
		}
	}
	return resp, nil
}

// reconciliationStatuses are the values of Reconciliation.Status.
var reconciliationStatuses = []string{"ok", "flows_low", "flows_high", "no_flows", "no_snmp", "no_verdict"}

// minReconcileBytes: below this much SNMP traffic in the range, a ratio
// says nothing.
const minReconcileBytes = 1 << 20

// reconcile compares, per interface and direction, SNMP octets with flow
// bytes × sampling rate over the 5-minute buckets SNMP covered; filter is
// a condition on device_ip/if_index. Problems sort first.
func (c *Component) reconcile(ctx context.Context, filter *query, from, to time.Time) ([]Reconciliation, error) {
	q := filter.clone()
	f0, f1 := q.bind("DateTime('UTC')", from.Truncate(5*time.Minute).Format(time.DateTime)), q.bind("DateTime('UTC')", to.Format(time.DateTime))
	sql := `SELECT toString(s.device_ip), s.if_index, s.device, any(s.if_name), sum(s.in_oct), sum(s.out_oct), sum(f.in_b), sum(f.out_b),
	sum(f.cap_in_b), sum(f.cap_out_b), sum(f.cap_either_b), any(sr.rate)
FROM (
	SELECT time, device_ip, device, if_index, any(if_name) AS if_name, sum(in_octets) AS in_oct, sum(out_octets) AS out_oct
	FROM interface_snmp_5m
	WHERE time >= ` + f0 + ` AND time < ` + f1 + ` AND ` + q.where() + `
	GROUP BY time, device_ip, device, if_index
) AS s
LEFT JOIN (` + flowSidesSQL(f0, f1) + `) AS f ON s.time = f.t5 AND s.device_ip = f.exporter_ip AND s.if_index = f.if_index
LEFT JOIN (
	SELECT exporter_ip, argMax(sampling_rate, time_received) AS rate
	FROM flows
	WHERE time_received >= greatest(` + f0 + `, ` + f1 + ` - toIntervalHour(1)) AND time_received < ` + f1 + `
	GROUP BY exporter_ip
) AS sr ON s.device_ip = sr.exporter_ip
GROUP BY s.device_ip, s.device, s.if_index`
	var out []Reconciliation
	err := c.run(ctx, "reconciliation", sql, q.args, func(rows driver.Rows) error {
		var ip, device, name string
		var idx uint32
		var sides ifSides
		if err := rows.Scan(&ip, &idx, &device, &name, &sides.snmpIn, &sides.snmpOut, &sides.flowIn, &sides.flowOut, &sides.capIn, &sides.capOut, &sides.capAny, &sides.rate); err != nil {
			return err
		}
		exporter := ip
		if a := net.ParseIP(ip); a != nil {
			exporter = ipString(a)
		}
		out = append(out, sides.rows(Reconciliation{Exporter: exporter, Device: device, IfIndex: idx, Interface: name, SamplingRate: sides.rate})...)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return (out[i].Status != "ok") && out[j].Status == "ok" })
	if out == nil {
		out = []Reconciliation{}
	}
	return out, err
}
