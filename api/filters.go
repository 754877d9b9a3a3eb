package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// Parameters shared by several routes.
var (
	paramFrom = paramSpec{Name: "from", Type: "string", Format: "date-time or relative",
		Description: "Start of the range: RFC 3339, or relative to now like -1h, -30m, -2d (default: one hour before to)."}
	paramTo = paramSpec{Name: "to", Type: "string", Format: "date-time or relative",
		Description: "End of the range: RFC 3339, now, or relative like -5m (default: now)."}
	paramLimit = func(max int) paramSpec {
		return paramSpec{Name: "limit", Type: "integer", Minimum: 1, Maximum: int64(max), Description: "Rows to return (default 20)."}
	}
)

// flowFilterParams are the filters of the flow endpoints.
var flowFilterParams = []paramSpec{
	{Name: "exporter", Type: "string", Description: "Exporter IP address or name."},
	{Name: "in_if", Type: "integer", Maximum: 1<<32 - 1, Description: "Input interface index (SNMP ifIndex) on the exporter."},
	{Name: "out_if", Type: "integer", Maximum: 1<<32 - 1, Description: "Output interface index on the exporter."},
	{Name: "src_ip", Type: "string", Format: "ip", Description: "Source IP address."},
	{Name: "dst_ip", Type: "string", Format: "ip", Description: "Destination IP address."},
	{Name: "ip", Type: "string", Format: "ip", Description: "Source or destination IP address."},
	{Name: "port", Type: "integer", Maximum: 65535, Description: "Source or destination port."},
	{Name: "src_port", Type: "integer", Maximum: 65535, Description: "Source port."},
	{Name: "dst_port", Type: "integer", Maximum: 65535, Description: "Destination port."},
	{Name: "proto", Type: "string", Description: "IP protocol: a number or tcp, udp, icmp, icmpv6, sctp, gre, esp."},
	{Name: "app", Type: "string", Description: "Application, as the collector named it from protocol and port."},
	{Name: "node", Type: "string", Description: "Kubernetes node of the source or destination pod."},
	{Name: "pod", Type: "string", Description: "Source or destination pod name."},
	{Name: "namespace", Type: "string", Description: "Source or destination pod namespace."},
	{Name: "as", Type: "integer", Maximum: 1<<32 - 1, Description: "Source or destination AS number (the exporter's when it sent one, else the IP database's)."},
	{Name: "src_as", Type: "integer", Maximum: 1<<32 - 1, Description: "Source AS number."},
	{Name: "dst_as", Type: "integer", Maximum: 1<<32 - 1, Description: "Destination AS number."},
	paramCountry("country", "Source or destination country"),
	paramCountry("src_country", "Source country"),
	paramCountry("dst_country", "Destination country"),
}

// paramCountry is a country filter: an ISO 3166-1 alpha-2 code, either case.
func paramCountry(name, what string) paramSpec {
	return paramSpec{Name: name, Type: "string", Pattern: "^[A-Za-z]{2}$",
		Description: what + ": ISO 3166-1 alpha-2 code (e.g. US), from the IP database."}
}

// socketFilterParams are the filters of the socket endpoints.
var socketFilterParams = []paramSpec{
	{Name: "node", Type: "string", Description: "Node whose agent saw the socket."},
	{Name: "pod", Type: "string", Description: "Pod owning the socket."},
	{Name: "namespace", Type: "string", Description: "Namespace of the pod owning the socket."},
	{Name: "process", Type: "string", Description: "Process name (comm)."},
	{Name: "ip", Type: "string", Format: "ip", Description: "Local or remote IP address."},
	{Name: "local_ip", Type: "string", Format: "ip", Description: "Local IP address."},
	{Name: "remote_ip", Type: "string", Format: "ip", Description: "Remote IP address."},
	{Name: "port", Type: "integer", Maximum: 65535, Description: "Local or remote port."},
	{Name: "local_port", Type: "integer", Maximum: 65535, Description: "Local port."},
	{Name: "remote_port", Type: "integer", Maximum: 65535, Description: "Remote port."},
	{Name: "direction", Type: "string", Enum: []string{"client", "server"}, Description: "client: this node opened the connection; server: it accepted it."},
}

var protoNumbers = map[string]uint64{"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmpv6": 58, "sctp": 132}

// ephemeralPort is where the rollups fold client ports to 0: a filter on
// such a port must read the raw table.
const ephemeralPort = 32768

// flowFilters turns the flow filter parameters into conditions on a flows
// table (raw or rollup: the columns are the same). needRaw reports a
// filter the rollups cannot answer.
func flowFilters(p *params, q *query.Builder) (needRaw bool, err error) {
	if v := p.str("exporter"); v != "" {
		if a, ok, _ := p.ip("exporter"); ok {
			q.And("exporter_ip = " + q.Bind("IPv6", query.IPParam(a)))
		} else {
			name, err := p.name("exporter")
			if err != nil {
				return false, err
			}
			q.And("exporter_name = " + q.Bind("String", name))
		}
	}
	for _, f := range []filter{{"in_if", "in_if = %s"}, {"out_if", "out_if = %s"}} {
		n, ok, err := p.uint(f.param, 1<<32-1)
		if err != nil {
			return false, err
		}
		if ok {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("UInt32", uint32(n))))
		}
	}
	if err := ipFilters(p, q, []filter{{"src_ip", "src_ip = %s"}, {"dst_ip", "dst_ip = %s"}, {"ip", "src_ip = %s OR dst_ip = %s"}}); err != nil {
		return false, err
	}
	needRaw, err = portFilters(p, q, []filter{{"port", "src_port = %s OR dst_port = %s"}, {"src_port", "src_port = %s"}, {"dst_port", "dst_port = %s"}})
	if err != nil {
		return false, err
	}
	if v := p.str("proto"); v != "" {
		n, known := protoNumbers[strings.ToLower(v)]
		if !known {
			var err error
			if n, err = strconv.ParseUint(v, 10, 8); err != nil {
				return false, &paramError{Param: "proto", Message: "not a protocol number (0-255) or name", Valid: []string{"tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp"}}
			}
		}
		q.And("proto = " + q.Bind("UInt8", uint8(n)))
	}
	err = nameFilters(p, q, []filter{{"app", "application = %s"}, {"node", "src_node = %s OR dst_node = %s"},
		{"pod", "src_pod = %s OR dst_pod = %s"}, {"namespace", "src_namespace = %s OR dst_namespace = %s"}})
	if err != nil {
		return false, err
	}
	if err := networkFilters(p, q); err != nil {
		return false, err
	}
	fieldRaw, err := flowFieldFilters(p, q)
	return needRaw || fieldRaw, err
}

// networkFilters adds the AS and country filters.
func networkFilters(p *params, q *query.Builder) error {
	for _, f := range []filter{{"as", "src_as = %s OR dst_as = %s"}, {"src_as", "src_as = %s"}, {"dst_as", "dst_as = %s"}} {
		n, ok, err := p.uint(f.param, 1<<32-1)
		if err != nil {
			return err
		}
		if ok {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("UInt32", uint32(n))))
		}
	}
	for _, f := range []filter{{"country", "src_country = %s OR dst_country = %s"}, {"src_country", "src_country = %s"}, {"dst_country", "dst_country = %s"}} {
		v, err := p.matching(paramCountry(f.param, ""))
		if err != nil {
			return err
		}
		if v != "" {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("String", strings.ToUpper(v))))
		}
	}
	return nil
}

// socketFilters turns the socket filter parameters into conditions on
// sockets or sockets_1m. needRaw reports a filter on a client's
// ephemeral port, which the rollup folds to 0.
func socketFilters(p *params, q *query.Builder) (needRaw bool, err error) {
	if err := nameFilters(p, q, []filter{{"node", "node = %s"}, {"pod", "local_pod = %s"}, {"namespace", "local_namespace = %s"}, {"process", "comm = %s"}}); err != nil {
		return false, err
	}
	if err := ipFilters(p, q, []filter{{"ip", "local_ip = %s OR remote_ip = %s"}, {"local_ip", "local_ip = %s"}, {"remote_ip", "remote_ip = %s"}}); err != nil {
		return false, err
	}
	needRaw, err = portFilters(p, q, []filter{{"port", "local_port = %s OR remote_port = %s"}, {"local_port", "local_port = %s"}, {"remote_port", "remote_port = %s"}})
	if err != nil {
		return false, err
	}
	dir, err := p.enum("direction", "", []string{"client", "server"})
	if err != nil {
		return false, err
	}
	if dir != "" {
		q.And("direction = " + q.Bind("String", dir))
	}
	return needRaw, nil
}

// filter maps a request parameter to a condition; every %s in cond is
// the parameter's bound value.
type filter struct{ param, cond string }

// nameFilters adds conditions for validated name parameters.
func nameFilters(p *params, q *query.Builder, fs []filter) error {
	for _, f := range fs {
		v, err := p.name(f.param)
		if err != nil {
			return err
		}
		if v != "" {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("String", v)))
		}
	}
	return nil
}

// ipFilters adds conditions for IP address parameters.
func ipFilters(p *params, q *query.Builder, fs []filter) error {
	for _, f := range fs {
		a, ok, err := p.ip(f.param)
		if err != nil {
			return err
		}
		if ok {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("IPv6", query.IPParam(a))))
		}
	}
	return nil
}

// portFilters adds conditions for port parameters; needRaw reports a port
// the rollups fold to 0 (ephemeral, or 0 itself).
func portFilters(p *params, q *query.Builder, fs []filter) (needRaw bool, err error) {
	for _, f := range fs {
		n, ok, err := p.uint(f.param, 65535)
		if err != nil {
			return false, err
		}
		if ok {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("UInt16", uint16(n))))
			needRaw = needRaw || n == 0 || n >= ephemeralPort
		}
	}
	return needRaw, nil
}

// flowTable is where a flow query reads: a table, or a subquery of
// several, with the expressions of sampling-corrected bytes, packets and
// flow count over it.
type flowTable struct {
	from                  string // what FROM reads
	source                string // its name in the answer (Range.Source)
	bytes, packets, flows string
	// names, when set, reads some of from's rows (the complete session
	// blocks) where the keys of a wide ranking are found sooner.
	names string
}

// flowSource picks the flow table for a range: raw for narrow ranges (or
// when a filter needs unfolded ports), the minute rollup up to two days,
// the hour rollup beyond. It returns the table, its time column, the
// expressions of sampling-corrected bytes, packets and flow count, and
// the range aligned to the table's resolution.
func (c *Component) flowSource(from, to time.Time, needRaw bool) (table, timeCol, bytes, packets, flows string, f, t time.Time) {
	switch {
	case needRaw || to.Sub(from) <= c.cfg.RawRange:
		return schema.TableFlows, schema.TimeColumn(schema.TableFlows), "bytes * sampling_rate", "packets * sampling_rate", "1", from, to
	case to.Sub(from) <= 48*time.Hour:
		return schema.TableFlows1m, schema.TimeColumn(schema.TableFlows1m), "bytes", "packets", "flows", from.Truncate(time.Minute), to
	default:
		return schema.TableFlows1h, schema.TimeColumn(schema.TableFlows1h), "bytes", "packets", "flows", from.Truncate(time.Hour), to
	}
}
