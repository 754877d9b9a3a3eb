package flowcollector

import (
	"net/netip"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
)

// decodeShape decodes one shape of the corpus into its flows.
func decodeShape(t *testing.T, s exportShape) (*Component, []*record.Flow) {
	t.Helper()
	c, pub := newTestComponent(t, testConfig(t))
	return c, flatten(decodeEach(c, pub, kindNetFlow, s.datagrams))
}

func addrOf(b []byte) netip.Addr { return record.IPFromBytes(b).Unmap() }

// TestZeroAddressesOfTheOtherFamilyDoNotOverwrite: a template with both
// families stores each flow's own, and 252/253 stand in for 10/14.
func TestZeroAddressesOfTheOtherFamilyDoNotOverwrite(t *testing.T) {
	_, flows := decodeShape(t, shapeCiscoBothFamilies())
	if len(flows) != 3 {
		t.Fatalf("%d flows", len(flows))
	}
	for i, want := range [][2]netip.Addr{
		{netip.AddrFrom4([4]byte(v4a)), netip.AddrFrom4([4]byte(v4b))},
		{netip.AddrFrom16([16]byte(v6a)), netip.AddrFrom16([16]byte(v6b))},
		{netip.AddrFrom4([4]byte(v4b)), netip.AddrFrom4([4]byte(v4a))},
	} {
		f := flows[i]
		if addrOf(f.SrcIp) != want[0] || addrOf(f.DstIp) != want[1] {
			t.Errorf("flow %d: %s -> %s, want %s -> %s", i, addrOf(f.SrcIp), addrOf(f.DstIp), want[0], want[1])
		}
	}
	if f := flows[0]; f.InIf != 11 || f.OutIf != 12 || f.Etype != 0x0800 {
		t.Errorf("flow 0: in_if %d out_if %d etype %#x, want 11, 12, 0x800", f.InIf, f.OutIf, f.Etype)
	}
	if f := flows[1]; f.Etype != 0x86dd {
		t.Errorf("flow 1: etype %#x, want 0x86dd", f.Etype)
	}
	if f := flows[2]; f.IcmpType != 8 || f.IcmpCode != 0 || f.DstPort != 0x0800 {
		t.Errorf("ICMP flow: type %d code %d dst_port %#x", f.IcmpType, f.IcmpCode, f.DstPort)
	}
}

// TestLogicalInterfacesWinOverPhysical: 10/14 when set, 252/253 when
// they are zero.
func TestLogicalInterfacesWinOverPhysical(t *testing.T) {
	_, flows := decodeShape(t, shapeJuniperIPVersion())
	if len(flows) != 2 {
		t.Fatalf("%d flows", len(flows))
	}
	if f := flows[0]; f.InIf != 501 || f.OutIf != 502 {
		t.Errorf("in_if %d out_if %d, want the logical 501, 502", f.InIf, f.OutIf)
	}
	if f := flows[1]; f.InIf != 611 || f.OutIf != 612 || addrOf(f.NextHop) != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("in_if %d out_if %d next hop %s, want the physical 611, 612 and 2001:db8::1", f.InIf, f.OutIf, addrOf(f.NextHop))
	}
}

// TestBiflowReverseIsAFlowOfItsOwn: the reverse direction that carried
// traffic is published with the endpoints swapped, and counted; one
// without traffic is not.
func TestBiflowReverseIsAFlowOfItsOwn(t *testing.T) {
	c, flows := decodeShape(t, shapeIpfixprobeBiflow())
	if len(flows) != 3 {
		t.Fatalf("%d flows, want forward, reverse, forward", len(flows))
	}
	fwd, rev := flows[0], flows[1]
	if addrOf(rev.SrcIp) != addrOf(fwd.DstIp) || rev.SrcPort != fwd.DstPort || rev.DstPort != fwd.SrcPort ||
		rev.SrcMac != fwd.DstMac || rev.Bytes != 48000 || rev.Packets != 35 || rev.TcpFlags != 0x1a || rev.InIf != fwd.InIf {
		t.Errorf("reverse %v of forward %v", rev, fwd)
	}
	if rev.TimeFlowStartNs != fwd.TimeFlowStartNs || rev.TimeFlowEndNs != fwd.TimeFlowEndNs {
		t.Error("the reverse direction does not keep the record's times")
	}
	if n := metricSum(t, c.r, "netstrata_flow_biflow_reverse_flows_total", "", ""); n != 1 {
		t.Errorf("%v reverse flows counted, want 1", n)
	}
}

// TestDataLinkSectionIsParsed: a record whose only packet description
// is a data-link section counts the IP bytes, not the section's.
func TestDataLinkSectionIsParsed(t *testing.T) {
	_, flows := decodeShape(t, shapeDataLinkSection())
	if len(flows) != 3 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	if addrOf(f.SrcIp) != v4A || f.Proto != protoTCP || f.DstPort != 443 || f.Bytes != 1440 || f.Packets != 1 || f.InIf != 3 {
		t.Errorf("flow %v", f)
	}
	if f := flows[1]; f.Etype != 0x86dd || f.SrcVlan != 809 || f.Bytes != 348 || f.DstPort != 53 {
		t.Errorf("IPv6 flow %v", f)
	}
}
