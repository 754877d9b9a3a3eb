package investigation

import (
	"context"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// interfaceKey is the key of an interface in the SNMP tables, and its
// types.
var interfaceKey, interfaceKeyTypes = []string{"device_ip", "if_index"}, []string{"IPv6", "UInt32"}

func ifKey(deviceIP string, ifIndex uint32) string { return fmt.Sprintf("%s/%d", deviceIP, ifIndex) }

func countSNMP(ifs []apiv1.PathInterface) int {
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
func (c *Investigator) pathInterfaces(ctx context.Context, sc *Scope, flows []flowGroup, event query.Window) ([]apiv1.PathInterface, error) {
	var subject net.IP
	if sc.subject.Kind == "interface" {
		ip, ok, err := c.subjectDeviceIP(ctx, sc)
		if err != nil {
			return nil, err
		}
		if ok {
			subject = ip
		}
	}
	list := pathCandidates(subject, sc.subject.IfIndex, flows)
	if len(list) == 0 {
		return []apiv1.PathInterface{}, nil
	}
	found, err := c.polledInterfaces(ctx, list, event)
	if err != nil {
		return nil, err
	}
	out := make([]apiv1.PathInterface, 0, len(list))
	for _, cd := range list {
		polled := found[ifKey(cd.ip, cd.idx)]
		if len(polled) == 0 {
			// Flows name it but SNMP does not poll it.
			p := apiv1.PathInterface{Device: cd.ip, IfIndex: cd.idx}
			if ip := net.ParseIP(cd.ip); ip != nil {
				p.Device = query.IPString(ip)
			}
			polled = []apiv1.PathInterface{p}
		}
		for _, p := range polled {
			p.Role, p.FlowBytes, p.DeviceIP = cd.role, cd.bytes, cd.ip
			out = append(out, p)
		}
	}
	return out, nil
}

// pathCandidate is an exporter interface the subject's flows crossed.
type pathCandidate struct {
	ip    string // IPv6 parameter text
	idx   uint32
	bytes uint64 // the flows' bytes in the event
	role  string // "subject" or "path"
}

// pathCandidates are the interfaces of the flows, by their bytes in the
// event, after the subject's own (subject nil: none), at most
// maxPathInterfaces.
func pathCandidates(subject net.IP, subjectIndex uint32, flows []flowGroup) []*pathCandidate {
	cands := map[string]*pathCandidate{}
	var list []*pathCandidate
	add := func(ip net.IP, idx uint32, b uint64, role string) {
		if idx == 0 || ip == nil {
			return
		}
		s := query.IPString16(ip)
		k := ifKey(s, idx)
		if cands[k] == nil {
			cands[k] = &pathCandidate{ip: s, idx: idx, role: role}
			list = append(list, cands[k])
		}
		cands[k].bytes += b
	}
	add(subject, subjectIndex, 0, "subject")
	for i := range flows {
		f := &flows[i]
		add(f.Exporter, f.InIf, f.W[1], "path")
		add(f.Exporter, f.OutIf, f.W[1], "path")
	}
	sort.SliceStable(list, func(i, j int) bool {
		if (list[i].role == "subject") != (list[j].role == "subject") {
			return list[i].role == "subject"
		}
		return list[i].bytes > list[j].bytes
	})
	return list[:min(len(list), maxPathInterfaces)]
}

// polledInterfaces reads the SNMP view of the candidates around the
// event, by key (ifKey). Devices behind one address (an SNMP proxy)
// share a key: flows cannot tell them apart, so each is listed.
func (c *Investigator) polledInterfaces(ctx context.Context, list []*pathCandidate, event query.Window) (map[string][]apiv1.PathInterface, error) {
	keys := make([][]any, len(list))
	for i, cd := range list {
		keys[i] = []any{cd.ip, cd.idx}
	}
	q := &query.Builder{}
	q.TupleIn(interfaceKey, interfaceKeyTypes, keys)
	query.TimeCond(q, "time", event.Start.Add(-time.Hour), event.End.Add(5*time.Minute))
	e0, e1 := q.Bind("DateTime64(3, 'UTC')", query.Time(event.Start)), q.Bind("DateTime64(3, 'UTC')", query.Time(event.End.Add(2*time.Minute)))
	in := "rate_valid AND time >= " + e0 + " AND time < " + e1
	sql := `SELECT toString(device_ip), if_index, device, argMax(if_name, time), argMax(speed_bps, time), argMax(oper_status, time),
	avgIf(in_bps, ` + in + `), avgIf(out_bps, ` + in + `), avgIf(in_utilization, ` + in + `), avgIf(out_utilization, ` + in + `),
	maxIf(greatest(in_utilization, out_utilization), ` + in + `),
	sumIf(delta_in_errors + delta_out_errors, ` + in + `), sumIf(delta_in_discards + delta_out_discards, ` + in + `)
FROM ` + schema.TableIfStats + ` WHERE ` + q.Where() + `
GROUP BY device_ip, device, if_index`
	found := map[string][]apiv1.PathInterface{}
	err := c.Run(ctx, "investigate_interfaces", sql, q.Args, func(rows driver.Rows) error {
		p := apiv1.PathInterface{SNMP: &apiv1.PathSNMP{}}
		var ip string
		var oper uint8
		n := p.SNMP
		if err := rows.Scan(&ip, &p.IfIndex, &p.Device, &p.Name, &n.SpeedBps, &oper, &n.InBps, &n.OutBps,
			&n.InUtilization, &n.OutUtilization, &n.MaxUtilization, &n.Errors, &n.Discards); err != nil {
			return err
		}
		p.OperStatus = apiv1.OperStatus(oper)
		n.InBps, n.OutBps = apiv1.Round(n.InBps, 0), apiv1.Round(n.OutBps, 0)
		n.InUtilization, n.OutUtilization, n.MaxUtilization = apiv1.Round(n.InUtilization, 4), apiv1.Round(n.OutUtilization, 4), apiv1.Round(n.MaxUtilization, 4)
		found[ifKey(ip, p.IfIndex)] = append(found[ifKey(ip, p.IfIndex)], p)
		return nil
	})
	return found, err
}

// subjectDeviceIP is the address of an interface subject's device: as
// SNMP last saw it, else the device as given when it is an address.
func (c *Investigator) subjectDeviceIP(ctx context.Context, sc *Scope) (net.IP, bool, error) {
	q := sc.snmp.Clone()
	var ip net.IP
	err := c.Run(ctx, "investigate_device_ip", `SELECT device_ip FROM `+schema.TableInterfacesLatest+` WHERE `+q.Where()+` LIMIT 1`, q.Args,
		func(rows driver.Rows) error { return rows.Scan(&ip) })
	if err != nil {
		return nil, false, err
	}
	if ip == nil {
		ip, ok := parseIP(sc.subject.Device)
		return ip, ok, nil
	}
	return ip, true, nil
}

// pathInterfaces is step 3's path: the interfaces the subject's traffic
// crossed in the event, and flows against SNMP on them from the
// baseline's start to the event's end; alongside read the interfaces at
// the same time as the reconciliation.
func (r *investigation) pathInterfaces(ctx context.Context, alongside ...func(context.Context, []apiv1.PathInterface) error) (err error) {
	inv := r.inv
	if inv.Interfaces, err = r.c.pathInterfaces(ctx, r.sc, r.flowGroups, r.windows.event); err != nil {
		return layerError("snmp", err)
	}
	steps := []func() error{func() error { return layerError("snmp", r.reconcile(ctx)) }}
	for _, f := range alongside {
		steps = append(steps, func() error { return f(ctx, inv.Interfaces) })
	}
	return query.Concurrently(steps...)
}

// reconcile is flows against SNMP on the path's interfaces.
func (r *investigation) reconcile(ctx context.Context) (err error) {
	inv := r.inv
	if len(inv.Interfaces) == 0 {
		return nil
	}
	keys := make([][]any, len(inv.Interfaces))
	for k, i := range inv.Interfaces {
		keys[k] = []any{i.DeviceIP, i.IfIndex}
	}
	q := &query.Builder{}
	q.TupleIn(interfaceKey, interfaceKeyTypes, keys)
	inv.Reconciliation, err = r.c.Reconcile(ctx, q, r.windows.base.Start, r.windows.event.End)
	return err
}
