package correlator

import (
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// TestSFlowInterfaceKindsNeverJoinAnSNMPInterface stores sFlow samples
// whose interfaces are not ifIndexes next to an SNMP poll of ifIndex 3:
// a discard reason 3 or a count of 3 interfaces must not be named eth3,
// and the kind, its detail and the flow's time and byte basis are kept.
func TestSFlowInterfaceKindsNeverJoinAnSNMPInterface(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	e.produce(record.TopicIfStats, testIfStats(3, "eth3", now))
	e.waitRows("SELECT count() FROM ifstats", 1, time.Minute)

	sflow := func(i int, in, out uint32, inKind, outKind record.InterfaceKind, outDetail uint32) *record.Flow {
		f := testFlow(i, now)
		f.Type = record.FlowType_FLOW_TYPE_SFLOW_V5
		f.InIf, f.InIfKind = in, inKind
		f.OutIf, f.OutIfKind, f.OutIfDetail = out, outKind, outDetail
		f.TimeBasis = record.TimeBasis_TIME_BASIS_RECEIVED
		f.ByteBasis = record.ByteBasis_BYTE_BASIS_FRAME
		f.ExporterClockSkewNs = -2500e6
		return f
	}
	e.produce(record.TopicFlows, msgs([]any{
		sflow(0, 3, 0, record.InterfaceKind_INTERFACE_KIND_IFINDEX, record.InterfaceKind_INTERFACE_KIND_DISCARDED, 3),
		sflow(1, 0, 0, record.InterfaceKind_INTERFACE_KIND_INTERNAL, record.InterfaceKind_INTERFACE_KIND_MULTIPLE, 3),
		// An index beside a kind that is not one (a producer's bug) is
		// not joined either.
		sflow(2, 3, 3, record.InterfaceKind_INTERFACE_KIND_INTERNAL, record.InterfaceKind_INTERFACE_KIND_DISCARDED, 3),
	})...)
	e.waitRows("SELECT count() FROM flows", 3, time.Minute)

	if n := e.count(`SELECT count() FROM flows WHERE out_if = 0 AND out_if_name = '' AND out_if_detail = 3`); n != 3 {
		t.Errorf("%d of 3 flows keep a reason code or count apart from out_if", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE in_if_kind = 'internal' AND in_if = 0 AND in_if_name = ''`); n != 2 {
		t.Errorf("%d of 2 flows from the device itself stored as internal", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE in_if = 3 AND in_if_name = 'eth3' AND out_if_kind = 'discarded'`); n != 1 {
		t.Errorf("the ifIndex beside a discard is not joined (%d)", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE out_if_kind = 'multiple'`); n != 1 {
		t.Errorf("%d flows to multiple interfaces, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE time_basis = 'received' AND byte_basis = 'frame' AND exporter_clock_skew_ms = -2500`); n != 3 {
		t.Errorf("%d of 3 flows keep their time and byte basis", n)
	}
}
