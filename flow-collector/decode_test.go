package flowcollector

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/record"
)

// newTestComponent builds a collector that is not listening, to drive its
// decoder directly.
func newTestComponent(t testing.TB, cfg Configuration) (*Component, *bustest.Publisher) {
	t.Helper()
	pub := &bustest.Publisher{}
	c, err := New(testReporter(t), cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	return c, pub
}

var testExporter = netip.MustParseAddrPort("192.0.2.1:40000")

// decodeEach decodes datagrams in order and returns the flows each one
// produced.
func decodeEach(c *Component, pub *bustest.Publisher, kind listenerKind, datagrams [][]byte) [][]*record.Flow {
	d := newDecoder(c)
	var out [][]*record.Flow
	for _, dg := range datagrams {
		before := len(pub.Messages())
		d.handle(kind, dg, testExporter, time.Unix(1700000100, 0))
		out = append(out, publishedSince(pub, before))
	}
	return out
}

func flatten(per [][]*record.Flow) []*record.Flow {
	var out []*record.Flow
	for _, p := range per {
		out = append(out, p...)
	}
	return out
}

// TestCapturesDecodeCompletely decodes the shipped captures of each real
// exporter: every record decodes, with no error, into a sane flow.
func TestCapturesDecodeCompletely(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  listenerKind
		typ   record.FlowType
		flows int
	}{
		{"softflowd-v5", kindNetFlow, record.FlowType_FLOW_TYPE_NETFLOW_V5, 113},
		{"softflowd-v9", kindNetFlow, record.FlowType_FLOW_TYPE_NETFLOW_V9, 150},
		{"softflowd-ipfix", kindNetFlow, record.FlowType_FLOW_TYPE_IPFIX, 150},
		{"pmacct-nfprobe-v5", kindNetFlow, record.FlowType_FLOW_TYPE_NETFLOW_V5, 113},
		{"pmacct-nfprobe-v9", kindNetFlow, record.FlowType_FLOW_TYPE_NETFLOW_V9, 150},
		{"pmacct-nfprobe-ipfix", kindNetFlow, record.FlowType_FLOW_TYPE_IPFIX, 150},
		{"pmacct-sfprobe", kindSFlow, record.FlowType_FLOW_TYPE_SFLOW_V5, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, pub := newTestComponent(t, testConfig(t))
			flows := flatten(decodeEach(c, pub, tc.kind, loadCapture(t, tc.name)))
			if tc.flows >= 0 && len(flows) != tc.flows {
				t.Errorf("%d flows, want %d", len(flows), tc.flows)
			}
			if n := metricSum(t, c.r, "netstrata_flow_decode_errors_total", "", ""); n != 0 {
				t.Errorf("%v decode errors", n)
			}
			if n := metricSum(t, c.r, "netstrata_flow_unknown_template_sets_total", "", ""); n != 0 {
				t.Errorf("%v sets without template", n)
			}
			for _, f := range flows {
				if f.Type != tc.typ || f.SamplingRate == 0 || f.Bytes == 0 || f.Packets == 0 ||
					len(f.SrcIp) != 16 || len(f.DstIp) != 16 || f.TimeFlowStartNs > f.TimeFlowEndNs ||
					f.Etype != 0x0800 && f.Etype != 0x86dd {
					t.Fatalf("implausible flow %v", f)
				}
				if f.Proto == protoTCP && f.DstPort == 443 && f.Application != "https" ||
					f.Proto == protoTCP && f.DstPort == 5432 && f.Application != "postgresql" {
					t.Fatalf("application %q for %v", f.Application, f)
				}
			}
		})
	}
}

// TestSoftflowdIPFIXTimesAreAnchoredOnSystemInit checks the trap of
// softflowd's IPFIX: flow times are sysUptime-relative and anchored on
// the systemInitTimeMilliseconds of its options data. The capture was
// made with -a from traffic starting at 1700000000 and lasting seconds.
func TestSoftflowdIPFIXTimesAreAnchoredOnSystemInit(t *testing.T) {
	// decodeEach receives the capture 100 s after it was exported:
	// anchoring is checked apart from skew correction.
	cfg := testConfig(t)
	cfg.ClockSkewThreshold = 1000 * time.Second
	for _, name := range []string{"softflowd-ipfix", "softflowd-v9", "softflowd-v5"} {
		c, pub := newTestComponent(t, cfg)
		for _, f := range flatten(decodeEach(c, pub, kindNetFlow, loadCapture(t, name))) {
			start, end := time.Unix(0, int64(f.TimeFlowStartNs)), time.Unix(0, int64(f.TimeFlowEndNs))
			// v9 and v5 headers have whole seconds (v5 nanoseconds are 0
			// from softflowd): their anchor is up to 1 s early.
			if start.Before(time.Unix(1700000000-1, 0)) || end.After(time.Unix(1700000060, 0)) {
				t.Fatalf("%s: flow from %s to %s, outside the traffic", name, start.UTC(), end.UTC())
			}
		}
	}
}

// TestDataBeforeTemplateIsBufferedThenDecoded sends an exporter's data
// sets before its templates (the race goflow2 loses with several
// workers): the data waits and decodes when the template comes.
func TestDataBeforeTemplateIsBufferedThenDecoded(t *testing.T) {
	for _, name := range []string{"softflowd-v9", "softflowd-ipfix", "pmacct-nfprobe-v9"} {
		t.Run(name, func(t *testing.T) {
			datagrams := loadCapture(t, name)
			ref, refPub := newTestComponent(t, testConfig(t))
			want := totals(flatten(decodeEach(ref, refPub, kindNetFlow, datagrams)))

			first := firstWithTemplate(t, datagrams)
			reordered := append(append([][]byte{}, datagrams[first+1:]...), datagrams[:first+1]...)
			c, pub := newTestComponent(t, testConfig(t))
			decodeEach(c, pub, kindNetFlow, reordered)
			compareTotals(t, want, totals(published(pub)))
			if n := metricSum(t, c.r, "netstrata_flow_pending_sets_total", "outcome", "decoded"); n == 0 {
				t.Error("no set went through the pending buffer")
			}
		})
	}
}

// firstWithTemplate returns the index of the first datagram holding a
// template set.
func firstWithTemplate(t testing.TB, datagrams [][]byte) int {
	for i, d := range datagrams {
		if hasTemplate(d) {
			return i
		}
	}
	t.Fatal("no template in the capture")
	return 0
}

func hasTemplate(d []byte) bool {
	version := binary.BigEndian.Uint16(d)
	off := 20
	if version == 10 {
		off = 16
	}
	for off+4 <= len(d) {
		id := binary.BigEndian.Uint16(d[off:])
		if version == 9 && id <= 1 || version == 10 && (id == 2 || id == 3) {
			return true
		}
		l := int(binary.BigEndian.Uint16(d[off+2:]))
		if l < 4 {
			return false
		}
		off += l
	}
	return false
}

// TestUnknownTemplateDataExpires checks that data whose template never
// comes is counted and dropped, not kept.
func TestUnknownTemplateDataExpires(t *testing.T) {
	cfg := testConfig(t)
	cfg.PendingMaxSets = 4
	c, pub := newTestComponent(t, cfg)
	datagrams := loadCapture(t, "softflowd-v9")
	first := firstWithTemplate(t, datagrams)
	decodeEach(c, pub, kindNetFlow, datagrams[first+1:])
	if len(published(pub)) != 0 {
		t.Fatal("decoded data without its template")
	}
	e, _ := c.exporters.get(testExporter.Addr(), time.Now())
	e.mu.Lock()
	held := len(e.pending)
	e.mu.Unlock()
	if held > 4 {
		t.Errorf("%d sets held, bound is 4", held)
	}
	c.pending.expire(time.Now().Add(time.Hour))
	e.mu.Lock()
	held = len(e.pending)
	e.mu.Unlock()
	expired := metricSum(t, c.r, "netstrata_flow_pending_sets_total", "outcome", "expired")
	overflow := metricSum(t, c.r, "netstrata_flow_pending_sets_total", "outcome", "overflow")
	buffered := metricSum(t, c.r, "netstrata_flow_pending_sets_total", "outcome", "buffered")
	if held != 0 || expired+overflow != buffered {
		t.Errorf("held %d, buffered %v, expired %v, overflow %v", held, buffered, expired, overflow)
	}
}

// TestSamplingRateOverridesWin checks the precedence: configured exporter
// over configured subnet over what the exporter announces.
func TestSamplingRateOverridesWin(t *testing.T) {
	datagrams := loadCapture(t, "softflowd-ipfix")
	for _, tc := range []struct {
		overrides []SamplingOverride
		want      uint64
	}{
		{nil, 1}, // softflowd announces 1 (interval 1, space 0)
		{[]SamplingOverride{{"192.0.2.0/24", 100}}, 100},
		{[]SamplingOverride{{"192.0.2.0/24", 100}, {"192.0.2.1", 512}}, 512},
		{[]SamplingOverride{{"198.51.100.0/24", 100}}, 1},
	} {
		cfg := testConfig(t)
		cfg.SamplingRates = tc.overrides
		c, pub := newTestComponent(t, cfg)
		for _, f := range flatten(decodeEach(c, pub, kindNetFlow, datagrams)) {
			if f.SamplingRate != tc.want {
				t.Fatalf("overrides %v: rate %d, want %d", tc.overrides, f.SamplingRate, tc.want)
			}
		}
	}
}

// TestOptionsSamplingRateApplies crafts a v9 exporter announcing 1:1000
// in options data; its flows carry the rate and the bytes stay raw.
func TestOptionsSamplingRateApplies(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	v9 := newV9Builder(7)
	v9.optionsTemplate(257, []field{{34, 4}}) // SAMPLING_INTERVAL
	v9.template(256, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}})
	v9.data(257, u32(1000))
	v9.data(256, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, u16(40000), u16(443), []byte{6}, u32(1500), u32(3))
	flows := flatten(decodeEach(c, pub, kindNetFlow, [][]byte{v9.bytes()}))
	if len(flows) != 1 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	if f.SamplingRate != 1000 || f.Bytes != 1500 || f.Packets != 3 || f.Application != "https" || f.ObservationDomain != 7 {
		t.Errorf("flow %v", f)
	}
}
