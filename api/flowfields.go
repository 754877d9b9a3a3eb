package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// The flow fields operators filter on (schema version 12): dimensions of
// /flows/topn and filters of the flow endpoints. Only the raw table has
// these columns, so every one of them reads flows (raw retention).

// optText shows a value, or "" (none) when it is 0: these columns store
// 0 for "not exported".
func optText(col string) string { return "if(" + col + " = 0, '', toString(" + col + "))" }

// macText shows a MAC as aa:bb:cc:dd:ee:ff, or "" for 0.
const macText = "if($0 = 0, '', lower(MACNumToString($0)))"

// optIPText shows an address, or "" for :: (not translated, no tunnel).
const optIPText = "if($0 = toIPv6('::'), '', " + "replaceRegexpOne(toString($0), '^::ffff:', '')" + ")"

// icmpOnly is an ICMP field of ICMP and ICMPv6 flows; 256 (shown as none)
// for others, whose icmp_type 0 would read as echo reply.
func icmpOnly(col string) string { return "if(proto IN (1, 58), toUInt16(" + col + "), 256)" }

// forwardingStatuses names the status (top 2 bits) of IPFIX
// forwardingStatus (89), and forwardingReasons its reason codes (RFC 7270
// and the IANA registry), by the whole octet.
var (
	forwardingStatuses = []string{"unknown", "forwarded", "dropped", "consumed"}
	forwardingReasons  = map[int]string{
		64: "forwarded", 65: "forwarded: fragmented", 66: "forwarded: not fragmented",
		128: "dropped", 129: "dropped: acl deny", 130: "dropped: acl drop", 131: "dropped: unroutable",
		132: "dropped: adjacency", 133: "dropped: fragmentation and df set", 134: "dropped: bad header checksum",
		135: "dropped: bad total length", 136: "dropped: bad header length", 137: "dropped: bad ttl",
		138: "dropped: policer", 139: "dropped: wred", 140: "dropped: rpf", 141: "dropped: for us",
		142: "dropped: bad output interface", 143: "dropped: hardware",
		192: "consumed", 193: "consumed: punt adjacency", 194: "consumed: incomplete adjacency", 195: "consumed: for us",
	}
)

// forwardingText shows a forwarding status as "dropped: acl deny", an
// unregistered reason as "dropped: 150", and 0 as "" (none).
var forwardingText = func() string {
	codes := make([]int, 0, len(forwardingReasons))
	for c := range forwardingReasons {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var nums, names []string
	for _, c := range codes {
		nums, names = append(nums, strconv.Itoa(c)), append(names, "'"+forwardingReasons[c]+"'")
	}
	return "if($0 = 0, '', transform(toUInt16($0), [" + strings.Join(nums, ", ") + "], [" + strings.Join(names, ", ") + "], " +
		"concat(['" + strings.Join(forwardingStatuses, "', '") + "'][bitShiftRight($0, 6) + 1], ': ', toString(bitAnd($0, 63)))))"
}()

// flowFieldDimensions are the /flows/topn dimensions of the fields.
var flowFieldDimensions = map[string]dimension{
	"src_mac":           {cols: []string{schema.FlowSrcMAC}, display: macText, raw: true},
	"dst_mac":           {cols: []string{schema.FlowDstMAC}, display: macText, raw: true},
	"src_vlan":          {cols: []string{schema.FlowSrcVLAN}, display: optText("$0"), raw: true},
	"dst_vlan":          {cols: []string{schema.FlowDstVLAN}, display: optText("$0"), raw: true},
	"outer_vlan":        {cols: []string{schema.FlowOuterVLAN}, display: optText("$0"), raw: true},
	"mpls_top_label":    {cols: []string{"if(empty(mpls_labels), -1, toInt64(mpls_labels[1]))"}, display: "if($0 < 0, '', toString($0))", raw: true},
	"ip_ttl":            {cols: []string{schema.FlowIPTTL}, display: optText("$0"), raw: true},
	"ipv6_flow_label":   {cols: []string{schema.FlowIPv6FlowLabel}, display: optText("$0"), raw: true},
	"forwarding_status": {cols: []string{schema.FlowForwardingStatus}, display: forwardingText, raw: true},
	"ingress_vrf":       {cols: []string{schema.FlowIngressVRF}, display: optText("$0"), raw: true},
	"egress_vrf":        {cols: []string{schema.FlowEgressVRF}, display: optText("$0"), raw: true},
	"nat_src_ip":        {cols: []string{schema.FlowNATSrcIP}, display: optIPText, raw: true},
	"nat_dst_ip":        {cols: []string{schema.FlowNATDstIP}, display: optIPText, raw: true},
	"nat_src_port":      {cols: []string{schema.FlowNATSrcPort}, display: optText("$0"), raw: true},
	"nat_dst_port":      {cols: []string{schema.FlowNATDstPort}, display: optText("$0"), raw: true},
	"icmp_type":         {cols: []string{icmpOnly(schema.FlowICMPType)}, display: "if($0 = 256, '', toString($0))", raw: true},
	// ICMP type and code together, as "3/1".
	"icmp":          {cols: []string{icmpOnly(schema.FlowICMPType), schema.FlowICMPCode}, display: "if($0 = 256, '', concat(toString($0), '/', toString($1)))", raw: true},
	"icmp_code":     {cols: []string{icmpOnly(schema.FlowICMPCode)}, display: "if($0 = 256, '', toString($0))", raw: true},
	"tunnel_type":   {cols: []string{schema.FlowTunnelType}, display: "toString($0)", raw: true},
	"tunnel_src_ip": {cols: []string{schema.FlowTunnelSrcIP}, display: optIPText, raw: true},
	"tunnel_dst_ip": {cols: []string{schema.FlowTunnelDstIP}, display: optIPText, raw: true},
	"vxlan_vni":     {cols: []string{schema.FlowVXLANVNI}, display: optText("$0"), raw: true},
}

// withFlowFieldDimensions adds flowFieldDimensions to dims.
func withFlowFieldDimensions(dims map[string]dimension) map[string]dimension {
	for name, d := range flowFieldDimensions {
		dims[name] = d
	}
	return dims
}

// macPattern is a MAC address, colon or dash separated, either case.
const macPattern = `^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$`

func paramMAC(name, what string) paramSpec {
	return paramSpec{Name: name, Type: "string", Pattern: macPattern, Description: what + " MAC address, aa:bb:cc:dd:ee:ff."}
}

// uintFilter is a filter on an integer column of at most max.
type uintFilter struct {
	filter
	max  uint64
	what string
}

// flowFieldUintFilters are the integer filters of the fields.
var flowFieldUintFilters = []uintFilter{
	{filter{"vlan", "src_vlan = %s OR dst_vlan = %s"}, 4095, "Source or destination VLAN (the inner, customer tag of QinQ)."},
	{filter{"src_vlan", "src_vlan = %s"}, 4095, "Source VLAN."},
	{filter{"dst_vlan", "dst_vlan = %s"}, 4095, "Destination VLAN."},
	{filter{"outer_vlan", "outer_vlan = %s"}, 4095, "Outer (service) VLAN of QinQ."},
	{filter{"mpls_label", "has(mpls_labels, %s)"}, 1<<20 - 1, "MPLS label anywhere in the label stack."},
	{filter{"mpls_top_label", "notEmpty(mpls_labels) AND mpls_labels[1] = %s"}, 1<<20 - 1, "MPLS label at the top of the stack."},
	{filter{"ip_ttl", "ip_ttl = %s"}, 255, "IP TTL or IPv6 hop limit."},
	{filter{"ipv6_flow_label", "ipv6_flow_label = %s"}, 1<<20 - 1, "IPv6 flow label."},
	{filter{"vrf", "ingress_vrf = %s OR egress_vrf = %s"}, 1<<32 - 1, "Ingress or egress VRF id."},
	{filter{"ingress_vrf", "ingress_vrf = %s"}, 1<<32 - 1, "Ingress VRF id (IPFIX 234)."},
	{filter{"egress_vrf", "egress_vrf = %s"}, 1<<32 - 1, "Egress VRF id (IPFIX 235)."},
	{filter{"nat_src_port", "nat_src_port = %s"}, 65535, "NAT post-translation source port."},
	{filter{"nat_dst_port", "nat_dst_port = %s"}, 65535, "NAT post-translation destination port."},
	{filter{"icmp_type", "proto IN (1, 58) AND icmp_type = %s"}, 255, "ICMP or ICMPv6 type (ICMP flows only)."},
	{filter{"icmp_code", "proto IN (1, 58) AND icmp_code = %s"}, 255, "ICMP or ICMPv6 code (ICMP flows only)."},
	{filter{"vxlan_vni", "vxlan_vni = %s"}, 1<<24 - 1, "VXLAN network identifier of a decapsulated flow."},
}

// tunnelTypes are the values of the tunnel_type column and filter.
var tunnelTypes = []string{"none", "vxlan", "gre", "mpls", "srv6"}

var paramForwardingStatus = paramSpec{Name: "forwarding_status", Type: "string", Pattern: `^(forwarded|dropped|consumed|[0-9]{1,3})$`,
	Description: "Forwarding status (IPFIX 89): forwarded, dropped or consumed (any reason), or the exported octet 0-255 (status and reason, e.g. 129 dropped: acl deny)."}

// flowFieldFilterParams are the filter parameters of the fields.
var flowFieldFilterParams = func() []paramSpec {
	specs := []paramSpec{paramMAC("mac", "Source or destination"), paramMAC("src_mac", "Source"), paramMAC("dst_mac", "Destination"),
		{Name: "nat_ip", Type: "string", Format: "ip", Description: "NAT post-translation source or destination address."},
		{Name: "nat_src_ip", Type: "string", Format: "ip", Description: "NAT post-translation source address."},
		{Name: "nat_dst_ip", Type: "string", Format: "ip", Description: "NAT post-translation destination address."},
		paramForwardingStatus,
		{Name: "tunnel_type", Type: "string", Enum: tunnelTypes, Description: "Encapsulation the collector removed (none: not decapsulated)."},
	}
	for _, f := range flowFieldUintFilters {
		specs = append(specs, paramSpec{Name: f.param, Type: "integer", Maximum: int64(f.max), Description: f.what})
	}
	return specs
}()

// flowFieldFilters adds the conditions of the fields' filters; any of
// them needs the raw table.
func flowFieldFilters(p *params, q *query.Builder) (needRaw bool, err error) {
	for _, name := range []string{"mac", "src_mac", "dst_mac"} {
		mac, ok, err := p.mac(paramMAC(name, ""))
		if err != nil {
			return false, err
		}
		if ok {
			cond := map[string]string{"mac": "src_mac = %s OR dst_mac = %s", "src_mac": "src_mac = %s", "dst_mac": "dst_mac = %s"}[name]
			q.And(strings.ReplaceAll(cond, "%s", q.Bind("UInt64", mac)))
			needRaw = true
		}
	}
	nat := []filter{{"nat_ip", "nat_src_ip = %s OR nat_dst_ip = %s"}, {"nat_src_ip", "nat_src_ip = %s"}, {"nat_dst_ip", "nat_dst_ip = %s"}}
	if err := ipFilters(p, q, nat); err != nil {
		return false, err
	}
	for _, f := range nat {
		needRaw = needRaw || p.has(f.param)
	}
	for _, f := range flowFieldUintFilters {
		n, ok, err := p.uint(f.param, f.max)
		if err != nil {
			return false, err
		}
		if ok {
			q.And(strings.ReplaceAll(f.cond, "%s", q.Bind("UInt64", n)))
			needRaw = true
		}
	}
	status, err := forwardingFilter(p, q)
	if err != nil {
		return false, err
	}
	typ, err := p.enum("tunnel_type", "", tunnelTypes)
	if err != nil {
		return false, err
	}
	if typ != "" {
		q.And("tunnel_type = " + q.Bind("String", typ))
		needRaw = true
	}
	return needRaw || status, nil
}

// forwardingFilter adds the forwarding_status condition: a status name
// matches its top 2 bits, a number the whole octet.
func forwardingFilter(p *params, q *query.Builder) (set bool, err error) {
	spec := paramForwardingStatus
	v, err := p.matching(spec)
	if err != nil || v == "" {
		return false, err
	}
	for i, name := range forwardingStatuses {
		if v == name {
			q.And("bitShiftRight(forwarding_status, 6) = " + q.Bind("UInt8", uint8(i)))
			return true, nil
		}
	}
	n, err := strconv.ParseUint(v, 10, 8)
	if err != nil {
		return false, badParam(spec.Name, "%q is not forwarded, dropped, consumed or a number from 0 to 255", v)
	}
	q.And("forwarding_status = " + q.Bind("UInt8", uint8(n)))
	return true, nil
}

// mac reads a MAC address as the 48-bit number the columns store.
func (p *params) mac(spec paramSpec) (uint64, bool, error) {
	v, err := p.matching(spec)
	if err != nil || v == "" {
		return 0, false, err
	}
	n, err := strconv.ParseUint(strings.NewReplacer(":", "", "-", "").Replace(v), 16, 64)
	if err != nil {
		return 0, false, badParam(spec.Name, "%q is not a MAC address: %v", v, err)
	}
	return n, true, nil
}
