package flowcollector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
)

// What tshark reads in sFlow datagrams, sample by sample: the ground
// truth the decoder's flows are compared with, field by field. tshark
// decodes the sampled headers (Ethernet, VLAN, MPLS, IP, transport,
// tunnels); which of its readings a flow stores is the collector's
// documented rules, applied here to tshark's readings.

// jsonNode is a JSON value with objects kept in order and their
// duplicate keys kept: tshark repeats a key for each instance of a
// layer (a label stack is several "mpls", a QinQ frame two "vlan").
type jsonNode struct {
	key   string
	value string      // a scalar's text
	kids  []*jsonNode // an object's members, an array's elements
}

func parseJSONNode(dec *json.Decoder, key string) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &jsonNode{key: key}
	switch tok := tok.(type) {
	case json.Delim:
		for dec.More() {
			k := ""
			if tok == '{' {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k = kt.(string)
			}
			kid, err := parseJSONNode(dec, k)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.value = tok
	default:
		n.value = fmt.Sprint(tok)
	}
	return n, nil
}

// child is the first member named key (nil when none).
func (n *jsonNode) child(key string) *jsonNode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.key == key {
			return k
		}
	}
	return nil
}

// str is the scalar member key, searched depth first ("" when none).
func (n *jsonNode) str(key string) string {
	if n == nil {
		return ""
	}
	for _, k := range n.kids {
		if k.key == key && k.kids == nil {
			return k.value
		}
		if v := k.str(key); v != "" {
			return v
		}
	}
	return ""
}

// num reads a member as a number, decimal or 0x-prefixed.
func (n *jsonNode) num(key string) uint64 {
	v, _ := strconv.ParseUint(n.str(key), 0, 64)
	return v
}

// tsharkSFlow runs tshark over a capture of sFlow datagrams (UDP 6343)
// and returns its reading of each frame.
func tsharkSFlow(t *testing.T, path string, decodeAs ...string) []*jsonNode {
	t.Helper()
	args := []string{"-T", "json"}
	for _, d := range decodeAs {
		args = append(args, "-d", d)
	}
	out := runTshark(t, path, args...)
	root, err := parseJSONNode(json.NewDecoder(bytes.NewReader(out)), "")
	if err != nil {
		t.Fatalf("tshark's JSON: %v", err)
	}
	var frames []*jsonNode
	for _, f := range root.kids {
		frames = append(frames, f.child("_source").child("layers"))
	}
	return frames
}

// sflowTruth is every field a flow sample's flow stores.
type sflowTruth struct {
	Exporter         netip.Addr
	Domain, Sequence uint32
	Rate             uint64
	InIf, OutIf      uint32
	InKind, OutKind  record.InterfaceKind
	InDetail         uint32
	OutDetail        uint32
	Bytes, Packets   uint64
	Basis            record.ByteBasis
	NextHop          netip.Addr
	SrcMask, DstMask uint32
	packetView
	// misreadFlags: tshark 4.0 reads a sampled IPv4/IPv6 record's TCP
	// flags (and the IPv4 TOS) from the top byte of their 32-bit words,
	// where the spec's XDR puts the value in the low byte: those are
	// checked against what the datagram was built with instead.
	misreadFlags bool
}

func truthOf(f *record.Flow) sflowTruth {
	addr := func(b []byte) netip.Addr {
		a, _ := netip.AddrFromSlice(b)
		return a.Unmap()
	}
	v := viewOf(f, headerLengths{})
	if len(v.Labels) == 0 {
		v.Labels = nil
	}
	return sflowTruth{
		Exporter: addr(f.ExporterIp), Domain: f.ObservationDomain, Sequence: f.Sequence, Rate: f.SamplingRate,
		InIf: f.InIf, OutIf: f.OutIf, InKind: f.InIfKind, OutKind: f.OutIfKind, InDetail: f.InIfDetail, OutDetail: f.OutIfDetail,
		Bytes: f.Bytes, Packets: f.Packets, Basis: f.ByteBasis, NextHop: addr(f.NextHop), SrcMask: f.SrcMask, DstMask: f.DstMask,
		packetView: v,
	}
}

// tsharkSamples derives, from tshark's reading of each datagram, the
// flow each flow sample must become. tshark 4.0 attaches what a sampled
// header's VXLAN payload decodes as to the frame, not to the header: each
// such run of layers (from "vxlan" on) goes, in order, to the samples
// whose header ends in UDP to port 4789.
func tsharkSamples(frames []*jsonNode, decap func(agent netip.Addr) decapKinds) []sflowTruth {
	var out []sflowTruth
	for _, layers := range frames {
		sf := layers.child("sflow")
		var trailing [][]*jsonNode
		after := false
		for _, l := range layers.kids {
			switch {
			case after && l.key == "vxlan":
				trailing = append(trailing, []*jsonNode{l})
			case after && len(trailing) > 0:
				trailing[len(trailing)-1] = append(trailing[len(trailing)-1], l)
			}
			after = after || l == sf
		}
		for _, s := range sf.kids {
			if !strings.HasPrefix(s.key, "Flow sample") && !strings.HasPrefix(s.key, "Expanded flow sample") {
				continue
			}
			tr := sflowTruth{
				Exporter: netip.MustParseAddr(sf.str("sflow_245.agent")),
				Domain:   uint32(sf.num("sflow_245.sub_agent_id")),
				Sequence: uint32(sf.num("sflow_245.sequence_number")),
				Rate:     s.num("sflow.flow_sample.sampling_rate"),
				Packets:  1,
			}
			tr.interfaces(s)
			var headerLayers []*jsonNode
			if h := s.child("Raw packet header"); h != nil {
				headerLayers = h.child("sflow_245.header_tree").kids
				if n := len(headerLayers); n > 0 && len(trailing) > 0 && headerLayers[n-1].key == "udp" && headerLayers[n-1].num("udp.dstport") == portVXLAN {
					headerLayers = append(headerLayers, trailing[0]...)
					trailing = trailing[1:]
				}
			}
			tr.packet(headerLayers, decap(tr.Exporter))
			tr.records(s)
			tr.L2, tr.IP = 0, 0 // lengths the flow does not store
			out = append(out, tr)
		}
	}
	return out
}

// interfaces reads a sample's input and output (compact or expanded)
// the sFlow v5 way: format 0 an ifIndex (0x3FFFFFFF: the device itself),
// 1 a discard and its reason, 2 a count of interfaces.
func (tr *sflowTruth) interfaces(s *jsonNode) {
	side := func(name string) (uint32, record.InterfaceKind, uint32) {
		format, value := s.num("sflow.flow_sample."+name+"_interface_format"), s.num("sflow.flow_sample."+name+"_interface_value")
		if name == "output" && s.str("sflow.flow_sample.output_interface.format") != "" {
			format = s.num("sflow.flow_sample.output_interface.format") // tshark 4.0's name in expanded samples
		}
		if s.str("sflow.flow_sample."+name+"_interface_value") == "" { // compact: a word of format and value
			w := s.num("sflow.flow_sample." + name + "_interface")
			format, value = w>>30, w&0x3fffffff
		}
		switch {
		case format == 0 && value == 0x3fffffff:
			return 0, record.InterfaceKind_INTERFACE_KIND_INTERNAL, 0
		case format == 0:
			return uint32(value), record.InterfaceKind_INTERFACE_KIND_IFINDEX, 0
		case format == 1:
			return 0, record.InterfaceKind_INTERFACE_KIND_DISCARDED, uint32(value)
		case format == 2:
			return 0, record.InterfaceKind_INTERFACE_KIND_MULTIPLE, uint32(value)
		}
		return 0, 0, 0
	}
	tr.InIf, tr.InKind, tr.InDetail = side("input")
	tr.OutIf, tr.OutKind, tr.OutDetail = side("output")
}

// mac reads tshark's aa:bb:cc:dd:ee:ff.
func tsharkMAC(s string) uint64 {
	v, _ := strconv.ParseUint(strings.ReplaceAll(s, ":", ""), 16, 64)
	return v
}

// packet applies the parser's rules to the layers tshark decoded in a
// sampled header; frame lengths come later (records).
func (tr *sflowTruth) packet(layers []*jsonNode, decap decapKinds) {
	v := &tr.packetView
	ipSeen, tags, stack := false, 0, 0
	tunnel := func(t record.TunnelType) {
		v.Tunnel, v.TunnelSrc, v.TunnelDst = t, v.Src, v.Dst
		v.Src, v.Dst, v.Etype, v.Proto, v.SrcPort, v.DstPort, v.TCPFlags = netip.Addr{}, netip.Addr{}, 0, 0, 0, 0, 0
		v.TOS, v.TTL, v.FlowLabel, v.ICMPType, v.ICMPCode = 0, 0, 0, 0, 0
	}
	link := func(n uint32) {
		if !ipSeen {
			v.L2 += n
		}
	}
	for i, l := range layers {
		next := ""
		if i+1 < len(layers) {
			next = layers[i+1].key
		}
		if l.key != "vlan" && l.key != "ieee8021ad" {
			tags = 0
		}
		if l.key != "mpls" && stack > 0 {
			stack = -1 // the first stack is the flow's
		}
		switch l.key {
		case "eth":
			v.DstMAC, v.SrcMAC = tsharkMAC(l.str("eth.dst")), tsharkMAC(l.str("eth.src"))
			v.Etype = uint32(l.num("eth.type"))
			link(14)
		case "vlan", "ieee8021ad":
			id := uint32(l.num(l.key + ".id"))
			if tags == 1 {
				v.OuterVlan = v.SrcVlan
			}
			v.SrcVlan, v.DstVlan = id, id
			v.Etype = uint32(l.num("vlan.etype") | l.num("ieee8021ah.etype")) // tshark 4.0 names the 802.1ad one so
			tags++
			link(4)
		case "mpls":
			if stack >= 0 {
				v.Labels = append(v.Labels, uint32(l.num("mpls.label")))
				stack++
			}
			link(4)
		case "pwethcw":
			link(4)
		case "ip":
			if !ipSeen {
				v.IP = uint32(l.num("ip.len"))
			}
			ipSeen = true
			v.Etype, v.Src, v.Dst = etypeIPv4, netip.MustParseAddr(l.str("ip.src")), netip.MustParseAddr(l.str("ip.dst"))
			v.TTL, v.Proto, v.TOS = uint32(l.num("ip.ttl")), uint32(l.num("ip.proto")), uint32(l.num("ip.dsfield"))
			if next == "gre" {
				if decap&decapGRE == 0 {
					return
				}
				tunnel(record.TunnelType_TUNNEL_TYPE_GRE)
			}
		case "ipv6":
			if !ipSeen {
				v.IP = uint32(l.num("ipv6.plen")) + 40
			}
			ipSeen = true
			v.Etype, v.Src, v.Dst = etypeIPv6, netip.MustParseAddr(l.str("ipv6.src")), netip.MustParseAddr(l.str("ipv6.dst"))
			v.TTL, v.FlowLabel, v.TOS = uint32(l.num("ipv6.hlim")), uint32(l.num("ipv6.flow")), uint32(l.num("ipv6.tclass"))
			v.Proto = uint32(l.num("ipv6.nxt"))
			for _, ext := range l.kids { // extension headers (ipv6.hopopts, ipv6.routing…): the last one's next header
				for _, m := range ext.kids {
					if strings.HasSuffix(m.key, ".nxt") && m.kids == nil {
						v.Proto = uint32(ext.num(m.key))
					}
				}
			}
			if next == "ip" || next == "ipv6" || next == "eth" {
				if decap&decapSRv6 == 0 {
					return
				}
				tunnel(record.TunnelType_TUNNEL_TYPE_SRV6)
			}
		case "tcp":
			v.SrcPort, v.DstPort = uint32(l.num("tcp.srcport")), uint32(l.num("tcp.dstport"))
			v.TCPFlags = uint32(l.num("tcp.flags") & 0xff)
		case "udp":
			v.SrcPort, v.DstPort = uint32(l.num("udp.srcport")), uint32(l.num("udp.dstport"))
			if next == "vxlan" {
				if decap&decapVXLAN == 0 {
					return
				}
				tunnel(record.TunnelType_TUNNEL_TYPE_VXLAN)
			}
		case "vxlan":
			v.VNI = uint32(l.num("vxlan.vni"))
		case "icmp", "icmpv6":
			v.ICMPType, v.ICMPCode = uint32(l.num(l.key+".type")), uint32(l.num(l.key+".code"))
			v.DstPort = v.ICMPType<<8 | v.ICMPCode
		}
	}
}

// records applies the sample's other records: the byte count (from the
// sampled header's frame length and the IP length found in it, or a
// sampled IPv4/IPv6 record's length), the extended-switch VLANs, the
// extended router's next hop and masks.
func (tr *sflowTruth) records(s *jsonNode) {
	v := &tr.packetView
	ip := s.child("IPv4 data")
	if ip == nil {
		ip = s.child("IPv6 data")
	}
	header := s.child("Raw packet header")
	if h := header; h != nil {
		frame := uint32(h.num("sflow_245.header.frame_length"))
		if stripped := uint32(h.num("sflow_245.header.payload_stripped")); stripped < frame {
			frame -= stripped
		}
		tr.Basis = record.ByteBasis_BYTE_BASIS_IP
		switch {
		case ip != nil:
			tr.Bytes = ip.num("sflow_245.ip.length")
		case v.IP != 0 && v.IP+v.L2 <= frame:
			tr.Bytes = uint64(v.IP)
		case v.L2 < frame:
			tr.Bytes = uint64(frame - v.L2)
		default:
			tr.Bytes, tr.Basis = uint64(frame), record.ByteBasis_BYTE_BASIS_FRAME
		}
	} else if ip != nil {
		tr.Bytes, tr.Basis = ip.num("sflow_245.ip.length"), record.ByteBasis_BYTE_BASIS_IP
		tr.misreadFlags = true
		v.Proto = uint32(ip.num("sflow.ip_protocol"))
		v.SrcPort, v.DstPort = uint32(ip.num("sflow_245.ip.source_port")), uint32(ip.num("sflow.ip.destination_port"))
		if ip.key == "IPv4 data" {
			v.Etype = etypeIPv4
			v.Src, v.Dst = netip.MustParseAddr(ip.str("sflow_245.ipv4_src")), netip.MustParseAddr(ip.str("sflow_245.ipv4_dst"))
		} else {
			v.Etype = etypeIPv6
			v.Src, v.Dst = netip.MustParseAddr(ip.str("sflow_245.ipv6_src")), netip.MustParseAddr(ip.str("sflow_245.ipv6_dst"))
		}
	}
	if e := s.child("Ethernet frame data"); e != nil && header == nil {
		v.SrcMAC = tsharkMAC(e.str("sflow_245.ethernet.source_mac_address"))
		v.DstMAC = tsharkMAC(e.str("sflow_245.ethernet.destination_mac_address"))
	}
	if sw := s.child("Extended switch data"); sw != nil {
		// An unknown VLAN (0, above 4095) does not override the header's,
		// nor does QinQ's service tag (some exporters report it) override
		// the customer tag.
		for _, vl := range []struct {
			key string
			to  *uint32
		}{{"sflow_245.vlan.in", &v.SrcVlan}, {"sflow_245.vlan.out", &v.DstVlan}} {
			if id := uint32(sw.num(vl.key)); id != 0 && id <= maxVlan && id != v.OuterVlan {
				*vl.to = id
			}
		}
	}
	if r := s.child("Extended router data"); r != nil {
		tr.NextHop = netip.MustParseAddr(r.str("sflow_245.nexthop"))
		tr.SrcMask, tr.DstMask = uint32(r.num("sflow_245.nexthop.src_mask")), uint32(r.num("sflow_245.nexthop.dst_mask"))
	}
}
